package httpreq_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/connectors/httpreq"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// seen is one request as the fake API received it.
type seen struct {
	Method, Path, RawPath, Query, Host string
	Header                             http.Header
	Body                               string
}

// fakeAPI records requests and answers each with what answer returns.
type fakeAPI struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []seen
	answer func(w http.ResponseWriter, r *http.Request, n int)
}

func (a *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.got = append(a.got, seen{r.Method, r.URL.Path, r.URL.EscapedPath(), r.URL.RawQuery, r.Host, r.Header.Clone(), string(b)})
	n := len(a.got)
	answer := a.answer
	a.mu.Unlock()
	if answer != nil {
		answer(w, r, n)
	}
}

func (a *fakeAPI) requests() []seen {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]seen(nil), a.got...)
}

// newAPI serves a fake API over loopback; in a synctest bubble's tests it
// must be created outside the bubble, with keep-alives off (see
// bubbleAPI).
func newAPI(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int)) *fakeAPI {
	t.Helper()
	a := &fakeAPI{answer: answer}
	a.srv = httptest.NewServer(a)
	t.Cleanup(a.srv.Close)
	return a
}

// bubbleAPI is newAPI for clients in a synctest bubble: with keep-alives
// off no idle connection keeps a bubble goroutine on a socket, so the
// bubble's clock can advance while a client waits.
func bubbleAPI(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int)) *fakeAPI {
	t.Helper()
	a := &fakeAPI{answer: answer}
	a.srv = httptest.NewUnstartedServer(a)
	a.srv.Config.SetKeepAlivesEnabled(false)
	a.srv.Start()
	t.Cleanup(a.srv.Close)
	return a
}

func status(code int) func(w http.ResponseWriter, r *http.Request, n int) {
	return func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(code) }
}

