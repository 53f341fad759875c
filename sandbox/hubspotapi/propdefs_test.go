package hubspotapi

import (
	"net/http"
	"testing"
)

func TestPropertyDefinitions(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{Tokens: []string{testToken}, ContactProperties: []Property{{Name: "last_csat"}}})
	s.AddProperty("survey_response_id", true)

	type def struct {
		Name           string `json:"name"`
		HasUniqueValue bool   `json:"hasUniqueValue"`
		Modification   struct {
			ReadOnlyValue bool `json:"readOnlyValue"`
		} `json:"modificationMetadata"`
	}
	r := call(t, ts, http.MethodGet, "/crm/v3/properties/contacts", testToken, nil)
	wantStatus(t, r, http.StatusOK)
	got := map[string]def{}
	for _, d := range decode[struct{ Results []def }](t, r).Results {
		got[d.Name] = d
	}
	for _, name := range []string{"email", "firstname", "last_csat", "survey_response_id", "hs_object_id"} {
		if _, ok := got[name]; !ok {
			t.Errorf("contact property %s is not listed", name)
		}
	}
	if !got["email"].HasUniqueValue || !got["survey_response_id"].HasUniqueValue || got["last_csat"].HasUniqueValue {
		t.Errorf("hasUniqueValue is wrong: %+v", got)
	}
	if !got["createdate"].Modification.ReadOnlyValue || got["last_csat"].Modification.ReadOnlyValue {
		t.Errorf("readOnlyValue is wrong: %+v", got)
	}

	r = call(t, ts, http.MethodGet, "/crm/v3/properties/notes/hs_note_body", testToken, nil)
	wantStatus(t, r, http.StatusOK)
	if d := decode[def](t, r); d.Name != "hs_note_body" {
		t.Errorf("GET one note property = %+v", d)
	}
	wantStatus(t, call(t, ts, http.MethodGet, "/crm/v3/properties/contacts/last_nps", testToken, nil), http.StatusNotFound)
	wantStatus(t, call(t, ts, http.MethodGet, "/crm/v3/properties/widgets", testToken, nil), http.StatusBadRequest)
	wantStatus(t, call(t, ts, http.MethodGet, "/crm/v3/properties/contacts", "not-the-token", nil), http.StatusUnauthorized)
}
