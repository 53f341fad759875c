package hubspot_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/sandbox/fault"
	"github.com/surveysync/surveysync/sandbox/hubspotapi"
	"github.com/surveysync/surveysync/survey"
)

// specsDir holds HubSpot's published OpenAPI documents.
const specsDir = "../../../shared/specs/hubspot"

// validator loads the OpenAPI validator, or skips when the specs are absent.
func validator(t *testing.T) *hubspotapi.Validator {
	t.Helper()
	if _, err := os.Stat(specsDir); err != nil {
		t.Skipf("HubSpot OpenAPI specs not found at %s (%v); the request bodies cannot be validated here", specsDir, err)
	}
	v, err := hubspotapi.LoadValidator(specsDir)
	if err != nil {
		t.Fatalf("loading the specs: %v", err)
	}
	return v
}

// contactProperties are the custom properties the test account has.
var contactProperties = []hubspotapi.Property{{Name: "last_csat"}, {Name: "last_csat_comment"}, {Name: "last_response_key"}}

// nastyComment is survey text that would break a body built by string
// templating.
func nastyComment(i int) string {
	return fmt.Sprintf("line \"%d\" é 😀 back\\slash\nnew \"}, \"x\": \"", i)
}

// csatMapping upserts the contact and adds a note about the response.
const csatMapping = `
preset: hubspot.contact_upsert
id: "{{ email }}"
properties:
  last_csat: "{{ rating }}"
  last_csat_comment: "{{ comment }}"
  last_response_key: "{{ key }}"
note: "CSAT {{ rating }}: {{ comment }}"
`

