package sheetsapi

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/surveysync/surveysync/sandbox/fault"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/sheets/v4"
)

// cmpEntry compares log entries without the fields that vary by run.
var cmpEntry = cmpopts.IgnoreFields(LogEntry{}, "Time", "User", "Ranges")

// lastEntry waits until the newest log entry for op is done and returns it.
// Waiting is needed only for held connections, which the server notices as
// closed a moment after the client gives up.
func lastEntry(t *testing.T, srv *Server, op string) LogEntry {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		log := srv.Log()
		for i := len(log) - 1; i >= 0; i-- {
			if log[i].Operation == op && log[i].Done {
				return log[i]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished %s in the log: %+v", op, log)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func appendKeys(e *env, ctx context.Context, svc *sheets.Service, id string, keys ...string) error {
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{k}
	}
	_, err := svc.Spreadsheets.Values.Append(id, "Sheet1!A:A", &sheets.ValueRange{Values: rows}).
		ValueInputOption("RAW").InsertDataOption("INSERT_ROWS").Context(ctx).Do()
	return err
}

func TestClientApplyThenReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S")
	e.srv.Faults().Set(fault.Config{ApplyThenReset: 1, Seed: 7})

	err := appendKeys(e, e.ctx, e.svc, id, "k1", "k2")
	if err == nil {
		t.Fatal("append through a reset connection succeeded")
	}
	got := lastEntry(t, e.srv, OpValuesAppend)
	want := LogEntry{Operation: OpValuesAppend, Method: "POST", SpreadsheetID: id, Range: "Sheet1!A:A", Status: 0, HandlerStatus: 200,
		Fault: FaultApplyThenReset, Applied: true, RowsWritten: 2, Done: true}
	if diff := cmp.Diff(want, got, cmpEntry, cmpopts.IgnoreFields(LogEntry{}, "Seq")); diff != "" {
		t.Errorf("log entry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]any{{"k1"}, {"k2"}}, e.srv.Values(id, "Sheet1")); diff != "" {
		t.Errorf("the write was not applied (-want +got):\n%s", diff)
	}

	// Reads are not faulted by default: the client reconciles by reading
	// the key column, finds both keys, and sends nothing again.
	keys, err := e.svc.Spreadsheets.Values.Get(id, "Sheet1!A:A").Context(e.ctx).Do()
	if err != nil {
		t.Fatalf("key-column read during write faults: %v", err)
	}
	if len(keys.Values) != 2 {
		t.Errorf("key column = %v", keys.Values)
	}
	e.srv.Faults().Set(fault.Config{})
	if err := appendKeys(e, e.ctx, e.svc, id, "k3"); err != nil {
		t.Fatal(err)
	}
	if blind := BlindAppendRetries(e.srv.Log()); len(blind) != 0 {
		t.Errorf("reconciled client flagged as blind: %+v", blind)
	}

	// A client that re-sends without reading is caught.
	e.srv.Faults().Set(fault.Config{ApplyThenReset: 1})
	_ = appendKeys(e, e.ctx, e.svc, id, "k4")
	e.srv.Faults().Set(fault.Config{})
	if err := appendKeys(e, e.ctx, e.svc, id, "k4"); err != nil {
		t.Fatal(err)
	}
	blind := BlindAppendRetries(e.srv.Log())
	if len(blind) != 1 || blind[0].Seq != lastEntry(t, e.srv, OpValuesAppend).Seq {
		t.Errorf("BlindAppendRetries = %+v, want the last append", blind)
	}
}

// TestClientGoneDuringLatency: a client that gives up while its request
// waits out injected latency gets no answer, and the log says so (Status
// 0) rather than the 200 nobody received. The server notices a client gone
// only once it has read the request body, so this uses a read; a write
// whose client dies during latency is applied when the latency ends, as a
// request Google received may still be.
func TestClientGoneDuringLatency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{FaultReads: true})
	id := e.srv.CreateSpreadsheet("S")
	e.srv.Faults().Set(fault.Config{Latency: time.Minute})
	ctx, cancel := context.WithTimeout(e.ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := e.svc.Spreadsheets.Values.Get(id, "Sheet1!A:A").Context(ctx).Do(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("get = %v, want the client's deadline", err)
	}
	got := lastEntry(t, e.srv, OpValuesGet)
	want := LogEntry{Operation: OpValuesGet, Method: "GET", SpreadsheetID: id, Range: "Sheet1!A:A", Done: true}
	if diff := cmp.Diff(want, got, cmpEntry, cmpopts.IgnoreFields(LogEntry{}, "Seq")); diff != "" {
		t.Errorf("log entry (-want +got):\n%s", diff)
	}
}

func TestClientApplyThenTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S")
	e.srv.Faults().Set(fault.Config{ApplyThenTimeout: 1, Hold: time.Minute})

	ctx, cancel := context.WithTimeout(e.ctx, 300*time.Millisecond)
	defer cancel()
	err := appendKeys(e, ctx, e.svc, id, "k1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("append = %v, want the client's deadline", err)
	}
	got := lastEntry(t, e.srv, OpValuesAppend)
	if got.Fault != FaultApplyThenTimeout || !got.Applied || got.Status != 0 || got.RowsWritten != 1 {
		t.Errorf("log entry = %+v", got)
	}
	if diff := cmp.Diff([][]any{{"k1"}}, e.srv.Values(id, "Sheet1")); diff != "" {
		t.Errorf("the write was not applied (-want +got):\n%s", diff)
	}
}

func TestClientInjectedErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S")

	e.srv.Faults().Set(fault.Config{Rate429: 1, RetryAfter: 2 * time.Second})
	err := appendKeys(e, e.ctx, e.svc, id, "k1")
	gerr := apiErr(t, err, http.StatusTooManyRequests)
	if gerr.Header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After = %q", gerr.Header.Get("Retry-After"))
	}
	if got := lastEntry(t, e.srv, OpValuesAppend); got.Fault != FaultTooMany || got.Applied || got.Status != 429 {
		t.Errorf("429 entry = %+v", got)
	}

	e.srv.Faults().Set(fault.Config{Rate5xx: 1})
	err = appendKeys(e, e.ctx, e.svc, id, "k1")
	var status int
	if gerr := apiErrAny(t, err); gerr != nil {
		status = gerr.Code
	}
	if status != 500 && status != 503 {
		t.Errorf("injected 5xx gave %v", err)
	}
	if got := lastEntry(t, e.srv, OpValuesAppend); got.Fault != FaultServerError || got.Applied {
		t.Errorf("5xx entry = %+v", got)
	}
	// Reads are spared unless FaultReads is set.
	if _, err := e.svc.Spreadsheets.Values.Get(id, "A1").Context(e.ctx).Do(); err != nil {
		t.Errorf("read under write faults: %v", err)
	}
	if v := e.srv.Values(id, "Sheet1"); v != nil {
		t.Errorf("rejected writes were applied: %v", v)
	}

	r := newEnv(t, Options{FaultReads: true, Faults: fault.New(fault.Config{Rate5xx: 1})})
	rid := r.srv.CreateSpreadsheet("S")
	if _, err := r.svc.Spreadsheets.Values.Get(rid, "A1").Context(r.ctx).Do(); err == nil {
		t.Error("read with FaultReads and 5xx=1 succeeded")
	}
}

func apiErrAny(t *testing.T, err error) *googleapi.Error {
	t.Helper()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		t.Fatalf("error = %v, want *googleapi.Error", err)
	}
	return gerr
}

func TestLogRecordsRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Sheet1", "Responses")
	if err := appendKeys(e, e.ctx, e.svc, id); err != nil { // no rows
		t.Fatal(err)
	}
	e.seed(t, id, "Responses!A1", [][]any{{"k"}, {"r1"}})
	if _, err := e.svc.Spreadsheets.Values.BatchGet(id).Ranges("Responses!A:A", "Responses!1:1").Context(e.ctx).Do(); err != nil {
		t.Fatal(err)
	}
	_, _ = e.svc.Spreadsheets.Values.Get(id, "Nope!A1").Context(e.ctx).Do()
	if _, err := e.svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: []*sheets.Request{
		{AddSheet: &sheets.AddSheetRequest{Properties: &sheets.SheetProperties{Title: "More"}}},
		dateColumnFormat(0, 1, "DATE", ""),
	}}).Context(e.ctx).Do(); err != nil {
		t.Fatal(err)
	}
	got := e.srv.Log()
	want := []LogEntry{
		{Seq: 1, Method: "POST", Operation: OpValuesAppend, SpreadsheetID: id, Range: "Sheet1!A:A", Status: 200, HandlerStatus: 200, Done: true},
		{Seq: 2, Method: "PUT", Operation: OpValuesUpdate, SpreadsheetID: id, Range: "Responses!A1", Status: 200, HandlerStatus: 200, Applied: true, RowsWritten: 2, Done: true},
		{Seq: 3, Method: "GET", Operation: OpValuesBatchGet, SpreadsheetID: id, Range: "Responses!A:A, Responses!1:1", Status: 200, HandlerStatus: 200, Done: true},
		{Seq: 4, Method: "GET", Operation: OpValuesGet, SpreadsheetID: id, Range: "Nope!A1", Status: 400, HandlerStatus: 400, Error: "Unable to parse range: Nope!A1", Done: true},
		{Seq: 5, Method: "POST", Operation: OpBatchUpdate, SpreadsheetID: id, Requests: []string{"addSheet", "repeatCell"}, Status: 200, HandlerStatus: 200, Applied: true, Done: true},
	}
	if diff := cmp.Diff(want, got, cmpEntry); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	e.srv.ResetLog()
	if n := len(e.srv.Log()); n != 0 {
		t.Errorf("after ResetLog: %d entries", n)
	}
}

// TestClientMixedDropFaults checks that, with both apply-then-reset and
// apply-then-timeout configured, the log names each fault as the injector
// drew it.
func TestClientMixedDropFaults(t *testing.T) {
	t.Parallel()
	inj := fault.New(fault.Config{ApplyThenReset: 0.5, ApplyThenTimeout: 0.5, Hold: 150 * time.Millisecond, Seed: 11})
	e := newEnv(t, Options{Faults: inj})
	id := e.srv.CreateSpreadsheet("S")
	const n = 8
	for i := range n {
		if err := appendKeys(e, e.ctx, e.svc, id, "k"); err == nil {
			t.Fatalf("append %d got an answer through a dropped connection", i)
		}
	}
	counts := map[string]int{}
	for _, le := range e.srv.Log() {
		if !le.Applied || le.Status != 0 || !le.Done {
			t.Errorf("entry %+v: want applied, unanswered, done", le)
		}
		counts[le.Fault]++
	}
	st := inj.Stats()
	want := map[string]int{}
	if st.AppliedThenReset > 0 {
		want[FaultApplyThenReset] = int(st.AppliedThenReset)
	}
	if st.AppliedThenHeld > 0 {
		want[FaultApplyThenTimeout] = int(st.AppliedThenHeld)
	}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("faults in the log vs the injector's counts (-want +got):\n%s", diff)
	}
	if len(e.srv.Values(id, "Sheet1")) != n {
		t.Errorf("rows = %d, want %d (every dropped append was applied)", len(e.srv.Values(id, "Sheet1")), n)
	}
}
