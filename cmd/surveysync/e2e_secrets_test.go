//go:build unix

package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/sandbox/hubspotapi"
	"github.com/surveysync/surveysync/sandbox/sheetsapi"
	"github.com/surveysync/surveysync/sandbox/zendeskapi"
)

// canary is one secret of the test: a random value that must never be
// seen in anything the daemon or a command prints, in any of the forms it
// could be printed in.
type canary struct {
	name  string
	value string
	// forms are the texts to look for, by what they are.
	forms map[string]string
}

// newCanary makes a canary value from prefix, 24 random characters and
// suffix, and the forms it could leak in: as it is, base64 (padded,
// unpadded, URL-safe), URL-encoded (query and path escaping, with
// lower-case escapes too), JSON-quoted, and the first and last 12 random
// characters alone, so that a shortened or partly masked value is caught.
// holders, when set, returns texts that hold the value and are sent as
// they are, such as a basic-auth credential; their forms are searched too.
func newCanary(t *testing.T, name, prefix, suffix string, holders func(value string) []string) canary {
	t.Helper()
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	core := base64.RawURLEncoding.EncodeToString(b) // 24 characters
	c := canary{name: name, value: prefix + core + suffix, forms: map[string]string{}}
	c.forms["core head"] = core[:12]
	c.forms["core tail"] = core[12:]
	texts := []string{c.value}
	if holders != nil {
		texts = append(texts, holders(c.value)...)
	}
	for i, text := range texts {
		label := "value"
		if i > 0 {
			label = fmt.Sprintf("%q", text)
		}
		c.forms[label] = text
		c.forms[label+" base64"] = base64.StdEncoding.EncodeToString([]byte(text))
		c.forms[label+" base64 unpadded"] = base64.RawStdEncoding.EncodeToString([]byte(text))
		c.forms[label+" base64url"] = base64.URLEncoding.EncodeToString([]byte(text))
		c.forms[label+" base64url unpadded"] = base64.RawURLEncoding.EncodeToString([]byte(text))
		c.forms[label+" query-escaped"] = url.QueryEscape(text)
		c.forms[label+" path-escaped"] = url.PathEscape(text)
		c.forms[label+" query-escaped lower"] = lowerEscapes(url.QueryEscape(text))
		q, _ := json.Marshal(text)
		c.forms[label+" JSON"] = strings.Trim(string(q), `"`)
	}
	return c
}

var percentEscape = regexp.MustCompile(`%[0-9A-F]{2}`)

// lowerEscapes writes %2F as %2f, as some encoders do.
func lowerEscapes(s string) string {
	return percentEscape.ReplaceAllStringFunc(s, strings.ToLower)
}

// outputs collects everything the test saw the daemon and the commands
// print, by where it came from.
type outputs struct {
	mu   sync.Mutex
	text map[string]*strings.Builder
}

func (o *outputs) add(where, text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.text == nil {
		o.text = map[string]*strings.Builder{}
	}
	b := o.text[where]
	if b == nil {
		b = &strings.Builder{}
		o.text[where] = b
	}
	b.WriteString(text)
	b.WriteString("\n")
}

// get returns everything collected from where.
func (o *outputs) get(where string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if b := o.text[where]; b != nil {
		return b.String()
	}
	return ""
}

