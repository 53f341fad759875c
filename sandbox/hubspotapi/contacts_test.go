package hubspotapi

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCreateContact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		body         string
		wantStatus   int
		wantCategory string
		wantCode     string
	}{
		{"valid", `{"properties":{"email":"Ann@Example.com","firstname":"Ann"}}`, http.StatusCreated, "", ""},
		{"unknown property", `{"properties":{"email":"b@example.com","shoe_size":"42"}}`, http.StatusBadRequest, "VALIDATION_ERROR", "PROPERTY_DOESNT_EXIST"},
		{"number value", `{"properties":{"email":"b@example.com","phone":5551234}}`, http.StatusBadRequest, "VALIDATION_ERROR", "INVALID_TYPE"},
		{"invalid email", `{"properties":{"email":"not-an-email"}}`, http.StatusBadRequest, "VALIDATION_ERROR", "INVALID_EMAIL"},
		{"read-only property", `{"properties":{"hs_object_id":"7"}}`, http.StatusBadRequest, "VALIDATION_ERROR", "READ_ONLY_VALUE"},
		{"not json", `{"properties":`, http.StatusBadRequest, "VALIDATION_ERROR", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, Options{})
			r := call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken, tt.body)
			wantStatus(t, r, tt.wantStatus)
			if tt.wantStatus == http.StatusCreated {
				got := decode[publicObject](t, r)
				if got.ID == "" || got.Properties["email"] != "ann@example.com" || got.Properties["firstname"] != "Ann" {
					t.Fatalf("created %+v", got)
				}
				if n := len(s.Contacts()); n != 1 {
					t.Fatalf("%d contacts stored, want 1", n)
				}
				return
			}
			body := decode[errBody](t, r)
			if body.Category != tt.wantCategory {
				t.Fatalf("category = %q, want %q (%s)", body.Category, tt.wantCategory, r.body)
			}
			if tt.wantCode != "" && (len(body.Errors) == 0 || body.Errors[0].Code != tt.wantCode) {
				t.Fatalf("errors = %+v, want code %s", body.Errors, tt.wantCode)
			}
			if n := len(s.Contacts()); n != 0 {
				t.Fatalf("%d contacts stored after a refused create", n)
			}
		})
	}
}

func TestCreateContactConflict(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{})
	first := call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken, `{"properties":{"email":"ann@example.com"}}`)
	wantStatus(t, first, http.StatusCreated)
	id := decode[publicObject](t, first).ID

	again := call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken, `{"properties":{"email":"ANN@example.com"}}`)
	wantStatus(t, again, http.StatusConflict)
	body := decode[errBody](t, again)
	want := errBody{Status: "error", Message: "Contact already exists. Existing ID: " + id, Category: "CONFLICT"}
	body.CorrelationID = ""
	if diff := cmp.Diff(want, body); diff != "" {
		t.Fatalf("409 body (-want +got):\n%s", diff)
	}
	if n := len(s.Contacts()); n != 1 {
		t.Fatalf("%d contacts, want 1", n)
	}
}

func TestGetContact(t *testing.T) {
	t.Parallel()
	_, ts := start(t, Options{ContactProperties: []Property{{Name: "last_csat"}}})
	created := decode[publicObject](t, call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken,
		`{"properties":{"email":"ann@example.com","firstname":"Ann","last_csat":"5"}}`))

	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantProps  map[string]string
	}{
		{"by id", "/crm/v3/objects/contacts/" + created.ID, http.StatusOK,
			map[string]string{"email": "ann@example.com", "firstname": "Ann"}},
		{"by email", "/crm/v3/objects/contacts/ANN@example.com?idProperty=email", http.StatusOK,
			map[string]string{"email": "ann@example.com", "firstname": "Ann"}},
		{"chosen properties", "/crm/v3/objects/contacts/" + created.ID + "?properties=last_csat,lastname", http.StatusOK,
			map[string]string{"last_csat": "5"}},
		{"missing id", "/crm/v3/objects/contacts/999999", http.StatusNotFound, nil},
		{"missing email", "/crm/v3/objects/contacts/bob@example.com?idProperty=email", http.StatusNotFound, nil},
		{"not a unique property", "/crm/v3/objects/contacts/Ann?idProperty=firstname", http.StatusBadRequest, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, ts, http.MethodGet, tt.path, testToken, nil)
			wantStatus(t, r, tt.wantStatus)
			if tt.wantProps == nil {
				return
			}
			got := decode[publicObject](t, r)
			for _, system := range []string{"hs_object_id", "createdate", "lastmodifieddate"} {
				delete(got.Properties, system)
			}
			if diff := cmp.Diff(tt.wantProps, got.Properties); diff != "" {
				t.Fatalf("properties (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateContact(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{ContactProperties: []Property{{Name: "last_nps"}}})
	id := decode[publicObject](t, call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken,
		`{"properties":{"email":"ann@example.com"}}`)).ID
	call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken, `{"properties":{"email":"bob@example.com"}}`)

	tests := []struct {
		name       string
		path       string
		body       string
		wantStatus int
	}{
		{"by id", "/crm/v3/objects/contacts/" + id, `{"properties":{"last_nps":"9"}}`, http.StatusOK},
		{"by email", "/crm/v3/objects/contacts/Ann@Example.com?idProperty=email", `{"properties":{"last_nps":"10"}}`, http.StatusOK},
		{"missing contact", "/crm/v3/objects/contacts/nobody@example.com?idProperty=email", `{"properties":{"last_nps":"1"}}`, http.StatusNotFound},
		{"unknown property", "/crm/v3/objects/contacts/" + id, `{"properties":{"nps":"1"}}`, http.StatusBadRequest},
		{"email taken", "/crm/v3/objects/contacts/" + id, `{"properties":{"email":"BOB@example.com"}}`, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantStatus(t, call(t, ts, http.MethodPatch, tt.path, testToken, tt.body), tt.wantStatus)
		})
	}

	c := s.Contacts()[0]
	var values []string
	for _, v := range c.History["last_nps"] {
		values = append(values, v.Value)
	}
	if diff := cmp.Diff([]string{"9", "10"}, values); diff != "" {
		t.Fatalf("last_nps history (-want +got):\n%s", diff)
	}
	if c.Updates != 2 || c.Properties["last_nps"] != "10" || c.Properties["email"] != "ann@example.com" {
		t.Fatalf("contact = %+v", c)
	}
}

func TestListContacts(t *testing.T) {
	t.Parallel()
	_, ts := start(t, Options{})
	for _, e := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		wantStatus(t, call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken,
			map[string]any{"properties": map[string]string{"email": e}}), http.StatusCreated)
	}
	var emails []string
	path := "/crm/v3/objects/contacts?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		page := decode[listPage](t, call(t, ts, http.MethodGet, path, testToken, nil))
		for _, o := range page.Results {
			emails = append(emails, o.Properties["email"])
		}
		path = ""
		if page.Paging != nil {
			path = "/crm/v3/objects/contacts?limit=2&after=" + page.Paging.Next.After
		}
	}
	if diff := cmp.Diff([]string{"a@example.com", "b@example.com", "c@example.com"}, emails); diff != "" {
		t.Fatalf("listed emails (-want +got):\n%s", diff)
	}
}
