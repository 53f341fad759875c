package sheetsapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/sheets/v4"
)

// seed writes rows to a tab through the API with RAW input.
func (e *env) seed(t *testing.T, id, rng string, rows [][]any) {
	t.Helper()
	if _, err := e.svc.Spreadsheets.Values.Update(id, rng, &sheets.ValueRange{Values: rows}).ValueInputOption("RAW").Context(e.ctx).Do(); err != nil {
		t.Fatalf("seed %s: %v", rng, err)
	}
}

func TestClientBatchGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Responses", "Jon's Data")
	e.seed(t, id, "Responses!A1", [][]any{{"id", "rating", "ok"}, {"r1", 5, true}, {"r2", 1.5, false}})
	e.seed(t, id, "'Jon''s Data'!B2", [][]any{{"x"}})

	got, err := e.svc.Spreadsheets.Values.BatchGet(id).Ranges("Responses!A:A", "'Jon''s Data'", "Responses!B1:C3", "Responses!D1:E2").
		ValueRenderOption("UNFORMATTED_VALUE").Context(e.ctx).Do()
	if err != nil {
		t.Fatalf("batchGet: %v", err)
	}
	type vr struct {
		Range  string
		Values [][]any
	}
	var ranges []vr
	for _, r := range got.ValueRanges {
		ranges = append(ranges, vr{r.Range, r.Values})
	}
	want := []vr{
		{"Responses!A1:A1000", [][]any{{"id"}, {"r1"}, {"r2"}}},
		{"'Jon''s Data'!A1:Z1000", [][]any{{}, {"", "x"}}},
		{"Responses!B1:C3", [][]any{{"rating", "ok"}, {5.0, true}, {1.5, false}}},
		{"Responses!D1:E2", nil},
	}
	if diff := cmp.Diff(want, ranges); diff != "" {
		t.Errorf("valueRanges (-want +got):\n%s", diff)
	}

	cols, err := e.svc.Spreadsheets.Values.Get(id, "Responses!A1:C3").MajorDimension("COLUMNS").Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	wantCols := [][]any{{"id", "r1", "r2"}, {"rating", "5", "1.5"}, {"ok", "TRUE", "FALSE"}}
	if diff := cmp.Diff(wantCols, cols.Values); diff != "" {
		t.Errorf("COLUMNS FORMATTED_VALUE (-want +got):\n%s", diff)
	}

	_, err = e.svc.Spreadsheets.Values.BatchGet(id).Ranges("Responses!A1", "Missing!A1").Context(e.ctx).Do()
	if gerr := apiErr(t, err, http.StatusBadRequest); gerr.Message != "Unable to parse range: Missing!A1" {
		t.Errorf("message = %q", gerr.Message)
	}
}

