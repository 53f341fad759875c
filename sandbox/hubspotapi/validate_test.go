package hubspotapi

import (
	"bytes"
	"context"
	"github.com/surveysync/surveysync/sandbox/hubspotapi/openapicheck"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
)

func TestValidationAcceptsValidRequests(t *testing.T) {
	t.Parallel()
	v := sharedValidator(t)
	s, ts := start(t, Options{Validator: v, ContactProperties: []Property{{Name: "last_csat"}}})
	wantStatus(t, call(t, ts, http.MethodPost, upsertPath, testToken, map[string]any{"inputs": []map[string]any{
		upsertInput("ann@example.com", map[string]any{"last_csat": "5"}),
		{"id": "bob@example.com", "idProperty": "email", "properties": map[string]any{"firstname": "Bob"}, "objectWriteTraceId": "t-1"},
	}}), http.StatusOK)
	wantStatus(t, call(t, ts, http.MethodGet, "/crm/v3/objects/contacts/ann@example.com?idProperty=email&properties=last_csat", testToken, nil), http.StatusOK)
	wantStatus(t, call(t, ts, http.MethodPost, "/crm/v3/objects/notes", testToken, noteBody(map[string]string{
		"hs_timestamp": "2026-03-02T10:00:00Z", "hs_note_body": "CSAT 5",
	}, s.Contacts()[0].ID)), http.StatusCreated)
	wantStatus(t, call(t, ts, http.MethodPost, "/crm/v3/objects/notes/search", testToken, map[string]any{
		"filterGroups": []map[string]any{{"filters": []map[string]any{{"propertyName": "hs_note_body", "operator": "CONTAINS_TOKEN", "value": "csat"}}}},
		"properties":   []string{"hs_note_body"}, "sorts": []string{}, "limit": 10, "after": "0",
	}), http.StatusOK)
	if viol := s.Violations(); len(viol) != 0 {
		t.Fatalf("violations: %+v", viol)
	}
}

func TestValidationReportsInvalidRequests(t *testing.T) {
	t.Parallel()
	v := sharedValidator(t)
	tests := []struct {
		name       string
		reportOnly bool
		wantStatus int
	}{
		{"rejecting", false, http.StatusBadRequest},
		{"report only", true, http.StatusMultiStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, Options{Validator: v, ValidateReportOnly: tt.reportOnly})
			// The second input has no properties and a number for a name.
			r := call(t, ts, http.MethodPost, upsertPath, testToken,
				`{"inputs":[{"id":"ann@example.com","idProperty":"email","properties":{"firstname":"Ann"}},{"id":"bob@example.com","idProperty":"email","properties":{"firstname":7}}]}`)
			wantStatus(t, r, tt.wantStatus)
			viol := s.Violations()
			if len(viol) != 1 || viol[0].Spec != "contacts.v3.json" || viol[0].Path != upsertPath ||
				!strings.Contains(viol[0].Message, "firstname") {
				t.Fatalf("violations %+v", viol)
			}
			if e := s.Log()[0]; e.Violation == "" || e.Seq != viol[0].Seq {
				t.Fatalf("log entry %+v", e)
			}
			if !tt.reportOnly && decode[errBody](t, r).Category != "VALIDATION_ERROR" {
				t.Fatalf("body %s", r.body)
			}
		})
	}
}

func TestLoadValidatorMissingDir(t *testing.T) {
	t.Parallel()
	if _, err := openapicheck.LoadValidator(t.TempDir()); err == nil {
		t.Fatal("no error for a folder without specs")
	}
}

// TestResponsesMatchSpec checks the emulator's own answers against the
// response schemas of the published specs.
func TestResponsesMatchSpec(t *testing.T) {
	t.Parallel()
	v := sharedValidator(t)
	_, ts := start(t, Options{ContactProperties: []Property{{Name: "last_csat"}}})
	contact := decode[publicObject](t, call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken,
		`{"properties":{"email":"ann@example.com"}}`))

	tests := []struct {
		name, method, path string
		body               any
		wantStatus         int
	}{
		{"create contact", http.MethodPost, "/crm/v3/objects/contacts", `{"properties":{"email":"bob@example.com"},"associations":[]}`, http.StatusCreated},
		{"get contact with history", http.MethodGet, "/crm/v3/objects/contacts/" + contact.ID + "?propertiesWithHistory=email", nil, http.StatusOK},
		{"patch contact", http.MethodPatch, "/crm/v3/objects/contacts/" + contact.ID, `{"properties":{"last_csat":"4"}}`, http.StatusOK},
		{"list contacts", http.MethodGet, "/crm/v3/objects/contacts?limit=1", nil, http.StatusOK},
		{"upsert", http.MethodPost, upsertPath, map[string]any{"inputs": []map[string]any{upsertInput("cy@example.com", map[string]any{"last_csat": "5"})}}, http.StatusOK},
		{"upsert 207", http.MethodPost, upsertPath, map[string]any{"inputs": []map[string]any{
			upsertInput("cy@example.com", map[string]any{"last_csat": "5"}), upsertInput("cy2@example.com", map[string]any{"x": "5"}),
		}}, http.StatusMultiStatus},
		{"batch update", http.MethodPost, "/crm/v3/objects/contacts/batch/update", map[string]any{"inputs": []map[string]any{
			{"id": contact.ID, "properties": map[string]string{"last_csat": "1"}},
		}}, http.StatusOK},
		{"batch read", http.MethodPost, "/crm/v3/objects/contacts/batch/read", map[string]any{
			"inputs": []map[string]string{{"id": contact.ID}}, "properties": []string{"email"}, "propertiesWithHistory": []string{"last_csat"},
		}, http.StatusOK},
		{"create note", http.MethodPost, "/crm/v3/objects/notes", noteBody(map[string]string{"hs_timestamp": "1772445600000"}, contact.ID), http.StatusCreated},
		{"search notes", http.MethodPost, "/crm/v3/objects/notes/search", `{"filterGroups":[],"properties":[],"sorts":[],"limit":5,"after":"0"}`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, ts, tt.method, tt.path, testToken, tt.body)
			wantStatus(t, r, tt.wantStatus)
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, nil)
			req.Header.Set("Content-Type", "application/json")
			_, route, params, found := v.Route(req)
			if !found {
				t.Fatalf("no spec operation for %s %s", tt.method, tt.path)
			}
			err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
				Status:                 r.status,
				Header:                 r.header,
				Body:                   io.NopCloser(bytes.NewReader(r.body)),
				Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
			})
			if err != nil {
				t.Fatalf("response does not match the spec: %v\nbody %s", err, r.body)
			}
		})
	}
}
