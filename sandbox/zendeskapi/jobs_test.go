package zendeskapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type jobReply struct {
	JobStatus jobJSON `json:"job_status"`
}

func TestUpdateMany(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		path        string
		body        string
		wantResults []jobResult
	}{
		{
			name: "ids with one change",
			path: "/api/v2/tickets/update_many.json?ids=1,2,99",
			body: `{"ticket":{"status":"solved","custom_fields":[{"id":101,"value":"4"}]}}`,
			wantResults: []jobResult{
				{ID: 1, Action: "update", Success: true, Status: "Updated"},
				{ID: 2, Action: "update", Success: true, Status: "Updated"},
				{ID: 99, Action: "update", Error: "RecordNotFound", Details: "Ticket not found"},
			},
		},
		{
			name: "tickets with their own changes",
			path: "/api/v2/tickets/update_many",
			body: `{"tickets":[{"id":1,"custom_fields":[{"id":101,"value":"4"}]},{"id":2,"custom_fields":[{"id":101,"value":"four"}]},{"id":3,"status":"open"}]}`,
			wantResults: []jobResult{
				{ID: 1, Action: "update", Success: true, Status: "Updated"},
				{ID: 2, Action: "update", Error: "RecordInvalid", Details: `CSAT (field 101, integer): "four" is not an integer`},
				{ID: 3, Action: "update", Error: "RecordInvalid", Details: "Status: closed prevents ticket update"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, Options{Fields: testFields, Tickets: []NewTicket{
				{Subject: "a", Description: "a"}, {Subject: "b", Description: "b"}, {Subject: "c", Description: "c", Status: "closed"},
			}})
			r := call(t, ts, http.MethodPut, tt.path, tt.body)
			wantStatus(t, r, http.StatusOK)
			queued := decode[jobReply](t, r).JobStatus
			if queued.Status != "queued" || queued.Results != nil || queued.Total != 3 {
				t.Fatalf("queued job %s", r.body)
			}
			s.mu.Lock()
			early := s.tickets[1].updates
			s.mu.Unlock()
			if early != 0 {
				t.Fatal("the job ran before it was polled")
			}

			r = call(t, ts, http.MethodGet, "/api/v2/job_statuses/"+queued.ID+".json", nil)
			wantStatus(t, r, http.StatusOK)
			done := decode[jobReply](t, r).JobStatus
			if done.Status != "completed" || *done.Progress != 3 {
				t.Fatalf("polled job %s", r.body)
			}
			if diff := cmp.Diff(tt.wantResults, done.Results); diff != "" {
				t.Fatalf("results (-want +got):\n%s", diff)
			}
			if tk, _ := s.Ticket(1); tk.Fields[101] != "4" || tk.Updates != 1 {
				t.Fatalf("ticket 1 %+v", tk)
			}
			if e := s.Log()[0]; !e.Applied || e.Inputs != 3 {
				t.Fatalf("update_many log entry %+v", e)
			}
		})
	}
}

func TestUpdateManyRefused(t *testing.T) {
	t.Parallel()
	var ids []string
	for i := range MaxBulk + 1 {
		ids = append(ids, fmt.Sprint(i+1))
	}
	tests := []struct {
		name, path, body string
	}{
		{"too many ids", "/api/v2/tickets/update_many?ids=" + strings.Join(ids, ","), `{"ticket":{"status":"open"}}`},
		{"ids without ticket", "/api/v2/tickets/update_many?ids=1", `{}`},
		{"ticket without id", "/api/v2/tickets/update_many", `{"tickets":[{"status":"open"}]}`},
		{"nothing", "/api/v2/tickets/update_many", `{"tickets":[]}`},
		{"bad id", "/api/v2/tickets/update_many?ids=1,x", `{"ticket":{"status":"open"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ts := start(t, Options{})
			wantStatus(t, call(t, ts, http.MethodPut, tt.path, tt.body), http.StatusBadRequest)
		})
	}
}

func TestJobDelay(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s, ts := start(t, Options{Now: clk.Now, JobDelay: 3 * time.Second, Tickets: []NewTicket{{Subject: "a"}}})
	job := decode[jobReply](t, call(t, ts, http.MethodPut, "/api/v2/tickets/update_many?ids=1", `{"ticket":{"status":"pending"}}`)).JobStatus
	poll := func() string {
		return decode[jobReply](t, call(t, ts, http.MethodGet, "/api/v2/job_statuses/"+job.ID, nil)).JobStatus.Status
	}
	if got := poll(); got != "queued" {
		t.Fatalf("status before the delay = %s", got)
	}
	clk.Advance(3 * time.Second)
	if tk, _ := s.Ticket(1); tk.Status != "pending" { // accessors run due jobs too
		t.Fatalf("ticket %+v", tk)
	}
	if got := poll(); got != "completed" {
		t.Fatalf("status after the delay = %s", got)
	}
	clk.Advance(25 * time.Hour)
	wantStatus(t, call(t, ts, http.MethodGet, "/api/v2/job_statuses/"+job.ID, nil), http.StatusNotFound)
}