// save writes every output to a file of its own in dir, for reading what
// the test searched.
func (o *outputs) save(t *testing.T, dir string) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`[^A-Za-z0-9.-]+`)
	for where, b := range o.text {
		if err := os.WriteFile(filepath.Join(dir, strings.Trim(name.ReplaceAllString(where, "_"), "_")+".txt"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("outputs saved in %s", dir)
}

// checkNoCanary fails the test for every form of every canary found in any
// output, quoting the text around it.
func (o *outputs) checkNoCanary(t *testing.T, canaries []canary) (bytes int) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	wheres := make([]string, 0, len(o.text))
	for w := range o.text {
		wheres = append(wheres, w)
	}
	sort.Strings(wheres)
	for _, where := range wheres {
		text := o.text[where].String()
		bytes += len(text)
		for _, c := range canaries {
			for form, s := range c.forms {
				if i := strings.Index(text, s); i >= 0 {
					lo, hi := max(0, i-200), min(len(text), i+len(s)+100)
					t.Errorf("LEAK: %s (%s) appears in %s:\n…%s…", c.name, form, where, text[lo:hi])
				}
			}
		}
	}
	return bytes
}

// recorder remembers the Authorization headers (and token grants) an
// emulator received, to prove each canary was really sent and refused.
type recorder struct {
	mu   sync.Mutex
	seen map[string]int
}

func (r *recorder) note(v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]int{}
	}
	r.seen[v]++
}

func (r *recorder) count(v string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[v]
}

func (r *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.note(req.Header.Get("Authorization"))
		h.ServeHTTP(w, req)
	})
}

