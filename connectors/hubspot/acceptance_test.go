package hubspot_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surveysync/surveysync/connectors/hubspot"
	"github.com/surveysync/surveysync/connectors/internal/enginetest"
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/sandbox/fault"
	"github.com/surveysync/surveysync/sandbox/hubspotapi"
	"github.com/surveysync/surveysync/sandbox/hubspotapi/openapicheck"
	"github.com/surveysync/surveysync/survey"
)

// specsDir holds HubSpot's published OpenAPI documents.
const specsDir = "../../../shared/specs/hubspot"

// validator loads the OpenAPI validator, or skips when the specs are absent.
func validator(t *testing.T) *openapicheck.Validator {
	t.Helper()
	if _, err := os.Stat(specsDir); err != nil {
		t.Skipf("HubSpot OpenAPI specs not found at %s (%v); the request bodies cannot be validated here", specsDir, err)
	}
	v, err := openapicheck.LoadValidator(specsDir)
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
  last_csat_comment: "{{ comment | optional }}"
  last_response_key: "{{ key }}"
note: "{{ comment | optional }}"
`

// throttleGate sits in front of the emulator and answers batch upserts with
// 429 while a burst is on, with or without Retry-After. It records when
// every request arrived. The destination sends a batch upsert only when
// nothing else of it is in flight (notes follow the upsert of their batch),
// so after a 429 with Retry-After no request may arrive before it expired:
// the check needs no allowance for requests already on the wire.
type throttleGate struct {
	next http.Handler

	mu         sync.Mutex
	until      time.Time
	retryAfter time.Duration
	arrivals   []arrival
}

// arrival is one request seen by the gate.
type arrival struct {
	at         time.Time
	path       string
	throttled  bool
	retryAfter time.Duration
}

func (g *throttleGate) burst(d, retryAfter time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.until, g.retryAfter = time.Now().Add(d), retryAfter
}

func (g *throttleGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	g.mu.Lock()
	a := arrival{at: now, path: r.URL.Path}
	if r.URL.Path == hubspot.UpsertPath && now.Before(g.until) {
		a.throttled, a.retryAfter = true, g.retryAfter
	}
	g.arrivals = append(g.arrivals, a)
	g.mu.Unlock()
	if !a.throttled {
		g.next.ServeHTTP(w, r)
		return
	}
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(a.retryAfter/time.Second)))
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	fmt.Fprint(w, `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING"}`)
}

// early lists requests that arrived while a Retry-After was running.
func (g *throttleGate) early() (violations []string, throttled int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, a := range g.arrivals {
		if !a.throttled {
			continue
		}
		throttled++
		if a.retryAfter == 0 {
			continue
		}
		for _, b := range g.arrivals[i+1:] {
			if !strings.HasSuffix(b.path, "/search") && b.at.Before(a.at.Add(a.retryAfter)) {
				violations = append(violations, fmt.Sprintf("%s at +%s after a 429 with Retry-After %s", b.path, b.at.Sub(a.at), a.retryAfter))
			}
		}
	}
	return violations, throttled
}

