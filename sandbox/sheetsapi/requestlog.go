package sheetsapi

import (
	"slices"
	"strings"
	"time"
)

// Fault names recorded in LogEntry.Fault.
const (
	FaultTooMany          = "429"
	FaultServerError      = "5xx"
	FaultApplyThenReset   = "apply-then-reset"
	FaultApplyThenTimeout = "apply-then-timeout"
)

// LogEntry records one API request, in the order requests arrived.
// An entry is added when the request arrives and completed as it is
// answered, so a request still being held shows Done false.
type LogEntry struct {
	// Seq numbers requests from 1 in arrival order.
	Seq int64
	// Time is the arrival time by the server's clock.
	Time time.Time
	// Method is the HTTP method.
	Method string
	// Operation is the discovery method without its "sheets.spreadsheets."
	// prefix, such as "values.append"; empty for a path the API does not have.
	Operation string
	// SpreadsheetID is the spreadsheet addressed, if any.
	SpreadsheetID string
	// Range is the decoded range of a single-range call, or the ranges of a
	// batch call joined with ", ".
	Range string
	// Ranges holds every range of the call.
	Ranges []string
	// Requests lists the request kinds of a spreadsheets.batchUpdate in
	// order, such as "addSheet" or "repeatCell".
	Requests []string
	// User is the quota user: the bearer token, the quotaUser parameter, or
	// "anonymous".
	User string
	// Status is the HTTP status the client received; 0 when the connection
	// was reset or abandoned without an answer.
	Status int
	// HandlerStatus is the status the API produced, even when a fault kept
	// it from the client.
	HandlerStatus int
	// Fault names the injected fault: "429", "5xx", "apply-then-reset",
	// "apply-then-timeout", or "" for none.
	Fault string
	// QuotaLimit names the quota that rejected the request, such as
	// "WriteRequestsPerMinutePerUser", or "".
	QuotaLimit string
	// Applied reports whether the request changed the spreadsheet.
	Applied bool
	// RowsWritten is the number of rows a write changed (appended, updated
	// or cleared).
	RowsWritten int
	// Error is the error message returned, if any.
	Error string
	// Done is false while the request is still being handled or held.
	Done bool
}

// Log returns a copy of the request log, oldest first.
func (s *Server) Log() []LogEntry {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	out := make([]LogEntry, len(s.log))
	for i, e := range s.log {
		out[i] = *e
		out[i].Ranges = slices.Clone(e.Ranges)
		out[i].Requests = slices.Clone(e.Requests)
	}
	return out
}

// ResetLog empties the request log; sequence numbers continue.
func (s *Server) ResetLog() {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.log = nil
}

func (s *Server) newEntry(e LogEntry) *LogEntry {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.seq++
	e.Seq = s.seq
	p := &e
	s.log = append(s.log, p)
	return p
}

// note changes an entry under the log lock.
func (s *Server) note(e *LogEntry, f func(*LogEntry)) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	f(e)
}

// Ambiguous reports whether the client cannot know if the request was
// applied: the connection was reset or abandoned, or a 5xx came back.
func (e LogEntry) Ambiguous() bool {
	return e.Status == 0 || e.Status >= 500
}

// BlindAppendRetries returns the values.append requests that followed an
// append with an ambiguous outcome (see LogEntry.Ambiguous) to the same
// spreadsheet without any values read (values.get or values.batchGet) of
// that spreadsheet in between. A client that reconciles by reading the key
// column before re-sending yields none.
func BlindAppendRetries(log []LogEntry) []LogEntry {
	pending := map[string]bool{} // spreadsheet id → ambiguous append not yet followed by a read
	var out []LogEntry
	for _, e := range log {
		switch e.Operation {
		case OpValuesGet, OpValuesBatchGet:
			if e.Status == 200 {
				delete(pending, e.SpreadsheetID)
			}
		case OpValuesAppend:
			if pending[e.SpreadsheetID] {
				out = append(out, e)
			}
			if e.Ambiguous() {
				pending[e.SpreadsheetID] = true
			}
		}
	}
	return out
}

func joinRanges(rs []string) string { return strings.Join(rs, ", ") }
