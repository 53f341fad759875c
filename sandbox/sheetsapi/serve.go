package sheetsapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/surveysync/surveysync/sandbox/fault"
)

// maxBodyBytes bounds request bodies. Google recommends at most 2 MB but
// has no hard limit; the emulator accepts far more so benchmarks can push
// large batches.
const maxBodyBytes = 256 << 20

// call is one API request as a method handler sees it.
type call struct {
	r     *http.Request
	query url.Values
	id    string // spreadsheet id
	rng   string // decoded {range}
	body  []byte
	user  string

	// Set by write handlers.
	applied bool
	rows    int
	ranges  []string // for batch calls, filled once the body is parsed
	kinds   []string // request kinds of a spreadsheets.batchUpdate
}

// reqState travels in the request context from the front handler, through
// the fault injector, to the API handler.
type reqState struct {
	route   *route
	vars    map[string]string
	rec     *recorder
	entry   *LogEntry
	reqCtx  context.Context
	dropped time.Time // when the API answered into the injector's discard writer
}

type stateKey struct{}

func (s *Server) buildHandler() http.Handler {
	api := s.faults.Wrap(http.HandlerFunc(s.serveAPI), s.faultSelected, fault.Writers{
		TooMany:     s.writeInjectedTooMany,
		ServerError: s.writeInjectedServerError,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == "/token":
			s.serveToken(w, r)
		case strings.HasPrefix(p, "/v4/"):
			s.serveFront(w, r, api)
		default:
			writeJSON(w, r, http.StatusNotFound, errorBody{errNoMethod})
		}
	})
}

// faultSelected picks the requests faults apply to: writes, and reads too
// when Options.FaultReads is set. Unknown paths never get faults.
func (s *Server) faultSelected(r *http.Request) bool {
	st, _ := r.Context().Value(stateKey{}).(*reqState)
	if st == nil || st.route == nil {
		return false
	}
	return st.route.write || s.opts.FaultReads
}

// serveFront matches the route, opens the log entry, and hands the request
// to the fault injector and then serveAPI.
func (s *Server) serveFront(w http.ResponseWriter, r *http.Request, api http.Handler) {
	rt, vars, _ := match(r.Method, r.URL.EscapedPath())
	entry := LogEntry{Time: s.now(), Method: r.Method, User: userKey(r)}
	if rt != nil {
		entry.Operation = rt.op
		entry.SpreadsheetID = vars["spreadsheetId"]
		if rng, ok := vars["range"]; ok {
			entry.Range, entry.Ranges = rng, []string{rng}
		}
	}
	e := s.newEntry(entry)
	rec := &recorder{ResponseWriter: w, s: s, entry: e}
	st := &reqState{route: rt, vars: vars, rec: rec, entry: e}
	rec.state = st
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	st.reqCtx = r.Context()
	s.logger.Debug("sheets request", "seq", e.Seq, "method", r.Method, "op", entry.Operation, "range", entry.Range)
	if rt == nil {
		s.answer(rec, r, st, nil, errNoMethod)
	} else {
		api.ServeHTTP(rec, r)
	}
	gone := r.Context().Err() != nil
	s.note(e, func(e *LogEntry) {
		if !rec.hijacked {
			e.Status = rec.status
			if e.Status == 0 && !gone {
				e.Status = http.StatusOK
			}
			// Nothing written and the client gone (it gave up or died
			// during injected latency): it got no answer, Status stays 0.
		}
		e.Done = true
	})
}

// serveAPI authenticates, applies quotas and runs the method handler.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	st := r.Context().Value(stateKey{}).(*reqState)
	if w != http.ResponseWriter(st.rec) {
		// The injector will drop this answer and reset or hold the
		// connection: an apply-then-reset or apply-then-timeout fault.
		s.note(st.entry, func(e *LogEntry) { e.Fault = s.provisionalDropFault() })
	}
	c := &call{r: r, query: r.URL.Query(), id: st.vars["spreadsheetId"], rng: st.vars["range"], user: userKey(r)}
	body, e := s.admit(c, st)
	if e == nil {
		if st.route.handle == nil {
			e = errUnimplemented(st.route.op)
		} else {
			body, e = st.route.handle(s, c)
		}
	}
	if c.applied {
		s.changed()
	}
	s.note(st.entry, func(le *LogEntry) {
		le.Applied, le.RowsWritten = c.applied, c.rows
		if len(c.ranges) > 0 {
			le.Ranges, le.Range = c.ranges, joinRanges(c.ranges)
		}
		le.Requests = c.kinds
	})
	s.answer(w, r, st, body, e)
	if w != http.ResponseWriter(st.rec) {
		st.dropped = time.Now()
	}
}

// admit checks credentials and quotas and reads the body.
func (s *Server) admit(c *call, st *reqState) (any, *apiError) {
	token := bearerToken(c.r)
	s.mu.RLock()
	revoked := s.revoked[token]
	s.mu.RUnlock()
	switch {
	case token != "" && revoked:
		return nil, errNoAuth
	case token == "" && s.opts.RequireAuth:
		return nil, errMissingAuth
	}
	if kind, limit, ok := s.quota.admit(st.route.write, c.user); !ok {
		s.note(st.entry, func(e *LogEntry) { e.QuotaLimit = kind.limitID })
		return nil, errQuota(kind, limit, s.opts.ProjectNumber)
	}
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, badRequest("Failed to read request body: %v", err)
	}
	if len(body) > maxBodyBytes {
		return nil, &apiError{Code: http.StatusRequestEntityTooLarge, Status: "INVALID_ARGUMENT", Message: "Request payload size exceeds the limit."}
	}
	c.body = body
	return nil, nil
}

