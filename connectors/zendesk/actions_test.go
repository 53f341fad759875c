package zendesk

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

func TestParseAction(t *testing.T) {
	t.Parallel()
	ticket := func(v map[string]any) map[string]any { return map[string]any{"ticket": v} }
	cases := []struct {
		name   string
		req    *mapping.Request
		want   *action
		errHas string
	}{
		{
			name: "update with the api prefix and .json",
			req:  &mapping.Request{Method: "PUT", Path: "/api/v2/tickets/42.json", Body: ticket(map[string]any{"custom_fields": []any{}})},
			want: &action{kind: updateTicket, ticketID: 42, ticket: map[string]any{"custom_fields": []any{}}},
		},
		{
			name: "comment as text",
			req:  &mapping.Request{Method: "PUT", Path: "/tickets/7", Body: ticket(map[string]any{"comment": "hi"})},
			want: &action{kind: updateTicket, ticketID: 7, ticket: map[string]any{"comment": map[string]any{"body": "hi"}}, comment: true},
		},
		{
			name: "empty comment is left out",
			req:  &mapping.Request{Method: "PUT", Path: "/tickets/7.json", Body: ticket(map[string]any{"comment": map[string]any{"body": " ", "public": false}, "status": "open"})},
			want: &action{kind: updateTicket, ticketID: 7, ticket: map[string]any{"status": "open"}},
		},
		{
			name: "create",
			req: &mapping.Request{Method: "POST", Path: "/tickets.json", IdempotencyKey: "k1",
				Body: ticket(map[string]any{"subject": "s", "comment": map[string]any{"body": "b"}, "external_id": "x-1"})},
			want: &action{kind: createTicket, idempotencyKey: "k1", externalID: "x-1", comment: true,
				ticket: map[string]any{"subject": "s", "comment": map[string]any{"body": "b"}, "external_id": "x-1"}},
		},
		{name: "unknown request", req: &mapping.Request{Method: "POST", Path: "/tickets/1/satisfaction_rating.json"}, errHas: "this mapping renders POST /tickets/1/satisfaction_rating.json"},
		{name: "ticket id not a number", req: &mapping.Request{Method: "PUT", Path: "/tickets/abc.json", Body: ticket(map[string]any{})}, errHas: `"abc" is not a ticket id`},
		{name: "body without ticket", req: &mapping.Request{Method: "PUT", Path: "/tickets/1.json", Body: map[string]any{"status": "open"}}, errHas: `the body must be {"ticket": {...}}`},
		{name: "update without change", req: &mapping.Request{Method: "PUT", Path: "/tickets/1.json", Body: ticket(map[string]any{"comment": ""})}, errHas: "changes nothing"},
		{name: "create without comment", req: &mapping.Request{Method: "POST", Path: "/tickets", Body: ticket(map[string]any{"subject": "s"})}, errHas: "needs a comment"},
		{name: "comment of the wrong kind", req: &mapping.Request{Method: "PUT", Path: "/tickets/1", Body: ticket(map[string]any{"comment": json.Number("1")})}, errHas: "ticket.comment: expected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseAction(tc.req)
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

func TestMarkers(t *testing.T) {
	t.Parallel()
	const key = "0123456789abcdef0123456789abcdef"
	marker := commentMarker(key)
	cases := []struct {
		text string
		want bool
	}{
		{"NPS 9\n\n" + marker, true},
		{"NPS 9\n\n" + marker + "\n", true},
		{`<div class="zd-comment"><p>NPS 9</p><p>` + marker + `</p></div>`, true},
		{"quoted " + marker + " by a respondent\n\n[surveysync ffffffffffffffffffffffffffffffff]", false},
		{"no marker", false},
	}
	for _, tc := range cases {
		if got := endsWithMarker(tc.text, marker); got != tc.want {
			t.Errorf("endsWithMarker(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	html := map[string]any{"comment": map[string]any{"html_body": "<p>hi</p>"}}
	markComment(html, key)
	if got := html["comment"].(map[string]any)["html_body"]; got != "<p>hi</p><p>"+marker+"</p>" {
		t.Errorf("html comment marked as %q", got)
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
		{"subdomain and token", func(c *Config) {}, ""},
		{"endpoint instead of subdomain", func(c *Config) { c.Subdomain = ""; c.Endpoint = "http://127.0.0.1:8090/api/v2" }, ""},
		{"oauth", func(c *Config) { c.Email, c.Token, c.OAuthToken = "", c.OAuthToken, token }, ""},
		{"no account", func(c *Config) { c.Subdomain = "" }, "subdomain: set the account's subdomain"},
		{"subdomain with a dot", func(c *Config) { c.Subdomain = "evil.com/x" }, "is not a Zendesk subdomain"},
		{"subdomain upper case", func(c *Config) { c.Subdomain = "Acme" }, "is not a Zendesk subdomain"},
		{"subdomain starting with -", func(c *Config) { c.Subdomain = "-acme" }, "is not a Zendesk subdomain"},
		{"subdomain too long", func(c *Config) { c.Subdomain = strings.Repeat("a", 64) }, "is not a Zendesk subdomain"},
		{"endpoint with credentials", func(c *Config) { c.Endpoint = "https://u:p@acme.zendesk.com/api/v2" }, "must not carry credentials"},
		{"no token", func(c *Config) { c.Token = c.OAuthToken }, "token: set email and an API token"},
		{"both credentials", func(c *Config) { c.OAuthToken = token }, "not both"},
		{"bad email", func(c *Config) { c.Email = "agent" }, "email:"},
		{"rate limit", func(c *Config) { c.RateLimit = 0 }, "rate_limit:"},
		{"job poll", func(c *Config) { c.JobTimeout = time.Millisecond }, "job_poll_interval:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultConfig()
			c.Subdomain, c.Email, c.Token = "acme", "agent@acme.example", token
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
	c := DefaultConfig()
	c.Subdomain = "acme-support"
	if got := c.endpoint(); got != "https://acme-support.zendesk.com/api/v2" {
		t.Errorf("endpoint %q", got)
	}
}

func TestPresetsExpandToTheRequestMappings(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, preset, raw string }{
		{
			name: "ticket fields",
			preset: `
preset: zendesk.ticket_fields
ticket: "{{ ticket_id }}"
fields: {101: "{{ score }}", 103: promoter}
comment: "NPS {{ score }}"
tags: nps
`,
			raw: `
request:
  method: PUT
  path: "/tickets/{{ ticket_id }}.json"
  body:
    ticket:
      custom_fields: [{id: 101, value: "{{ score }}"}, {id: 103, value: promoter}]
      comment: {body: "NPS {{ score }}", public: false}
      additional_tags: [nps]
`,
		},
		{
			name: "ticket create",
			preset: `
preset: zendesk.ticket_create
subject: "NPS {{ score }}"
comment: "{{ comment }}"
public: true
requester: {email: "{{ email }}"}
priority: high
`,
			raw: `
request:
  method: POST
  path: /tickets.json
  idempotency_key: "{{ delivery_key }}"
  body:
    ticket:
      subject: "NPS {{ score }}"
      comment: {body: "{{ comment }}", public: true}
      requester: {email: "{{ email }}"}
      priority: high
      external_id: "{{ delivery_key }}"
`,
		},
	}
	r := &survey.Response{Source: "s", Key: "k", Payload: []byte(`{"ticket_id": 42, "score": 9, "comment": "ok", "email": "a@b.co"}`)}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pm, err := mapping.Parse("preset.yaml", []byte(tc.preset))
			if err != nil {
				t.Fatal(err)
			}
			rm, err := mapping.Parse("raw.yaml", []byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			got, err := pm.RenderRequest(&mapping.Input{Response: r, Sync: "y"})
			if err != nil {
				t.Fatal(err)
			}
			want, err := rm.RenderRequest(&mapping.Input{Response: r, Sync: "y"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("preset request (-raw +preset):\n%s", diff)
			}
		})
	}
}

func TestPresetErrorsArePositioned(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "field id",
			src:  "preset: zendesk.ticket_fields\nticket: \"{{ id }}\"\nfields:\n  nps: \"{{ score }}\"\n",
			want: []string{`m.yaml:4:3: fields: "nps" is not a ticket field id`},
		},
		{
			name: "missing ticket and nothing to change",
			src:  "preset: zendesk.ticket_fields\n",
			want: []string{`m.yaml:1:1: preset zendesk.ticket_fields: missing key "ticket"`},
		},
		{
			name: "ticket literal",
			src:  "preset: zendesk.ticket_fields\nticket: abc\ncomment: x\n",
			want: []string{`m.yaml:2:9: ticket: "abc" is not a ticket id`},
		},
		{
			name: "public without comment",
			src:  "preset: zendesk.ticket_fields\nticket: 4\nfields: {1: 2}\npublic: true\n",
			want: []string{`m.yaml:4:9: public: only applies with a comment`},
		},
		{
			name: "template mistake in the ticket",
			src:  "preset: zendesk.ticket_fields\nticket: \"{{ id | nope }}\"\ncomment: x\n",
			want: []string{`m.yaml:2:9: request: path: `},
		},
		{
			name: "create without subject",
			src:  "preset: zendesk.ticket_create\ncomment: \"{{ c }}\"\nsubjet: x\n",
			want: []string{
				`m.yaml:1:1: preset zendesk.ticket_create: missing key "subject"`,
				`m.yaml:3:1: unknown key "subjet" for preset zendesk.ticket_create; did you mean "subject"?`,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := mapping.Parse("m.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("Parse succeeded, want errors")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("errors:\n%s\nwant %d", err, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d = %q, want it to start with %q", i, lines[i], w)
				}
			}
		})
	}
}