// TestExactlyOnceThroughFaults sends 5,000 responses through the real engine
// to the HubSpot emulator while it fails 5 % of writes with 5xx, applies 5 %
// and then never answers, and answers 429 bursts with and without
// Retry-After. Every response must end as exactly one contact state, the 40 %
// with a comment as exactly one note, no request may come earlier than a
// Retry-After allowed, and every body must match HubSpot's OpenAPI
// documents.
func TestExactlyOnceThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 responses through the engine; skipped with -short")
	}
	const n = 5000
	inj := fault.New(fault.Config{Rate5xx: 0.05, ApplyThenTimeout: 0.05, Hold: 4 * attemptTimeout, Seed: 42})
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
	gate := &throttleGate{next: srv.Handler()}
	ts := httptest.NewServer(gate)
	defer ts.Close()

	dir := t.TempDir()
	enginetest.WriteFile(t, dir, "hs.token", "pat-acceptance")
	enginetest.WriteFile(t, dir, "surveysync.yaml", fmt.Sprintf(`
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
    timeout: %s
    concurrency: 64
    throttle_backoff: 100ms
    throttle_backoff_max: 1s
    reconcile_after: 300ms
syncs:
  - {name: csat, source: inbox, mapping: mappings/csat.yaml, to: crm}
`, ts.URL, attemptTimeout))
	enginetest.WriteFile(t, dir, "mappings/csat.yaml", csatMapping)
	var lines strings.Builder
	for i := range n {
		email := fmt.Sprintf("user%05d@example.com", i)
		if i%3 == 0 {
			email = strings.ToUpper(email[:1]) + email[1:]
		}
		comment := ""
		if hasComment(i) {
			comment = fmt.Sprintf(`,"comment":%q`, nastyComment(i))
		}
		fmt.Fprintf(&lines, `{"id":"r%05d","at":"2026-03-02T10:%02d:00Z","email":%q,"rating":%d%s}`+"\n", i, i%60, email, i%5+1, comment)
	}
	enginetest.WriteFile(t, dir, "inbox/responses.jsonl", lines.String())

	// 429 bursts while the run is under way, as it reaches request counts:
	// on batch upserts at the gate, with and without Retry-After, and one on
	// every write in the emulator.
	stop := make(chan struct{})
	var bursts sync.WaitGroup
	bursts.Add(1)
	go func() {
		defer bursts.Done()
		for _, b := range []struct {
			after int
			ra    time.Duration // < 0: in the emulator, with Retry-After 1s
		}{{200, time.Second}, {600, 0}, {1000, -1}, {1400, 2 * time.Second}, {1800, 0}} {
			// The storm in the emulator starts while notes are in flight.
			for log := srv.Log(); len(log) < b.after || b.ra < 0 && log[len(log)-1].Path != hubspot.NotesPath; log = srv.Log() {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
			if b.ra < 0 {
				inj.Storm(1500*time.Millisecond, time.Second)
				continue
			}
			gate.burst(time.Second, b.ra)
		}
	}()

	start := time.Now()
	d := enginetest.Start(t, dir)
	st := d.WaitSettled("csat", n, 3*time.Minute)
	elapsed := time.Since(start)
	close(stop)
	bursts.Wait()
	d.Stop()

	if st.Delivered != n || st.Dead != 0 {
		t.Errorf("ledger: %d delivered, %d dead; want %d and 0", st.Delivered, st.Dead, n)
		for _, dl := range d.DeadLetters("csat") {
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
		if want := map[bool]string{true: nastyComment(i), false: ""}[hasComment(i)]; c.Properties["last_csat_comment"] != want {
			t.Errorf("contact %s: comment %q, want %q", c.Properties["email"], c.Properties["last_csat_comment"], want)
		}
		for _, h := range c.History["last_response_key"] {
			if h.Value != key {
				t.Errorf("contact %s was written with response %s too", c.Properties["email"], h.Value)
			}
		}
		rewrites += len(c.History["last_response_key"]) - 1
	}

	// One note per commented response, on the right contact, carrying its
	// key and its text.
	byContact := map[string]string{}
	for _, c := range contacts {
		byContact[c.ID] = c.Properties["last_response_key"]
	}
	marker := regexp.MustCompile(`\n\n\[surveysync ([0-9a-f]{32})\]$`)
	seen := map[string]int{}
	for _, note := range srv.Notes() {
		body := note.Properties["hs_note_body"]
		m := marker.FindStringSubmatchIndex(body)
		if m == nil || len(note.ContactIDs) != 1 {
			t.Errorf("note %s: body %q, contacts %v", note.ID, body, note.ContactIDs)
			continue
		}
		key := byContact[note.ContactIDs[0]]
		var i int
		fmt.Sscanf(key, "r%05d", &i)
		if got, want := body[m[2]:m[3]], survey.DeliveryKey("csat", "inbox", key, 1); got != want {
			t.Errorf("note %s on the contact of %s carries key %s, want %s", note.ID, key, got, want)
		}
		if text := body[:m[0]]; text != nastyComment(i) {
			t.Errorf("note %s: text %q, want %q", note.ID, text, nastyComment(i))
		}
		seen[key]++
	}
	notes := 0
	for i := range n {
		key := fmt.Sprintf("r%05d", i)
		want := 0
		if hasComment(i) {
			want = 1
			notes++
		}
		if seen[key] != want {
			t.Errorf("response %s has %d notes, want %d", key, seen[key], want)
		}
	}

	for _, v := range srv.Violations() {
		t.Errorf("OpenAPI violation: %s %s (%s): %s", v.Method, v.Path, v.Spec, v.Message)
	}
	early, throttled := gate.early()
	for _, e := range early {
		t.Errorf("request too early: %s", e)
	}

	log := srv.Log()
	faults := map[string]int{}
	answers := map[string]int{}
	for _, e := range log {
		if e.Fault != "" {
			faults[e.Fault]++
		}
		answers[fmt.Sprintf("%s %d", e.Path, e.Status)]++
	}
	if faults[hubspotapi.FaultServerError] == 0 || faults[hubspotapi.FaultAppliedThenDropped] == 0 || faults[hubspotapi.FaultTooMany] == 0 || throttled == 0 {
		t.Errorf("too few faults to prove anything: %v, %d throttled at the gate", faults, throttled)
	}
	t.Logf("%d responses, %d notes in %s: %d requests, %d throttled at the gate, emulator faults %v, %d idempotent contact rewrites, %d OpenAPI violations",
		n, notes, elapsed.Round(time.Millisecond), len(log)+throttled, throttled, faults, rewrites, len(srv.Violations()))
	t.Logf("answers by path and status: %v", answers)
}

// hasComment says which test responses carry a comment, and so a note.
func hasComment(i int) bool { return i%5 < 2 }

// TestPartialBatchIsSettledInputByInput delivers 100 responses of which 7
// have an address HubSpot refuses: the 93 are delivered in one request and
// never sent again, the 7 are dead letters with HubSpot's message, and a
// replay after fixing the mapping delivers them.
func TestPartialBatchIsSettledInputByInput(t *testing.T) {
	srv := hubspotapi.New(hubspotapi.Options{Tokens: []string{"pat-207"}, ContactProperties: contactProperties})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	dir := t.TempDir()
	enginetest.WriteFile(t, dir, "hs.token", "pat-207")
	enginetest.WriteFile(t, dir, "surveysync.yaml", fmt.Sprintf(`
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
	enginetest.WriteFile(t, dir, "mappings/csat.yaml", mappingV1)
	bad := map[int]bool{5: true, 12: true, 33: true, 48: true, 61: true, 80: true, 97: true}
	var lines strings.Builder
	for i := range 100 {
		email := fmt.Sprintf("p%03d@example.com", i)
		if bad[i] {
			email = fmt.Sprintf("p%03d at example.com", i)
		}
		fmt.Fprintf(&lines, `{"id":"r%03d","email":%q,"rating":%d}`+"\n", i, email, i%5+1)
	}
	enginetest.WriteFile(t, dir, "inbox/responses.jsonl", lines.String())

	d := enginetest.Start(t, dir)
	st := d.WaitSettled("csat", 100, time.Minute)
	if st.Delivered != 93 || st.Dead != 7 {
		t.Fatalf("ledger: %d delivered, %d dead; want 93 and 7", st.Delivered, st.Dead)
	}
	for _, dl := range d.DeadLetters("csat") {
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
	enginetest.WriteFile(t, dir, "mappings/csat.yaml", strings.Replace(mappingV1, `"{{ email }}"`, `"{{ email | replace ' at ' '@' }}"`, 1))
	plan := enginetest.Compile(t, dir)
	if err := d.Engine.Reload(plan); err != nil {
		t.Fatal(err)
	}
	n, err := engine.Replay(context.Background(), plan, d.Engine.Store(), engine.ReplayOptions{Sync: "csat", Dead: true})
	if err != nil || n != 7 {
		t.Fatalf("replay re-opened %d (%v), want 7", n, err)
	}
	st = d.WaitSettled("csat", 100, time.Minute)
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
