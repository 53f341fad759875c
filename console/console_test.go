package console_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/console"
	"github.com/surveysync/surveysync/engine"
)

// Survey text that must appear as text, never as markup.
const (
	scriptComment = `<script>document.title='pwned'</script>`
	htmlReason    = `422 field "comment": <img src=x onerror=alert(1)> is not allowed`
	scriptSegment = `<script>alert("seg")</script>`
	htmlKey       = `k<b>2</b>`
)

// hostileLedger fills f with responses, a dead letter and a score run whose
// text is markup.
func hostileLedger(t *testing.T, f *fixture) {
	t.Helper()
	f.ingest(t,
		`{"id":"r1","rating":1,"channel":"web","comment":"<script>document.title='pwned'</script>"}`,
		`{"id":"k<b>2</b>","rating":5,"channel":"<i>email</i>","comment":"<b>great</b> & \"quoted\""}`,
	)
	f.settle(t, map[string]string{"r1": htmlReason, htmlKey: "410 <em>gone</em>"})
	start := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	var rows []engine.ScoreRow
	for i, seg := range []string{scriptSegment, "web"} {
		for w := range 3 {
			rows = append(rows, engine.ScoreRow{Job: "csat-weekly", Metric: "csat", Variant: "percent_satisfied",
				Period: "W<" + strconv.Itoa(w) + ">", PeriodStart: start.AddDate(0, 0, 7*w), PeriodEnd: start.AddDate(0, 0, 7*w+7),
				Segment: map[string]string{"channel": seg}, Score: ptr(float64(60 + 10*i + w)), MarginOfError: ptr(5), N: 40 + w,
				Basis: "<u>basis</u>", Definition: "CSAT <script>def</script>"})
		}
	}
	f.recordRun(t, rows)
}

func TestEveryPageShowsSurveyTextAsText(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{token: true, write: true})
	hostileLedger(t, f)
	raw := []string{"<script>document.title", "<img src=x", "<script>alert", "<b>2</b>", "<b>great</b>", "<i>email</i>", "<em>gone</em>", "<u>basis</u>", "<script>def"}
	pages := []struct {
		path string
		// want are texts the page must show, as text.
		want []string
	}{
		{"/console/", []string{"to-crm", "in"}},
		{"/console/dead-letters", []string{scriptComment, htmlReason, htmlKey, "410 <em>gone</em>", `"<b>great</b> & \"quoted\""`}},
		{"/console/scores?job=csat-weekly&segment=" + url.QueryEscape("channel="+scriptSegment), []string{"channel=" + scriptSegment, "<u>basis</u>", "CSAT <script>def</script>", "W<1>"}},
	}
	for _, p := range pages {
		t.Run(p.path, func(t *testing.T) {
			resp, body := f.get(t, p.path, "Authorization", "Bearer "+testToken)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d\n%s", resp.StatusCode, body)
			}
			for _, r := range raw {
				if strings.Contains(body, r) {
					t.Errorf("the page contains the markup %q unescaped", r)
				}
			}
			doc := parseHTML(t, body)
			scripts := findAll(doc, tag("script"))
			if len(scripts) > 1 {
				t.Errorf("%d script elements, want at most the page's own one", len(scripts))
			}
			for _, s := range scripts {
				if attr(s, "nonce") == "" {
					t.Errorf("a script element has no nonce: %s", textOf(s))
				}
			}
			text := textOf(doc)
			for _, w := range p.want {
				if !strings.Contains(text, w) {
					t.Errorf("the page does not show %q as text", w)
				}
			}
			if title := textOf(findAll(doc, tag("title"))[0]); strings.Contains(title, "pwned") {
				t.Errorf("title = %q", title)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'nonce-") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("Content-Security-Policy = %q", csp)
			}
		})
	}
}

func TestNoSecretIsRendered(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{token: true, write: true})
	// A payload that happens to contain the token (a resolved secret) is
	// shown redacted.
	f.ingest(t, `{"id":"leak","comment":"my token is `+testToken+`"}`)
	f.settle(t, map[string]string{"leak": "401 bad token " + testToken})
	for _, path := range []string{"/console/", "/console/dead-letters", "/console/scores", "/console/status.json"} {
		_, body := f.get(t, path, "Authorization", "Bearer "+testToken)
		if strings.Contains(body, testToken) {
			t.Errorf("%s shows the console token", path)
		}
	}
	_, body := f.get(t, "/console/dead-letters", "Authorization", "Bearer "+testToken)
	if !strings.Contains(body, "my token is [redacted]") {
		t.Errorf("the payload is not shown redacted:\n%s", body)
	}
}

func TestAccessRules(t *testing.T) {
	t.Parallel()
	bearer := []string{"Authorization", "Bearer " + testToken}
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name   string
		opts   fixtureOptions
		method string
		path   string
		form   url.Values
		header []string
		want   int
	}{
		{"loopback without a token reads", fixtureOptions{}, "GET", "/console/", nil, nil, 200},
		{"loopback with a token needs it", fixtureOptions{token: true}, "GET", "/console/", nil, nil, 401},
		{"loopback without a token by localhost", fixtureOptions{}, "GET", "/console/", nil, []string{"Host", "localhost:8080"}, 200},
		{"loopback without a token by another name (DNS rebinding)", fixtureOptions{}, "GET", "/console/", nil, []string{"Host", "evil.example:8080"}, 403},
		{"loopback with a token by another name", fixtureOptions{token: true}, "GET", "/console/", nil, []string{"Host", "surveys.internal:8080", "Authorization", "Bearer " + testToken}, 200},
		{"off loopback without credentials", fixtureOptions{listen: "0.0.0.0:8080", token: true}, "GET", "/console/", nil, nil, 401},
		{"off loopback, JSON without credentials", fixtureOptions{listen: "0.0.0.0:8080", token: true}, "GET", "/console/status.json", nil, nil, 401},
		{"off loopback with the bearer token", fixtureOptions{listen: "0.0.0.0:8080", token: true}, "GET", "/console/scores", nil, bearer, 200},
		{"off loopback with a wrong bearer token", fixtureOptions{listen: "0.0.0.0:8080", token: true}, "GET", "/console/", nil, []string{"Authorization", "Bearer nope-nope-nope-nope-nope"}, 401},
		{"off loopback with a wrong cookie", fixtureOptions{listen: "0.0.0.0:8080", token: true}, "GET", "/console/", nil, []string{"Cookie", "surveysync_console=" + testToken}, 401},
		{"off loopback with a wrong query token", fixtureOptions{listen: "0.0.0.0:8080", token: true}, "GET", "/console/?token=wrong", nil, nil, 401},
		{"off loopback with no token configured refuses", fixtureOptions{listen: "0.0.0.0:8080"}, "GET", "/console/", nil, nil, 503},
		{"replay without write", fixtureOptions{token: true}, "POST", "/console/dead-letters/replay", form("sync", "to-crm", "token", testToken), nil, 403},
		{"replay with write but no token configured", fixtureOptions{write: true}, "POST", "/console/dead-letters/replay", form("sync", "to-crm"), nil, 403},
		{"replay with write and a wrong token", fixtureOptions{token: true, write: true}, "POST", "/console/dead-letters/replay", form("sync", "to-crm", "token", "wrong-wrong-wrong-wrong"), nil, 401},
		{"replay with write and no token", fixtureOptions{token: true, write: true}, "POST", "/console/dead-letters/replay", form("sync", "to-crm"), nil, 401},
		{"replay with only the session cookie", fixtureOptions{token: true, write: true}, "POST", "/console/dead-letters/replay", form("sync", "to-crm"), nil, 401},
		{"replay from another site", fixtureOptions{token: true, write: true}, "POST", "/console/dead-letters/replay", form("sync", "to-crm", "token", testToken), []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"replay from another origin", fixtureOptions{token: true, write: true}, "POST", "/console/dead-letters/replay", form("sync", "to-crm", "token", testToken), []string{"Origin", "https://evil.example"}, 403},
		{"replay by GET", fixtureOptions{token: true, write: true}, "GET", "/console/dead-letters/replay?sync=to-crm", nil, bearer, 405},
		{"replay of an unknown sync", fixtureOptions{token: true, write: true}, "POST", "/console/dead-letters/replay", form("sync", "nope", "token", testToken), nil, 400},
		{"replay with the form token", fixtureOptions{token: true, write: true}, "POST", "/console/dead-letters/replay", form("sync", "to-crm", "token", testToken), nil, 303},
		{"replay with the bearer token", fixtureOptions{token: true, write: true}, "POST", "/console/dead-letters/replay", form("one", "to-crm:r1"), bearer, 303},
		{"unknown page", fixtureOptions{}, "GET", "/console/nope", nil, nil, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.opts)
			if tc.name == "replay with only the session cookie" {
				tc.header = []string{"Cookie", sessionCookie(t, f)}
			}
			var resp *http.Response
			var body string
			if tc.method == "GET" {
				resp, body = f.get(t, tc.path, tc.header...)
			} else {
				resp, body = f.post(t, tc.path, tc.form, tc.header...)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tc.want, body)
			}
			if strings.Contains(body, testToken) {
				t.Errorf("the answer shows the token")
			}
		})
	}
}

