package zendeskapi

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
		wantStatus  int // 0: the connection is dropped; -1: any 5xx
		wantFault   string
		wantApplied bool
	}{
		{"injected 429", fault.Config{Rate429: 1, RetryAfter: 7 * time.Second}, http.StatusTooManyRequests, FaultTooMany, false},
		{"injected 5xx", fault.Config{Rate5xx: 1}, -1, FaultServerError, false},
		{"applied then reset", fault.Config{ApplyThenReset: 1}, 0, FaultAppliedThenDropped, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, Options{Faults: fault.New(tt.cfg), Tickets: []NewTicket{{Subject: "a"}}})
			// Reads are spared by default.
			wantStatus(t, call(t, ts, http.MethodGet, "/api/v2/tickets/1", nil), http.StatusOK)

			req, _ := http.NewRequest(http.MethodPut, ts.URL+"/api/v2/tickets/1.json",
				strings.NewReader(`{"ticket":{"comment":{"body":"CSAT 5 [resp-1]"}}}`))
			req.Header.Set("Authorization", agentAuth)
			resp, err := ts.Client().Do(req)
			switch {
			case tt.wantStatus == 0:
				if err == nil {
					resp.Body.Close()
					t.Fatalf("status %d, want a dropped connection", resp.StatusCode)
				}
			case err != nil:
				t.Fatal(err)
			default:
				resp.Body.Close()
				if tt.wantStatus > 0 && resp.StatusCode != tt.wantStatus || tt.wantStatus < 0 && resp.StatusCode < 500 {
					t.Fatalf("status %d", resp.StatusCode)
				}
				if resp.StatusCode == http.StatusTooManyRequests &&
					(resp.Header.Get("Retry-After") != "7" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8") {
					t.Fatalf("429 headers %v", resp.Header)
				}
			}
			e := s.Log()[1]
			if e.Fault != tt.wantFault || e.Applied != tt.wantApplied {
				t.Fatalf("log entry %+v", e)
			}
			tk, _ := s.Ticket(1)
			if got := len(tk.Comments) == 1; got != tt.wantApplied {
				t.Fatalf("comments %+v", tk.Comments)
			}
		})
	}
}
