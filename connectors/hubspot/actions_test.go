package hubspot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
)

func TestPropertyText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   any
		want string
		err  bool
	}{
		{"text", "Loved it", "Loved it", false},
		{"integer", json.Number("9"), "9", false},
		{"decimal", 4.5, "4.5", false},
		{"large float", 1714557792000.0, "1714557792000", false},
		{"true", true, "true", false},
		{"null clears", nil, "", false},
		{"checkboxes", []any{"a", json.Number("2"), true}, "a;2;true", false},
		{"time", time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), "2026-05-01T10:00:00Z", false},
		{"object", map[string]any{"a": "b"}, "", true},
		{"nested list", []any{[]any{"a"}}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := propertyText(tc.in)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("propertyText(%#v) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestParseAction(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	upsert := func(body any) *mapping.Request {
		return &mapping.Request{Method: "POST", Path: UpsertPath, Body: body}
	}
	cases := []struct {
		name   string
		req    *mapping.Request
		want   *action
		errHas string
	}{
		{
			name: "upsert with note text",
			req: upsert(map[string]any{"id": " Jane@Example.COM ", "idProperty": "email",
				"properties": map[string]any{"last_csat": json.Number("5")}, "note": "CSAT 5"}),
			want: &action{
				upsert: &upsertInput{ID: "jane@example.com", IDProperty: "email", Properties: map[string]string{"last_csat": "5"}},
				dedupe: "email\x00jane@example.com",
				note:   &noteSpec{Properties: map[string]string{"hs_note_body": "CSAT 5", "hs_timestamp": "1777629600000"}},
			},
		},
		{
			name: "custom id property keeps case",
			req:  upsert(map[string]any{"id": "Resp-1", "idProperty": "survey_response_id", "properties": map[string]any{}}),
			want: &action{
				upsert: &upsertInput{ID: "Resp-1", IDProperty: "survey_response_id", Properties: map[string]string{}},
				dedupe: "survey_response_id\x00Resp-1",
			},
		},
		{
			name: "empty note is left out",
			req:  upsert(map[string]any{"id": "a@b.co", "idProperty": "email", "properties": map[string]any{}, "note": map[string]any{"body": " ", "timestamp": "2026-01-01"}}),
			want: &action{
				upsert: &upsertInput{ID: "a@b.co", IDProperty: "email", Properties: map[string]string{}},
				dedupe: "email\x00a@b.co",
			},
		},
		{
			name: "note with timestamp",
			req:  &mapping.Request{Method: "POST", Path: NotesPath, Body: map[string]any{"properties": map[string]any{"hs_note_body": "x", "hs_timestamp": "2026-01-01T00:00:00Z"}}},
			want: &action{note: &noteSpec{Properties: map[string]string{"hs_note_body": "x", "hs_timestamp": "2026-01-01T00:00:00Z"}}},
		},
		{name: "unknown request", req: &mapping.Request{Method: "PATCH", Path: "/crm/v3/objects/contacts/1"}, errHas: "this mapping renders PATCH /crm/v3/objects/contacts/1"},
		{name: "batch body", req: upsert([]any{}), errHas: "must be one input"},
		{name: "empty id", req: upsert(map[string]any{"id": "", "idProperty": "email"}), errHas: "id rendered empty"},
		{name: "object property", req: upsert(map[string]any{"id": "a", "properties": map[string]any{"x": map[string]any{}}}), errHas: "properties.x: an object cannot be a property value"},
		{name: "unknown key", req: upsert(map[string]any{"id": "a", "associations": []any{}}), errHas: `unknown key "associations"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseAction(tc.req, at)
			if tc.errHas != "" {
				if c, _ := connectors.Classify(err); err == nil || c != connectors.ClassRender || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("error %v, want a render error containing %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(action{})); diff != "" {
				t.Errorf("action (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	token := secretFile(t, "x")
	cases := []struct {
		name   string
		change func(*Config)
		errHas string
	}{
		{"token", func(c *Config) { c.Token = token }, ""},
		{"oauth", func(c *Config) {
			c.OAuth = &OAuthConfig{ClientID: "id", ClientSecret: token, RefreshToken: token, TokenURL: "http://127.0.0.1:1/token"}
		}, ""},
		{"no credentials", func(c *Config) {}, "token: set a private-app token"},
		{"both", func(c *Config) { c.Token = token; c.OAuth = &OAuthConfig{} }, "not both"},
		{"incomplete oauth", func(c *Config) { c.OAuth = &OAuthConfig{ClientID: "id"} }, "oauth: set client_id, client_secret and refresh_token"},
		{"endpoint", func(c *Config) { c.Token = token; c.Endpoint = "ftp://x" }, "endpoint:"},
		{"endpoint with credentials", func(c *Config) { c.Token = token; c.Endpoint = "https://u:p@api.hubapi.com" }, "must not carry credentials"},
		{"rate limit", func(c *Config) { c.Token = token; c.RateLimit = 0 }, "rate_limit:"},
		{"timezone", func(c *Config) { c.Token = token; c.Timezone = "Mars/Olympus" }, "timezone:"},
		{"concurrency", func(c *Config) { c.Token = token; c.Concurrency = 0 }, "concurrency:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultConfig()
			tc.change(c)
			err := c.Validate()
			switch {
			case tc.errHas == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.errHas)
			}
		})
	}
}
