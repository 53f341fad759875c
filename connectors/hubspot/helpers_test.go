package hubspot

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/sandbox/hubspotapi"
)

const testToken = "pat-unit-test"

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

// emulator serves a HubSpot emulator over loopback.
func emulator(t *testing.T, opts hubspotapi.Options) (*hubspotapi.Server, *httptest.Server) {
	t.Helper()
	if opts.Tokens == nil {
		opts.Tokens = []string{testToken}
	}
	opts.ContactProperties = append(opts.ContactProperties,
		hubspotapi.Property{Name: "last_csat"}, hubspotapi.Property{Name: "last_csat_comment"}, hubspotapi.Property{Name: "last_response_key"})
	s := hubspotapi.New(opts)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// destination builds a destination for the emulator at url.
func destination(t *testing.T, url string, change func(*Config)) *Destination {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Endpoint = url
	cfg.Token = secretFile(t, testToken)
	cfg.Timeout = 2 * time.Second
	cfg.ThrottleBackoff = 20 * time.Millisecond
	cfg.ReconcileAfter = 50 * time.Millisecond
	cfg.RateLimit = 10000
	cfg.SearchRateLimit = 1000
	if change != nil {
		change(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	d, err := New("hs", cfg, connectors.Deps{Clients: connectors.NewClients(nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// upsertMapping is a raw request mapping for contact upserts with a note.
const upsertMapping = `
request:
  method: POST
  path: /crm/v3/objects/contacts/batch/upsert
  body:
    id: "{{ email }}"
    idProperty: email
    properties:
      last_csat: "{{ rating }}"
      last_csat_comment: "{{ comment | optional }}"
      last_response_key: "{{ key }}"
    note:
      body: "{{ note | optional }}"
      timestamp: "{{ submitted_at | unix_ms }}"
`

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

// contactsByEmail indexes the emulator's contacts.
func contactsByEmail(s *hubspotapi.Server) map[string]hubspotapi.Contact {
	out := map[string]hubspotapi.Contact{}
	for _, c := range s.Contacts() {
		out[c.Properties["email"]] = c
	}
	return out
}

// countPath counts logged requests to path.
func countPath(s *hubspotapi.Server, path string) int {
	n := 0
	for _, e := range s.Log() {
		if e.Path == path {
			n++
		}
	}
	return n
}
