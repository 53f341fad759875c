package hubspotapi

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// noteBody builds a note create body associated with contactID.
func noteBody(props map[string]string, contactID string) map[string]any {
	body := map[string]any{"properties": props}
	if contactID != "" {
		body["associations"] = []map[string]any{{
			"to":    map[string]string{"id": contactID},
			"types": []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}},
		}}
	}
	return body
}

func TestCreateNote(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{})
	contactID := decode[publicObject](t, call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken,
		`{"properties":{"email":"ann@example.com"}}`)).ID

	tests := []struct {
		name       string
		body       any
		wantStatus int
	}{
		{"valid", noteBody(map[string]string{"hs_timestamp": "2026-03-02T10:00:00.000Z", "hs_note_body": "NPS 9 [resp-1]"}, contactID), http.StatusCreated},
		{"epoch millis", noteBody(map[string]string{"hs_timestamp": "1772445600000", "hs_note_body": "x"}, ""), http.StatusCreated},
		{"numeric contact id", map[string]any{
			"properties": map[string]string{"hs_timestamp": "1772445600000"},
			"associations": []map[string]any{{"to": map[string]any{"id": 1001},
				"types": []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}}}},
		}, http.StatusCreated},
		{"no timestamp", noteBody(map[string]string{"hs_note_body": "x"}, contactID), http.StatusBadRequest},
		{"empty timestamp", noteBody(map[string]string{"hs_timestamp": "", "hs_note_body": "x"}, contactID), http.StatusBadRequest},
		{"bad timestamp", noteBody(map[string]string{"hs_timestamp": "yesterday"}, contactID), http.StatusBadRequest},
		{"missing contact", noteBody(map[string]string{"hs_timestamp": "1772445600000"}, "999999"), http.StatusBadRequest},
		{"unknown property", noteBody(map[string]string{"hs_timestamp": "1772445600000", "mood": "x"}, ""), http.StatusBadRequest},
		{"unsupported association type", map[string]any{
			"properties": map[string]string{"hs_timestamp": "1772445600000"},
			"associations": []map[string]any{{"to": map[string]string{"id": contactID},
				"types": []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 190}}}},
		}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, ts, http.MethodPost, "/crm/v3/objects/notes", testToken, tt.body)
			wantStatus(t, r, tt.wantStatus)
			if tt.wantStatus != http.StatusCreated && decode[errBody](t, r).Category != "VALIDATION_ERROR" {
				t.Fatalf("body %s", r.body)
			}
		})
	}

	notes := s.Notes()
	if len(notes) != 3 {
		t.Fatalf("%d notes stored, want 3", len(notes))
	}
	if diff := cmp.Diff([]string{contactID}, notes[0].ContactIDs); diff != "" {
		t.Fatalf("associations (-want +got):\n%s", diff)
	}

	r := call(t, ts, http.MethodGet, "/crm/v3/objects/notes/"+notes[0].ID+"?associations=contacts&properties=hs_note_body", testToken, nil)
	wantStatus(t, r, http.StatusOK)
	got := decode[publicObject](t, r)
	want := map[string]associationResults{"contacts": {Results: []associatedID{{ID: contactID, Type: "note_to_contact"}}}}
	if diff := cmp.Diff(want, got.Associations); diff != "" || got.Properties["hs_note_body"] != "NPS 9 [resp-1]" {
		t.Fatalf("note %s; associations (-want +got):\n%s", r.body, diff)
	}
	wantStatus(t, call(t, ts, http.MethodGet, "/crm/v3/objects/notes/1", testToken, nil), http.StatusNotFound)
	page := decode[listPage](t, call(t, ts, http.MethodGet, "/crm/v3/objects/notes?limit=100", testToken, nil))
	if len(page.Results) != 3 {
		t.Fatalf("listed %d notes", len(page.Results))
	}
}

