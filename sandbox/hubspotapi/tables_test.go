package hubspotapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/sandbox/view"
)

func TestTables(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{ContactProperties: []Property{{Name: "last_csat"}}})
	s.AddProperty("survey_response_id", true)
	wantStatus(t, call(t, ts, http.MethodPost, upsertPath, testToken, map[string]any{"inputs": []map[string]any{
		upsertInput("ann@example.com", map[string]any{"last_csat": "5", "survey_response_id": "r1"}),
	}}), http.StatusOK)
	wantStatus(t, call(t, ts, http.MethodPatch, "/crm/v3/objects/contacts/1001", testToken, `{"properties":{"last_csat":"4"}}`), http.StatusOK)
	wantStatus(t, call(t, ts, http.MethodPost, "/crm/v3/objects/notes", testToken, noteBody(map[string]string{
		"hs_timestamp": "1772445600000", "hs_note_body": strings.Repeat("long ", 40),
	}, "1001")), http.StatusCreated)

	want := []view.Table{
		{
			Group:  "HubSpot",
			Name:   "Contacts",
			Header: []string{"id", "email", "last_csat", "survey_response_id", "updates"},
			Rows:   [][]string{{"1001", "ann@example.com", "4", "r1", "1"}},
			Note:   "1 contacts",
		},
		{
			Group:  "HubSpot",
			Name:   "Notes",
			Header: []string{"id", "hs_timestamp", "contacts", "hs_note_body"},
			Rows:   [][]string{{"5001", "1772445600000", "1001", strings.Repeat("long ", 40)[:119] + "…"}},
			Note:   "1 notes",
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
	call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", "tok-a", `{"properties":{"email":"a@example.com"}}`)
	call(t, ts, http.MethodGet, "/crm/v3/objects/contacts/1001?properties=email", "tok-b", nil)
	call(t, ts, http.MethodGet, "/crm/v3/objects/contacts", "", nil)
	want := []Entry{
		{Seq: 1, Time: clk.Now(), Method: "POST", Path: "/crm/v3/objects/contacts", Token: "tok-a", Status: 201, Applied: true, Inputs: 1},
		{Seq: 2, Time: clk.Now(), Method: "GET", Path: "/crm/v3/objects/contacts/1001", Query: "properties=email", Token: "tok-b", Status: 200},
		{Seq: 3, Time: clk.Now(), Method: "GET", Path: "/crm/v3/objects/contacts", Status: 401},
	}
	if diff := cmp.Diff(want, s.Log()); diff != "" {
		t.Fatalf("log (-want +got):\n%s", diff)
	}
	s.ResetLog()
	call(t, ts, http.MethodGet, "/crm/v3/objects/contacts", "tok-a", nil)
	if log := s.Log(); len(log) != 1 || log[0].Seq != 4 {
		t.Fatalf("log after reset %+v", log)
	}
}
