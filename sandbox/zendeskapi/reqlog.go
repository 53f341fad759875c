package zendeskapi

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Fault names recorded in Entry.Fault.
const (
	// FaultTooMany marks a 429 injected before the request was applied.
	FaultTooMany = "429"
	// FaultServerError marks a 5xx injected before the request was applied.
	FaultServerError = "5xx"
	// FaultAppliedThenDropped marks a request that was applied and then
	// answered by a reset connection or by no answer at all.
	FaultAppliedThenDropped = "applied_then_dropped"
)

// Idempotency lookups recorded in Entry.Idempotency.
const (
	// LookupMiss is a first request with its Idempotency-Key.
	LookupMiss = "miss"
	// LookupHit is a replay answered from the cache.
	LookupHit = "hit"
	// LookupMismatch is a key reused with different parameters.
	LookupMismatch = "mismatch"
)

// Entry is one request as the emulator saw it.
type Entry struct {
	// Seq numbers requests from 1 in arrival order.
	Seq int64
	// Time is when the request arrived, by the server's clock.
	Time time.Time
	// Method and Path are the request's method and URL path as sent (with
	// any .json suffix); Query is the raw query string.
	Method, Path, Query string
	// User is the authenticated agent's email, or "oauth" for bearer tokens.
	User string
	// Token is the API or OAuth token the request carried.
	Token string
	// Status is the status the client received; 0 when the connection was
	// dropped without an answer.
	Status int
	// Limit names the rate limit that refused the request: LimitAccount,
	// LimitUpdateTicket or LimitTicketUser; empty if none did.
	Limit string
	// Fault names the injected fault (FaultTooMany, FaultServerError,
	// FaultAppliedThenDropped); empty if none was injected.
	Fault string
	// Applied reports whether the request changed the emulator's data. For
	// update_many it turns true when the queued job applies an update.
	Applied bool
	// Inputs is the number of tickets or users the request carried.
	Inputs int
	// IdempotencyKey is the request's Idempotency-Key header.
	IdempotencyKey string
	// Idempotency is the key's lookup result: LookupMiss, LookupHit or
	// LookupMismatch; empty without a key.
	Idempotency string
}

type entryKey struct{}

// entryFrom returns the log entry of the request r, or nil.
func entryFrom(r *http.Request) *Entry {
	e, _ := r.Context().Value(entryKey{}).(*Entry)
	return e
}

// noteLocked changes the log entry of r; the caller holds s.mu.
func noteLocked(r *http.Request, change func(*Entry)) {
	if e := entryFrom(r); e != nil {
		change(e)
	}
}

// note is noteLocked for callers that do not hold s.mu.
func (s *Server) note(r *http.Request, change func(*Entry)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	noteLocked(r, change)
}

// logRequests records every request and what became of it.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := identify(r)
		s.mu.Lock()
		s.seq++
		e := &Entry{
			Seq:            s.seq,
			Time:           s.now(),
			Method:         r.Method,
			Path:           r.URL.Path,
			Query:          r.URL.RawQuery,
			User:           id.user,
			Token:          id.token,
			IdempotencyKey: r.Header.Get("Idempotency-Key"),
		}
		s.log = append(s.log, e)
		s.mu.Unlock()
		rec := &recorder{ResponseWriter: w, srv: s, entry: e}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), entryKey{}, e)))
	})
}

// Log returns a copy of the request log in arrival order.
func (s *Server) Log() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, len(s.log))
	for i, e := range s.log {
		out[i] = *e
	}
	return out
}

// ResetLog empties the request log; sequence numbers keep counting.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// recorder notes the status a request was answered with. Fault writers and
// the routes find the log entry through it.
type recorder struct {
	http.ResponseWriter
	srv         *Server
	entry       *Entry
	wroteHeader bool
}

func (rw *recorder) WriteHeader(code int) {
	if !rw.wroteHeader {
		rw.wroteHeader = true
		rw.srv.mu.Lock()
		rw.entry.Status = code
		rw.srv.mu.Unlock()
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recorder) Write(p []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	return rw.ResponseWriter.Write(p)
}

// Flush passes a flush on when the underlying writer supports it.
func (rw *recorder) Flush() {
	if f, ok := rw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets the fault injector drop the connection; the entry keeps status 0.
func (rw *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := rw.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("zendeskapi: response writer cannot hijack")
	}
	rw.wroteHeader = true
	return hj.Hijack()
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }
