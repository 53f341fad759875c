package zendesk_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surveysync/surveysync/connectors/internal/enginetest"
	"github.com/surveysync/surveysync/sandbox/fault"
	"github.com/surveysync/surveysync/sandbox/zendeskapi"
	"github.com/surveysync/surveysync/survey"
)

// throttleGate sits in front of the emulator and answers every request with
// Zendesk's account-limit 429 while a burst is on, with or without
// Retry-After, and records when every request arrived.
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
	a := arrival{at: now, path: r.URL.Path, throttled: now.Before(g.until), retryAfter: g.retryAfter}
	g.arrivals = append(g.arrivals, a)
	g.mu.Unlock()
	if !a.throttled {
		g.next.ServeHTTP(w, r)
		return
	}
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(a.retryAfter/time.Second)))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	fmt.Fprint(w, "Number of allowed API requests per minute exceeded")
}

// early lists requests that arrived while a Retry-After was running.
// Requests already on the wire when the 429 was answered may arrive up to
// inFlight later.
func (g *throttleGate) early(inFlight time.Duration) (violations []string, throttled int) {
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
			if b.at.After(a.at.Add(inFlight)) && b.at.Before(a.at.Add(a.retryAfter)) {
				violations = append(violations, fmt.Sprintf("%s at +%s after a 429 with Retry-After %s", b.path, b.at.Sub(a.at), a.retryAfter))
			}
		}
	}
	return violations, throttled
}

// The three kinds of responses of the run.
const (
	fieldResponses   = 2000 // field updates of tickets 1..2000, in update_many jobs
	commentResponses = 1500 // field and comment updates of tickets 2001..3500
	createResponses  = 1500 // new tickets
)

// commentText is survey text that would break a body built by string
// templating.
func commentText(i int) string {
	return fmt.Sprintf("NPS %d: \"slow\" é 😀 back\\slash\nline \"}, \"x\": \"", i%11)
}

