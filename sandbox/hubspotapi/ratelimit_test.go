package hubspotapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rateBody is HubSpot's 429 body.
type rateBody struct {
	Status     string `json:"status"`
	Message    string `json:"message"`
	ErrorType  string `json:"errorType"`
	PolicyName string `json:"policyName"`
}

func TestTenSecondlyRollingWindow(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s, ts := start(t, Options{Now: clk.Now, RateLimit: 3, RetryAfter: true})
	get := func() response { return call(t, ts, http.MethodGet, "/crm/v3/objects/contacts", testToken, nil) }

	// t=0s, 4s, 8s: three requests fill the window.
	for i, want := range []string{"2", "1", "0"} {
		r := get()
		wantStatus(t, r, http.StatusOK)
		if got := r.header.Get("X-HubSpot-RateLimit-Remaining"); got != want {
			t.Fatalf("request %d: remaining = %s, want %s", i, got, want)
		}
		if r.header.Get("X-HubSpot-RateLimit-Max") != "3" || r.header.Get("X-HubSpot-RateLimit-Interval-Milliseconds") != "10000" {
			t.Fatalf("headers %v", r.header)
		}
		if i < 2 {
			clk.Advance(4 * time.Second)
		}
	}

	// t=8s: the fourth is refused until the first leaves the window at t=10s.
	r := get()
	wantStatus(t, r, http.StatusTooManyRequests)
	want := rateBody{Status: "error", Message: "You have reached your ten_secondly_rolling limit.", ErrorType: "RATE_LIMIT", PolicyName: "TEN_SECONDLY_ROLLING"}
	if diff := cmp.Diff(want, decode[rateBody](t, r)); diff != "" {
		t.Fatalf("429 body (-want +got):\n%s", diff)
	}
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After = %q, want 2", got)
	}
	if got := r.header.Get("X-HubSpot-RateLimit-Remaining"); got != "0" {
		t.Fatalf("remaining on 429 = %q", got)
	}

	// Another token has its own window.
	wantStatus(t, call(t, ts, http.MethodGet, "/crm/v3/objects/contacts", "other-token", nil), http.StatusOK)

	clk.Advance(1999 * time.Millisecond) // t=9.999s: still full
	wantStatus(t, get(), http.StatusTooManyRequests)
	clk.Advance(time.Millisecond) // t=10s: the t=0 request has left
	wantStatus(t, get(), http.StatusOK)
	wantStatus(t, get(), http.StatusTooManyRequests)

	var limited int
	for _, e := range s.Log() {
		if e.Limit == PolicyTenSecondly {
			limited++
			if e.Status != http.StatusTooManyRequests || e.Applied {
				t.Fatalf("refused entry %+v", e)
			}
		}
	}
	if limited != 3 {
		t.Fatalf("%d requests refused, want 3", limited)
	}
}

func TestRefusedRequestsAreNotApplied(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s, ts := start(t, Options{Now: clk.Now, RateLimit: 1})
	wantStatus(t, call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken, `{"properties":{"email":"a@example.com"}}`), http.StatusCreated)
	r := call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken, `{"properties":{"email":"b@example.com"}}`)
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "" {
		t.Fatalf("Retry-After sent without the option: %v", r.header)
	}
	if n := len(s.Contacts()); n != 1 {
		t.Fatalf("%d contacts, want 1", n)
	}
}

func TestDailyLimit(t *testing.T) {
	t.Parallel()
	clk := newClock() // 10:00 UTC
	_, ts := start(t, Options{Now: clk.Now, DailyLimit: 2, RateLimit: -1, RetryAfter: true})
	get := func() response { return call(t, ts, http.MethodGet, "/crm/v3/objects/contacts", testToken, nil) }
	wantStatus(t, get(), http.StatusOK)
	r := get()
	wantStatus(t, r, http.StatusOK)
	if r.header.Get("X-HubSpot-RateLimit-Daily") != "2" || r.header.Get("X-HubSpot-RateLimit-Daily-Remaining") != "0" {
		t.Fatalf("headers %v", r.header)
	}
	if r.header.Get("X-HubSpot-RateLimit-Max") != "" {
		t.Fatalf("ten-second headers sent with that limit disabled: %v", r.header)
	}
	r = get()
	wantStatus(t, r, http.StatusTooManyRequests)
	if got := decode[rateBody](t, r); got.PolicyName != "DAILY" || got.Message != "You have reached your daily limit." {
		t.Fatalf("429 body %+v", got)
	}
	if got := r.header.Get("Retry-After"); got != "50400" { // 14 h to midnight UTC
		t.Fatalf("Retry-After = %q", got)
	}
	clk.Advance(14 * time.Hour)
	wantStatus(t, get(), http.StatusOK)
}

func TestSearchLimit(t *testing.T) {
	t.Parallel()
	clk := newClock()
	_, ts := start(t, Options{Now: clk.Now, RateLimit: 2, SearchLimit: 2})
	search := func() response {
		return call(t, ts, http.MethodPost, "/crm/v3/objects/contacts/search", testToken, `{"filterGroups":[]}`)
	}
	wantStatus(t, search(), http.StatusOK)
	wantStatus(t, search(), http.StatusOK)
	r := search()
	wantStatus(t, r, http.StatusTooManyRequests)
	if decode[rateBody](t, r).PolicyName != PolicySecondly {
		t.Fatalf("body %s", r.body)
	}
	// Search does not use up the ten-second window.
	wantStatus(t, call(t, ts, http.MethodGet, "/crm/v3/objects/contacts", testToken, nil), http.StatusOK)
	clk.Advance(time.Second)
	wantStatus(t, search(), http.StatusOK)
}