func TestSearchNotes(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{SearchLimit: -1})
	s.AddNoteProperty("survey_response_key")
	var contactIDs []string
	for _, e := range []string{"ann@example.com", "bob@example.com"} {
		contactIDs = append(contactIDs, decode[publicObject](t, call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken,
			map[string]any{"properties": map[string]string{"email": e}})).ID)
	}
	for i, body := range []string{"CSAT 5 — great [resp-1]", "NPS 3 slow reply [resp-2]", "CSAT 4 [resp-10]"} {
		wantStatus(t, call(t, ts, http.MethodPost, "/crm/v3/objects/notes", testToken, noteBody(map[string]string{
			"hs_timestamp": "2026-03-02T10:00:00Z", "hs_note_body": body, "survey_response_key": fmt.Sprint("resp-", i+1),
		}, contactIDs[i%2])), http.StatusCreated)
	}

	tests := []struct {
		name    string
		filters []map[string]any
		want    []string // hs_note_body of the hits
	}{
		{"EQ on a property", []map[string]any{{"propertyName": "survey_response_key", "operator": "EQ", "value": "RESP-2"}},
			[]string{"NPS 3 slow reply [resp-2]"}},
		{"CONTAINS_TOKEN phrase", []map[string]any{{"propertyName": "hs_note_body", "operator": "CONTAINS_TOKEN", "value": "resp-1"}},
			[]string{"CSAT 5 — great [resp-1]"}},
		{"CONTAINS_TOKEN wildcard", []map[string]any{{"propertyName": "hs_note_body", "operator": "CONTAINS_TOKEN", "value": "csat*"}},
			[]string{"CSAT 5 — great [resp-1]", "CSAT 4 [resp-10]"}},
		{"by associated contact", []map[string]any{{"propertyName": "associations.contact", "operator": "EQ", "value": contactIDs[0]}},
			[]string{"CSAT 5 — great [resp-1]", "CSAT 4 [resp-10]"}},
		{"AND of two filters", []map[string]any{
			{"propertyName": "associations.contact", "operator": "EQ", "value": contactIDs[0]},
			{"propertyName": "hs_note_body", "operator": "CONTAINS_TOKEN", "value": "resp-10"},
		}, []string{"CSAT 4 [resp-10]"}},
		{"no match", []map[string]any{{"propertyName": "survey_response_key", "operator": "EQ", "value": "resp-9"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, ts, http.MethodPost, "/crm/v3/objects/notes/search", testToken, map[string]any{
				"filterGroups": []map[string]any{{"filters": tt.filters}},
				"properties":   []string{"hs_note_body"},
				"limit":        10,
			})
			wantStatus(t, r, http.StatusOK)
			page := decode[listPage](t, r)
			var got []string
			for _, o := range page.Results {
				got = append(got, o.Properties["hs_note_body"])
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || *page.Total != len(tt.want) {
				t.Fatalf("hits (-want +got):\n%s\ntotal %d", diff, *page.Total)
			}
		})
	}

	r := call(t, ts, http.MethodPost, "/crm/v3/objects/notes/search", testToken, map[string]any{
		"filterGroups": []map[string]any{{"filters": []map[string]any{{"propertyName": "nope", "operator": "EQ", "value": "x"}}}},
	})
	wantStatus(t, r, http.StatusBadRequest)
}

func TestSearchDelay(t *testing.T) {
	t.Parallel()
	clk := newClock()
	_, ts := start(t, Options{Now: clk.Now, SearchDelay: 5 * time.Second, ContactProperties: []Property{{Name: "last_nps"}}})
	r := call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken, `{"properties":{"email":"ann@example.com","last_nps":"3"}}`)
	wantStatus(t, r, http.StatusCreated)
	id := decode[publicObject](t, r).ID

	search := func() []string {
		t.Helper()
		r := call(t, ts, http.MethodPost, "/crm/v3/objects/contacts/search", testToken, map[string]any{
			"filterGroups": []map[string]any{{"filters": []map[string]any{{"propertyName": "email", "operator": "EQ", "value": "ann@example.com"}}}},
			"properties":   []string{"last_nps"},
		})
		wantStatus(t, r, http.StatusOK)
		var out []string
		for _, o := range decode[listPage](t, r).Results {
			out = append(out, o.Properties["last_nps"])
		}
		return out
	}

	if got := search(); got != nil {
		t.Fatalf("found %v before the index caught up", got)
	}
	// Reads by id are never delayed.
	wantStatus(t, call(t, ts, http.MethodGet, "/crm/v3/objects/contacts/"+id, testToken, nil), http.StatusOK)
	clk.Advance(5 * time.Second)
	if diff := cmp.Diff([]string{"3"}, search()); diff != "" {
		t.Fatalf("after the delay (-want +got):\n%s", diff)
	}
	wantStatus(t, call(t, ts, http.MethodPatch, "/crm/v3/objects/contacts/"+id, testToken, `{"properties":{"last_nps":"9"}}`), http.StatusOK)
	clk.Advance(time.Second)
	if diff := cmp.Diff([]string{"3"}, search()); diff != "" {
		t.Fatalf("search shows the update too early (-want +got):\n%s", diff)
	}
	clk.Advance(4 * time.Second)
	if diff := cmp.Diff([]string{"9"}, search()); diff != "" {
		t.Fatalf("search misses the update (-want +got):\n%s", diff)
	}
}

func TestTokenMatching(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text, value string
		want        bool
	}{
		{"Survey [resp-1] done", "resp-1", true},
		{"Survey [resp-10] done", "resp-1", false},
		{"Survey [resp-10] done", "resp-1*", true},
		{"Great SERVICE", "service", true},
		{"abc", "", false},
		{"key=a*b", "a*b", true},
		{"prefix-xyz-suffix", "*xyz*", true},
	}
	for _, tt := range tests {
		t.Run(tt.text+"/"+tt.value, func(t *testing.T) {
			if got := containsToken(tt.text, tt.value); got != tt.want {
				t.Fatalf("containsToken(%q, %q) = %v, want %v", tt.text, tt.value, got, tt.want)
			}
		})
	}
}