// answer writes a method's result or error and records the handler status.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, st *reqState, body any, e *apiError) {
	status := http.StatusOK
	if e != nil {
		status, body = e.Code, errorBody{e}
	}
	s.note(st.entry, func(le *LogEntry) {
		le.HandlerStatus = status
		if e != nil {
			le.Error = e.Message
		}
	})
	if e == nil {
		if fields := r.URL.Query().Get("fields"); fields != "" {
			masked, err := applyFieldMask(body, fields)
			if err != nil {
				status, body = http.StatusBadRequest, errorBody{badRequest("Invalid field selection %s", fields)}
			} else {
				body = masked
			}
		}
	}
	writeJSON(w, r, status, body)
}

// writeJSON writes v with Google's content type; pretty-printed unless the
// request says prettyPrint=false, as Google does.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if r == nil || r.URL.Query().Get("prettyPrint") != "false" {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(errorBody{errInternal})
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Vary", "Origin, X-Origin, Referer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeInjectedTooMany answers an injected 429 the way a per-user quota
// rejection looks, for the read or write bucket of the request.
func (s *Server) writeInjectedTooMany(w http.ResponseWriter, retryAfter time.Duration) {
	write := true
	if rec, ok := w.(*recorder); ok {
		s.note(rec.entry, func(e *LogEntry) { e.Fault = FaultTooMany; e.HandlerStatus = http.StatusTooManyRequests })
		if rec.state != nil && rec.state.route != nil {
			write = rec.state.route.write
		}
	}
	writeRetryAfter(w, retryAfter)
	e := errQuota(quotaKindFor(write, true), s.userLimit(write), s.opts.ProjectNumber)
	writeJSON(w, nil, e.Code, errorBody{e})
}

// writeInjectedServerError answers an injected 500 or 503.
func (s *Server) writeInjectedServerError(w http.ResponseWriter, status int) {
	if rec, ok := w.(*recorder); ok {
		s.note(rec.entry, func(e *LogEntry) { e.Fault = FaultServerError; e.HandlerStatus = status })
	}
	e := errInternal
	if status == http.StatusServiceUnavailable {
		e = errUnavailable
	}
	writeJSON(w, nil, e.Code, errorBody{e})
}

// userLimit is the per-user limit quoted in injected 429s.
func (s *Server) userLimit(write bool) int {
	s.quota.mu.Lock()
	defer s.quota.mu.Unlock()
	n := s.quota.limits.ReadPerUser
	if write {
		n = s.quota.limits.WritePerUser
	}
	if n > 0 {
		return n
	}
	return DefaultPerUserPerMinute
}

// provisionalDropFault names an apply-then-drop fault before the injector
// shows whether it resets at once or holds the connection: certain when
// only one of the two is configured, refined by recorder.Hijack otherwise.
func (s *Server) provisionalDropFault() string {
	cfg := s.faults.Config()
	if cfg.ApplyThenTimeout > 0 && cfg.ApplyThenReset == 0 {
		return FaultApplyThenTimeout
	}
	return FaultApplyThenReset
}

// recorder remembers the status sent to the client and notices when the
// fault injector takes the connection over to reset it.
type recorder struct {
	http.ResponseWriter
	s        *Server
	entry    *LogEntry
	state    *reqState
	status   int
	hijacked bool
}

// WriteHeader records the status.
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

// Flush passes through to the underlying writer.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack is how the fault injector resets a connection. The log entry is
// completed before the connection is handed over, so that by the time the
// client sees the reset the log already shows the fault.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("sheets emulator: connection cannot be hijacked")
	}
	fault := FaultApplyThenReset
	if st := r.state; st != nil {
		held := !st.dropped.IsZero() && time.Since(st.dropped) >= holdFor(r.s.faults.Config())-50*time.Millisecond
		if held || (st.reqCtx != nil && st.reqCtx.Err() != nil) {
			fault = FaultApplyThenTimeout
		}
	}
	r.s.note(r.entry, func(e *LogEntry) {
		r.hijacked = true
		e.Status = 0
		e.Fault = fault
		e.Done = true
	})
	return hj.Hijack()
}

func holdFor(c fault.Config) time.Duration {
	if c.Hold > 0 {
		return c.Hold
	}
	return 2 * time.Minute
}

// bearerToken returns the OAuth access token of a request, if any.
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
	}
	q := r.URL.Query()
	if t := q.Get("access_token"); t != "" {
		return t
	}
	return q.Get("oauth_token")
}

// userKey is the per-user quota key: quotaUser, else the token, else "anonymous".
func userKey(r *http.Request) string {
	if u := r.URL.Query().Get("quotaUser"); u != "" {
		return u
	}
	if t := bearerToken(r); t != "" {
		return t
	}
	return "anonymous"
}
