package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surveysync/surveysync/sandbox/fault"
	"github.com/surveysync/surveysync/sandbox/hubspotapi"
	"github.com/surveysync/surveysync/sandbox/sheetsapi"
	"github.com/surveysync/surveysync/sandbox/zendeskapi"
)

// The kill -9 soak of all three sandbox destinations at once (the
// reliability acceptance item): signed webhooks arrive from concurrent
// senders, and one webhook source feeds three syncs, to a sheet tab keyed by
// the response id, to HubSpot (one contact per response, upserted by a
// unique email, with a note) and to Zendesk (a ticket field and an internal
// comment on one of 50 tickets). Each emulator answers 3 % of writes with
// 429, 3 % with 5xx and applies 2 % and then resets the connection. The
// daemon is killed with SIGKILL at random moments (seeded) while webhooks
// are being sent and delivered, and started again each time; a sender whose
// connection failed tries again until it gets a 2xx. In the end every
// acknowledged response must be in the ledger and delivered by all three
// syncs with nothing pending or dead, each key must be in the sheet once,
// each response must have one contact with its score and one note, and its
// comment must be on its own ticket exactly once.
//
// `surveysync sandbox` keeps Zendesk's real limits (100 ticket updates a
// minute, 30 updates of one ticket in ten minutes) and HubSpot's (100
// requests in ten seconds), which would allow about a hundred comments a
// minute, and has no flags to raise them. As in TestSoakSheetsKill9, the
// sandbox process is therefore this test binary again
// (TestSoak3SandboxProcess), which serves the three emulators on one
// address the way sandbox.New does, with the limits lifted, seeded like
// the demo: 50 tickets with the NPS fields, and the survey properties.

const (
	soak3Kills       = 5
	soak3Senders     = 6
	soak3Tickets     = 50
	soak3SandboxEnv  = "SURVEYSYNC_SOAK3_SANDBOX"
	soak3Secret      = "soak3-webhook-secret-value"
	soak3Faults      = "429=0.03,5xx=0.03,reset=0.02"
	soak3HubSpotAuth = "Bearer pat-soak3"
	soak3ZendeskUser = "surveys@soak3.example"
)

// soak3Responses is how many webhooks are sent: fewer when the daemon or
// the sandbox process is built with the race detector.
func soak3Responses() int {
	switch {
	case raceEnabled && os.Getenv("SURVEYSYNC_E2E_RACE") == "1":
		return 300
	case raceEnabled:
		return 1000
	}
	return 2000
}

var soak3KeyPattern = regexp.MustCompile(`soak3-\d{5}`)

func TestSoakThreeDestinationsKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end soak of the real binary; skipped with -short")
	}
	n := soak3Responses()
	sb := startSoak3Sandbox(t)
	started := time.Now()

	dir := t.TempDir()
	listen := freeAddr(t)
	writeFile(t, filepath.Join(dir, "secrets/webhook"), soak3Secret)
	writeFile(t, filepath.Join(dir, "secrets/hubspot"), strings.TrimPrefix(soak3HubSpotAuth, "Bearer "))
	writeFile(t, filepath.Join(dir, "secrets/zendesk"), "zd-token")
	writeFile(t, filepath.Join(dir, "surveysync.yaml"), fmt.Sprintf(`
store: sqlite:./data/ledger.db
listen: %[1]s
dispatch:
  backoff_min: 50ms
  backoff_max: 1s
  pause_probe: 200ms
  idle: 20ms
  lease: 1s
sources:
  hooks:
    type: webhook
    path: /hooks/survey
    auth:
      signature: {header: X-Signature, encoding: hex, secret: "${file:./secrets/webhook}"}
    key: id
    submitted_at: at
destinations:
  sheet:
    type: google_sheets
    spreadsheet: %[2]s
    endpoint: %[3]s
    batch_rows: 100
    timeout: 2s
    reconcile_after: 0s
    quota: {writes_per_minute: 6000, reads_per_minute: 6000}
  hubspot:
    type: hubspot
    endpoint: %[4]s
    token: "${file:./secrets/hubspot}"
    rate_limit: 5000
    search_rate_limit: 100
    concurrency: 8
    timeout: 2s
    throttle_backoff: 50ms
    throttle_backoff_max: 500ms
    reconcile_after: 3s
  zendesk:
    type: zendesk
    endpoint: %[3]sapi/v2
    email: %[5]s
    token: "${file:./secrets/zendesk}"
    rate_limit: 100000
    update_ticket_limit: 100000
    concurrency: 8
    timeout: 2s
    throttle_backoff: 50ms
    job_poll_interval: 100ms
    reconcile_after: 3s
syncs:
  - {name: hooks-to-sheet, source: hooks, mapping: mappings/sheet.yaml, to: sheet}
  - {name: hooks-to-hubspot, source: hooks, mapping: mappings/hubspot.yaml, to: hubspot}
  - {name: hooks-to-zendesk, source: hooks, mapping: mappings/zendesk.yaml, to: zendesk}
`, listen, soakSpreadsheet, sb.url, strings.TrimSuffix(sb.url, "/"), soak3ZendeskUser))
	writeFile(t, filepath.Join(dir, "mappings/sheet.yaml"), `
sheet: Responses
key: Response ID
columns:
  Response ID: "{{ key }}"
  Submitted:   {value: "{{ submitted_at }}", type: datetime}
  Score:       {value: "{{ score }}", type: number}
  Comment:     "{{ comment }}"
`)
	writeFile(t, filepath.Join(dir, "mappings/hubspot.yaml"), `
preset: hubspot.contact_upsert
id: "{{ email }}"
properties:
  last_nps: "{{ score }}"
  last_nps_comment: "{{ comment }}"
  survey_response_id: "{{ key }}"
note: "NPS {{ score }} from {{ key }}"
`)
	writeFile(t, filepath.Join(dir, "mappings/zendesk.yaml"), `
preset: zendesk.ticket_fields
ticket: "{{ ticket }}"
fields:
  360001: "{{ score }}"
comment: "NPS {{ score }} from {{ key }}: {{ comment }}"
public: false
`)

	d := startDaemon(t, dir)
	defer func() {
		if t.Failed() {
			out := d.output()
			if len(out) > 20000 {
				out = out[len(out)-20000:]
			}
			t.Logf("daemon output (tail):\n%s", out)
		}
	}()

	// Concurrent senders, paced to send for about ten seconds, so that the
	// kills fall while webhooks are still arriving as well as while they
	// are delivered.
	sender := &webhookSender{url: "http://" + listen + "/hooks/survey", secret: []byte(soak3Secret)}
	work := make(chan int)
	var sent atomic.Int64
	var wg sync.WaitGroup
	for range soak3Senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				key := fmt.Sprintf("soak3-%05d", i)
				body := fmt.Sprintf(`{"id":%q,"at":%d,"score":%d,"email":"Soak3.%05d@Example.com","ticket":%d,"comment":"answer %d: \"quoted\" é"}`,
					key, 1732186844+i, i%11, i, 1+i%soak3Tickets, i)
				sender.send(key, []byte(body))
				sent.Add(1)
			}
		}()
	}
	go func() {
		tick := time.NewTicker(10 * time.Second / time.Duration(n))
		defer tick.Stop()
		for i := range n {
			<-tick.C
			work <- i
		}
		close(work)
	}()
	sendersDone := make(chan struct{})
	var sentAt time.Duration // written before sendersDone is closed
	go func() {
		wg.Wait()
		sentAt = time.Since(started)
		close(sendersDone)
	}()

	rnd := rand.New(rand.NewPCG(3, 2026))
	whileSending := 0
	for kill := 1; kill <= soak3Kills; kill++ {
		time.Sleep(time.Duration(2000+rnd.IntN(4000)) * time.Millisecond)
		select {
		case <-sendersDone:
		default:
			whileSending++
		}
		d.kill9()
		t.Logf("kill %d after %s: %d of %d webhooks acknowledged",
			kill, time.Since(started).Round(time.Millisecond), sent.Load(), n)
		d.start()
	}
	select {
	case <-sendersDone:
	case <-time.After(2 * time.Minute):
		t.Fatalf("only %d of %d webhooks were acknowledged within two minutes", sent.Load(), n)
	}
	acked := 0
	sender.acked.Range(func(_, _ any) bool { acked++; return true })

	syncs := []string{"hooks-to-sheet", "hooks-to-hubspot", "hooks-to-zendesk"}
	waitFor(t, 3*time.Minute, "every response to be delivered to every destination", func() bool {
		s := readStatus(t, dir, nil)
		done := 0
		for _, x := range s.Syncs {
			if x.Delivered+x.Dead == int64(n) && x.Pending == 0 {
				done++
			}
		}
		return done == len(syncs)
	})
	// The last start may still be opening its ledger: stop a running daemon.
	waitReady(t, listen)
	if err := d.stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
	drained := time.Since(started)

	// The ledger: every acknowledged webhook is a response, and each sync
	// delivered every one.
	if acked != n {
		t.Errorf("%d of %d webhooks acknowledged", acked, n)
	}
	s := readStatus(t, dir, nil)
	for _, src := range s.Sources {
		if src.Name == "hooks" && src.Responses != int64(n) {
			t.Errorf("the ledger holds %d responses of source hooks, want %d", src.Responses, n)
		}
	}
	seen := map[string]bool{}
	for _, x := range s.Syncs {
		seen[x.Name] = true
		if x.Delivered != int64(n) || x.Dead != 0 || x.Pending != 0 {
			t.Errorf("status of %s: %d delivered, %d dead, %d pending; want %d, 0, 0 (last error: %s)", x.Name, x.Delivered, x.Dead, x.Pending, n, x.LastError)
		}
	}
	for _, name := range syncs {
		if !seen[name] {
			t.Errorf("status lists no sync %s", name)
		}
	}

	// The sheet: each key exactly once.
	sheet := map[string]int{}
	for _, k := range sb.keys(t) {
		sheet[k]++
	}
	// HubSpot: one contact per response, with its score; one note each.
	contacts := map[string]int{}
	for _, c := range soak3List(t, sb.url+"crm/v3/objects/contacts?properties=email,last_nps,survey_response_id") {
		key := fmt.Sprint(c.Properties["survey_response_id"])
		contacts[key]++
		var i int
		if _, err := fmt.Sscanf(key, "soak3-%05d", &i); err != nil {
			t.Errorf("contact %v has no survey_response_id", c.Properties)
			continue
		}
		if got, want := fmt.Sprint(c.Properties["email"]), fmt.Sprintf("soak3.%05d@example.com", i); got != want {
			t.Errorf("contact of %s has email %q, want %q", key, got, want)
		}
		if got, want := fmt.Sprint(c.Properties["last_nps"]), fmt.Sprint(i%11); got != want {
			t.Errorf("contact of %s has last_nps %q, want %q", key, got, want)
		}
	}
	notes := map[string]int{}
	for _, o := range soak3List(t, sb.url+"crm/v3/objects/notes?properties=hs_note_body") {
		first, _, _ := strings.Cut(fmt.Sprint(o.Properties["hs_note_body"]), "\n")
		notes[soak3KeyPattern.FindString(first)]++
	}
	// Zendesk: each response's comment exactly once, on its own ticket.
	comments, onTicket := soak3Comments(t, sb.url)

	var lost, doubled []string
	check := func(what string, counts map[string]int) {
		for i := range n {
			key := fmt.Sprintf("soak3-%05d", i)
			switch c := counts[key]; {
			case c == 0:
				lost = append(lost, what+" "+key)
			case c > 1:
				doubled = append(doubled, fmt.Sprintf("%s %s ×%d", what, key, c))
			}
		}
		if len(counts) != n {
			t.Errorf("%s holds %d distinct keys, want %d", what, len(counts), n)
		}
	}
	check("sheet row", sheet)
	check("hubspot contact", contacts)
	check("hubspot note", notes)
	check("zendesk comment", comments)
	for i := range n {
		key := fmt.Sprintf("soak3-%05d", i)
		if want := int64(1 + i%soak3Tickets); comments[key] > 0 && onTicket[key] != want {
			t.Errorf("the comment of %s is on ticket %d, want %d", key, onTicket[key], want)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d effects missing, first: %s", len(lost), strings.Join(lost[:min(10, len(lost))], ", "))
	}
	if len(doubled) > 0 {
		t.Errorf("%d effects applied more than once, first: %s", len(doubled), strings.Join(doubled[:min(10, len(doubled))], ", "))
	}

	sum := sb.stop3(t)
	t.Logf("%d webhooks sent (%d tries), %d acknowledged, %d kills (%d while sending); all sent after %s, drained after %s",
		n, sender.tries.Load(), acked, soak3Kills, whileSending, sentAt.Round(time.Millisecond), drained.Round(time.Millisecond))
	t.Logf("sheet %d rows, hubspot %d contacts and %d notes, zendesk %d comments", len(sheet), len(contacts), len(notes), len(comments))
	// The sheet gets few writes (batches of up to 100 rows), too few for
	// every kind of fault to be sure on each emulator: each emulator must
	// have injected some, and each kind must have been injected somewhere.
	var total fault.Stats
	for _, e := range []string{"sheets", "hubspot", "zendesk"} {
		st := sum[e]
		faulted := st.Injected429 + st.Injected5xx + st.AppliedThenReset
		t.Logf("%s: %d requests (%d faulted writes of %d: %d 429, %d 5xx, %d applied then reset)",
			e, sum[e+"-requests"].Requests, faulted, st.Requests, st.Injected429, st.Injected5xx, st.AppliedThenReset)
		if faulted == 0 {
			t.Errorf("%s injected no faults: %+v", e, st)
		}
		total.Injected429 += st.Injected429
		total.Injected5xx += st.Injected5xx
		total.AppliedThenReset += st.AppliedThenReset
	}
	if total.Injected429 == 0 || total.Injected5xx == 0 || total.AppliedThenReset == 0 {
		t.Errorf("the emulators injected too few faults to prove anything: %+v", total)
	}
}

// soak3Object is a HubSpot CRM object as the list endpoints return it.
type soak3Object struct {
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties"`
}

// soak3List reads every page of a HubSpot list endpoint.
func soak3List(t *testing.T, base string) []soak3Object {
	t.Helper()
	var out []soak3Object
	after := ""
	for {
		u := base + "&limit=100"
		if after != "" {
			u += "&after=" + after
		}
		var page struct {
			Results []soak3Object `json:"results"`
			Paging  *struct {
				Next struct {
					After string `json:"after"`
				} `json:"next"`
			} `json:"paging"`
		}
		soak3Get(t, u, "Authorization", soak3HubSpotAuth, &page)
		out = append(out, page.Results...)
		if page.Paging == nil || page.Paging.Next.After == "" {
			return out
		}
		after = page.Paging.Next.After
	}
}

// soak3Comments reads the comments of every seeded ticket and counts, by
// response key, the comments the soak's syncs added, and which ticket each
// is on.
func soak3Comments(t *testing.T, base string) (map[string]int, map[string]int64) {
	t.Helper()
	counts, onTicket := map[string]int{}, map[string]int64{}
	for id := int64(1); id <= soak3Tickets; id++ {
		for p := 1; ; p++ {
			var page struct {
				Comments []struct {
					Body string `json:"body"`
				} `json:"comments"`
				NextPage *string `json:"next_page"`
			}
			u := fmt.Sprintf("%sapi/v2/tickets/%d/comments.json?per_page=100&page=%d", base, id, p)
			soak3Get(t, u, "Authorization", "Basic "+basicAuth(soak3ZendeskUser+"/token", "zd-token"), &page)
			for _, c := range page.Comments {
				first, _, _ := strings.Cut(c.Body, "\n")
				if key := soak3KeyPattern.FindString(first); key != "" {
					counts[key]++
					onTicket[key] = id
				}
			}
			if page.NextPage == nil {
				break
			}
		}
	}
	return counts, onTicket
}

