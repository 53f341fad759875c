package zendeskapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCreateTicket(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{Fields: testFields})
	for _, path := range []string{"/api/v2/tickets.json", "/api/v2/tickets"} {
		r := call(t, ts, http.MethodPost, path, createBody("CSAT 5", map[string]any{"id": 101, "value": 5}))
		wantStatus(t, r, http.StatusCreated)
		got := decode[ticketReply](t, r)
		if want := fmt.Sprintf("%s/api/v2/tickets/%d.json", ts.URL, got.Ticket.ID); r.header.Get("Location") != want {
			t.Fatalf("Location = %q, want %q", r.header.Get("Location"), want)
		}
		if got.Ticket.Status != "new" || got.Ticket.Description != "Survey response for CSAT 5" || got.Audit == nil {
			t.Fatalf("ticket %s", r.body)
		}
		if got.Ticket.CustomFields[0] != (fieldValueJSON{ID: 101, Value: "5"}) || got.Ticket.CustomFields[1].Value != nil {
			t.Fatalf("custom fields %+v", got.Ticket.CustomFields)
		}
	}
	if s.CreatedTickets() != 2 {
		t.Fatalf("created %d tickets", s.CreatedTickets())
	}
	tickets := s.Tickets()
	requester := tickets[0].RequesterID
	if tickets[1].RequesterID != requester || len(tickets[0].Comments) != 1 || tickets[0].Comments[0].AuthorID != requester {
		t.Fatalf("tickets %+v", tickets)
	}
	wantStatus(t, call(t, ts, http.MethodGet, fmt.Sprintf("/api/v2/tickets/%d.json", tickets[0].ID), nil), http.StatusOK)
	wantStatus(t, call(t, ts, http.MethodGet, "/api/v2/tickets/999", nil), http.StatusNotFound)
	wantStatus(t, call(t, ts, http.MethodGet, "/api/v2/tickets/abc", nil), http.StatusNotFound)
}

func TestCreateTicketInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantKey    string // details key
		wantText   string // in the detail's description
	}{
		{"no comment", map[string]any{"ticket": map[string]any{"subject": "x"}}, 422, "description", "cannot be blank"},
		{"bad status", map[string]any{"ticket": map[string]any{"subject": "x", "comment": map[string]any{"body": "b"}, "status": "done"}}, 422, "status", "done"},
		{"bad requester", map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "b"}, "requester": map[string]any{"email": "nope"}}}, 422, "requester", "nope"},
		{"unknown field", createBody("x", map[string]any{"id": 999, "value": "1"}), 422, "base", "999"},
		{"integer field gets text", createBody("x", map[string]any{"id": 101, "value": "five"}), 422, "base", "CSAT (field 101, integer)"},
		{"integer field gets decimal", createBody("x", map[string]any{"id": 101, "value": 4.5}), 422, "base", "field 101"},
		{"text field gets object", createBody("x", map[string]any{"id": 102, "value": map[string]any{}}), 422, "base", "field 102"},
		{"tagger outside options", createBody("x", map[string]any{"id": 103, "value": "fan"}), 422, "base", "field 103"},
		{"checkbox gets string", createBody("x", map[string]any{"id": 104, "value": "yes"}), 422, "base", "field 104"},
		{"date in other form", createBody("x", map[string]any{"id": 105, "value": "02/03/2026"}), 422, "base", "field 105"},
		{"decimal gets text", createBody("x", map[string]any{"id": 106, "value": "abc"}), 422, "base", "field 106"},
		{"multiselect outside options", createBody("x", map[string]any{"id": 107, "value": []string{"speed", "mood"}}), 422, "base", "field 107"},
		{"field without id", createBody("x", map[string]any{"value": "1"}), 422, "base", "not a field id"},
		{"not json", `{"ticket":`, 400, "", ""},
		{"no ticket", `{}`, 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, Options{Fields: testFields})
			r := call(t, ts, http.MethodPost, "/api/v2/tickets", tt.body)
			wantStatus(t, r, tt.wantStatus)
			if s.CreatedTickets() != 0 {
				t.Fatal("a ticket was created")
			}
			if tt.wantKey == "" {
				return
			}
			body := decode[apiError](t, r)
			if body.Error != "RecordInvalid" || len(body.Details[tt.wantKey]) == 0 ||
				!strings.Contains(body.Details[tt.wantKey][0].Description, tt.wantText) {
				t.Fatalf("body %s", r.body)
			}
		})
	}
}

func TestFieldValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		field int64
		value any
		want  any
	}{
		{101, 7, "7"},
		{101, "7", "7"},
		{101, "", nil},
		{102, "fast and friendly", "fast and friendly"},
		{102, 12, "12"},
		{103, "promoter", "promoter"},
		{104, true, true},
		{105, "2026-03-02", "2026-03-02"},
		{106, 4.5, "4.5"},
		{106, "3", "3"},
		{107, []string{"price"}, []string{"price"}},
		{102, nil, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d=%v", tt.field, tt.value), func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, Options{Fields: testFields})
			wantStatus(t, call(t, ts, http.MethodPost, "/api/v2/tickets", createBody("x", map[string]any{"id": tt.field, "value": tt.value})), http.StatusCreated)
			if diff := cmp.Diff(tt.want, s.Tickets()[0].Fields[tt.field]); diff != "" {
				t.Fatalf("stored value (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateTicket(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{Fields: testFields, Tickets: []NewTicket{
		{Subject: "Order late", Description: "Where is my order?", RequesterEmail: "ann@example.com", Tags: []string{"order"}},
		{Subject: "Old", Description: "closed one", Status: "closed"},
	}})
	path := "/api/v2/tickets/1.json"

	r := call(t, ts, http.MethodPut, path, map[string]any{"ticket": map[string]any{
		"status":          "solved",
		"custom_fields":   []map[string]any{{"id": 101, "value": "5"}, {"id": 103, "value": "promoter"}},
		"comment":         map[string]any{"body": "CSAT 5 [resp-1]"},
		"additional_tags": []string{"csat"},
	}})
	wantStatus(t, r, http.StatusOK)
	got := decode[ticketReply](t, r)
	if got.Ticket.Status != "solved" || got.Audit == nil || len(got.Audit.Events) == 0 {
		t.Fatalf("answer %s", r.body)
	}
	if diff := cmp.Diff([]string{"order", "csat"}, got.Ticket.Tags); diff != "" {
		t.Fatalf("tags (-want +got):\n%s", diff)
	}

	wantStatus(t, call(t, ts, http.MethodPut, path, map[string]any{"ticket": map[string]any{
		"comment": map[string]any{"html_body": "<p>internal &amp; private</p>", "public": false}, "remove_tags": []string{"order"},
	}}), http.StatusOK)

	tests := []struct {
		name       string
		path       string
		body       any
		wantStatus int
	}{
		{"missing ticket", "/api/v2/tickets/99", `{"ticket":{"status":"open"}}`, http.StatusNotFound},
		{"closed ticket", "/api/v2/tickets/2", `{"ticket":{"status":"open"}}`, http.StatusUnprocessableEntity},
		{"invalid field", path, `{"ticket":{"custom_fields":[{"id":101,"value":"x"}]}}`, http.StatusUnprocessableEntity},
		{"stale safe update", path, `{"ticket":{"status":"open","safe_update":true,"updated_stamp":"2020-01-01T00:00:00Z"}}`, http.StatusConflict},
		{"no ticket", path, `{}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantStatus(t, call(t, ts, http.MethodPut, tt.path, tt.body), tt.wantStatus)
		})
	}

	tk, _ := s.Ticket(1)
	var comments []Comment
	for _, c := range tk.Comments {
		comments = append(comments, Comment{Body: c.Body, Public: c.Public})
	}
	want := []Comment{
		{Body: "Where is my order?", Public: true},
		{Body: "CSAT 5 [resp-1]", Public: true},
		{Body: "internal & private", Public: false},
	}
	if diff := cmp.Diff(want, comments); diff != "" {
		t.Fatalf("comments (-want +got):\n%s", diff)
	}
	if tk.Updates != 2 || tk.Status != "solved" || tk.Fields[101] != "5" || tk.Fields[103] != "promoter" ||
		!cmp.Equal(tk.Tags, []string{"csat"}) {
		t.Fatalf("ticket %+v", tk)
	}
}

func TestListComments(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{})
	id := s.AddTicket(NewTicket{Subject: "s", Description: "first"})
	for i := range 4 {
		wantStatus(t, call(t, ts, http.MethodPut, fmt.Sprintf("/api/v2/tickets/%d", id),
			map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": fmt.Sprintf("note %d", i)}}}), http.StatusOK)
	}
	type page struct {
		Comments []commentJSON `json:"comments"`
		Count    int           `json:"count"`
		NextPage *string       `json:"next_page"`
	}
	var bodies []string
	path := fmt.Sprintf("/api/v2/tickets/%d/comments.json?per_page=2", id)
	for path != "" {
		p := decode[page](t, call(t, ts, http.MethodGet, path, nil))
		for _, c := range p.Comments {
			bodies = append(bodies, c.Body)
		}
		path = ""
		if p.NextPage != nil {
			path = strings.TrimPrefix(*p.NextPage, ts.URL)
		}
		if p.Count != 5 {
			t.Fatalf("count %d", p.Count)
		}
	}
	if diff := cmp.Diff([]string{"first", "note 0", "note 1", "note 2", "note 3"}, bodies); diff != "" {
		t.Fatalf("comments (-want +got):\n%s", diff)
	}
	p := decode[page](t, call(t, ts, http.MethodGet, fmt.Sprintf("/api/v2/tickets/%d/comments?sort_order=desc&per_page=1", id), nil))
	if len(p.Comments) != 1 || p.Comments[0].Body != "note 3" {
		t.Fatalf("newest first: %+v", p.Comments)
	}
	wantStatus(t, call(t, ts, http.MethodGet, "/api/v2/tickets/77/comments", nil), http.StatusNotFound)
}

func TestListTicketsByExternalID(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{})
	s.AddTicket(NewTicket{Subject: "a", ExternalID: "resp-1"})
	s.AddTicket(NewTicket{Subject: "b", ExternalID: "resp-2"})
	r := call(t, ts, http.MethodGet, "/api/v2/tickets.json?external_id=RESP-2", nil)
	wantStatus(t, r, http.StatusOK)
	got := decode[struct {
		Tickets []ticketJSON `json:"tickets"`
		Count   int          `json:"count"`
	}](t, r)
	if got.Count != 1 || got.Tickets[0].Subject != "b" {
		t.Fatalf("answer %s", r.body)
	}
}