// resetAfterRead drops the connection without an answer after reading the
// request, as a server that applied it and then crashed would.
func resetAfterRead(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// dest builds a destination for endpoint with the defaults changed by
// edit, logging at debug level into logs.
func dest(t *testing.T, endpoint string, logs io.Writer, edit func(*httpreq.Config)) *httpreq.Destination {
	t.Helper()
	cfg := httpreq.DefaultConfig()
	cfg.Endpoint = endpoint
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("configuration: %v", err)
	}
	if logs == nil {
		logs = io.Discard
	}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := httpreq.New("out", cfg, connectors.Deps{
		Logger:  log,
		Clients: connectors.NewClients(log, nil),
		Now:     func() time.Time { return time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func compile(t *testing.T, src string) *mapping.Mapping {
	t.Helper()
	m, err := mapping.Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatalf("mapping: %v", err)
	}
	return m
}

// batch renders payloads through m as the engine's dispatcher does.
func batch(t *testing.T, m *mapping.Mapping, payloads ...string) *connectors.Batch {
	t.Helper()
	b := &connectors.Batch{Sync: "s", Mapping: m}
	for i, p := range payloads {
		fields, err := survey.DecodeObject([]byte(p))
		if err != nil {
			t.Fatal(err)
		}
		r := &survey.Response{Source: "in", Key: fmt.Sprint(fields["id"]), Payload: []byte(p)}
		it := &connectors.Item{DeliveryID: int64(i + 1), ResponseKey: r.Key, DeliveryKey: survey.DeliveryKey("s", "in", r.Key, 1), Version: 1, Attempt: 1, Response: r}
		req, err := m.RenderRequest(&mapping.Input{Response: r, Sync: "s", DeliveryKey: it.DeliveryKey, Version: 1})
		if err != nil {
			t.Fatalf("render %s: %v", p, err)
		}
		it.Request = req
		b.Items = append(b.Items, it)
	}
	return b
}

const (
	plainPost = "request: {method: POST, path: /responses, body: {id: \"{{ id }}\", rating: \"{{ rating | optional }}\"}}\n"
	keyedPost = "request: {method: POST, path: /responses, idempotency_key: \"{{ delivery_key }}\", body: {id: \"{{ id }}\"}}\n"
)

type outcome struct {
	Class connectors.Class
	After time.Duration
	Ref   string
}

func outcomes(results []connectors.Result) []outcome {
	var out []outcome
	for _, r := range results {
		c, after := connectors.Classify(r.Err)
		if r.Err == nil {
			c = "delivered"
		}
		out = append(out, outcome{c, after, r.Ref})
	}
	return out
}

// TestStatusClassification runs each case in a synctest bubble, so the
// client's retries and the throttle waits take no real time.
func TestStatusClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mapping  string
		edit     func(*httpreq.Config)
		answer   func(w http.ResponseWriter, r *http.Request, n int)
		want     outcome
		attempts int
		errText  string
	}{
		{name: "201", mapping: plainPost, answer: status(201), want: outcome{Class: "delivered"}, attempts: 1},
		{name: "204", mapping: plainPost, answer: status(204), want: outcome{Class: "delivered"}, attempts: 1},
		{
			name: "400 is permanent with the answer's text", mapping: plainPost, attempts: 1,
			answer: func(w http.ResponseWriter, r *http.Request, n int) {
				w.WriteHeader(400)
				fmt.Fprint(w, `{"error": "rating must be 0-10"}`)
			},
			want: outcome{Class: connectors.ClassPermanent}, errText: `POST /responses: 400 {"error": "rating must be 0-10"}`,
		},
		{name: "404 is permanent", mapping: keyedPost, answer: status(404), want: outcome{Class: connectors.ClassPermanent}, attempts: 1},
		{name: "301 is permanent, not followed", mapping: plainPost, attempts: 1, answer: func(w http.ResponseWriter, r *http.Request, n int) {
			http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
		}, want: outcome{Class: connectors.ClassPermanent}, errText: "301"},
		{name: "408 is transient even without a key", mapping: plainPost, answer: status(408), want: outcome{Class: connectors.ClassTransient}, attempts: 1},
		{name: "500 without a key is ambiguous and not re-sent", mapping: plainPost, answer: status(500), want: outcome{Class: connectors.ClassAmbiguous}, attempts: 1},
		{name: "500 with a key is transient after the client's retries", mapping: keyedPost, answer: status(500), want: outcome{Class: connectors.ClassTransient}, attempts: 4},
		{name: "502 on an idempotent destination is transient", mapping: plainPost, edit: func(c *httpreq.Config) { c.Idempotent = true }, answer: status(502), want: outcome{Class: connectors.ClassTransient}, attempts: 4},
		{name: "501 is retried by the engine only", mapping: keyedPost, answer: status(501), want: outcome{Class: connectors.ClassTransient}, attempts: 1},
		{name: "503 with Retry-After waits it", mapping: plainPost, attempts: 1, answer: func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(503)
		}, want: outcome{Class: connectors.ClassRetryAfter, After: 2 * time.Minute}},
		{name: "429 with Retry-After seconds", mapping: plainPost, attempts: 4, answer: func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		}, want: outcome{Class: connectors.ClassRetryAfter, After: 7 * time.Second}},
		{name: "429 with an HTTP date", mapping: plainPost, attempts: 4, answer: func(w http.ResponseWriter, r *http.Request, n int) {
			// The destination's clock says 2026-05-01 10:00:00 UTC.
			w.Header().Set("Retry-After", "Fri, 01 May 2026 10:01:30 GMT")
			w.WriteHeader(429)
		}, want: outcome{Class: connectors.ClassRetryAfter, After: 90 * time.Second}},
		{name: "429 without Retry-After", mapping: plainPost, attempts: 4, answer: status(429), want: outcome{Class: connectors.ClassRetryAfter}},
		{name: "429 then success is delivered", mapping: plainPost, attempts: 2, answer: func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				w.Header().Set("Retry-After", "3")
				w.WriteHeader(429)
			}
		}, want: outcome{Class: "delivered"}},
		{name: "custom success code", mapping: plainPost, edit: func(c *httpreq.Config) { c.Status.Success = []string{"2xx", "409"} }, answer: status(409), want: outcome{Class: "delivered"}, attempts: 1},
		{name: "custom retry code without a key", mapping: plainPost, edit: func(c *httpreq.Config) { c.Status.Retry = []string{"5xx", "423"} }, answer: status(423), want: outcome{Class: connectors.ClassAmbiguous}, attempts: 1},
		{name: "custom retry code with a key", mapping: keyedPost, edit: func(c *httpreq.Config) { c.Status.Retry = []string{"4xx"} }, answer: status(423), want: outcome{Class: connectors.ClassTransient}, attempts: 1},
		{name: "5xx left out of retry is permanent", mapping: plainPost, edit: func(c *httpreq.Config) { c.Status.Retry = []string{"429"} }, answer: status(500), want: outcome{Class: connectors.ClassPermanent}, attempts: 1},
		{name: "2xx left out of success is permanent", mapping: plainPost, edit: func(c *httpreq.Config) { c.Status.Success = []string{"200"} }, answer: status(202), want: outcome{Class: connectors.ClassPermanent}, attempts: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api := bubbleAPI(t, tc.answer)
			m := compile(t, tc.mapping)
			synctest.Test(t, func(t *testing.T) {
				d := dest(t, api.srv.URL, nil, tc.edit)
				results := d.Deliver(context.Background(), batch(t, m, `{"id": "r1", "rating": 9}`))
				got := outcomes(results)[0]
				if got != tc.want {
					t.Errorf("outcome %+v, want %+v (error: %v)", got, tc.want, results[0].Err)
				}
				if tc.errText != "" && (results[0].Err == nil || !strings.Contains(results[0].Err.Error(), tc.errText)) {
					t.Errorf("error %v, want it to contain %q", results[0].Err, tc.errText)
				}
			})
			if n := len(api.requests()); n != tc.attempts {
				t.Errorf("the API saw %d attempts, want %d", n, tc.attempts)
			}
		})
	}
}

func TestTransportFailures(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	resetAll := func(w http.ResponseWriter, r *http.Request, n int) { resetAfterRead(w) }
	tests := []struct {
		name     string
		mapping  string
		edit     func(*httpreq.Config)
		refused  bool
		answer   func(w http.ResponseWriter, r *http.Request, n int)
		want     connectors.Class
		attempts int
	}{
		{name: "connection refused", mapping: plainPost, refused: true, want: connectors.ClassTransient},
		{name: "reset after apply without a key", mapping: plainPost, answer: resetAll, want: connectors.ClassAmbiguous, attempts: 1},
		{name: "reset after apply with a key", mapping: keyedPost, answer: resetAll, want: connectors.ClassTransient, attempts: 4},
		{name: "reset after apply on an idempotent destination", mapping: plainPost, edit: func(c *httpreq.Config) { c.Idempotent = true }, answer: resetAll, want: connectors.ClassTransient, attempts: 4},
		{name: "reset once with a key, then applied", mapping: keyedPost, answer: func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				resetAfterRead(w)
			}
		}, want: "delivered", attempts: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			endpoint := refused
			var api *fakeAPI
			if !tc.refused {
				api = bubbleAPI(t, tc.answer)
				endpoint = api.srv.URL
			}
			m := compile(t, tc.mapping)
			synctest.Test(t, func(t *testing.T) {
				d := dest(t, endpoint, nil, tc.edit)
				res := d.Deliver(context.Background(), batch(t, m, `{"id": "r1", "rating": 3}`))
				if got := outcomes(res)[0].Class; got != tc.want {
					t.Errorf("class %q, want %q (error: %v)", got, tc.want, res[0].Err)
				}
			})
			if api != nil {
				if n := len(api.requests()); n != tc.attempts {
					t.Errorf("the API read the request %d times, want %d", n, tc.attempts)
				}
			}
		})
	}
}

