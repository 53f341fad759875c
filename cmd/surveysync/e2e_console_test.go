//go:build unix

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/store/sqlite"
)

// consoleToken is the console token of the end-to-end configurations.
const consoleToken = "e2e-console-token-5f1d0c9a7b3e4d21"

// pwnScript is survey text that would retitle the page if it ever ran.
const pwnScript = `<script>document.title='pwned'</script>`

// refusingReceiver is a CRM that refuses some responses with 422 (so they
// are dead-lettered with its answer as the reason) until it is fixed.
type refusingReceiver struct {
	fixed    atomic.Bool
	mu       sync.Mutex
	accepted map[string]int
}

func (rr *refusingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var msg struct {
		Key     string `json:"key"`
		Comment string `json:"comment"`
	}
	_ = json.Unmarshal(body, &msg)
	if strings.HasPrefix(msg.Key, "bad-") && !rr.fixed.Load() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		// Echo the comment the way APIs do, markup and all.
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(map[string]string{"error": "comment " + msg.Comment + " is not allowed", "key": msg.Key})
		return
	}
	rr.mu.Lock()
	rr.accepted[msg.Key]++
	rr.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":%q}`, msg.Key)
}

// consoleConfig writes a daemon configuration with an http destination at
// endpoint, a file source and a score job.
func consoleConfig(t *testing.T, dir, listen, endpoint, consoleYAML string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "console.token"), consoleToken+"\n")
	writeFile(t, filepath.Join(dir, "surveysync.yaml"), fmt.Sprintf(`
store: sqlite:./data/ledger.db
listen: %s
%s
dispatch:
  backoff_min: 50ms
  backoff_max: 500ms
sources:
  imports:
    type: file
    paths: [./inbox/*.jsonl]
    key: id
    submitted_at: at
destinations:
  crm:
    type: http
    endpoint: %s
    timeout: 5s
syncs:
  - {name: imports-to-crm, source: imports, mapping: mappings/crm.yaml, to: crm}
scores:
  - name: csat-weekly
    schedule: "0 6 1 1 *"
    source: imports
    metric: csat
    field: rating
    scale: 1-5
    period: week
    group_by: [channel]
`, listen, consoleYAML, endpoint))
	writeFile(t, filepath.Join(dir, "mappings/crm.yaml"), `
request:
  method: POST
  path: /responses
  idempotency_key: "{{ delivery_key }}"
  body:
    key: "{{ key }}"
    rating: "{{ rating }}"
    channel: "{{ channel }}"
    comment: "{{ comment }}"
`)
}

