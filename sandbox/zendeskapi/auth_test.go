package zendeskapi

import (
	"net/http"
	"testing"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	configured := Options{Credentials: []Credential{{Email: "Agent@Example.com", Token: "tok-1"}}, BearerTokens: []string{"oauth-1"}}
	tests := []struct {
		name       string
		opts       Options
		auth       string
		wantStatus int
	}{
		{"no credentials", Options{}, "", http.StatusUnauthorized},
		{"password basic auth", Options{}, basic("agent@example.com", "secret"), http.StatusUnauthorized},
		{"token without email", Options{}, basic("/token", "tok"), http.StatusUnauthorized},
		{"any api token", Options{}, basic("someone@example.com/token", "whatever"), http.StatusOK},
		{"any bearer", Options{}, "Bearer whatever", http.StatusOK},
		{"configured token, email in other case", configured, basic("agent@example.COM/token", "tok-1"), http.StatusOK},
		{"configured email, wrong token", configured, basic("agent@example.com/token", "tok-2"), http.StatusUnauthorized},
		{"configured bearer", configured, "Bearer oauth-1", http.StatusOK},
		{"unknown bearer", configured, "Bearer oauth-2", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ts := start(t, tt.opts)
			r := request(t, ts, http.MethodGet, "/api/v2/tickets.json", tt.auth, nil)
			wantStatus(t, r, tt.wantStatus)
			if tt.wantStatus == http.StatusUnauthorized {
				if string(r.body) != "Couldn't authenticate you" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
					t.Fatalf("401 answer %q, %q", r.header.Get("Content-Type"), r.body)
				}
			}
		})
	}
}

func TestUnknownEndpoint(t *testing.T) {
	t.Parallel()
	_, ts := start(t, Options{})
	r := call(t, ts, http.MethodGet, "/api/v2/macros.json", nil)
	wantStatus(t, r, http.StatusNotFound)
	if got := decode[apiError](t, r); got.Error != "InvalidEndpoint" {
		t.Fatalf("body %s", r.body)
	}
}
