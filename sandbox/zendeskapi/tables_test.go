package zendeskapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/sandbox/view"
)

func TestTables(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{Fields: []Field{
		{ID: 101, Title: "CSAT", Type: FieldInteger},
		{ID: 107, Type: FieldMultiselect, Tags: []string{"speed", "price"}},
	}, Tickets: []NewTicket{{Subject: "Late order", Description: "Where is it?", RequesterEmail: "ann@example.com"}}})
	wantStatus(t, call(t, ts, http.MethodPut, "/api/v2/tickets/1", map[string]any{"ticket": map[string]any{
		"custom_fields": []map[string]any{{"id": 101, "value": 5}, {"id": 107, "value": []string{"speed", "price"}}},
		"comment":       map[string]any{"body": strings.Repeat("x", 130), "public": false},
	}}), http.StatusOK)

	want := []view.Table{
		{
			Group:  "Zendesk",
			Name:   "Tickets",
			Header: []string{"id", "subject", "status", "CSAT", "field 107", "comments", "last comment", "updates"},
			Rows:   [][]string{{"1", "Late order", "open", "5", "speed, price", "2", "(internal) " + strings.Repeat("x", 119) + "…", "1"}},
			Note:   "1 tickets, 0 created through the API",
		},
		{
			Group:  "Zendesk",
			Name:   "Users",
			Header: []string{"id", "name", "email", "external_id", "role"},
			Rows: [][]string{
				{"90001", "ann", "ann@example.com", "", "end-user"},
				{"90002", "agent@example.com", "agent@example.com", "", "agent"},
			},
		},
	}
	if diff := cmp.Diff(want, s.Tables()); diff != "" {
		t.Fatalf("tables (-want +got):\n%s", diff)
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s, ts := start(t, Options{Now: clk.Now})
	call(t, ts, http.MethodPost, "/api/v2/tickets.json", createBody("x"), "Idempotency-Key", "k")
	request(t, ts, http.MethodGet, "/api/v2/tickets/1?include=users", "Bearer oauth-tok", nil)
	request(t, ts, http.MethodGet, "/api/v2/tickets", "", nil)
	want := []Entry{
		{Seq: 1, Time: clk.Now(), Method: "POST", Path: "/api/v2/tickets.json", User: "agent@example.com", Token: "tok-1",
			Status: 201, Applied: true, Inputs: 1, IdempotencyKey: "k", Idempotency: "miss"},
		{Seq: 2, Time: clk.Now(), Method: "GET", Path: "/api/v2/tickets/1", Query: "include=users", User: "oauth", Token: "oauth-tok", Status: 200},
		{Seq: 3, Time: clk.Now(), Method: "GET", Path: "/api/v2/tickets", Status: 401},
	}
	if diff := cmp.Diff(want, s.Log()); diff != "" {
		t.Fatalf("log (-want +got):\n%s", diff)
	}
	s.ResetLog()
	if len(s.Log()) != 0 {
		t.Fatal("log not reset")
	}
}
