package zendesk

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/sandbox/zendeskapi"
)

const (
	testEmail = "agent@example.com"
	testToken = "zd-unit-token"
)

// testFields are the account's custom ticket fields.
var testFields = []zendeskapi.Field{
	{ID: 101, Title: "CSAT", Type: zendeskapi.FieldInteger},
	{ID: 102, Title: "Survey comment", Type: zendeskapi.FieldText},
	{ID: 103, Title: "NPS band", Type: zendeskapi.FieldTagger, Tags: []string{"promoter", "passive", "detractor"}},
}

// secretFile writes value to a file and returns a reference to it.
func secretFile(t *testing.T, value string) config.Secret {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(value), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := config.ParseSecret("${file:"+path+"}", "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// emulator serves a Zendesk emulator with tickets 1..tickets over loopback.
func emulator(t *testing.T, tickets int, opts zendeskapi.Options) (*zendeskapi.Server, *httptest.Server) {
	t.Helper()
	if opts.Credentials == nil {
		opts.Credentials = []zendeskapi.Credential{{Email: testEmail, Token: testToken}}
	}
	if opts.Fields == nil {
		opts.Fields = testFields
	}
	for i := range tickets {
		opts.Tickets = append(opts.Tickets, zendeskapi.NewTicket{Subject: fmt.Sprintf("Order %d late", i+1), Description: "Where is it?"})
	}
	s := zendeskapi.New(opts)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// destination builds a destination for the emulator at url.
func destination(t *testing.T, url string, change func(*Config)) *Destination {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Endpoint = url + "/api/v2"
	cfg.Email = testEmail
	cfg.Token = secretFile(t, testToken)
	cfg.Timeout = 2 * time.Second
	cfg.RateLimit = 100000
	cfg.UpdateTicketLimit = 100000
	cfg.JobPollInterval = 5 * time.Millisecond
	cfg.ReconcileAfter = time.Nanosecond
	cfg.ThrottleBackoff = 10 * time.Millisecond
	if change != nil {
		change(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	d, err := New("zd", cfg, connectors.Deps{Clients: connectors.NewClients(nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// deliver runs Deliver with a deadline.
func deliver(t *testing.T, d *Destination, b *connectors.Batch) []connectors.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := d.Deliver(ctx, b)
	if len(res) != len(b.Items) {
		t.Fatalf("Deliver returned %d results for %d items", len(res), len(b.Items))
	}
	return res
}

// classOf names a result's class, "" for delivered.
func classOf(r connectors.Result) connectors.Class {
	c, _ := connectors.Classify(r.Err)
	return c
}

// requests lists the logged requests as "METHOD path".
func requests(s *zendeskapi.Server) []string {
	var out []string
	for _, e := range s.Log() {
		out = append(out, e.Method+" "+e.Path)
	}
	return out
}

// Mappings used by the tests.
const (
	fieldsMapping = `
preset: zendesk.ticket_fields
ticket: "{{ ticket_id }}"
fields: {101: "{{ score }}", 103: "{{ band }}"}
`
	commentMapping = `
preset: zendesk.ticket_fields
ticket: "{{ ticket_id }}"
fields: {101: "{{ score }}"}
comment: "CSAT {{ score }}: {{ comment }}"
`
	createMapping = `
preset: zendesk.ticket_create
subject: "Low score from {{ email }}"
comment: "{{ comment }}"
requester: {email: "{{ email }}"}
fields: {101: "{{ score }}"}
tags: [survey]
`
)