func TestIdempotencyHeader(t *testing.T) {
	t.Parallel()
	api := newAPI(t, status(201))
	m := compile(t, keyedPost)
	b := batch(t, m, `{"id": "r1"}`, `{"id": "r2"}`)
	for _, header := range []string{"", "X-Request-Id"} {
		d := dest(t, api.srv.URL, nil, func(c *httpreq.Config) {
			if header != "" {
				c.IdempotencyHeader = header
			}
		})
		if res := d.Deliver(context.Background(), b); res[0].Err != nil || res[1].Err != nil {
			t.Fatalf("Deliver: %+v", res)
		}
	}
	got := map[string]string{}
	for _, r := range api.requests() {
		var body struct{ ID string }
		json.Unmarshal([]byte(r.Body), &body)
		got[body.ID+" Idempotency-Key"] += r.Header.Get("Idempotency-Key")
		got[body.ID+" X-Request-Id"] += r.Header.Get("X-Request-Id")
	}
	want := map[string]string{
		"r1 Idempotency-Key": b.Items[0].DeliveryKey, "r1 X-Request-Id": b.Items[0].DeliveryKey,
		"r2 Idempotency-Key": b.Items[1].DeliveryKey, "r2 X-Request-Id": b.Items[1].DeliveryKey,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("idempotency headers, each sent once under its name (-want +got):\n%s", diff)
	}
}

func TestAuthIsSentAndNeverLogged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const token = "s3cr3t-t0ken-value"
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret, err := config.ParseSecret("${file:secret}", dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		auth       connectors.AuthConfig
		header     string
		wantHeader string
	}{
		{"bearer", connectors.AuthConfig{Bearer: secret}, "Authorization", "Bearer " + token},
		{"basic", connectors.AuthConfig{Basic: &connectors.BasicAuth{Username: "ops", Password: secret}}, "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:"+token))},
		{"header", connectors.AuthConfig{Header: &connectors.SecretHeader{Name: "X-Api-Key", Value: secret}}, "X-Api-Key", token},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The API fails the first attempt of each response in the ways
			// that produce error messages, then accepts.
			api := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				switch n {
				case 1:
					w.WriteHeader(401)
					fmt.Fprint(w, `{"message": "invalid credentials"}`)
				case 2:
					w.WriteHeader(500)
				}
			})
			logs := &syncBuffer{}
			d := dest(t, api.srv.URL, logs, func(c *httpreq.Config) {
				c.Auth = tc.auth
				c.Headers = map[string]string{"X-Source": "surveysync"}
			})
			m := compile(t, plainPost)
			var errs []string
			for _, p := range []string{`{"id": "a"}`, `{"id": "b"}`, `{"id": "c"}`} {
				for _, r := range d.Deliver(context.Background(), batch(t, m, p)) {
					if r.Err != nil {
						errs = append(errs, r.Err.Error())
					}
					errs = append(errs, r.Ref)
				}
			}
			reqs := api.requests()
			if len(reqs) != 3 {
				t.Fatalf("%d requests, want 3", len(reqs))
			}
			for _, r := range reqs {
				if got := r.Header.Get(tc.header); got != tc.wantHeader {
					t.Errorf("%s = %q, want %q", tc.header, got, tc.wantHeader)
				}
				if r.Header.Get("X-Source") != "surveysync" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Accept") != "application/json" {
					t.Errorf("headers %v", r.Header)
				}
			}
			for _, text := range append(errs, logs.String()) {
				if strings.Contains(text, token) || strings.Contains(text, base64.StdEncoding.EncodeToString([]byte("ops:"+token))) {
					t.Errorf("the credential shows in %q", text)
				}
			}
		})
	}
}

