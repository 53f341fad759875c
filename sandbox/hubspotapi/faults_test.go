package hubspotapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/surveysync/surveysync/sandbox/fault"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		cfg         fault.Config
		wantStatus  int // 0: the connection is dropped
		wantFault   string
		wantApplied bool
	}{
		{"injected 429", fault.Config{Rate429: 1, RetryAfter: 3 * time.Second, Seed: 1}, http.StatusTooManyRequests, FaultTooMany, false},
		{"injected 5xx", fault.Config{Rate5xx: 1, Seed: 1}, -1, FaultServerError, false},
		{"applied then reset", fault.Config{ApplyThenReset: 1, Seed: 1}, 0, FaultAppliedThenDropped, true},
		{"applied then held", fault.Config{ApplyThenTimeout: 1, Hold: 10 * time.Millisecond, Seed: 1}, 0, FaultAppliedThenDropped, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, Options{Faults: fault.New(tt.cfg)})
			req, _ := http.NewRequest(http.MethodPost, ts.URL+upsertPath,
				strings.NewReader(`{"inputs":[{"id":"ann@example.com","idProperty":"email","properties":{"firstname":"Ann"}}]}`))
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := ts.Client().Do(req)
			switch {
			case tt.wantStatus == 0:
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got status %d, want a dropped connection", resp.StatusCode)
				}
			case err != nil:
				t.Fatal(err)
			default:
				resp.Body.Close()
				if tt.wantStatus > 0 && resp.StatusCode != tt.wantStatus || tt.wantStatus < 0 && resp.StatusCode < 500 {
					t.Fatalf("status = %d", resp.StatusCode)
				}
				if tt.wantStatus == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "3" {
					t.Fatalf("Retry-After = %q", resp.Header.Get("Retry-After"))
				}
			}

			var entry Entry
			for _, e := range s.Log() {
				if e.Path == upsertPath {
					entry = e
				}
			}
			if entry.Fault != tt.wantFault || entry.Applied != tt.wantApplied || entry.Inputs != 1 && tt.wantApplied {
				t.Fatalf("log entry %+v", entry)
			}
			if tt.wantStatus == 0 && entry.Status != 0 {
				t.Fatalf("dropped request logged with status %d", entry.Status)
			}
			if got, want := len(s.Contacts()), map[bool]int{true: 1, false: 0}[tt.wantApplied]; got != want {
				t.Fatalf("%d contacts, want %d", got, want)
			}
		})
	}
}

func TestFaultsSpareReadsByDefault(t *testing.T) {
	t.Parallel()
	_, ts := start(t, Options{Faults: fault.New(fault.Config{Rate429: 1})})
	wantStatus(t, call(t, ts, http.MethodGet, "/crm/v3/objects/contacts", testToken, nil), http.StatusOK)
	wantStatus(t, call(t, ts, http.MethodPost, "/crm/v3/objects/notes/search", testToken, `{}`), http.StatusOK)
	wantStatus(t, call(t, ts, http.MethodPost, "/crm/v3/objects/contacts/batch/read", testToken, `{"inputs":[]}`), http.StatusOK)
	wantStatus(t, call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken, `{"properties":{}}`), http.StatusTooManyRequests)
}
