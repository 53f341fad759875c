package zendeskapi

import (
	"net/http"
	"testing"
)

func TestListTicketFields(t *testing.T) {
	t.Parallel()
	_, ts := start(t, Options{Credentials: []Credential{{Email: "agent@example.com", Token: "tok-1"}}, Fields: testFields})
	r := call(t, ts, http.MethodGet, "/api/v2/ticket_fields.json", nil)
	wantStatus(t, r, http.StatusOK)
	type field struct {
		ID      int64  `json:"id"`
		Title   string `json:"title"`
		Type    string `json:"type"`
		Active  bool   `json:"active"`
		Options []struct {
			Value string `json:"value"`
		} `json:"custom_field_options"`
	}
	list := decode[struct {
		Fields   []field `json:"ticket_fields"`
		NextPage *string `json:"next_page"`
		Count    int     `json:"count"`
	}](t, r)
	if len(list.Fields) != len(testFields) || list.Count != len(testFields) || list.NextPage != nil {
		t.Fatalf("got %d fields (count %d, next_page %v), want %d", len(list.Fields), list.Count, list.NextPage, len(testFields))
	}
	for i, f := range list.Fields {
		want := testFields[i]
		if f.ID != want.ID || f.Title != want.Title || f.Type != string(want.Type) || !f.Active || len(f.Options) != len(want.Tags) {
			t.Errorf("field %d = %+v, want %+v", i, f, want)
		}
	}
	wantStatus(t, request(t, ts, http.MethodGet, "/api/v2/ticket_fields.json", basic("agent@example.com/token", "wrong"), nil), http.StatusUnauthorized)
}
