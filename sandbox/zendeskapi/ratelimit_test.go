package zendeskapi

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestAccountRateLimit(t *testing.T) {
	t.Parallel()
	clk := newClock() // 10:00:30
	s, ts := start(t, Options{Now: clk.Now, RateLimit: 3})
	get := func() response { return call(t, ts, http.MethodGet, "/api/v2/tickets.json", nil) }
	for _, want := range []string{"2", "1", "0"} {
		r := get()
		wantStatus(t, r, http.StatusOK)
		if r.header.Get("X-Rate-Limit") != "3" || r.header.Get("X-Rate-Limit-Remaining") != want {
			t.Fatalf("headers %v, want remaining %s", r.header, want)
		}
	}
	clk.Advance(10 * time.Second) // 10:00:40
	r := get()
	wantStatus(t, r, http.StatusTooManyRequests)
	if string(r.body) != "Number of allowed API requests per minute exceeded" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("429 answer %q %q", r.header.Get("Content-Type"), r.body)
	}
	if r.header.Get("Retry-After") != "20" || r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("429 headers %v", r.header)
	}
	// Writes are refused too, and nothing is applied.
	wantStatus(t, call(t, ts, http.MethodPost, "/api/v2/tickets", createBody("x")), http.StatusTooManyRequests)
	if s.CreatedTickets() != 0 {
		t.Fatal("a refused create was applied")
	}
	clk.Advance(20 * time.Second) // 10:01:00, a new window
	wantStatus(t, get(), http.StatusOK)
	var limited int
	for _, e := range s.Log() {
		if e.Limit == LimitAccount {
			limited++
		}
	}
	if limited != 2 {
		t.Fatalf("%d requests refused, want 2", limited)
	}
}

func TestTicketUpdateLimits(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s, ts := start(t, Options{Now: clk.Now, TicketUpdateLimit: 2, UpdateTicketLimit: -1,
		Tickets: []NewTicket{{Subject: "a"}, {Subject: "b"}}})
	update := func(id int, auth string) response {
		return request(t, ts, http.MethodPut, fmt.Sprintf("/api/v2/tickets/%d.json", id), auth,
			`{"ticket":{"comment":{"body":"x","public":false}}}`)
	}
	wantStatus(t, update(1, agentAuth), http.StatusOK)
	clk.Advance(time.Minute)
	wantStatus(t, update(1, agentAuth), http.StatusOK)
	clk.Advance(time.Minute)
	r := update(1, agentAuth)
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "480" { // the first update leaves the 10-minute window in 8 minutes
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	// Other tickets and other users are not stalled.
	wantStatus(t, update(2, agentAuth), http.StatusOK)
	wantStatus(t, update(1, basic("other@example.com/token", "t")), http.StatusOK)
	clk.Advance(8 * time.Minute)
	wantStatus(t, update(1, agentAuth), http.StatusOK)
	if tk, _ := s.Ticket(1); tk.Updates != 4 {
		t.Fatalf("ticket 1 has %d updates, want 4", tk.Updates)
	}
	if e := s.Log()[2]; e.Limit != LimitTicketUser || e.Applied {
		t.Fatalf("log entry %+v", e)
	}
}

func TestUpdateTicketEndpointLimit(t *testing.T) {
	t.Parallel()
	clk := newClock() // 10:00:30
	_, ts := start(t, Options{Now: clk.Now, UpdateTicketLimit: 2, Tickets: []NewTicket{{Subject: "a"}, {Subject: "b"}}})
	for i := range 2 {
		wantStatus(t, call(t, ts, http.MethodPut, fmt.Sprintf("/api/v2/tickets/%d", i+1), `{"ticket":{"status":"open"}}`), http.StatusOK)
	}
	r := call(t, ts, http.MethodPut, "/api/v2/tickets/1", `{"ticket":{"status":"open"}}`)
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "30" {
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	// Other endpoints are not limited by it.
	wantStatus(t, call(t, ts, http.MethodGet, "/api/v2/tickets/1", nil), http.StatusOK)
	clk.Advance(30 * time.Second)
	wantStatus(t, call(t, ts, http.MethodPut, "/api/v2/tickets/1", `{"ticket":{"status":"open"}}`), http.StatusOK)
}