// TestExactlyOnceThroughFaults sends 5,000 responses through the real engine
// to the Zendesk emulator (field updates, field updates with an internal
// comment, new tickets) while it fails 5 % of writes with 5xx, applies 5 %
// and then never answers, and 429 bursts hit every request, with and without
// Retry-After. Every response must have exactly one effect: its fields set,
// one comment, one ticket; and no request may come earlier than a
// Retry-After allowed.
func TestExactlyOnceThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 responses through the engine; skipped with -short")
	}
	inj := fault.New(fault.Config{Rate5xx: 0.05, ApplyThenTimeout: 0.05, Hold: 4 * attemptTimeout, Seed: 7})
	opts := zendeskapi.Options{
		Credentials:       []zendeskapi.Credential{{Email: "agent@example.com", Token: "zd-acceptance"}},
		RateLimit:         1000000,
		UpdateTicketLimit: 1000000,
		Faults:            inj,
		Fields: []zendeskapi.Field{
			{ID: 101, Title: "NPS", Type: zendeskapi.FieldInteger},
			{ID: 103, Title: "NPS band", Type: zendeskapi.FieldTagger, Tags: []string{"promoter", "passive", "detractor"}},
		},
	}
	for i := range fieldResponses + commentResponses {
		opts.Tickets = append(opts.Tickets, zendeskapi.NewTicket{Subject: fmt.Sprintf("Order %d", i+1), Description: "Where is it?"})
	}
	srv := zendeskapi.New(opts)
	gate := &throttleGate{next: srv.Handler()}
	ts := httptest.NewServer(gate)
	defer ts.Close()

	dir := t.TempDir()
	enginetest.WriteFile(t, dir, "zd.token", "zd-acceptance")
	enginetest.WriteFile(t, dir, "surveysync.yaml", fmt.Sprintf(`
store: sqlite:./data/ledger.db
dispatch: {backoff_min: 50ms, backoff_max: 1s, idle: 20ms}
sources:
  inbox: {type: file, paths: [./inbox/*.jsonl], key: id}
destinations:
  support:
    type: zendesk
    endpoint: %s/api/v2
    email: agent@example.com
    token: "${file:./zd.token}"
    rate_limit: 1000000
    update_ticket_limit: 1000000
    timeout: %s
    concurrency: 16
    throttle_backoff: 100ms
    job_poll_interval: 20ms
    job_timeout: 10s
    reconcile_after: 300ms
syncs:
  - {name: fields, source: inbox, mapping: mappings/fields.yaml, to: support}
  - {name: comments, source: inbox, mapping: mappings/comments.yaml, to: support}
  - {name: creates, source: inbox, mapping: mappings/creates.yaml, to: support}
`, ts.URL, attemptTimeout))
	enginetest.WriteFile(t, dir, "mappings/fields.yaml", `
preset: zendesk.ticket_fields
filter: [{field: kind, equals: fields}]
ticket: "{{ ticket_id }}"
fields: {101: "{{ score }}", 103: "{{ band }}"}
`)
	enginetest.WriteFile(t, dir, "mappings/comments.yaml", `
preset: zendesk.ticket_fields
filter: [{field: kind, equals: comment}]
ticket: "{{ ticket_id }}"
fields: {101: "{{ score }}"}
comment: "{{ comment }}"
`)
	enginetest.WriteFile(t, dir, "mappings/creates.yaml", `
preset: zendesk.ticket_create
filter: [{field: kind, equals: create}]
subject: "Survey {{ key }}"
comment: "{{ comment }}"
requester: {email: "{{ email }}"}
fields: {101: "{{ score }}"}
`)
	var lines strings.Builder
	band := func(score int) string { return map[bool]string{true: "promoter", false: "detractor"}[score >= 9] }
	for i := range fieldResponses + commentResponses + createResponses {
		score := i % 11
		switch {
		case i < fieldResponses:
			fmt.Fprintf(&lines, `{"id":"f%05d","kind":"fields","ticket_id":%d,"score":%d,"band":%q}`+"\n", i, i+1, score, band(score))
		case i < fieldResponses+commentResponses:
			fmt.Fprintf(&lines, `{"id":"c%05d","kind":"comment","ticket_id":%d,"score":%d,"comment":%q}`+"\n", i, i+1, score, commentText(i))
		default:
			fmt.Fprintf(&lines, `{"id":"n%05d","kind":"create","email":"user%05d@example.com","score":%d,"comment":%q}`+"\n", i, i, score, commentText(i))
		}
	}
	enginetest.WriteFile(t, dir, "inbox/responses.jsonl", lines.String())

	// 429 bursts on every request as the run reaches request counts, with
	// and without Retry-After.
	stop := make(chan struct{})
	var bursts sync.WaitGroup
	bursts.Add(1)
	go func() {
		defer bursts.Done()
		for i, ra := range []time.Duration{2 * time.Second, 0, 2 * time.Second, 0} {
			for len(srv.Log()) < 300+600*i {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
			gate.burst(300*time.Millisecond, ra)
		}
	}()

	start := time.Now()
	d := enginetest.Start(t, dir)
	stats := map[string]int64{}
	for _, sync := range []string{"fields", "comments", "creates"} {
		st := d.WaitSettled(sync, map[string]int64{"fields": fieldResponses, "comments": commentResponses, "creates": createResponses}[sync], 3*time.Minute)
		stats[sync] = st.Delivered
		if st.Dead != 0 {
			t.Errorf("sync %s: %d dead", sync, st.Dead)
			for _, dl := range d.DeadLetters(sync) {
				t.Logf("dead: %s %s", dl.Key, dl.Reason)
				break
			}
		}
	}
	elapsed := time.Since(start)
	close(stop)
	bursts.Wait()
	d.Stop()
	if stats["fields"] != fieldResponses || stats["comments"] != commentResponses || stats["creates"] != createResponses {
		t.Errorf("delivered %v, want %d/%d/%d", stats, fieldResponses, commentResponses, createResponses)
	}

	// Field updates: every ticket holds its response's values.
	tickets := srv.Tickets()
	byID := map[int64]zendeskapi.Ticket{}
	for _, tk := range tickets {
		byID[tk.ID] = tk
	}
	updates := 0
	for i := range fieldResponses {
		tk := byID[int64(i+1)]
		if want := strconv.Itoa(i % 11); tk.Fields[101] != want || tk.Fields[103] != band(i%11) {
			t.Errorf("ticket %d fields %v, want NPS %s", tk.ID, tk.Fields, want)
		}
		updates += tk.Updates
	}
	// Comments: exactly one per response, internal, with its text and key.
	comments := 0
	for i := fieldResponses; i < fieldResponses+commentResponses; i++ {
		tk := byID[int64(i+1)]
		key := survey.DeliveryKey("comments", "inbox", fmt.Sprintf("c%05d", i), 1)
		want := commentText(i) + "\n\n[surveysync " + key + "]"
		n := 0
		for _, c := range tk.Comments[1:] {
			if c.Body != want || c.Public {
				t.Errorf("ticket %d: comment %q (public %v), want the internal comment %q", tk.ID, c.Body, c.Public, want)
			}
			n++
		}
		if n != 1 {
			t.Errorf("ticket %d has %d survey comments, want 1", tk.ID, n)
		}
		if tk.Fields[101] != strconv.Itoa(i%11) {
			t.Errorf("ticket %d: NPS %v, want %d", tk.ID, tk.Fields[101], i%11)
		}
		comments += n
	}
	// Creates: one ticket per response.
	if n := srv.CreatedTickets(); n != createResponses {
		t.Errorf("%d tickets created, want %d", n, createResponses)
	}
	created := map[string]int{}
	for _, tk := range tickets[fieldResponses+commentResponses:] {
		created[tk.Subject]++
		var i int
		fmt.Sscanf(tk.Subject, "Survey n%05d", &i)
		if tk.ExternalID != survey.DeliveryKey("creates", "inbox", fmt.Sprintf("n%05d", i), 1) || len(tk.Comments) != 1 || tk.Comments[0].Body != commentText(i) {
			t.Errorf("created ticket %d: %+v", tk.ID, tk)
		}
	}
	for i := fieldResponses + commentResponses; i < fieldResponses+commentResponses+createResponses; i++ {
		if n := created[fmt.Sprintf("Survey n%05d", i)]; n != 1 {
			t.Errorf("response n%05d has %d tickets, want 1", i, n)
		}
	}

	early, throttled := gate.early(attemptTimeout)
	for _, e := range early {
		t.Errorf("request too early: %s", e)
	}
	log := srv.Log()
	faults := map[string]int{}
	kinds := map[string]int{}
	for _, e := range log {
		if e.Fault != "" {
			faults[e.Fault]++
		}
		path := e.Path
		switch {
		case strings.HasPrefix(path, "/api/v2/job_statuses/"):
			path = "job status"
		case strings.HasSuffix(path, "/comments.json"):
			path = "comments read"
		case strings.HasPrefix(path, "/api/v2/tickets/update_many"):
			path = "update_many"
		case path == "/api/v2/tickets.json" && e.Method == http.MethodGet:
			path = "external_id lookup"
		case path == "/api/v2/tickets.json":
			path = "create"
		default:
			path = "update"
		}
		kinds[path]++
		if e.Idempotency == zendeskapi.LookupHit {
			kinds["create replayed by key"]++
		}
	}
	if faults[zendeskapi.FaultServerError] == 0 || faults[zendeskapi.FaultAppliedThenDropped] == 0 || throttled == 0 {
		t.Errorf("too few faults to prove anything: %v, %d throttled", faults, throttled)
	}
	t.Logf("%d responses in %s: %d requests %v; %d throttled at the gate, emulator faults %v; %d field updates applied to %d tickets, %d comments, %d tickets created",
		fieldResponses+commentResponses+createResponses, elapsed.Round(time.Millisecond), len(log)+throttled, kinds, throttled, faults,
		updates, fieldResponses, comments, srv.CreatedTickets())
}