// TestExactlyOnceThroughFaults sends 5,000 responses through the real engine
// to the HubSpot emulator while it fails 5 % of writes with 5xx, applies 5 %
// and then never answers, and answers 429 bursts with and without
// Retry-After. Every response must end as exactly one contact state and one
// note, no request may come earlier than a Retry-After allowed, and every
// body must match HubSpot's OpenAPI documents.
func TestExactlyOnceThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 responses through the engine; skipped with -short")
	}
	const n = 5000
	inj := fault.New(fault.Config{Rate5xx: 0.05, ApplyThenTimeout: 0.05, Hold: time.Second, Seed: 42})
	srv := hubspotapi.New(hubspotapi.Options{
		Tokens:             []string{"pat-acceptance"},
		RateLimit:          100000,
		SearchLimit:        60,
		RetryAfter:         true,
		SearchDelay:        150 * time.Millisecond,
		Faults:             inj,
		ContactProperties:  contactProperties,
		Validator:          validator(t),
		ValidateReportOnly: true,
	})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	dir := t.TempDir()
	writeFile(t, dir, "hs.token", "pat-acceptance")
	writeFile(t, dir, "surveysync.yaml", fmt.Sprintf(`
store: sqlite:./data/ledger.db
dispatch: {backoff_min: 50ms, backoff_max: 1s, idle: 20ms}
sources:
  inbox: {type: file, paths: [./inbox/*.jsonl], key: id, submitted_at: at}
destinations:
  crm:
    type: hubspot
    endpoint: %s
    token: "${file:./hs.token}"
    rate_limit: 100000
    search_rate_limit: 60
    timeout: 150ms
    concurrency: 64
    throttle_backoff: 100ms
    throttle_backoff_max: 1s
    reconcile_after: 300ms
syncs:
  - {name: csat, source: inbox, mapping: mappings/csat.yaml, to: crm}
`, ts.URL))
	writeFile(t, dir, "mappings/csat.yaml", csatMapping)
	var lines strings.Builder
	for i := range n {
		email := fmt.Sprintf("user%05d@example.com", i)
		if i%3 == 0 {
			email = strings.ToUpper(email[:1]) + email[1:]
		}
		fmt.Fprintf(&lines, `{"id":"r%05d","at":"2026-03-02T10:%02d:00Z","email":%q,"rating":%d,"comment":%q}`+"\n",
			i, i%60, email, i%5+1, nastyComment(i))
	}
	writeFile(t, dir, "inbox/responses.jsonl", lines.String())

	// 429 bursts while the run is under way: one with Retry-After, one without.
	type storm struct {
		from, to   time.Time
		retryAfter time.Duration
	}
	var storms []storm
	var stormMu sync.Mutex
	stopStorms := make(chan struct{})
	var stormsDone sync.WaitGroup
	stormsDone.Add(1)
	go func() {
		defer stormsDone.Done()
		for i, ra := range []time.Duration{time.Second, 0, 2 * time.Second, 0} {
			select {
			case <-stopStorms:
				return
			case <-time.After(time.Duration(1500+i*2500) * time.Millisecond):
			}
			const d = 700 * time.Millisecond
			stormMu.Lock()
			storms = append(storms, storm{from: time.Now(), to: time.Now().Add(d), retryAfter: ra})
			stormMu.Unlock()
			inj.Storm(d, ra)
		}
	}()

	start := time.Now()
	d := startDaemon(t, dir)
	st := d.waitSettled("csat", n, 3*time.Minute)
	elapsed := time.Since(start)
	close(stopStorms)
	stormsDone.Wait()
	d.stop()

	if st.Delivered != n || st.Dead != 0 {
		t.Errorf("ledger: %d delivered, %d dead; want %d and 0", st.Delivered, st.Dead, n)
		for _, dl := range d.deadLetters("csat") {
			t.Logf("dead: %s %s", dl.Key, dl.Reason)
			break
		}
	}

	// One contact per response, holding that response's values.
	contacts := srv.Contacts()
	if len(contacts) != n {
		t.Errorf("%d contacts, want %d", len(contacts), n)
	}
	rewrites := 0
	for _, c := range contacts {
		key := c.Properties["last_response_key"]
		var i int
		if _, err := fmt.Sscanf(key, "r%05d", &i); err != nil {
			t.Errorf("contact %s: last_response_key %q", c.Properties["email"], key)
			continue
		}
		if want := fmt.Sprintf("user%05d@example.com", i); c.Properties["email"] != want {
			t.Errorf("contact %s holds response %s, want %s", c.Properties["email"], key, want)
		}
		if c.Properties["last_csat_comment"] != nastyComment(i) {
			t.Errorf("contact %s: comment %q, want %q", c.Properties["email"], c.Properties["last_csat_comment"], nastyComment(i))
		}
		for _, h := range c.History["last_response_key"] {
			if h.Value != key {
				t.Errorf("contact %s was written with response %s too", c.Properties["email"], h.Value)
			}
		}
		rewrites += len(c.History["last_response_key"]) - 1
	}

	// One note per response, on the right contact, carrying its key.
	byContact := map[string]string{}
	for _, c := range contacts {
		byContact[c.ID] = c.Properties["last_response_key"]
	}
	marker := regexp.MustCompile(`\[surveysync ([0-9a-f]{32})\]$`)
	seen := map[string]int{}
	for _, note := range srv.Notes() {
		m := marker.FindStringSubmatch(note.Properties["hs_note_body"])
		if m == nil || len(note.ContactIDs) != 1 {
			t.Errorf("note %s: body %q, contacts %v", note.ID, note.Properties["hs_note_body"], note.ContactIDs)
			continue
		}
		key := byContact[note.ContactIDs[0]]
		if want := survey.DeliveryKey("csat", "inbox", key, 1); m[1] != want {
			t.Errorf("note %s on the contact of %s carries key %s, want %s", note.ID, key, m[1], want)
		}
		seen[key]++
	}
	for i := range n {
		if key := fmt.Sprintf("r%05d", i); seen[key] != 1 {
			t.Errorf("response %s has %d notes, want 1", key, seen[key])
		}
	}

	for _, v := range srv.Violations() {
		t.Errorf("OpenAPI violation: %s %s (%s): %s", v.Method, v.Path, v.Spec, v.Message)
	}

	// No request to the throttled bucket inside a Retry-After. Requests
	// already on the wire when the 429 was answered may still arrive within
	// the allowance.
	const inFlight = 150 * time.Millisecond
	log := srv.Log()
	var throttles, faultsSeen = 0, map[string]int{}
	stormMu.Lock()
	for _, e := range log {
		faultsSeen[e.Fault]++
		if e.Fault != hubspotapi.FaultTooMany {
			continue
		}
		throttles++
		for _, s := range storms {
			if s.retryAfter == 0 || e.Time.Before(s.from) || e.Time.After(s.to) {
				continue
			}
			for _, later := range log {
				if strings.HasSuffix(later.Path, "/search") || later.Seq <= e.Seq {
					continue
				}
				if later.Time.After(e.Time.Add(inFlight)) && later.Time.Before(e.Time.Add(s.retryAfter)) {
					t.Errorf("request %d (%s %s) at +%s after the 429 of request %d with Retry-After %s",
						later.Seq, later.Method, later.Path, later.Time.Sub(e.Time), e.Seq, s.retryAfter)
				}
			}
		}
	}
	stormMu.Unlock()
	if faultsSeen[hubspotapi.FaultServerError] == 0 || faultsSeen[hubspotapi.FaultAppliedThenDropped] == 0 || throttles == 0 {
		t.Errorf("too few faults to prove anything: %v", faultsSeen)
	}
	searches, posts := 0, 0
	statuses := map[string]int{}
	for _, e := range log {
		statuses[fmt.Sprintf("%s %d %s", e.Path, e.Status, e.Limit)]++
		switch {
		case strings.HasSuffix(e.Path, "/search"):
			searches++
		case e.Path == "/crm/v3/objects/notes":
			posts++
		}
	}
	t.Logf("%d responses in %s: %d requests (%d note posts, %d searches), faults %v, %d idempotent contact rewrites",
		n, elapsed.Round(time.Millisecond), len(log), posts, searches, faultsSeen, rewrites)
	t.Logf("answers by path, status and limit: %v", statuses)
}

