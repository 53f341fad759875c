package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/surveysync/surveysync/config"
	_ "github.com/surveysync/surveysync/connectors/all"
	"github.com/surveysync/surveysync/console"
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// testToken is the console token of fixtures that set one.
const testToken = "console-test-token-0123456789abcdef"

// fixtureOptions shape a fixture's configuration.
type fixtureOptions struct {
	// listen defaults to 127.0.0.1:8080 (nothing listens: the engine runs
	// without its HTTP part and the console is called directly).
	listen string
	token  bool
	write  bool
}

// fixture is an engine with a real SQLite ledger and its console, with no
// part of the engine running: tests fill the ledger directly.
type fixture struct {
	dir string
	e   *engine.Engine
	c   *console.Console
}

func newFixture(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	if o.listen == "" {
		o.listen = "127.0.0.1:8080"
	}
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	consoleCfg := fmt.Sprintf("console:\n  write: %v\n", o.write)
	if o.token {
		write("console.token", testToken+"\n")
		consoleCfg += "  token: \"${file:./console.token}\"\n"
	}
	write("m.yaml", "request: {method: POST, path: /effects, body: {key: \"{{ key }}\", comment: \"{{ comment | default '' }}\"}}\n")
	write("surveysync.yaml", fmt.Sprintf(`store: sqlite:./ledger.db
listen: %q
%ssources:
  in: {type: file, paths: [./none/*.jsonl], key: id, submitted_at: at}
destinations:
  crm: {type: http, endpoint: "http://127.0.0.1:9"}
syncs:
  - {name: to-crm, source: in, mapping: m.yaml, to: crm}
scores:
  - {name: csat-weekly, schedule: "0 6 * * MON", source: in, metric: csat, field: rating, scale: "1-5", period: week, group_by: [channel]}
`, o.listen, consoleCfg))
	cfg, errs := config.Load(filepath.Join(dir, "surveysync.yaml"))
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	plan, errs := engine.Compile(cfg)
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	e, err := engine.New(context.Background(), plan, engine.Options{Parts: engine.Parts{NoHTTP: true, NoSources: true, NoDispatch: true, NoScores: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	c, err := console.New(e, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{dir: dir, e: e, c: c}
}

// ingest stores payloads (JSON objects with an "id") as responses of "in".
func (f *fixture) ingest(t *testing.T, payloads ...string) {
	t.Helper()
	sink, ok := f.e.Sink("in")
	if !ok {
		t.Fatal("no sink for source in")
	}
	var rs []survey.Response
	for _, p := range payloads {
		var fields struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(p), &fields); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, survey.Response{Source: "in", Key: fields.ID, SubmittedAt: time.Now(), Payload: []byte(p)})
	}
	if _, err := sink.Ingest(context.Background(), rs, nil); err != nil {
		t.Fatal(err)
	}
}

// settle settles every pending delivery of to-crm the way a dispatcher
// would: the keys in dead are dead-lettered with their reason and class
// "permanent", the rest delivered.
func (f *fixture) settle(t *testing.T, dead map[string]string) {
	t.Helper()
	ctx := context.Background()
	st := f.e.Store()
	lease, err := st.AcquireLease(ctx, "test", "tester", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer st.ReleaseLease(ctx, lease)
	ds, err := st.Claim(ctx, store.ClaimRequest{Sync: "to-crm", Lease: lease, Limit: 1000, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Outcome
	for _, d := range ds {
		o := store.Outcome{ID: d.ID, State: store.Delivered, At: time.Now()}
		if reason, ok := dead[d.Response.Key]; ok {
			o = store.Outcome{ID: d.ID, State: store.Dead, Class: "permanent", Error: reason, At: time.Now()}
		}
		out = append(out, o)
	}
	if err := st.Settle(ctx, lease, out); err != nil {
		t.Fatal(err)
	}
}

// recordRun stores a score run of csat-weekly with rows.
func (f *fixture) recordRun(t *testing.T, rows []engine.ScoreRow) {
	t.Helper()
	b, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.e.Store().RecordScoreRun(context.Background(), store.ScoreRun{Job: "csat-weekly", ScheduledFor: time.Now().Add(-time.Minute), RanAt: time.Now(), Results: b}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) status(t *testing.T) *engine.Status {
	t.Helper()
	s, err := engine.ReadStatus(context.Background(), f.e.Plan(), f.e.Store(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// do serves one request and returns the response.
func (f *fixture) do(t *testing.T, r *http.Request) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	f.c.ServeHTTP(rec, r)
	return rec.Result()
}

func (f *fixture) get(t *testing.T, target string, header ...string) (*http.Response, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Host = "127.0.0.1:8080"
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			r.Host = header[i+1]
			continue
		}
		r.Header.Set(header[i], header[i+1])
	}
	resp := f.do(t, r)
	return resp, readBody(t, resp)
}

func (f *fixture) post(t *testing.T, target string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Host = "127.0.0.1:8080"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			r.Host = header[i+1]
			continue
		}
		r.Header.Set(header[i], header[i+1])
	}
	resp := f.do(t, r)
	return resp, readBody(t, resp)
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func parseHTML(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// findAll returns the elements under n that match.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
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

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// hasAttrKey reports whether n has the attribute key at all.
func hasAttrKey(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func hasAttr(key, val string) func(*html.Node) bool {
	return func(n *html.Node) bool { return attr(n, key) == val }
}

func hasClass(cls string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		for _, c := range strings.Fields(attr(n, "class")) {
			if c == cls {
				return true
			}
		}
		return false
	}
}

func tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

// textOf returns the text content of n.
func textOf(n *html.Node) string {
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

func ptr(v float64) *float64 { return &v }