// TestRedirectsAreNotFollowed: a redirect answer must not carry the
// credentials to the place it names (the client adds them to every request
// it sends), nor turn a POST into a GET that answers 200.
func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	other := newAPI(t, status(200))
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			api := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
				http.Redirect(w, r, other.srv.URL+"/collect", code)
			})
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "tok"), []byte("redirect-token"), 0o600)
			secret, _ := config.ParseSecret("${file:tok}", dir)
			d := dest(t, api.srv.URL, nil, func(c *httpreq.Config) { c.Auth.Bearer = secret })
			res := d.Deliver(context.Background(), batch(t, compile(t, plainPost), `{"id": "r1"}`))
			if class, _ := connectors.Classify(res[0].Err); class != connectors.ClassPermanent || !strings.Contains(res[0].Err.Error(), fmt.Sprint(code)) {
				t.Errorf("a %d answer gave %v, want a permanent failure naming it", code, res[0].Err)
			}
			for _, r := range other.requests() {
				t.Errorf("the redirect was followed: %s %s with Authorization %q", r.Method, r.Path, r.Header.Get("Authorization"))
			}
		})
	}
}

func TestBatchMappingSendsOneRequest(t *testing.T) {
	t.Parallel()
	m := compile(t, `request:
  method: POST
  path: /bulk
  idempotency_key: "{{ delivery_key }}"
  body: {id: "{{ id }}", score: "{{ rating }}"}
  batch: {max: 50, path: data.items, envelope: {source: surveysync}}
`)
	payloads := []string{`{"id": "a", "rating": 1}`, `{"id": "b", "rating": 2}`, `{"id": "c", "rating": 3}`}
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request, n int)
		want   outcome
	}{
		{"accepted", func(w http.ResponseWriter, r *http.Request, n int) { fmt.Fprint(w, `{"batch_id": "B-1"}`) }, outcome{Class: "delivered", Ref: "batch_id=B-1"}},
		{"refused", status(422), outcome{Class: connectors.ClassPermanent}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api := newAPI(t, tc.answer)
			d := dest(t, api.srv.URL, nil, func(c *httpreq.Config) { c.Capture = []string{"batch_id"} })
			if n := d.MaxBatch(m); n != 50 {
				t.Errorf("MaxBatch = %d, want the mapping's 50", n)
			}
			b := batch(t, m, payloads...)
			res := d.Deliver(context.Background(), b)
			got := outcomes(res)
			if diff := cmp.Diff([]outcome{tc.want, tc.want, tc.want}, got); diff != "" {
				t.Errorf("every item gets the batch's result (-want +got):\n%s", diff)
			}
			for i := 1; i < len(res); i++ {
				if res[i].Err != res[0].Err {
					t.Errorf("item %d has another error than item 0", i)
				}
			}
			reqs := api.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want one for the batch", len(reqs))
			}
			want := `{"data":{"items":[{"id":"a","score":1},{"id":"b","score":2},{"id":"c","score":3}]},"source":"surveysync"}`
			if reqs[0].Body != want {
				t.Errorf("body %s, want %s", reqs[0].Body, want)
			}
			if k := reqs[0].Header.Get("Idempotency-Key"); k == "" || k == b.Items[0].DeliveryKey {
				t.Errorf("Idempotency-Key %q, want the batch's own key", k)
			}
		})
	}
}