// TestPartialBatchIsSettledInputByInput delivers 100 responses of which 7
// have an address HubSpot refuses: the 93 are delivered in one request and
// never sent again, the 7 are dead letters with HubSpot's message, and a
// replay after fixing the mapping delivers them.
func TestPartialBatchIsSettledInputByInput(t *testing.T) {
	srv := hubspotapi.New(hubspotapi.Options{Tokens: []string{"pat-207"}, ContactProperties: contactProperties})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	dir := t.TempDir()
	writeFile(t, dir, "hs.token", "pat-207")
	writeFile(t, dir, "surveysync.yaml", fmt.Sprintf(`
store: sqlite:./data/ledger.db
dispatch: {backoff_min: 50ms, backoff_max: 1s, idle: 20ms}
sources:
  inbox: {type: file, paths: [./inbox/*.jsonl], key: id}
destinations:
  crm: {type: hubspot, endpoint: %s, token: "${file:./hs.token}"}
syncs:
  - {name: csat, source: inbox, mapping: mappings/csat.yaml, to: crm}
`, ts.URL))
	const mappingV1 = `
preset: hubspot.contact_upsert
id: "{{ email }}"
properties: {last_csat: "{{ rating }}", last_response_key: "{{ key }}"}
`
	writeFile(t, dir, "mappings/csat.yaml", mappingV1)
	bad := map[int]bool{5: true, 12: true, 33: true, 48: true, 61: true, 80: true, 97: true}
	var lines strings.Builder
	for i := range 100 {
		email := fmt.Sprintf("p%03d@example.com", i)
		if bad[i] {
			email = fmt.Sprintf("p%03d at example.com", i)
		}
		fmt.Fprintf(&lines, `{"id":"r%03d","email":%q,"rating":%d}`+"\n", i, email, i%5+1)
	}
	writeFile(t, dir, "inbox/responses.jsonl", lines.String())

	d := startDaemon(t, dir)
	st := d.waitSettled("csat", 100, time.Minute)
	if st.Delivered != 93 || st.Dead != 7 {
		t.Fatalf("ledger: %d delivered, %d dead; want 93 and 7", st.Delivered, st.Dead)
	}
	for _, dl := range d.deadLetters("csat") {
		var i int
		fmt.Sscanf(dl.Key, "r%03d", &i)
		if !bad[i] || !strings.Contains(dl.Reason, "is invalid") || !strings.Contains(dl.Reason, "INVALID_EMAIL") && !strings.Contains(dl.Reason, "VALIDATION_ERROR") {
			t.Errorf("dead letter %s: %q; want one of the 7 with HubSpot's message", dl.Key, dl.Reason)
		}
	}
	upserts := func() (requests, inputs int) {
		for _, e := range srv.Log() {
			if e.Path == "/crm/v3/objects/contacts/batch/upsert" {
				requests++
				inputs += e.Inputs
			}
		}
		return
	}
	if r, in := upserts(); r != 1 || in != 100 {
		t.Errorf("%d upsert requests with %d inputs, want 1 with 100", r, in)
	}

	// Fix the mapping, reload and replay the dead letters.
	writeFile(t, dir, "mappings/csat.yaml", strings.Replace(mappingV1, `"{{ email }}"`, `"{{ email | replace ' at ' '@' }}"`, 1))
	plan := compile(t, dir)
	if err := d.eng.Reload(plan); err != nil {
		t.Fatal(err)
	}
	n, err := engine.Replay(context.Background(), plan, d.eng.Store(), engine.ReplayOptions{Sync: "csat", Dead: true})
	if err != nil || n != 7 {
		t.Fatalf("replay re-opened %d (%v), want 7", n, err)
	}
	st = d.waitSettled("csat", 100, time.Minute)
	if st.Delivered != 100 || st.Dead != 0 {
		t.Errorf("after replay: %d delivered, %d dead; want 100 and 0", st.Delivered, st.Dead)
	}
	if r, in := upserts(); r != 2 || in != 107 {
		t.Errorf("%d upsert requests with %d inputs, want 2 with 107: the 93 must never be sent again", r, in)
	}
	if got := len(srv.Contacts()); got != 100 {
		t.Errorf("%d contacts, want 100", got)
	}
}