// sessionCookie signs in with the query token and returns the cookie.
func sessionCookie(t *testing.T, f *fixture) string {
	t.Helper()
	resp, _ := f.get(t, "/console/?token="+url.QueryEscape(testToken))
	for _, c := range resp.Cookies() {
		if c.Name == "surveysync_console" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("no session cookie was set")
	return ""
}

func TestQueryTokenSetsAStrictCookieAndLeavesTheAddress(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{listen: "0.0.0.0:8080", token: true})
	resp, _ := f.get(t, "/console/scores?job=csat-weekly&token="+url.QueryEscape(testToken))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", resp.StatusCode)
	}
	if diff := cmp.Diff("/console/scores?job=csat-weekly", resp.Header.Get("Location")); diff != "" {
		t.Errorf("redirect (-want +got):\n%s", diff)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies = %v", cookies)
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/console/" || c.Value == "" || strings.Contains(c.Value, testToken) {
		t.Errorf("cookie = %+v; want HttpOnly, SameSite=Strict, Path=/console/, not the token", c)
	}
	resp, body := f.get(t, "/console/scores?job=csat-weekly", "Cookie", c.Name+"="+c.Value)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("with the cookie: status %d\n%s", resp.StatusCode, body)
	}
}

func TestLoginForm(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{listen: "0.0.0.0:8080", token: true})
	resp, body := f.get(t, "/console/dead-letters")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	doc := parseHTML(t, body)
	if len(findAll(doc, hasAttr("action", "/console/login"))) != 1 {
		t.Fatalf("the 401 page has no login form:\n%s", body)
	}
	resp, _ = f.post(t, "/console/login", url.Values{"token": {testToken}, "next": {"/console/dead-letters"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/dead-letters" || len(resp.Cookies()) != 1 {
		t.Fatalf("login: status %d, location %q, cookies %v", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	resp, _ = f.post(t, "/console/login", url.Values{"token": {testToken}, "next": {"//evil.example/"}})
	if loc := resp.Header.Get("Location"); loc != "/console/" {
		t.Errorf("login with an outside next went to %q", loc)
	}
	resp, _ = f.post(t, "/console/login", url.Values{"token": {"wrong-wrong-wrong-wrong"}})
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("wrong token: status %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp, _ = f.post(t, "/console/login", url.Values{"token": {testToken}}, "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("cross-site login: status %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
}

func TestReplayReopensDeadLetters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{token: true, write: true})
	f.ingest(t, `{"id":"a"}`, `{"id":"b"}`, `{"id":"c"}`)
	f.settle(t, map[string]string{"a": "422 a", "b": "422 b"})
	if s := f.status(t).Syncs[0]; s.Dead != 2 {
		t.Fatalf("dead = %d, want 2", s.Dead)
	}

	// The page offers the buttons, each submitting the token form.
	_, body := f.get(t, "/console/dead-letters", "Authorization", "Bearer "+testToken)
	doc := parseHTML(t, body)
	var targets []string
	for _, b := range findAll(doc, tag("button")) {
		if attr(b, "form") == "replay" {
			targets = append(targets, attr(b, "name")+"="+attr(b, "value"))
		}
	}
	if diff := cmp.Diff([]string{"sync=to-crm", "one=to-crm:b", "one=to-crm:a"}, targets); diff != "" {
		t.Errorf("replay buttons (-want +got):\n%s", diff)
	}

	resp, _ := f.post(t, "/console/dead-letters/replay", url.Values{"one": {"to-crm:a"}, "token": {testToken}}, "Origin", "http://127.0.0.1:8080")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("replay one: status %d", resp.StatusCode)
	}
	if got := f.status(t).Syncs[0]; got.Dead != 1 || got.Pending != 1 {
		t.Errorf("after replaying one: dead %d, pending %d; want 1 and 1", got.Dead, got.Pending)
	}
	resp, _ = f.post(t, "/console/dead-letters/replay", url.Values{"sync": {"to-crm"}, "token": {testToken}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/dead-letters?replayed=1" {
		t.Fatalf("replay sync: status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := f.status(t).Syncs[0]; got.Dead != 0 || got.Pending != 2 {
		t.Errorf("after replaying the sync: dead %d, pending %d; want 0 and 2", got.Dead, got.Pending)
	}
	_, body = f.get(t, "/console/dead-letters?replayed=1", "Authorization", "Bearer "+testToken)
	if !strings.Contains(textOf(parseHTML(t, body)), "Re-opened 1 dead letter") {
		t.Errorf("the page does not confirm the replay")
	}
}

func TestReadOnlyConsoleDisablesReplayButtons(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	f.ingest(t, `{"id":"a"}`)
	f.settle(t, map[string]string{"a": "422 a"})
	_, body := f.get(t, "/console/dead-letters")
	doc := parseHTML(t, body)
	buttons := findAll(doc, tag("button"))
	if len(buttons) != 2 {
		t.Fatalf("%d buttons, want 2 (per sync and per key)", len(buttons))
	}
	for _, b := range buttons {
		if !hasAttrKey(b, "disabled") || attr(b, "form") != "" {
			t.Errorf("button %q is not disabled", textOf(b))
		}
	}
	if len(findAll(doc, hasAttr("id", "replay"))) != 0 {
		t.Errorf("a read-only console renders the replay form")
	}
	if len(findAll(doc, hasAttr("id", "replay-off"))) != 1 {
		t.Errorf("the page does not say why replay is off")
	}
}

func TestOverviewCountsEqualStatus(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	f.ingest(t, `{"id":"a"}`, `{"id":"b"}`, `{"id":"c"}`, `{"id":"d"}`)
	f.settle(t, map[string]string{"a": "422 a"})
	f.ingest(t, `{"id":"e"}`, `{"id":"f"}`)
	s := f.status(t)
	_, body := f.get(t, "/console/")
	doc := parseHTML(t, body)
	got := map[string]string{}
	for _, row := range findAll(doc, func(n *html.Node) bool { return attr(n, "data-sync") != "" || attr(n, "data-source") != "" }) {
		name := attr(row, "data-sync") + attr(row, "data-source")
		for _, cell := range findAll(row, func(n *html.Node) bool { return attr(n, "data-count") != "" }) {
			got[name+"."+attr(cell, "data-count")] = strings.TrimSpace(textOf(cell))
		}
	}
	x, src := s.Syncs[0], s.Sources[0]
	want := map[string]string{
		"to-crm.pending": fmtInt(x.Pending), "to-crm.uncertain": fmtInt(x.Uncertain), "to-crm.delivered_today": fmtInt(x.DeliveredToday),
		"to-crm.delivered": fmtInt(x.Delivered), "to-crm.dead": fmtInt(x.Dead),
		"in.responses": fmtInt(src.Responses), "in.rejected": fmtInt(src.Rejected),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("overview counts (-status +page):\n%s", diff)
	}
	if x.Pending != 2 || x.Dead != 1 || x.Delivered != 3 {
		t.Errorf("the fixture did not produce the figures it meant to: %+v", x)
	}
}

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "long.token"), []byte(testToken), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "short.token"), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{"loopback without token", "listen: 127.0.0.1:8080\n", ""},
		{"localhost without token", "listen: localhost:8080\n", ""},
		{"ipv6 loopback without token", "listen: \"[::1]:8080\"\n", ""},
		{"all interfaces without token", "listen: 0.0.0.0:8080\n", "console.token is required"},
		{"empty host without token", "listen: \":8080\"\n", "console.token is required"},
		{"all interfaces with token", "listen: 0.0.0.0:8080\nconsole: {token: \"${file:./long.token}\"}\n", ""},
		{"all interfaces, console off", "listen: 0.0.0.0:8080\nconsole: {enabled: false}\n", ""},
		{"short token", "console: {token: \"${file:./short.token}\"}\n", "shorter than 16"},
		{"unreadable token", "console: {token: \"${file:./missing.token}\"}\n", "console.token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, errs := config.LoadBytes(filepath.Join(dir, "surveysync.yaml"), []byte(tc.yaml))
			if errs.Err() != nil {
				t.Fatal(errs)
			}
			err := console.Check(cfg)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Check = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Check = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestOverviewExplainsPauses(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	f.ingest(t, `{"id":"a"}`)
	if err := f.e.Store().SetPause(t.Context(), "crm", "401 <b>token revoked</b>: reconnect the CRM"); err != nil {
		t.Fatal(err)
	}
	var throttled bool
	for _, b := range f.e.Clients().Buckets() {
		if b.Name() == "http:crm" {
			b.Throttled(time.Minute)
			throttled = true
		}
	}
	if !throttled {
		t.Fatal("the http destination has no quota bucket named http:crm")
	}
	_, body := f.get(t, "/console/")
	if strings.Contains(body, "<b>token revoked</b>") {
		t.Fatal("the pause reason is rendered as markup")
	}
	doc := parseHTML(t, body)
	var banners []string
	for _, b := range findAll(doc, hasClass("banner")) {
		strong := findAll(b, tag("strong"))
		if len(strong) > 0 {
			banners = append(banners, attr(b, "data-banner")+": "+textOf(strong[0]))
		}
	}
	want := []string{
		"paused: Destination crm is paused because 401 <b>token revoked</b>: reconnect the CRM",
		"paused: Quota http:crm is paused because the API asked to slow down",
	}
	if diff := cmp.Diff(want, banners); diff != "" {
		t.Errorf("banners (-want +got):\n%s", diff)
	}
	state := findAll(doc, func(n *html.Node) bool { return attr(n, "data-sync") == "to-crm" })
	if len(state) != 1 || !strings.Contains(textOf(state[0]), "paused because 401 <b>token revoked</b>") {
		t.Errorf("the sync row does not say why it is paused")
	}
}

func TestNoTokenNeedsALoopbackConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	r := httptest.NewRequest(http.MethodGet, "/console/", nil)
	r.Host = "127.0.0.1:8080"
	// The listener was handed in by the caller and is not on loopback,
	// whatever the configuration says.
	local := &net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 8080}
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, net.Addr(local)))
	if resp := f.do(t, r); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", resp.StatusCode)
	}
}