func TestBatchThatCannotRenderFailsEveryItem(t *testing.T) {
	t.Parallel()
	api := newAPI(t, status(200))
	m := compile(t, "request:\n  method: POST\n  path: \"/bulk/{{ id }}\"\n  body: {id: \"{{ id }}\"}\n  batch: {max: 10, path: items}\n")
	d := dest(t, api.srv.URL, nil, nil)
	res := d.Deliver(context.Background(), batch(t, m, `{"id": "a"}`, `{"id": "b"}`))
	for i, o := range outcomes(res) {
		if o.Class != connectors.ClassRender {
			t.Errorf("item %d: %+v (%v), want a render failure", i, o, res[i].Err)
		}
	}
	if n := len(api.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	t.Parallel()
	const limit = 3
	var inFlight, most atomic.Int32
	release := make(chan struct{})
	api := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		now := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if now <= m || most.CompareAndSwap(m, now) {
				break
			}
		}
		<-release
		fmt.Fprintf(w, `{"id": %d}`, n)
	})
	m := compile(t, plainPost)
	d := dest(t, api.srv.URL, nil, func(c *httpreq.Config) { c.Concurrency = limit; c.Capture = []string{"id"} })
	if n := d.MaxBatch(m); n != limit*8 {
		t.Errorf("MaxBatch = %d, want %d", n, limit*8)
	}
	var payloads []string
	for i := range 20 {
		payloads = append(payloads, fmt.Sprintf(`{"id": "r%02d"}`, i))
	}
	b := batch(t, m, payloads...)
	done := make(chan []connectors.Result)
	go func() { done <- d.Deliver(context.Background(), b) }()
	deadline := time.Now().Add(10 * time.Second)
	for inFlight.Load() < limit {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests in flight, want %d", inFlight.Load(), limit)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	res := <-done
	if n := most.Load(); n != limit {
		t.Errorf("at most %d requests were in flight, want exactly %d", n, limit)
	}
	// Each item gets the result of its own request.
	refs := map[string]bool{}
	for i, r := range res {
		if r.Err != nil || !strings.HasPrefix(r.Ref, "id=") {
			t.Errorf("item %d: %+v", i, r)
		}
		refs[r.Ref] = true
	}
	if len(refs) != 20 || len(api.requests()) != 20 {
		t.Errorf("%d distinct refs for %d requests, want 20 and 20", len(refs), len(api.requests()))
	}
}

func TestCaptureIntoRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		capture []string
		body    string
		want    string
	}{
		{"nothing configured", nil, `{"id": 1}`, ""},
		{"large numeric id keeps every digit", []string{"id"}, `{"id": 9007199254740993}`, "id=9007199254740993"},
		{"nested and text", []string{"data.ticket.id", "status"}, `{"data": {"ticket": {"id": "T-7"}}, "status": "new"}`, "data.ticket.id=T-7 status=new"},
		{"missing fields are left out", []string{"id", "nope", "data.x"}, `{"id": "a", "data": 5}`, "id=a"},
		{"an object", []string{"links"}, `{"links": {"self": "/t/1"}}`, `links={"self":"/t/1"}`},
		{"not JSON", []string{"id"}, `<html>ok</html>`, ""},
		{"empty answer", []string{"id"}, ``, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int) { fmt.Fprint(w, tc.body) })
			d := dest(t, api.srv.URL, nil, func(c *httpreq.Config) { c.Capture = tc.capture })
			res := d.Deliver(context.Background(), batch(t, compile(t, plainPost), `{"id": "r1"}`))
			if res[0].Err != nil || res[0].Ref != tc.want {
				t.Errorf("result %+v, want ref %q", res[0], tc.want)
			}
		})
	}
}

