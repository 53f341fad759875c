package hubspotapi

import (
	"net/http"
	"testing"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		tokens     []string
		header     string
		wantStatus int
	}{
		{"no header", nil, "", http.StatusUnauthorized},
		{"basic instead of bearer", nil, "Basic dXNlcjpwYXNz", http.StatusUnauthorized},
		{"empty bearer", nil, "Bearer ", http.StatusUnauthorized},
		{"any bearer when none configured", nil, "Bearer whatever", http.StatusOK},
		{"configured token", []string{"a", "b"}, "Bearer b", http.StatusOK},
		{"unknown token", []string{"a", "b"}, "Bearer c", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ts := start(t, Options{Tokens: tt.tokens})
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/crm/v3/objects/contacts", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
		})
	}
}

func TestUnauthorizedBody(t *testing.T) {
	t.Parallel()
	_, ts := start(t, Options{})
	r := call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", "", `{"properties":{}}`)
	wantStatus(t, r, http.StatusUnauthorized)
	body := decode[errBody](t, r)
	if body.Status != "error" || body.Category != "INVALID_AUTHENTICATION" || body.CorrelationID == "" {
		t.Fatalf("body = %+v", body)
	}
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	_, ts := start(t, Options{})
	r := call(t, ts, http.MethodGet, "/crm/v3/objects/deals", testToken, nil)
	wantStatus(t, r, http.StatusNotFound)
	if decode[errBody](t, r).Status != "error" {
		t.Fatalf("body = %s", r.body)
	}
}