func basicAuth(user, pass string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// soak3Get reads a JSON document from the sandbox.
func soak3Get(t *testing.T, u, header, value string, into any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(header, value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", u, resp.Status, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// startSoak3Sandbox starts TestSoak3SandboxProcess and returns it as a
// soakSandbox, whose next and keys work alike.
func startSoak3Sandbox(t *testing.T) *soakSandbox {
	return startSandboxProcess(t, "TestSoak3SandboxProcess", soak3SandboxEnv, soak3Faults)
}

// stop3 asks the sandbox process for its fault counters, keyed by
// emulator ("sheets", "hubspot", "zendesk"; the key with "-requests"
// appended holds every request in Requests), and waits for it to exit.
func (sb *soakSandbox) stop3(t *testing.T) map[string]fault.Stats {
	t.Helper()
	sum := map[string]fault.Stats{}
	sb.finish(t, "summary3 ", &sum)
	return sum
}

// TestSoak3SandboxProcess is not a test: TestSoakThreeDestinationsKill9
// runs the test binary again with this test selected to serve the Sheets,
// HubSpot and Zendesk emulators in a process of their own, with the faults
// from $SURVEYSYNC_SOAK3_SANDBOX (the --faults syntax, on each emulator with
// its own seed) and the APIs' rate limits lifted. It prints "addr
// HOST:PORT", serves until its stdin closes, then prints "summary3 {json}".
func TestSoak3SandboxProcess(t *testing.T) {
	spec, ok := os.LookupEnv(soak3SandboxEnv)
	if !ok {
		t.Skip("the sandbox process of TestSoakThreeDestinationsKill9")
	}
	injectors := map[string]*fault.Injector{}
	for i, e := range []string{"sheets", "hubspot", "zendesk"} {
		cfg, err := fault.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Seed = uint64(31 + i)
		injectors[e] = fault.New(cfg)
	}
	const perMinute = 100_000
	sheets, err := sheetsapi.Open(sheetsapi.Options{
		Faults: injectors["sheets"],
		Quotas: &sheetsapi.Quotas{ReadPerUser: perMinute, ReadPerProject: perMinute, WritePerUser: perMinute, WritePerProject: perMinute},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sheets.Close()
	if err := sheets.CreateSpreadsheetWithID(soakSpreadsheet, "Soak", "Sheet1"); err != nil {
		t.Fatal(err)
	}
	hubspot := hubspotapi.New(hubspotapi.Options{
		Faults:      injectors["hubspot"],
		RateLimit:   -1,
		SearchLimit: -1,
		ContactProperties: []hubspotapi.Property{
			{Name: "last_nps"}, {Name: "last_nps_comment"}, {Name: "survey_response_id", Unique: true},
		},
	})
	var tickets []zendeskapi.NewTicket
	for i := 1; i <= soak3Tickets; i++ {
		tickets = append(tickets, zendeskapi.NewTicket{
			Subject:        fmt.Sprintf("Order question #%d", 1000+i),
			Description:    "Where is my order?",
			Status:         "solved",
			RequesterEmail: fmt.Sprintf("customer%02d@example.com", i),
		})
	}
	zendesk := zendeskapi.New(zendeskapi.Options{
		Subdomain:         "sandbox",
		Faults:            injectors["zendesk"],
		RateLimit:         -1,
		UpdateTicketLimit: -1,
		TicketUpdateLimit: -1,
		Fields:            []zendeskapi.Field{{ID: 360001, Title: "NPS score", Type: zendeskapi.FieldInteger}},
		Tickets:           tickets,
	})

	// Every request, faulted or not, is counted per emulator.
	var mu sync.Mutex
	requests := map[string]int64{}
	mux := http.NewServeMux()
	sheets.Register(mux)
	mux.Handle("/crm/", hubspot.Handler())
	mux.Handle("/api/v2/", zendesk.Handler())
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := "sheets"
		switch {
		case strings.HasPrefix(r.URL.Path, "/crm/"):
			e = "hubspot"
		case strings.HasPrefix(r.URL.Path, "/api/v2/"):
			e = "zendesk"
		}
		mu.Lock()
		requests[e]++
		mu.Unlock()
		mux.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: count, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("addr %s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the test closes stdin
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)

	sum := map[string]fault.Stats{}
	mu.Lock()
	for e, in := range injectors {
		sum[e] = in.Stats()
		sum[e+"-requests"] = fault.Stats{Requests: requests[e]}
	}
	mu.Unlock()
	out, _ := json.Marshal(sum)
	fmt.Printf("summary3 %s\n", out)
}