// TestURLsStayOnTheEndpoint: the endpoint's path prefix is kept, values in
// the path stay inside their segment, the query comes from the mapping,
// and nothing a response holds can send the request to another host.
func TestURLsStayOnTheEndpoint(t *testing.T) {
	t.Parallel()
	api := newAPI(t, status(200))
	m := compile(t, `request:
  method: PUT
  path: "/users/{{ id }}/csat"
  query: {source: "{{ src }}", tag: "b c"}
  headers: {X-Survey: "{{ survey }}"}
  body: {score: "{{ rating }}"}
`)
	ids := []string{"u-1", "a b", "../admin", "a/b", "@evil.example", "//evil.example/x", "http://evil.example/", "%2F", "ünï"}
	var payloads []string
	for _, id := range ids {
		p, _ := json.Marshal(map[string]any{"id": id, "src": "web&x=1", "survey": "nps", "rating": 9})
		payloads = append(payloads, string(p))
	}
	for _, endpoint := range []string{api.srv.URL + "/api/v2", api.srv.URL + "/api/v2/"} {
		d := dest(t, endpoint, nil, nil)
		for i, r := range d.Deliver(context.Background(), batch(t, m, payloads...)) {
			if r.Err != nil {
				t.Errorf("%q: %v", ids[i], r.Err)
			}
		}
	}
	reqs := api.requests()
	if len(reqs) != 2*len(ids) {
		t.Fatalf("the endpoint got %d requests, want %d: the others went elsewhere", len(reqs), 2*len(ids))
	}
	host := strings.TrimPrefix(api.srv.URL, "http://")
	got := map[string]bool{}
	for _, r := range reqs {
		if r.Host != host {
			t.Errorf("a request went to host %q", r.Host)
		}
		if r.Method != "PUT" || r.Query != "source=web%26x%3D1&tag=b+c" || r.Header.Get("X-Survey") != "nps" || r.Body != `{"score":9}` {
			t.Errorf("request %+v", r)
		}
		got[r.RawPath] = true
	}
	want := map[string]bool{}
	for _, id := range ids {
		want["/api/v2/users/"+pathEscape(id)+"/csat"] = true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths as sent (-want +got):\n%s", diff)
	}
}

// pathEscape escapes like url.PathEscape, spelled out so the test does not
// reuse the code under test.
func pathEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-_.~$&+,:;=@", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func TestRateLimitPacesRequests(t *testing.T) {
	t.Parallel()
	api := bubbleAPI(t, status(200))
	m := compile(t, plainPost)
	synctest.Test(t, func(t *testing.T) {
		d := dest(t, api.srv.URL, nil, func(c *httpreq.Config) {
			c.RateLimit = httpreq.RateLimit{Requests: 2, Per: time.Second}
		})
		start := time.Now()
		var payloads []string
		for i := range 5 {
			payloads = append(payloads, fmt.Sprintf(`{"id": "r%d"}`, i))
		}
		for _, r := range d.Deliver(context.Background(), batch(t, m, payloads...)) {
			if r.Err != nil {
				t.Error(r.Err)
			}
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("5 requests at 2 per second took %s, want 2s", d)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*httpreq.Config)
		want string
	}{
		{"defaults with an endpoint", func(c *httpreq.Config) {}, ""},
		{"no endpoint", func(c *httpreq.Config) { c.Endpoint = "" }, "endpoint: set the base URL"},
		{"not http", func(c *httpreq.Config) { c.Endpoint = "ftp://example.com" }, `endpoint: "ftp://example.com" is not an http(s) URL`},
		{"no host", func(c *httpreq.Config) { c.Endpoint = "https:///v1" }, "is not an http(s) URL"},
		{"query", func(c *httpreq.Config) { c.Endpoint = "https://api.example.com/v1?key=x" }, "endpoint: must not carry a query or fragment"},
		{"credentials", func(c *httpreq.Config) { c.Endpoint = "https://u:p@api.example.com" }, "endpoint: must not carry credentials"},
		{"authorization header", func(c *httpreq.Config) { c.Headers = map[string]string{"AUTHORIZATION": "x"} }, "headers: put Authorization under auth"},
		{"timeout", func(c *httpreq.Config) { c.Timeout = 0 }, "timeout: must be positive"},
		{"concurrency", func(c *httpreq.Config) { c.Concurrency = 65 }, "concurrency: must be between 1 and 64"},
		{"half a rate limit", func(c *httpreq.Config) { c.RateLimit.Per = time.Second }, "rate_limit: set both requests and per"},
		{"status word", func(c *httpreq.Config) { c.Status.Success = []string{"ok"} }, `status: "ok" is not a status code`},
		{"status out of range", func(c *httpreq.Config) { c.Status.Retry = []string{"600"} }, `status: "600" is not a status code`},
		{"status class", func(c *httpreq.Config) { c.Status.Retry = []string{"5XX", " 404 "} }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := httpreq.DefaultConfig()
			c.Endpoint = "https://api.example.com/v1"
			tc.edit(c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
