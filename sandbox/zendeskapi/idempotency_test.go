package zendeskapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/sandbox/fault"
)

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s, ts := start(t, Options{Now: clk.Now})
	body := `{"ticket":{"subject":"NPS 9","comment":{"body":"fast"},"external_id":"resp-1"}}`
	same := "{ \"ticket\": {\"external_id\":\"resp-1\", \"comment\":{\"body\":\"fast\"}, \"subject\":\"NPS 9\"} }"

	first := call(t, ts, http.MethodPost, "/api/v2/tickets.json", body, "Idempotency-Key", "k-1")
	wantStatus(t, first, http.StatusCreated)
	if got := first.header.Get("x-idempotency-lookup"); got != "miss" {
		t.Fatalf("first lookup = %q, want miss", got)
	}

	replay := call(t, ts, http.MethodPost, "/api/v2/tickets.json", same, "Idempotency-Key", "k-1")
	wantStatus(t, replay, http.StatusCreated)
	if got := replay.header.Get("x-idempotency-lookup"); got != "hit" {
		t.Fatalf("replay lookup = %q, want hit", got)
	}
	if string(replay.body) != string(first.body) || replay.header.Get("Location") != first.header.Get("Location") {
		t.Fatalf("replay differs:\n%s\n%s", first.body, replay.body)
	}

	other := call(t, ts, http.MethodPost, "/api/v2/tickets.json", strings.Replace(body, "NPS 9", "NPS 10", 1), "Idempotency-Key", "k-1")
	wantStatus(t, other, http.StatusBadRequest)
	want := apiError{Error: "IdempotentRequestError", Description: "Request parameters don't match the given idempotency key"}
	if diff := cmp.Diff(want, decode[apiError](t, other)); diff != "" {
		t.Fatalf("mismatch body (-want +got):\n%s", diff)
	}
	if s.CreatedTickets() != 1 {
		t.Fatalf("created %d tickets, want 1", s.CreatedTickets())
	}

	// Without a key every POST creates.
	wantStatus(t, call(t, ts, http.MethodPost, "/api/v2/tickets.json", body), http.StatusCreated)
	if s.CreatedTickets() != 2 {
		t.Fatalf("created %d tickets, want 2", s.CreatedTickets())
	}

	// The key expires after two hours.
	clk.Advance(2*time.Hour - time.Second)
	wantStatus(t, call(t, ts, http.MethodPost, "/api/v2/tickets.json", body, "Idempotency-Key", "k-1"), http.StatusCreated)
	if s.CreatedTickets() != 2 {
		t.Fatal("a replay inside the window created a ticket")
	}
	clk.Advance(time.Second)
	expired := call(t, ts, http.MethodPost, "/api/v2/tickets.json", body, "Idempotency-Key", "k-1")
	if expired.header.Get("x-idempotency-lookup") != "miss" || s.CreatedTickets() != 3 {
		t.Fatalf("after expiry: lookup %q, %d tickets", expired.header.Get("x-idempotency-lookup"), s.CreatedTickets())
	}

	var lookups []string
	for _, e := range s.Log() {
		lookups = append(lookups, e.Idempotency)
	}
	if got := strings.Join(lookups, ","); got != "miss,hit,mismatch,,hit,miss" {
		t.Fatalf("logged lookups %s", got)
	}
}

func TestIdempotencyKeyFailuresAreNotRemembered(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{})
	wantStatus(t, call(t, ts, http.MethodPost, "/api/v2/tickets", `{"ticket":{"subject":"x"}}`, "Idempotency-Key", "k"), http.StatusUnprocessableEntity)
	r := call(t, ts, http.MethodPost, "/api/v2/tickets", `{"ticket":{"subject":"x","comment":{"body":"b"}}}`, "Idempotency-Key", "k")
	wantStatus(t, r, http.StatusCreated)
	if r.header.Get("x-idempotency-lookup") != "miss" || s.CreatedTickets() != 1 {
		t.Fatalf("lookup %q, %d tickets", r.header.Get("x-idempotency-lookup"), s.CreatedTickets())
	}
	long := strings.Repeat("k", 256)
	wantStatus(t, call(t, ts, http.MethodPost, "/api/v2/tickets", `{"ticket":{"comment":{"body":"b"}}}`, "Idempotency-Key", long), http.StatusBadRequest)
}

// TestIdempotentRetryAfterDroppedAnswer is the case the key exists for:
// the ticket is created, the answer is lost, and the retry must not create
// a second one.
func TestIdempotentRetryAfterDroppedAnswer(t *testing.T) {
	t.Parallel()
	inj := fault.New(fault.Config{ApplyThenReset: 1, Seed: 7})
	s, ts := start(t, Options{Faults: inj})
	body := `{"ticket":{"subject":"CSAT 2","comment":{"body":"slow"}}}`

	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/v2/tickets.json", strings.NewReader(body))
	req.Header.Set("Authorization", agentAuth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "sync-1/resp-9")
	if resp, err := ts.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want a dropped connection", resp.StatusCode)
	}
	if s.CreatedTickets() != 1 {
		t.Fatalf("created %d tickets before the retry", s.CreatedTickets())
	}

	inj.Set(fault.Config{})
	r := call(t, ts, http.MethodPost, "/api/v2/tickets.json", body, "Idempotency-Key", "sync-1/resp-9")
	wantStatus(t, r, http.StatusCreated)
	if r.header.Get("x-idempotency-lookup") != "hit" || s.CreatedTickets() != 1 {
		t.Fatalf("retry: lookup %q, %d tickets", r.header.Get("x-idempotency-lookup"), s.CreatedTickets())
	}
	log := s.Log()
	if log[0].Fault != FaultAppliedThenDropped || !log[0].Applied || log[0].Status != 0 || log[1].Idempotency != LookupHit {
		t.Fatalf("log %+v", log)
	}
}