func TestClientUpdatePastGrid(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Tab", "Lighthouse Results")
	tests := []struct {
		rng     string
		values  [][]any
		message string
	}{
		{"Tab!A1001", [][]any{{"x"}}, "Range (Tab!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"},
		{"Tab!A999", [][]any{{1}, {2}, {3}}, "Range (Tab!A999:A1001) exceeds grid limits. Max rows: 1000, max columns: 26"},
		{"Tab!Y1", [][]any{{1, 2, 3}}, "Range (Tab!Y1:AA1) exceeds grid limits. Max rows: 1000, max columns: 26"},
		{"'Lighthouse Results'!A1001", [][]any{{"x"}}, "Range ('Lighthouse Results'!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"},
		{"Tab!A1:B2", [][]any{{1}, {2}, {3}}, "Requested writing within range [Tab!A1:B2], but tried writing to row [3]"},
		{"Tab!A1:B2", [][]any{{1, 2, 3}}, "Requested writing within range [Tab!A1:B2], but tried writing to column [C]"},
		{"Nope!A1", [][]any{{1}}, "Unable to parse range: Nope!A1"},
	}
	for _, tt := range tests {
		_, err := e.svc.Spreadsheets.Values.Update(id, tt.rng, &sheets.ValueRange{Values: tt.values}).ValueInputOption("RAW").Context(e.ctx).Do()
		gerr := apiErr(t, err, http.StatusBadRequest)
		if gerr.Message != tt.message {
			t.Errorf("update %s: message = %q, want %q", tt.rng, gerr.Message, tt.message)
		}
	}
	// Nothing was written by the failed updates.
	if v := e.srv.Values(id, "Tab"); v != nil {
		t.Errorf("Tab holds %v after failed updates", v)
	}
	// values.batchUpdate is atomic: one bad range, nothing written.
	_, err := e.svc.Spreadsheets.Values.BatchUpdate(id, &sheets.BatchUpdateValuesRequest{ValueInputOption: "RAW", Data: []*sheets.ValueRange{
		{Range: "Tab!A1", Values: [][]any{{"ok"}}},
		{Range: "Tab!A1001", Values: [][]any{{"too far"}}},
	}}).Context(e.ctx).Do()
	apiErr(t, err, http.StatusBadRequest)
	if v := e.srv.Values(id, "Tab"); v != nil {
		t.Errorf("batchUpdate with a bad range wrote %v", v)
	}
	// After appendDimension the same update succeeds.
	sid, _ := e.srv.SheetID(id, "Tab")
	if _, err := e.svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: []*sheets.Request{
		{AppendDimension: &sheets.AppendDimensionRequest{SheetId: sid, Dimension: "ROWS", Length: 1}},
	}}).Context(e.ctx).Do(); err != nil {
		t.Fatal(err)
	}
	resp, err := e.svc.Spreadsheets.Values.Update(id, "Tab!A1001", &sheets.ValueRange{Values: [][]any{{"x"}}}).ValueInputOption("RAW").Context(e.ctx).Do()
	if err != nil {
		t.Fatalf("update after appendDimension: %v", err)
	}
	if resp.UpdatedRange != "Tab!A1001" || resp.UpdatedCells != 1 {
		t.Errorf("update response = %+v", resp)
	}
	// Reads past the grid fail the same way.
	_, err = e.svc.Spreadsheets.Values.Get(id, "Tab!A1:Z5000").Context(e.ctx).Do()
	if gerr := apiErr(t, err, http.StatusBadRequest); gerr.Message != "Range (Tab!A1:Z5000) exceeds grid limits. Max rows: 1001, max columns: 26" {
		t.Errorf("read past grid: %q", gerr.Message)
	}
}

func TestClientValueInputRequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S")
	_, err := e.svc.Spreadsheets.Values.Append(id, "Sheet1", &sheets.ValueRange{Values: [][]any{{"x"}}}).Context(e.ctx).Do()
	if gerr := apiErr(t, err, http.StatusBadRequest); gerr.Message != "'valueInputOption' is required but not specified" {
		t.Errorf("message = %q", gerr.Message)
	}
	_, err = e.svc.Spreadsheets.Values.Update(id, "Sheet1!A1", &sheets.ValueRange{Values: [][]any{{"x"}}}).ValueInputOption("BOGUS").Context(e.ctx).Do()
	apiErr(t, err, http.StatusBadRequest)
	_, err = e.svc.Spreadsheets.Values.BatchUpdate(id, &sheets.BatchUpdateValuesRequest{Data: []*sheets.ValueRange{{Range: "A1", Values: [][]any{{1}}}}}).Context(e.ctx).Do()
	apiErr(t, err, http.StatusBadRequest)
	if v := e.srv.Values(id, "Sheet1"); v != nil {
		t.Errorf("rejected writes changed the sheet: %v", v)
	}
}