// TestSecretsNeverLeak is the reliability acceptance check "canary secrets
// never appear in logs at any level, metrics labels, panic traces, config
// dump, or error messages returned to callers".
//
// Distinct random canaries are configured through ${env:…} and ${file:…}
// references for the webhook HMAC secret, a webhook token, a HubSpot
// private-app token, a Zendesk API token, a generic http destination's
// Authorization header, a Google authorized-user file's refresh token and
// client secret, and the console token. Every destination refuses them:
// the HubSpot and Zendesk emulators run in the test, configured to accept
// other credentials only (`surveysync sandbox` accepts any); Google's
// token endpoint is played by the test and answers invalid_grant; the http
// destination answers 401 with a body that echoes the refused credential,
// the hardest case: the daemon must mask what the API sends back before it
// logs it or keeps it in the ledger, which other processes read. Webhooks
// are sent with wrong signatures and tokens and with right ones, so
// refusals, pauses, dead letters and retries flow through the daemon,
// which logs at debug level.
//
// Everything that comes out is collected: the daemon's stdout and stderr
// (ending with the goroutine dump of SIGQUIT, the closest thing to a panic
// trace that can be caused from outside), validate (text and JSON, with
// every secret resolvable and with one missing), preview of every sync,
// status (text and JSON), scores --write and replay run against the
// refusing destinations, /metrics, /healthz, /readyz, every console page
// (with the token, without it and with a wrong one) and every webhook
// answer. No form of any canary may appear in any of it, and the test
// checks that the failure paths really ran, so it cannot pass vacuously.
//
// There is no configuration dump command: validate and the console's
// status are the closest, and are covered.
func TestSecretsNeverLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run of the real binary; skipped with -short")
	}
	const zendeskEmail = "surveys@acme.example"
	hmacSecret := newCanary(t, "webhook HMAC secret", "whsec_", "+/=", nil)
	hookToken := newCanary(t, "webhook token", "whtok-", "", func(v string) []string { return []string{"Bearer " + v} })
	hubspotToken := newCanary(t, "HubSpot token", "pat-na1-", "", func(v string) []string { return []string{"Bearer " + v} })
	// Zendesk's API token travels as the basic credential email/token:TOKEN.
	zendeskToken := newCanary(t, "Zendesk API token", "zd", "", func(v string) []string { return []string{zendeskEmail + "/token:" + v} })
	httpToken := newCanary(t, "http destination Authorization", "sk_live_", "/+", func(v string) []string { return []string{"Token " + v} })
	// Google's refresh tokens look like 1//0g…: the slashes make the
	// URL-encoded form (as sent in the token request's body) differ.
	refreshToken := newCanary(t, "Google OAuth refresh token", "1//0g", "", nil)
	clientSecret := newCanary(t, "Google OAuth client secret", "GOCSPX-", "", nil)
	consoleTok := newCanary(t, "console token", "ct-", "", func(v string) []string { return []string{"Bearer " + v} })
	canaries := []canary{hmacSecret, hookToken, hubspotToken, zendeskToken, httpToken, refreshToken, clientSecret, consoleTok}

	// The destinations, all refusing the canaries.
	var hubspotSeen, zendeskSeen, crmSeen, tokenSeen recorder
	hub := hubspotapi.New(hubspotapi.Options{Tokens: []string{"pat-na1-the-right-token"}})
	hubSrv := httptest.NewServer(hubspotSeen.wrap(hub.Handler()))
	defer hubSrv.Close()
	zen := zendeskapi.New(zendeskapi.Options{Subdomain: "acme", Credentials: []zendeskapi.Credential{{Email: zendeskEmail, Token: "the-right-token"}}})
	zenSrv := httptest.NewServer(zendeskSeen.wrap(zen.Handler()))
	defer zenSrv.Close()
	// The http destination's API echoes the credential it refuses, as
	// some APIs and debugging proxies do: the answer becomes the dead
	// letter's reason, which the ledger keeps and other processes print.
	crm := httptest.NewServer(crmSeen.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		msg, _ := json.Marshal("invalid credentials: " + r.Header.Get("Authorization"))
		_, _ = fmt.Fprintf(w, `{"error":"unauthorized","message":%s}`, msg)
	})))
	defer crm.Close()
	sheetsEmu := sheetsapi.New(sheetsapi.Options{RequireAuth: true})
	defer sheetsEmu.Close()
	google := http.NewServeMux()
	google.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		tokenSeen.note(r.PostForm.Get("refresh_token"))
		tokenSeen.note("client_secret=" + r.PostForm.Get("client_secret"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`)
	})
	google.Handle("/", sheetsEmu.Handler())
	googleSrv := httptest.NewServer(google)
	defer googleSrv.Close()

	dir := t.TempDir()
	listen := freeAddr(t)
	writeSecret := func(name, value string) {
		t.Helper()
		// A trailing newline, as editors write it; it is not part of the value.
		if err := os.WriteFile(filepath.Join(dir, "secrets", name), []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeSecret("webhook-hmac", hmacSecret.value)
	writeSecret("zendesk-token", zendeskToken.value)
	writeSecret("console-token", consoleTok.value)
	authorizedUser, _ := json.Marshal(map[string]string{
		"type":          "authorized_user",
		"client_id":     "123456789-surveysync.apps.googleusercontent.com",
		"client_secret": clientSecret.value,
		"refresh_token": refreshToken.value,
		"token_uri":     googleSrv.URL + "/token",
	})
	writeSecret("google-user.json", string(authorizedUser))
	env := []string{
		"SS_HOOK_TOKEN=" + hookToken.value,
		"SS_HUBSPOT_TOKEN=" + hubspotToken.value,
		"SS_HTTP_TOKEN=" + httpToken.value,
		"GOTRACEBACK=all",
	}
	writeFile(t, filepath.Join(dir, "surveysync.yaml"), fmt.Sprintf(`
store: sqlite:./data/ledger.db
listen: %s
log: {level: debug}
console:
  write: true
  token: "${file:./secrets/console-token}"
dispatch:
  backoff_min: 50ms
  backoff_max: 300ms
  pause_probe: 300ms
sources:
  signed:
    type: webhook
    path: /hooks/signed
    auth:
      signature: {header: X-Signature, encoding: hex, prefix: "sha256=", secret: "${file:./secrets/webhook-hmac}"}
    key: id
    submitted_at: at
  tokened:
    type: webhook
    path: /hooks/tokened
    auth:
      token: {header: Authorization, value: "${env:SS_HOOK_TOKEN}"}
    key: id
    submitted_at: at
destinations:
  hubspot:
    type: hubspot
    token: "${env:SS_HUBSPOT_TOKEN}"
    endpoint: %s
    timeout: 5s
  zendesk:
    type: zendesk
    endpoint: %s/api/v2
    email: %s
    token: "${file:./secrets/zendesk-token}"
    timeout: 5s
  crm:
    type: http
    endpoint: %s
    timeout: 5s
    auth:
      header: {name: Authorization, value: "Token ${env:SS_HTTP_TOKEN}"}
  sheet:
    type: google_sheets
    spreadsheet: sandbox-survey-responses
    endpoint: %s/
    credentials: "${file:./secrets/google-user.json}"
    timeout: 5s
syncs:
  - {name: signed-to-hubspot, source: signed, mapping: mappings/hubspot.yaml, to: hubspot}
  - {name: signed-to-zendesk, source: signed, mapping: mappings/zendesk.yaml, to: zendesk}
  - {name: signed-to-crm, source: signed, mapping: mappings/crm.yaml, to: crm}
  - {name: signed-to-sheet, source: signed, mapping: mappings/sheet.yaml, to: sheet}
  - {name: tokened-to-crm, source: tokened, mapping: mappings/crm.yaml, to: crm}
scores:
  - name: csat-to-crm
    schedule: "0 6 1 1 *"
    source: signed
    metric: csat
    field: rating
    scale: 1-5
    period: week
    to: crm
    request: mappings/score.yaml
`, listen, hubSrv.URL, zenSrv.URL, zendeskEmail, crm.URL, googleSrv.URL))
	writeFile(t, filepath.Join(dir, "mappings/hubspot.yaml"), `
preset: hubspot.contact_upsert
id: "{{ email }}"
properties:
  last_csat: "{{ rating }}"
note: "CSAT {{ rating }}: {{ comment }}"
`)
	writeFile(t, filepath.Join(dir, "mappings/zendesk.yaml"), `
preset: zendesk.ticket_fields
ticket: "{{ ticket_id }}"
fields:
  360001: "{{ rating }}"
comment: "CSAT {{ rating }}: {{ comment }}"
`)
	writeFile(t, filepath.Join(dir, "mappings/crm.yaml"), `
request:
  method: POST
  path: /responses
  idempotency_key: "{{ delivery_key }}"
  body:
    key: "{{ key }}"
    rating: "{{ rating }}"
`)
	writeFile(t, filepath.Join(dir, "mappings/sheet.yaml"), `
sheet: CSAT
key: Response ID
columns:
  Response ID: "{{ key }}"
  Rating: {value: "{{ rating }}", type: integer}
  Comment: "{{ comment }}"
`)
	writeFile(t, filepath.Join(dir, "mappings/score.yaml"), `
request:
  method: POST
  path: /scores
  body:
    score: "{{ score }}"
    period: "{{ period }}"
`)
	const sample = `{"id":"r-sample","email":"ana@example.com","rating":4,"comment":"quick","ticket_id":"7","at":"2026-11-20T10:00:00Z"}`
	writeFile(t, filepath.Join(dir, "samples/one.json"), sample)

	var out outputs
	// run runs a command, keeps its output and checks its exit status
	// (unless want is negative).
	run := func(label string, want int, args ...string) (stdout, stderr string) {
		t.Helper()
		stdout, stderr, code := cli(t, dir, env, args...)
		out.add(label+" stdout", stdout)
		out.add(label+" stderr", stderr)
		if want >= 0 && code != want {
			t.Errorf("%s exited %d, want %d\nstdout: %s\nstderr: %s", label, code, want, stdout, stderr)
		}
		return stdout, stderr
	}

	// The commands that need no daemon.
	validateJSON, _ := run("validate --json", 0, "validate", "--json", "--sample", filepath.Join(dir, "samples/one.json"))
	run("validate", 0, "validate")
	{
		// A secret that cannot be resolved here is a warning naming the
		// reference; the other values are still resolved.
		stdout, stderr, _ := cli(t, dir, []string{"SS_HOOK_TOKEN=" + hookToken.value, "SS_HTTP_TOKEN=" + httpToken.value}, "validate", "--json")
		out.add("validate --json without SS_HUBSPOT_TOKEN", stdout+stderr)
		if !strings.Contains(stdout, "SS_HUBSPOT_TOKEN") {
			t.Errorf("validate without SS_HUBSPOT_TOKEN does not mention it:\n%s%s", stdout, stderr)
		}
	}
	for _, s := range []string{"signed-to-hubspot", "signed-to-zendesk", "signed-to-crm", "signed-to-sheet", "tokened-to-crm"} {
		run("preview "+s, 0, "preview", "--sync", s, "--input", filepath.Join(dir, "samples/one.json"))
		run("preview --json "+s, 0, "preview", "--json", "--sync", s, "--input", filepath.Join(dir, "samples/one.json"))
	}
	var v validateResult
	if err := json.Unmarshal([]byte(validateJSON), &v); err != nil || !v.Valid || len(v.Syncs) != 5 {
		t.Fatalf("validate --json: valid %v, syncs %v, err %v\n%s", v.Valid, v.Syncs, err, validateJSON)
	}

	d := startDaemon(t, dir, env...)
	var lastStatus string
	defer func() {
		if t.Failed() {
			t.Logf("last status:\n%s\ndaemon output (tail):\n%s", lastStatus, tail(d.output(), 6000))
		}
	}()
	base := "http://" + listen
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(label, path string, header ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
			return 0, ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var head strings.Builder
		_ = resp.Header.Write(&head)
		out.add(label, fmt.Sprintf("%d\n%s\n%s", resp.StatusCode, head.String(), body))
		return resp.StatusCode, string(body)
	}
	waitFor(t, 20*time.Second, "the daemon to listen", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})

	// Webhooks: wrong signatures and tokens are refused, right ones stored.
	post := func(label, path, body string, header ...string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("POST %s: %v", path, err)
			return 0
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		out.add("webhook answers", fmt.Sprintf("%s %s → %d %s", label, path, resp.StatusCode, b))
		return resp.StatusCode
	}
	sign := func(key, body string) string {
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(body))
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	payload := func(i int) string {
		return fmt.Sprintf(`{"id":"r-%d","email":"user%d@example.com","rating":%d,"comment":"comment %d","ticket_id":"%d","at":"2026-11-%02dT10:00:00Z"}`, i, i, 1+i%5, i, 1+i, 1+i%28)
	}
	refused := 0
	for i, wrong := range [][]string{
		{"X-Signature", sign("not-the-secret", payload(100))},
		{"X-Signature", "sha256=" + strings.Repeat("0", 64)},
		{"X-Signature", "sha256=not-hex"},
		{"X-Signature", sign(hmacSecret.value, payload(100)+" ")}, // signed over another body
		{},
	} {
		if code := post(fmt.Sprintf("wrong signature %d", i), "/hooks/signed", payload(100), wrong...); code != http.StatusUnauthorized {
			t.Errorf("a webhook with a wrong signature (%d) was answered %d, want 401", i, code)
		} else {
			refused++
		}
	}
	for i, wrong := range [][]string{
		{"Authorization", "Bearer not-the-token"},
		{"Authorization", "Bearer " + hookToken.value + "x"},
		{"Authorization", hookToken.value[1:]},
		{},
	} {
		if code := post(fmt.Sprintf("wrong token %d", i), "/hooks/tokened", payload(200), wrong...); code != http.StatusUnauthorized {
			t.Errorf("a webhook with a wrong token (%d) was answered %d, want 401", i, code)
		} else {
			refused++
		}
	}
	const signedRight, tokenedRight = 4, 3
	for i := range signedRight {
		if code := post("right signature", "/hooks/signed", payload(i), "X-Signature", sign(hmacSecret.value, payload(i))); code != http.StatusOK {
			t.Errorf("a rightly signed webhook was answered %d", code)
		}
	}
	for i := range tokenedRight {
		if code := post("right token", "/hooks/tokened", payload(50+i), "Authorization", "Bearer "+hookToken.value); code != http.StatusOK {
			t.Errorf("a webhook with the right token was answered %d", code)
		}
	}

	// Every destination refuses: the http syncs dead-letter every response
	// (401 is permanent), the others pause with the reason.
	var status *engine.Status
	waitFor(t, 30*time.Second, "dead letters at crm and every other destination paused", func() bool {
		status = readStatus(t, dir, env)
		js, _ := json.MarshalIndent(status, "", "  ")
		lastStatus = string(js)
		dead := map[string]int64{}
		for _, x := range status.Syncs {
			dead[x.Name] = x.Dead
		}
		paused := map[string]string{}
		for _, x := range status.Destinations {
			if x.Paused {
				paused[x.Name] = x.Reason
			}
		}
		return dead["signed-to-crm"] == signedRight && dead["tokened-to-crm"] == tokenedRight &&
			strings.Contains(paused["hubspot"], "401") && strings.Contains(paused["zendesk"], "401") &&
			strings.Contains(paused["sheet"], "invalid_grant")
	})

	// A score run and a replay against the refusing destination: their
	// errors are returned to the caller.
	_, scoreOut := run("scores --write", 1, "scores", "--write", "--job", "csat-to-crm")
	if !strings.Contains(scoreOut, "401") {
		t.Errorf("scores --write against a refusing destination does not report the 401:\n%s", scoreOut)
	}
	run("replay --dead", 0, "replay", "--sync", "signed-to-crm", "--dead")
	waitFor(t, 20*time.Second, "the replayed dead letters to die again", func() bool {
		s := readStatus(t, dir, env)
		for _, x := range s.Syncs {
			if x.Name == "signed-to-crm" {
				return x.Dead == signedRight && x.Pending == 0
			}
		}
		return false
	})
	// Let the paused destinations probe a few more times.
	time.Sleep(time.Second)

	statusJSON, _ := run("status --json", 0, "status", "--json")
	statusText, _ := run("status", 0, "status")
	_, metrics := get("/metrics", "/metrics")
	get("/healthz", "/healthz")
	get("/readyz", "/readyz")
	bearer := []string{"Authorization", "Bearer " + consoleTok.value}
	pages := map[string]string{}
	for _, p := range []string{"/console/", "/console/dead-letters", "/console/dead-letters?sync=signed-to-crm",
		"/console/dead-letters?sync=signed-to-hubspot", "/console/scores", "/console/scores?job=csat-to-crm", "/console/status.json", "/console/nowhere"} {
		code, body := get("console "+p, p, bearer...)
		pages[p] = body
		if code != http.StatusOK && p != "/console/nowhere" {
			t.Errorf("GET %s with the console token: %d", p, code)
		}
	}
	for _, p := range []string{"/console/", "/console/dead-letters", "/console/status.json"} {
		if code, _ := get("console "+p+" without the token", p); code == http.StatusOK {
			t.Errorf("GET %s without the console token: 200", p)
		}
		if code, _ := get("console "+p+" with a wrong token", p, "Authorization", "Bearer "+consoleTok.value[:len(consoleTok.value)-1]); code == http.StatusOK {
			t.Errorf("GET %s with a wrong console token: 200", p)
		}
	}
	// The console's replay, as the page posts it.
	{
		form := url.Values{"sync": {"tokened-to-crm"}, "token": {consoleTok.value}}
		req, _ := http.NewRequest(http.MethodPost, base+"/console/dead-letters/replay", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("console replay: %v", err)
		} else {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var head strings.Builder
			_ = resp.Header.Write(&head)
			out.add("console replay", fmt.Sprintf("%d\n%s\n%s", resp.StatusCode, head.String(), b))
			if resp.StatusCode >= 400 {
				t.Errorf("console replay answered %d: %s", resp.StatusCode, b)
			}
		}
	}
	waitFor(t, 20*time.Second, "the console's replay to die again", func() bool {
		for _, x := range readStatus(t, dir, env).Syncs {
			if x.Name == "tokened-to-crm" {
				return x.Dead == tokenedRight && x.Pending == 0
			}
		}
		return false
	})

	// The goroutine dump of SIGQUIT, with every frame's arguments.
	if err := d.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.waitCh:
	case <-time.After(20 * time.Second):
		t.Fatal("the daemon did not exit on SIGQUIT")
	}
	logs := d.output()
	out.add("daemon stdout+stderr", logs)

	// The failure paths really ran.
	checks := []struct {
		what string
		ok   bool
	}{
		{"the HubSpot emulator received the canary token", hubspotSeen.count("Bearer "+hubspotToken.value) > 0},
		{"the Zendesk emulator received the canary credential", zendeskSeen.count("Basic "+base64.StdEncoding.EncodeToString([]byte(zendeskEmail+"/token:"+zendeskToken.value))) > 0},
		{"the http destination received the canary header", crmSeen.count("Token "+httpToken.value) > 0},
		{"the token endpoint received the canary refresh token", tokenSeen.count(refreshToken.value) > 0},
		{"the token endpoint received the canary client secret", tokenSeen.count("client_secret="+clientSecret.value) > 0},
		{"webhooks were refused", refused == 9 && strings.Count(logs, "webhook request refused") >= refused},
		{"the daemon logged at debug level", strings.Contains(logs, `"level":"DEBUG"`) && strings.Contains(logs, "delivery failed")},
		{"a dead letter's reason mentions 401", strings.Contains(statusJSON, "401") && strings.Contains(pages["/console/dead-letters?sync=signed-to-crm"], "401")},
		{"the echoed credential was masked", strings.Contains(statusText, "invalid credentials: [redacted]")},
		{"status shows the pauses", strings.Contains(statusText, "PAUSED") && strings.Contains(statusText, "invalid_grant")},
		{"the console shows the pauses", strings.Contains(pages["/console/"], "rejected the credentials")},
		{"the goroutine dump was written", strings.Contains(logs, "SIGQUIT") && strings.Contains(logs, "goroutine ")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("not exercised: %s", c.what)
		}
	}
	for _, m := range []struct{ name, labels string }{
		{"surveysync_http_requests_total", `code="401",name="hubspot"`},
		{"surveysync_http_requests_total", `code="401",name="zendesk"`},
		{"surveysync_http_requests_total", `code="401",name="crm"`},
		{"surveysync_http_requests_total", `code="400",name="sheet:oauth"`},
		{"surveysync_responses_ingested_total", `outcome="inserted",source="signed"`},
		{"surveysync_responses_ingested_total", `outcome="inserted",source="tokened"`},
		{"surveysync_delivery_attempts_total", `result="dead",sync="signed-to-crm"`},
		{"surveysync_delivery_attempts_total", `result="paused",sync="signed-to-hubspot"`},
		{"surveysync_destination_paused", `destination="zendesk"`},
	} {
		if n := metricValue(metrics, m.name, m.labels); n <= 0 {
			t.Errorf("metric %s{%s} = %v, want > 0", m.name, m.labels, n)
		}
	}

	if dir := os.Getenv("SECRETS_ARTIFACTS"); dir != "" {
		out.save(t, dir)
	}
	n := out.checkNoCanary(t, canaries)
	if n < 50_000 {
		t.Errorf("only %d bytes of output were searched; the collection is broken", n)
	}
	t.Logf("searched %d bytes from %d outputs for %d canaries in their encoded forms; %d webhooks refused", n, len(out.text), len(canaries), refused)
}

// metricValue returns the value of the sample name{labels} in a Prometheus
// text exposition, or -1 when it is missing.
func metricValue(exposition, name, labels string) float64 {
	prefix := name + "{" + labels + "}"
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}
