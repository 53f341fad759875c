package zendeskapi

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCreateOrUpdateUser(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{})
	type userReply struct {
		User userJSON `json:"user"`
	}
	path := "/api/v2/users/create_or_update.json"
	r := call(t, ts, http.MethodPost, path, `{"user":{"name":"Ann","email":"Ann@Example.com","external_id":"CRM-1"}}`)
	wantStatus(t, r, http.StatusCreated)
	created := decode[userReply](t, r).User
	if created.Role != "end-user" || *created.Email != "ann@example.com" || r.header.Get("Location") == "" {
		t.Fatalf("created %s", r.body)
	}

	tests := []struct {
		name       string
		body       string
		wantStatus int
	}{
		{"same email, other case", `{"user":{"name":"Ann B","email":"ANN@example.com"}}`, http.StatusOK},
		{"same external id, other case", `{"user":{"external_id":"crm-1","user_fields":{"last_csat":5}}}`, http.StatusOK},
		{"new user", `{"user":{"name":"Bob","email":"bob@example.com"}}`, http.StatusCreated},
		{"new user without name", `{"user":{"email":"cy@example.com"}}`, http.StatusUnprocessableEntity},
		{"bad email", `{"user":{"name":"D","email":"d@"}}`, http.StatusUnprocessableEntity},
		{"bad role", `{"user":{"name":"E","email":"e@example.com","role":"boss"}}`, http.StatusUnprocessableEntity},
		{"no user", `{}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, ts, http.MethodPost, path, tt.body)
			wantStatus(t, r, tt.wantStatus)
			if tt.wantStatus == http.StatusOK && decode[userReply](t, r).User.ID != created.ID {
				t.Fatalf("matched another user: %s", r.body)
			}
		})
	}
	want := []User{
		{ID: created.ID, Name: "Ann B", Email: "ann@example.com", ExternalID: "crm-1", Role: "end-user", UserFields: map[string]any{"last_csat": float64(5)}},
		{ID: created.ID + 1, Name: "Bob", Email: "bob@example.com", Role: "end-user", UserFields: map[string]any{}},
	}
	if diff := cmp.Diff(want, s.Users()); diff != "" {
		t.Fatalf("users (-want +got):\n%s", diff)
	}
}

func TestSatisfactionRating(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{Tickets: []NewTicket{{Subject: "a", Status: "solved"}}})
	tests := []struct {
		name       string
		path       string
		body       string
		wantStatus int
		wantError  string
	}{
		{"agent rates", "/api/v2/tickets/1/satisfaction_rating.json", `{"satisfaction_rating":{"score":"good","comment":"thanks"}}`, http.StatusForbidden, "Forbidden"},
		{"invalid score", "/api/v2/tickets/1/satisfaction_rating", `{"satisfaction_rating":{"score":"offered"}}`, http.StatusUnprocessableEntity, "RecordInvalid"},
		{"missing ticket", "/api/v2/tickets/9/satisfaction_rating", `{"satisfaction_rating":{"score":"bad"}}`, http.StatusNotFound, "RecordNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, ts, http.MethodPost, tt.path, tt.body)
			wantStatus(t, r, tt.wantStatus)
			if got := decode[apiError](t, r); got.Error != tt.wantError || got.Description == "" {
				t.Fatalf("body %s", r.body)
			}
		})
	}
	if tk, _ := s.Ticket(1); tk.Updates != 0 {
		t.Fatal("the rating changed the ticket")
	}
}