func TestClientInjectionStrings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Raw", "Typed")
	inputs := []any{`=IMPORTXML("http://evil.example/x","//a")`, "+1", "-2", "@x", "\tcmd", "=1+2", "'0001", "TRUE", "1,234.5", "-abc", "2024-05-01"}
	for _, tab := range []string{"Raw", "Typed"} {
		opt := map[string]string{"Raw": "RAW", "Typed": "USER_ENTERED"}[tab]
		if _, err := e.svc.Spreadsheets.Values.Append(id, tab+"!A1", &sheets.ValueRange{Values: [][]any{inputs}}).
			ValueInputOption(opt).InsertDataOption("INSERT_ROWS").Context(e.ctx).Do(); err != nil {
			t.Fatalf("append %s: %v", opt, err)
		}
	}

	// RAW: every value is stored as the literal string, never a formula,
	// and FORMULA rendering gives back exactly what was sent.
	raw, err := e.svc.Spreadsheets.Values.Get(id, "Raw!1:1").ValueRenderOption("FORMULA").Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]any{inputs}, raw.Values); diff != "" {
		t.Errorf("RAW read back with FORMULA (-want +got):\n%s", diff)
	}
	for col := range inputs {
		if e.srv.IsFormula(id, "Raw", 0, col) {
			t.Errorf("RAW %q became a formula", inputs[col])
		}
		if got := e.srv.InputOption(id, "Raw", 0, col); got != "RAW" {
			t.Errorf("RAW %q recorded as %q", inputs[col], got)
		}
	}

	// USER_ENTERED: parsed as typed into the UI.
	typed, err := e.svc.Spreadsheets.Values.Get(id, "Typed!1:1").ValueRenderOption("UNFORMATTED_VALUE").Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	wantTyped := []any{`=IMPORTXML("http://evil.example/x","//a")`, 1.0, -2.0, "@x", "\tcmd", "=1+2", "0001", true, 1234.5, "=-abc", 45413.0}
	if diff := cmp.Diff([][]any{wantTyped}, typed.Values); diff != "" {
		t.Errorf("USER_ENTERED read back (-want +got):\n%s", diff)
	}
	wantFormula := []bool{true, false, false, false, false, true, false, false, false, true, false}
	for col, want := range wantFormula {
		if got := e.srv.IsFormula(id, "Typed", 0, col); got != want {
			t.Errorf("USER_ENTERED %q: IsFormula = %v, want %v", inputs[col], got, want)
		}
	}
	formatted, err := e.svc.Spreadsheets.Values.Get(id, "Typed!G1:K1").Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]any{{"0001", "TRUE", "1234.5", "=-abc", "2024-05-01"}}, formatted.Values); diff != "" {
		t.Errorf("USER_ENTERED FORMATTED_VALUE (-want +got):\n%s", diff)
	}
	dates, err := e.svc.Spreadsheets.Values.Get(id, "Typed!K1").ValueRenderOption("UNFORMATTED_VALUE").DateTimeRenderOption("FORMATTED_STRING").Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]any{{"2024-05-01"}}, dates.Values); diff != "" {
		t.Errorf("date with FORMATTED_STRING (-want +got):\n%s", diff)
	}

	// Grid data tells a formula from a string that looks like one, as
	// Google's userEnteredValue does.
	ss, err := e.svc.Spreadsheets.Get(id).Ranges("Raw!F1", "Typed!F1").IncludeGridData(true).Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	rawCell := ss.Sheets[0].Data[0].RowData[0].Values[0].UserEnteredValue
	typedCell := ss.Sheets[1].Data[0].RowData[0].Values[0].UserEnteredValue
	if rawCell.StringValue == nil || *rawCell.StringValue != "=1+2" || rawCell.FormulaValue != nil {
		t.Errorf("RAW =1+2 userEnteredValue = %+v, want stringValue", rawCell)
	}
	if typedCell.FormulaValue == nil || *typedCell.FormulaValue != "=1+2" {
		t.Errorf("USER_ENTERED =1+2 userEnteredValue = %+v, want formulaValue", typedCell)
	}
}

func TestClientRenameAndDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Responses", "Other")
	sid, _ := e.srv.SheetID(id, "Responses")
	e.seed(t, id, "Responses!A1", [][]any{{"key"}, {"r1"}})

	_, err := e.svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: []*sheets.Request{
		{UpdateSheetProperties: &sheets.UpdateSheetPropertiesRequest{Properties: &sheets.SheetProperties{SheetId: sid, Title: "Renamed"}, Fields: "title"}},
	}}).Context(e.ctx).Do()
	if err != nil {
		t.Fatalf("rename: %v", err)
	}
	_, err = e.svc.Spreadsheets.Values.Append(id, "Responses!A:A", &sheets.ValueRange{Values: [][]any{{"r2"}}}).ValueInputOption("RAW").Context(e.ctx).Do()
	if gerr := apiErr(t, err, http.StatusBadRequest); gerr.Message != "Unable to parse range: Responses!A:A" {
		t.Errorf("append to the old title: %q", gerr.Message)
	}
	// The sheetId survives the rename; a client resolving it finds the new title.
	got, err := e.svc.Spreadsheets.Get(id).Fields("sheets.properties(sheetId,title)").Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Sheets[0].Properties; p.SheetId != sid || p.Title != "Renamed" {
		t.Errorf("after rename: %+v", p)
	}
	if err := e.srv.RenameSheet(id, "Renamed", "Other"); err == nil {
		t.Error("renaming onto an existing title should fail")
	}

	// An invalid request fails the whole batch: the addSheet is not applied.
	_, err = e.svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: []*sheets.Request{
		{AddSheet: &sheets.AddSheetRequest{Properties: &sheets.SheetProperties{Title: "New"}}},
		{DeleteSheet: &sheets.DeleteSheetRequest{SheetId: 999}},
	}}).Context(e.ctx).Do()
	if gerr := apiErr(t, err, http.StatusBadRequest); gerr.Message != "Invalid requests[1].deleteSheet: No grid with id: 999" {
		t.Errorf("message = %q", gerr.Message)
	}
	if _, ok := e.srv.SheetID(id, "New"); ok {
		t.Error("addSheet was applied although the batch failed")
	}

	resp, err := e.svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: []*sheets.Request{
		{AddSheet: &sheets.AddSheetRequest{Properties: &sheets.SheetProperties{Title: "New", Index: 0, ForceSendFields: []string{"Index"}}}},
		{DeleteSheet: &sheets.DeleteSheetRequest{SheetId: sid}},
	}, IncludeSpreadsheetInResponse: true}).Context(e.ctx).Do()
	if err != nil {
		t.Fatalf("add+delete: %v", err)
	}
	if len(resp.Replies) != 2 || resp.Replies[0].AddSheet == nil || resp.Replies[0].AddSheet.Properties.Title != "New" {
		t.Fatalf("replies = %+v", resp.Replies)
	}
	var titles []string
	for _, sh := range resp.UpdatedSpreadsheet.Sheets {
		titles = append(titles, sh.Properties.Title)
	}
	if diff := cmp.Diff([]string{"New", "Other"}, titles); diff != "" {
		t.Errorf("tabs after add+delete (-want +got):\n%s", diff)
	}
	_, err = e.svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: []*sheets.Request{
		{AddSheet: &sheets.AddSheetRequest{Properties: &sheets.SheetProperties{Title: "other"}}},
	}}).Context(e.ctx).Do()
	if gerr := apiErr(t, err, http.StatusBadRequest); !strings.Contains(gerr.Message, `A sheet with the name "other" already exists`) {
		t.Errorf("duplicate title: %q", gerr.Message)
	}
}

func TestClientClear(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Scores")
	e.seed(t, id, "Scores!A1", [][]any{{"week", "csat"}, {"w1", 0.9}, {"w2", 0.8}, {"w3", 0.7}})
	resp, err := e.svc.Spreadsheets.Values.Clear(id, "Scores!A3:Z", &sheets.ClearValuesRequest{}).Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if resp.ClearedRange != "Scores!A3:Z1000" {
		t.Errorf("clearedRange = %q", resp.ClearedRange)
	}
	if diff := cmp.Diff([][]any{{"week", "csat"}, {"w1", 0.9}}, e.srv.Values(id, "Scores")); diff != "" {
		t.Errorf("after clear (-want +got):\n%s", diff)
	}
	batch, err := e.svc.Spreadsheets.Values.BatchClear(id, &sheets.BatchClearValuesRequest{Ranges: []string{"Scores!B:B", "Scores!A2"}}).Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Scores!B1:B1000", "Scores!A2"}, batch.ClearedRanges); diff != "" {
		t.Errorf("clearedRanges (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]any{{"week"}}, e.srv.Values(id, "Scores")); diff != "" {
		t.Errorf("after batchClear (-want +got):\n%s", diff)
	}
}

func TestClientCellLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Big", "Responses")
	// 9,999,000 + 26,000 cells would pass 10M; shrink Responses first.
	if err := e.srv.SetGridSize(id, "Responses", 1, 5); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.SetGridSize(id, "Big", 9_999_995, 1); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.CellCount(id); got != 10_000_000 {
		t.Fatalf("CellCount = %d", got)
	}
	_, err := e.svc.Spreadsheets.Values.Append(id, "Responses!A1", &sheets.ValueRange{Values: [][]any{{"a", "b"}}}).
		ValueInputOption("RAW").InsertDataOption("INSERT_ROWS").Context(e.ctx).Do()
	want := "This action would increase the number of cells in the workbook above the limit of 10000000 cells."
	if gerr := apiErr(t, err, http.StatusBadRequest); gerr.Message != want {
		t.Errorf("message = %q", gerr.Message)
	}
	sid, _ := e.srv.SheetID(id, "Responses")
	_, err = e.svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: []*sheets.Request{
		{AppendDimension: &sheets.AppendDimensionRequest{SheetId: sid, Dimension: "ROWS", Length: 1}},
	}}).Context(e.ctx).Do()
	if gerr := apiErr(t, err, http.StatusBadRequest); gerr.Message != "Invalid requests[0].appendDimension: "+want {
		t.Errorf("message = %q", gerr.Message)
	}
	// OVERWRITE into the existing empty row still fits.
	if _, err := e.svc.Spreadsheets.Values.Append(id, "Responses!A1", &sheets.ValueRange{Values: [][]any{{"a", "b"}}}).
		ValueInputOption("RAW").Context(e.ctx).Do(); err != nil {
		t.Errorf("OVERWRITE within the grid: %v", err)
	}
}

func TestClientEncodedVerbAndRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "My Tab")
	// Another client may encode the verb colon too.
	for i, path := range []string{
		"/v4/spreadsheets/" + id + "/values/%27My%20Tab%27%21A1%3Aappend?valueInputOption=RAW",
		"/v4/spreadsheets/" + id + "/values/%27My%20Tab%27%21A1:append?valueInputOption=RAW",
		"/v4/spreadsheets/" + id + "/values/'My Tab'!A1:append?valueInputOption=RAW",
	} {
		res, err := http.Post(e.ts.URL+path, "application/json", strings.NewReader(`{"values":[["x`+string(rune('0'+i))+`"]]}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("POST %s: %d", path, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
			t.Errorf("Content-Type = %q", ct)
		}
	}
	if diff := cmp.Diff([][]any{{"x0"}, {"x1"}, {"x2"}}, e.srv.Values(id, "My Tab")); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	res, err := http.Get(e.ts.URL + "/v4/spreadsheets/" + id + "/values/A1:append")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET on :append = %d, want 404", res.StatusCode)
	}
}

func TestClientCellCharacterLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S")
	ok := strings.Repeat("é", MaxCellChars)
	if _, err := e.svc.Spreadsheets.Values.Append(id, "Sheet1", &sheets.ValueRange{Values: [][]any{{ok}}}).ValueInputOption("RAW").Context(e.ctx).Do(); err != nil {
		t.Fatalf("50,000 characters: %v", err)
	}
	_, err := e.svc.Spreadsheets.Values.Append(id, "Sheet1", &sheets.ValueRange{Values: [][]any{{ok + "x"}}}).ValueInputOption("RAW").Context(e.ctx).Do()
	if gerr := apiErr(t, err, http.StatusBadRequest); gerr.Message != "Your input contains more than the maximum of 50000 characters in a single cell." {
		t.Errorf("message = %q", gerr.Message)
	}
}