// TestConsoleInHeadlessChromium is the console's acceptance test: the real
// daemon delivers sample responses, some containing markup, to a receiver
// that refuses a few; a score run is stored; headless Chromium opens every
// page and the test reads the pages as the browser rendered them.
func TestConsoleInHeadlessChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run of the real binary and Chromium; skipped with -short")
	}
	chrome := findChromium(t)
	artifacts := consoleArtifacts(t)

	recv := &refusingReceiver{accepted: map[string]int{}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	dir := t.TempDir()
	listen := freeAddr(t)
	consoleConfig(t, dir, listen, srv.URL, "console:\n  write: true\n  token: \"${file:./console.token}\"")

	channels := []string{"web", "email", "<i>sms</i>"}
	comments := []string{pwnScript, `<b>great</b> & "quick"`, `<img src=x onerror="document.title='pwned'">`, "plain"}
	var lines strings.Builder
	const total, refused = 12, 3
	for i := range total {
		key, comment := fmt.Sprintf("ok-%02d", i), comments[i%len(comments)]
		if i < refused {
			key, comment = fmt.Sprintf("bad-%02d", i), pwnScript
		}
		rec := map[string]any{"id": key, "rating": 1 + i%5, "channel": channels[i%len(channels)], "comment": comment,
			"at": time.Date(2026, 11, 1+i, 10, 0, 0, 0, time.UTC).Format(time.RFC3339)}
		// Written as survey tools send it: markup as raw characters.
		enc := json.NewEncoder(&lines)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rec); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "inbox/responses.jsonl"), lines.String())

	d := startDaemon(t, dir)
	defer func() {
		if t.Failed() {
			t.Logf("daemon output:\n%s", tail(d.output(), 8000))
		}
	}()
	waitFor(t, 60*time.Second, "9 delivered and 3 dead", func() bool {
		s := readStatus(t, dir, nil)
		return len(s.Syncs) == 1 && s.Syncs[0].Delivered == total-refused && s.Syncs[0].Dead == refused && s.Syncs[0].Pending == 0
	})

	// Until the scheduler stores runs, the test stores one the way it will:
	// through the ledger, while the daemon runs (WAL allows it).
	rows := sampleScoreRows()
	ledger := openLedger(t, dir)
	recordScoreRun(t, ledger, "csat-weekly", rows)
	dead, err := engine.DeadLetters(context.Background(), ledger, "imports-to-crm", 100)
	if err != nil {
		t.Fatal(err)
	}
	ledger.Close()
	status := readStatus(t, dir, nil)

	base := "http://" + listen
	withToken := func(path string) string {
		u, _ := url.Parse(base + path)
		q := u.Query()
		q.Set("token", consoleToken)
		u.RawQuery = q.Encode()
		return u.String()
	}
	scriptSegment := "channel=" + rows[0].Segment["channel"]
	scoresPath := "/console/scores?" + url.Values{"job": {"csat-weekly"}, "segment": {scriptSegment}}.Encode()
	pages := []struct{ name, path string }{
		{"overview", "/console/"},
		{"dead-letters", "/console/dead-letters"},
		{"scores", scoresPath},
	}
	doms := make([]string, len(pages))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 3)
	for i, p := range pages {
		wg.Add(2)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			doms[i] = chrome.dumpDOM(t, withToken(p.path))
			_ = os.WriteFile(filepath.Join(artifacts, p.name+".html"), []byte(doms[i]), 0o644)
		}()
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			chrome.screenshot(t, withToken(p.path), filepath.Join(artifacts, p.name+".png"), 1280, 1300)
		}()
	}
	wg.Wait()
	t.Logf("screenshots and rendered pages saved in %s", artifacts)
	if t.Failed() {
		return
	}

	for i, p := range pages {
		doc, err := html.Parse(strings.NewReader(doms[i]))
		if err != nil {
			t.Fatal(err)
		}
		text := nodeText(doc)
		// Survey text is text on every page: no script of the ledger's ran
		// (the title is the console's) and none is in the document.
		titles := elements(doc, func(n *html.Node) bool { return n.Data == "title" && n.Parent != nil && n.Parent.Data == "head" })
		if len(titles) != 1 || !strings.HasSuffix(nodeText(titles[0]), "· surveysync console") {
			t.Errorf("%s: the title is not the console's (%d title elements); a script from survey data may have run", p.name, len(titles))
		} else if title := nodeText(titles[0]); strings.Contains(title, "pwned") {
			t.Errorf("%s: title %q", p.name, title)
		}
		for _, s := range elements(doc, func(n *html.Node) bool { return n.Data == "script" }) {
			if strings.Contains(nodeText(s), "pwned") {
				t.Errorf("%s: a script element from survey data is in the page", p.name)
			}
		}
		if n := len(elements(doc, func(n *html.Node) bool {
			return n.Data == "img" || n.Data == "b" || n.Data == "i" && nodeText(n) == "sms"
		})); n != 0 {
			t.Errorf("%s: %d elements made from survey data", p.name, n)
		}
		if !strings.Contains(text, pwnScript) {
			t.Errorf("%s: the survey text %q is not shown as text", p.name, pwnScript)
		}
		if strings.Contains(doms[i], consoleToken) {
			t.Errorf("%s: the page shows the console token", p.name)
		}
		switch p.name {
		case "overview":
			checkOverviewCounts(t, doc, status)
		case "dead-letters":
			checkDeadLetters(t, doc, dead)
		case "scores":
			checkChart(t, doc, rows, rows[0].Segment["channel"])
		}
	}

	// Replay from the console: refused with a wrong token, done with the
	// right one once the receiver accepts the responses.
	recv.fixed.Store(true)
	replay := func(token string) int {
		resp, err := noRedirect.PostForm(base+"/console/dead-letters/replay", url.Values{"sync": {"imports-to-crm"}, "token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := replay("not-the-token-at-all"); code != http.StatusUnauthorized {
		t.Errorf("replay with a wrong token: status %d, want 401", code)
	}
	if code := replay(consoleToken); code != http.StatusSeeOther {
		t.Fatalf("replay: status %d, want 303", code)
	}
	waitFor(t, 30*time.Second, "the replayed responses to be delivered", func() bool {
		s := readStatus(t, dir, nil)
		return s.Syncs[0].Dead == 0 && s.Syncs[0].Delivered == total
	})
	if err := d.stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
}

// TestConsoleRefusesUnsafeUse: a listener off loopback without a token
// does not start, and a console without write access refuses replay.
func TestConsoleRefusesUnsafeUse(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run of the real binary; skipped with -short")
	}
	t.Run("non-loopback listener without a token", func(t *testing.T) {
		dir := t.TempDir()
		_, port, _ := strings.Cut(freeAddr(t), ":")
		consoleConfig(t, dir, "0.0.0.0:"+port, "http://127.0.0.1:9", "")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, buildBinary(t), "run", "--config", filepath.Join(dir, "surveysync.yaml"))
		out, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("the daemon started and kept running:\n%s", out)
		}
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != exitFailure {
			t.Fatalf("exit %v, want status %d\n%s", err, exitFailure, out)
		}
		if !strings.Contains(string(out), "console.token is required") {
			t.Errorf("the refusal does not say what to do:\n%s", out)
		}
	})
	t.Run("replay without write access", func(t *testing.T) {
		dir := t.TempDir()
		listen := freeAddr(t)
		srv := httptest.NewServer(&refusingReceiver{accepted: map[string]int{}})
		defer srv.Close()
		consoleConfig(t, dir, listen, srv.URL, "console:\n  token: \"${file:./console.token}\"")
		writeFile(t, filepath.Join(dir, "inbox/a.jsonl"), `{"id":"bad-1","rating":1,"channel":"web","comment":"x","at":"2026-11-02T10:00:00Z"}`+"\n")
		d := startDaemon(t, dir)
		waitFor(t, 60*time.Second, "a dead letter", func() bool { return readStatus(t, dir, nil).Syncs[0].Dead == 1 })
		req, _ := http.NewRequest(http.MethodPost, "http://"+listen+"/console/dead-letters/replay",
			strings.NewReader(url.Values{"sync": {"imports-to-crm"}, "token": {consoleToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("replay on a read-only console: status %d, want 403", resp.StatusCode)
		}
		if s := readStatus(t, dir, nil); s.Syncs[0].Dead != 1 {
			t.Errorf("dead = %d after a refused replay, want 1", s.Syncs[0].Dead)
		}
		if err := d.stop(); err != nil {
			t.Errorf("graceful stop: %v", err)
		}
	})
}

var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// sampleScoreRows is a stored run of csat-weekly: six weeks for two
// channels, one of them named with markup.
func sampleScoreRows() []engine.ScoreRow {
	start := time.Date(2026, 9, 28, 0, 0, 0, 0, time.UTC)
	var rows []engine.ScoreRow
	for si, channel := range []string{pwnScript, "web"} {
		for w := range 6 {
			score := 62 + float64(w*5%17) + float64(si*4)
			moe := 9 - float64(w)
			rows = append(rows, engine.ScoreRow{
				Job: "csat-weekly", Metric: "csat", Variant: "percent_satisfied",
				Period: fmt.Sprintf("2026-W%d", 40+w), PeriodStart: start.AddDate(0, 0, 7*w), PeriodEnd: start.AddDate(0, 0, 7*w+7),
				Segment: map[string]string{"channel": channel}, Score: &score, MarginOfError: &moe,
				N: 40 + 7*w, Positive: 25 + 5*w, Neutral: 10, Negative: 5 + w,
				Basis:      fmt.Sprintf("%d of %d responses rated 4–5", 25+5*w, 40+7*w),
				Definition: "CSAT % satisfied: responses rated 4–5 on 1–5 ÷ all valid responses × 100",
			})
		}
	}
	return rows
}

func openLedger(t *testing.T, dir string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "data/ledger.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func recordScoreRun(t *testing.T, st store.Store, job string, rows []engine.ScoreRow) {
	t.Helper()
	b, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.RecordScoreRun(context.Background(), store.ScoreRun{Job: job, ScheduledFor: now.Truncate(time.Hour), RanAt: now, Results: b}); err != nil {
		t.Fatal(err)
	}
}

// checkOverviewCounts compares the overview's figures with status --json.
func checkOverviewCounts(t *testing.T, doc *html.Node, s *engine.Status) {
	t.Helper()
	got := map[string]string{}
	for _, row := range elements(doc, func(n *html.Node) bool { return attrOf(n, "data-sync") != "" || attrOf(n, "data-source") != "" }) {
		name := attrOf(row, "data-sync") + attrOf(row, "data-source")
		for _, cell := range elements(row, func(n *html.Node) bool { return attrOf(n, "data-count") != "" }) {
			got[name+" "+attrOf(cell, "data-count")] = strings.TrimSpace(nodeText(cell))
		}
	}
	want := map[string]string{}
	for _, x := range s.Syncs {
		for k, v := range map[string]int64{"pending": x.Pending, "uncertain": x.Uncertain, "delivered_today": x.DeliveredToday, "delivered": x.Delivered, "dead": x.Dead} {
			want[x.Name+" "+k] = strconv.FormatInt(v, 10)
		}
	}
	for _, x := range s.Sources {
		want[x.Name+" responses"] = strconv.FormatInt(x.Responses, 10)
		want[x.Name+" rejected"] = strconv.FormatInt(x.Rejected, 10)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("overview figures (-status --json +page):\n%s", diff)
	}
	if len(elements(doc, func(n *html.Node) bool { return attrOf(n, "data-banner") == "warn" })) != 1 {
		t.Errorf("overview: no banner about the dead letters")
	}
}

// checkDeadLetters checks that each dead letter is listed with its reason.
func checkDeadLetters(t *testing.T, doc *html.Node, dead []store.DeadLetter) {
	t.Helper()
	if len(dead) == 0 {
		t.Fatal("the ledger has no dead letters to compare with")
	}
	got := map[string]string{}
	for _, row := range elements(doc, func(n *html.Node) bool { return attrOf(n, "class") == "dead-letter" }) {
		reason := elements(row, func(n *html.Node) bool { return strings.Contains(attrOf(n, "class"), "reason") })
		if len(reason) != 1 {
			t.Fatalf("dead letter %s has %d reason cells", attrOf(row, "data-key"), len(reason))
		}
		got[attrOf(row, "data-key")] = nodeText(reason[0])
	}
	want := map[string]string{}
	for _, d := range dead {
		want[d.Key] = d.Reason
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dead letters and reasons (-ledger +page):\n%s", diff)
	}
	for _, d := range dead {
		if !strings.Contains(d.Reason, "422") {
			t.Errorf("dead letter %s: reason %q does not carry the receiver's answer", d.Key, d.Reason)
		}
	}
	classes := elements(doc, func(n *html.Node) bool { return attrOf(n, "data-class") != "" })
	if len(classes) != 1 || attrOf(classes[0], "data-class") != "permanent" {
		t.Errorf("dead letters are not grouped under the class permanent")
	}
}

// checkChart checks one chart point per period of the chosen segment, in
// order, with n.
func checkChart(t *testing.T, doc *html.Node, rows []engine.ScoreRow, channel string) {
	t.Helper()
	var want []string
	for _, r := range rows {
		if r.Segment["channel"] == channel {
			want = append(want, fmt.Sprintf("%s n=%d", r.Period, r.N))
		}
	}
	charts := elements(doc, func(n *html.Node) bool { return n.Data == "svg" && attrOf(n, "class") == "chart" })
	if len(charts) != 1 {
		t.Fatalf("%d charts, want 1", len(charts))
	}
	var got []string
	for _, p := range elements(charts[0], func(n *html.Node) bool { return attrOf(n, "class") == "point" }) {
		got = append(got, attrOf(p, "data-period")+" n="+attrOf(p, "data-n"))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chart points (-stored run +page):\n%s", diff)
	}
	if n := len(elements(charts[0], func(n *html.Node) bool { return attrOf(n, "class") == "band" })); n != 1 {
		t.Errorf("%d margin-of-error bands, want 1", n)
	}
}

// chromium runs Debian's headless Chromium.
type chromium struct{ path string }

// findChromium finds Chromium; without it the test skips, except under CI
// (CI=true), which installs it and so must fail.
func findChromium(t *testing.T) chromium {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return chromium{path: p}
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return chromium{path: p}
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; CI installs it (.ci/run: apt-get install chromium) and the browser test must run there")
	}
	t.Skip("chromium is not installed, so the console's browser test is skipped; install it with apt-get install chromium (scripts/test.sh tries to)")
	return chromium{}
}

// consoleArtifacts is where screenshots and rendered pages are saved:
// $CONSOLE_ARTIFACTS, else a temporary directory.
func consoleArtifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CONSOLE_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// run runs Chromium headless on one address with a new empty profile.
func (c chromium) run(t *testing.T, args ...string) []byte {
	t.Helper()
	profile, err := os.MkdirTemp("", "surveysync-chromium-")
	if err != nil {
		t.Error(err)
		return nil
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--disable-dev-shm-usage", "--user-data-dir=" + profile}
	cmd := exec.CommandContext(ctx, c.path, append(base, args...)...)
	// Chromium starts helper processes that inherit its output: run it in a
	// process group of its own and end the whole group on a timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("chromium %v: %v\n%s", args, err, tail(stderr.String(), 3000))
	}
	return out
}

func (c chromium) dumpDOM(t *testing.T, address string) string {
	return string(c.run(t, "--dump-dom", address))
}

func (c chromium) screenshot(t *testing.T, address, path string, width, height int) {
	c.run(t, "--screenshot="+path, fmt.Sprintf("--window-size=%d,%d", width, height), address)
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("no screenshot at %s: %v", path, err)
	}
}

func elements(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
