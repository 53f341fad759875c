package connectors

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"
)

var httpResponse429 = http.Response{StatusCode: http.StatusTooManyRequests}

// resetAfterRead reads the whole request, as a server that applies it
// would, then drops the connection with a TCP reset instead of answering.
func resetAfterRead(t *testing.T, w http.ResponseWriter, r *http.Request) {
	t.Helper()
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		t.Errorf("reading the request: %v", err)
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// refusedAddr returns a loopback address nobody listens on.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// bubbleServer serves h outside any synctest bubble, with keep-alives off:
// a client inside a bubble then holds no idle connection between requests,
// so the bubble's clock can advance while it waits (a goroutine reading a
// socket is not durably blocked).
func bubbleServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.SetKeepAlivesEnabled(false)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// realErrors produces transport errors the way they happen, over loopback.
type realErrors struct {
	refused, resetAfterRead, clientTimeout, badCertificate error
}

func makeRealErrors(t *testing.T) realErrors {
	t.Helper()
	var out realErrors
	plain := &http.Client{}
	_, out.refused = plain.Post("http://"+refusedAddr(t)+"/x", "application/json", strings.NewReader("{}"))

	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { resetAfterRead(t, w, r) }))
	defer reset.Close()
	_, out.resetAfterRead = plain.Post(reset.URL, "application/json", strings.NewReader("{}"))

	hold := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hold)
	_, out.clientTimeout = (&http.Client{Timeout: 50 * time.Millisecond}).Post(slow.URL, "application/json", strings.NewReader("{}"))

	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a request reached a server whose certificate is not trusted")
	}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	defer tlsSrv.Close()
	_, out.badCertificate = plain.Post(tlsSrv.URL, "application/json", strings.NewReader("{}"))

	for name, err := range map[string]error{"refused": out.refused, "reset": out.resetAfterRead, "timeout": out.clientTimeout, "certificate": out.badCertificate} {
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
	}
	return out
}

func TestNotSent(t *testing.T) {
	t.Parallel()
	real := makeRealErrors(t)
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", real.refused, true},
		{"unknown host", &net.DNSError{Err: "no such host", Name: "nope.invalid", IsNotFound: true}, true},
		{"wrapped DNS error", fmt.Errorf("POST: %w", &net.DNSError{Err: "server misbehaving", Name: "x"}), true},
		{"untrusted certificate", real.badCertificate, true},
		{"handshake alert", fmt.Errorf("remote error: %w", tls.AlertError(40)), true},
		{"handshake timeout", errors.New("net/http: TLS handshake timeout"), true},
		{"reset after the server read the request", real.resetAfterRead, false},
		{"client timeout while waiting for the answer", real.clientTimeout, false},
		{"unexpected EOF", io.ErrUnexpectedEOF, false},
		{"cancelled", context.Canceled, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := NotSent(tc.err); got != tc.want {
				t.Errorf("NotSent(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestCheckRetry(t *testing.T) {
	t.Parallel()
	real := makeRealErrors(t)
	answer := func(method string, code int) *http.Response {
		return &http.Response{StatusCode: code, Request: &http.Request{Method: method}}
	}
	plain := context.Background()
	idem := Idempotent(plain)
	read := SafeRead(plain)
	cancelled, cancel := context.WithCancel(plain)
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		resp  *http.Response
		err   error
		retry bool
	}{
		{"refused POST", plain, nil, real.refused, true},
		{"unknown host POST", plain, nil, &net.DNSError{Err: "no such host", IsNotFound: true}, true},
		{"untrusted certificate POST", plain, nil, real.badCertificate, true},
		{"reset after read POST", plain, nil, real.resetAfterRead, false},
		{"reset after read idempotent POST", idem, nil, real.resetAfterRead, true},
		{"reset after read safe read", read, nil, real.resetAfterRead, true},
		{"timeout POST", plain, nil, real.clientTimeout, false},
		{"timeout idempotent PUT", idem, nil, real.clientTimeout, true},
		{"429 POST", plain, answer("POST", 429), nil, true},
		{"429 GET", plain, answer("GET", 429), nil, true},
		{"500 POST", plain, answer("POST", 500), nil, false},
		{"502 POST", plain, answer("POST", 502), nil, false},
		{"503 POST", plain, answer("POST", 503), nil, false},
		{"500 idempotent POST", idem, answer("POST", 500), nil, true},
		{"503 idempotent PATCH", idem, answer("PATCH", 503), nil, true},
		{"500 GET", plain, answer("GET", 500), nil, true},
		{"504 HEAD", plain, answer("HEAD", 504), nil, true},
		{"500 search sent as POST", read, answer("POST", 500), nil, true},
		{"501 GET", plain, answer("GET", 501), nil, false},
		{"501 idempotent PUT", idem, answer("PUT", 501), nil, false},
		{"408 POST", plain, answer("POST", 408), nil, false},
		{"408 GET", plain, answer("GET", 408), nil, true},
		{"400 GET", plain, answer("GET", 400), nil, false},
		{"401 GET", plain, answer("GET", 401), nil, false},
		{"404 idempotent PUT", idem, answer("PUT", 404), nil, false},
		{"409 POST", plain, answer("POST", 409), nil, false},
		{"200 POST", plain, answer("POST", 200), nil, false},
		{"301 GET", plain, answer("GET", 301), nil, false},
		{"cancelled 429", cancelled, answer("POST", 429), nil, false},
		{"cancelled 500 GET", cancelled, answer("GET", 500), nil, false},
		{"cancelled refused", cancelled, nil, real.refused, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			retry, err := CheckRetry(tc.ctx, tc.resp, tc.err)
			if retry != tc.retry {
				t.Errorf("CheckRetry = %v, want %v", retry, tc.retry)
			}
			if tc.ctx.Err() != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("CheckRetry with a done context returned error %v, want the context's", err)
			}
			if tc.ctx.Err() == nil && err != nil {
				t.Errorf("CheckRetry returned error %v", err)
			}
		})
	}
}

func TestRetryAfterHeader(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"7", 7 * time.Second},
		{" 7 ", 7 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"93", 93 * time.Second},
		{"Fri, 01 May 2026 10:02:00 GMT", 2 * time.Minute},
		{"Friday, 01-May-26 10:00:30 GMT", 30 * time.Second},
		{"Fri, 01 May 2026 09:59:00 GMT", 0},
		{"-3", 0},
		{"soon", 0},
		{"NaN", 0},
		// Beyond the cap, including values that would overflow a Duration:
		// the wait is MaxRetryAfter, never a negative or absent one.
		{"86400", MaxRetryAfter},
		{"1e10", MaxRetryAfter},
		{"1e300", MaxRetryAfter},
		{"+Inf", MaxRetryAfter},
		{"Sat, 02 May 2026 10:00:00 GMT", MaxRetryAfter},
	}
	for _, tc := range tests {
		h := http.Header{}
		if tc.value != "" {
			h.Set("Retry-After", tc.value)
		}
		if got := RetryAfterHeader(h, now); got != tc.want {
			t.Errorf("Retry-After %q = %s, want %s", tc.value, got, tc.want)
		}
	}
}

// TestResetAfterApplyIsSentOnce: a POST that the server read (and applied)
// and then answered with a reset must not be sent again by the client, even
// on a reused keep-alive connection; the caller gets the error to
// reconcile.
func TestResetAfterApplyIsSentOnce(t *testing.T) {
	t.Parallel()
	var applied atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/warm" {
			io.Copy(io.Discard, r.Body)
			return
		}
		applied.Add(1)
		resetAfterRead(t, w, r)
	}))
	defer srv.Close()
	c := NewClients(nil, nil).New(ClientOptions{Name: "t", AllowHosts: loopbackIP, RetryMax: 3})
	defer c.CloseIdleConnections()
	// Warm up so the POST goes over a reused connection, where Go's
	// transport would itself re-send a replayable request.
	resp, err := c.Post(srv.URL+"/warm", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	ReadBody(resp, 1<<10)
	_, err = c.Post(srv.URL+"/append", "application/json", strings.NewReader(`{"row":1}`))
	if err == nil {
		t.Fatal("a reset connection gave no error")
	}
	if NotSent(err) {
		t.Errorf("the error %v claims the request was not sent", err)
	}
	if n := applied.Load(); n != 1 {
		t.Errorf("the POST reached the server %d times, want exactly 1", n)
	}
}

func TestIdempotentRequestIsRetriedAfterReset(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		n := len(bodies)
		mu.Unlock()
		if n == 1 {
			resetAfterRead(t, w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c := NewClients(nil, nil).New(ClientOptions{Name: "t", AllowHosts: loopbackIP})
	defer c.CloseIdleConnections()
	req, err := http.NewRequestWithContext(Idempotent(context.Background()), http.MethodPost, srv.URL+"/upsert", strings.NewReader(`{"id":"a@b.c"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("an idempotent request was not retried after a reset: %v", err)
	}
	ReadBody(resp, 1<<10)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
	if diff := cmp.Diff([]string{`{"id":"a@b.c"}`, `{"id":"a@b.c"}`}, bodies); diff != "" {
		t.Errorf("bodies the server read (-want +got):\n%s", diff)
	}
}

// TestServerErrorsAreRetriedOnlyWhenSafe runs in a bubble, so the retry
// backoff takes no real time.
func TestServerErrorsAreRetriedOnlyWhenSafe(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	count := map[string]int{}
	srv := bubbleServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		count[r.Method+" "+r.URL.Path]++
		mu.Unlock()
		code := 500
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/"), "%d", &code)
		w.WriteHeader(code)
	}))
	tests := []struct {
		name      string
		method    string
		path      string
		idem      bool
		attempts  int
		finalCode int
	}{
		{"POST 500 is not re-sent", "POST", "/500", false, 1, 500},
		{"POST 503 is not re-sent", "POST", "/503", false, 1, 503},
		{"idempotent POST 500 is retried", "POST", "/500", true, 3, 500},
		{"GET 502 is retried", "GET", "/502", false, 3, 502},
		{"GET 501 is not", "GET", "/501", false, 1, 501},
		{"PUT 400 is not", "PUT", "/400", true, 1, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mu.Lock()
				clear(count)
				mu.Unlock()
				c := NewClients(nil, nil).New(ClientOptions{Name: "t", AllowHosts: loopbackIP, RetryMax: 2})
				ctx := context.Background()
				if tc.idem {
					ctx = Idempotent(ctx)
				}
				var body io.Reader
				if tc.method != "GET" {
					body = strings.NewReader("{}")
				}
				req, _ := http.NewRequestWithContext(ctx, tc.method, srv.URL+tc.path, body)
				resp, err := c.Do(req)
				if err != nil {
					t.Fatalf("Do: %v (the final answer must be returned, not an error)", err)
				}
				ReadBody(resp, 1<<10)
				if resp.StatusCode != tc.finalCode {
					t.Errorf("status %d, want %d", resp.StatusCode, tc.finalCode)
				}
				mu.Lock()
				got := count[tc.method+" "+tc.path]
				mu.Unlock()
				if got != tc.attempts {
					t.Errorf("the server saw %d attempts, want %d", got, tc.attempts)
				}
			})
		})
	}
}

// throttleServer answers the first request to /limited with 429 and the
// Retry-After header retryAfter returns, and everything else with 200. It
// logs the requests in order.
type throttleServer struct {
	mu         sync.Mutex
	log        []string
	throttled  bool
	retryAfter func() string
}

func (s *throttleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/limited" && !s.throttled {
		s.throttled = true
		s.log = append(s.log, r.URL.Path+" 429")
		w.Header().Set("Retry-After", s.retryAfter())
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	s.log = append(s.log, r.URL.Path+" 200")
}

func (s *throttleServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

// TestThrottlePausesTheWholeBucket: a 429 pauses the bucket for the
// Retry-After it names (seconds or an HTTP date), the throttled request is
// retried after it, and a request of another client sharing the bucket
// waits too instead of spending the quota. The clients run in a synctest
// bubble, whose clock starts at 2000-01-01 00:00 UTC; the server outside
// it gets the bubble's time to write HTTP dates from.
func TestThrottlePausesTheWholeBucket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		wait       time.Duration
		retryAfter func(bubbleNow time.Time) string
	}{
		{"seconds", 30 * time.Second, func(time.Time) string { return "30" }},
		{"http date", 90 * time.Second, func(now time.Time) string { return now.Add(90 * time.Second).UTC().Format(http.TimeFormat) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var bubbleNow atomic.Pointer[time.Time]
			ts := &throttleServer{retryAfter: func() string { return tc.retryAfter(*bubbleNow.Load()) }}
			srv := bubbleServer(t, ts)
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				bubbleNow.Store(&start)
				clients := NewClients(nil, nil)
				bucket := clients.Bucket("shared", 0, 0, 1)
				a := clients.New(ClientOptions{Name: "a", AllowHosts: loopbackIP, Bucket: bucket, Timeout: 5 * time.Second})
				b := clients.New(ClientOptions{Name: "b", AllowHosts: loopbackIP, Bucket: bucket, Timeout: 5 * time.Second})
				var wg sync.WaitGroup
				var aDone, bDone time.Duration
				wg.Go(func() {
					resp, err := a.Post(srv.URL+"/limited", "application/json", strings.NewReader("{}"))
					if err != nil {
						t.Errorf("a: %v", err)
						return
					}
					ReadBody(resp, 1<<10)
					if resp.StatusCode != http.StatusOK {
						t.Errorf("a: status %d, want the retry's 200", resp.StatusCode)
					}
					aDone = time.Since(start)
				})
				synctest.Wait() // a got its 429 and waits on the bucket
				if got := bucket.PausedUntil(); !got.Equal(start.Add(tc.wait)) {
					t.Errorf("bucket paused until start+%s, want start+%s", got.Sub(start), tc.wait)
				}
				wg.Go(func() {
					resp, err := b.Get(srv.URL + "/other")
					if err != nil {
						t.Errorf("b: %v", err)
						return
					}
					ReadBody(resp, 1<<10)
					bDone = time.Since(start)
				})
				synctest.Wait()
				if diff := cmp.Diff([]string{"/limited 429"}, ts.requests()); diff != "" {
					t.Errorf("requests during the pause (-want +got):\n%s", diff)
				}
				wg.Wait()
				if aDone != tc.wait || bDone != tc.wait {
					t.Errorf("a finished after %s and b after %s, want both after exactly %s", aDone, bDone, tc.wait)
				}
				got := ts.requests()
				if len(got) != 3 || got[0] != "/limited 429" {
					t.Errorf("requests = %q, want the 429 first, then the retry and b", got)
				}
			})
		})
	}
}

func TestThrottlesExhaustTheRetries(t *testing.T) {
	t.Parallel()
	var attempts atomic.Int32
	srv := bubbleServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	synctest.Test(t, func(t *testing.T) {
		clients := NewClients(nil, nil)
		bucket := clients.Bucket("shared", 0, 0, 1)
		c := clients.New(ClientOptions{Name: "t", AllowHosts: loopbackIP, Bucket: bucket, RetryMax: 2})
		start := time.Now()
		resp, err := c.Post(srv.URL, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("Post: %v (the last 429 must be returned, for the caller to classify)", err)
		}
		ReadBody(resp, 1<<10)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
			t.Errorf("status %d Retry-After %q, want the last 429 with its header", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if n := attempts.Load(); n != 3 {
			t.Errorf("%d attempts, want 3 (RetryMax 2)", n)
		}
		if d := time.Since(start); d != 4*time.Second {
			t.Errorf("took %s, want 4s: two waits of the 2s Retry-After", d)
		}
		if got := bucket.PausedUntil(); !got.Equal(start.Add(6 * time.Second)) {
			t.Errorf("the bucket stays paused until start+%s, want start+6s (the last 429's wait)", got.Sub(start))
		}
	})
}

// TestAttemptTimeoutExcludesQuotaWait: a request held back by a paused
// bucket for longer than the attempt timeout is sent when the pause ends
// and does not time out unsent.
func TestAttemptTimeoutExcludesQuotaWait(t *testing.T) {
	t.Parallel()
	var got atomic.Int32
	srv := bubbleServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
	}))
	synctest.Test(t, func(t *testing.T) {
		clients := NewClients(nil, nil)
		bucket := clients.Bucket("slow", 1, time.Minute, 1)
		bucket.Throttled(90 * time.Second)
		c := clients.New(ClientOptions{Name: "t", AllowHosts: loopbackIP, Bucket: bucket, Timeout: 5 * time.Second})
		start := time.Now()
		for i := range 2 {
			resp, err := c.Post(srv.URL, "application/json", strings.NewReader("{}"))
			if err != nil {
				t.Fatalf("request %d: %v (waiting for the quota counted against the attempt timeout)", i, err)
			}
			ReadBody(resp, 1<<10)
		}
		// 90s of pause, then one request a minute.
		if d := time.Since(start); d != 150*time.Second {
			t.Errorf("two requests took %s, want 150s", d)
		}
		if n := got.Load(); n != 2 {
			t.Errorf("server saw %d requests, want 2", n)
		}
	})
}

// TestAttemptTimeoutBoundsTheAnswer: once sent, an attempt that gets no
// answer within the timeout fails, and a POST is not sent again.
func TestAttemptTimeoutBoundsTheAnswer(t *testing.T) {
	t.Parallel()
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got.Add(1)
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := NewClients(nil, nil).New(ClientOptions{Name: "t", AllowHosts: loopbackIP, Timeout: 100 * time.Millisecond})
	_, err := c.Post(srv.URL, "application/json", strings.NewReader("{}"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Post = %v, want the attempt's deadline", err)
	}
	if class, _ := Classify(err); class != ClassAmbiguous {
		t.Errorf("class %q, want ambiguous", class)
	}
	if n := got.Load(); n != 1 {
		t.Errorf("the POST was sent %d times, want 1", n)
	}
}

func TestHeadersTokensAndBucketChoice(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
	}))
	defer srv.Close()
	clients := NewClients(nil, nil)
	reads := clients.Bucket("reads", 0, 0, 1)
	writes := clients.Bucket("writes", 0, 0, 1)
	// The write bucket is paused: a request routed to it would wait.
	writes.Throttled(time.Hour)
	c := clients.New(ClientOptions{
		Name:       "t",
		AllowHosts: loopbackIP,
		Bucket:     writes,
		BucketFor: func(r *http.Request) *Bucket {
			if r.Method == http.MethodGet {
				return reads
			}
			return nil // the default Bucket
		},
		TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok-123", TokenType: "Bearer"}),
		Header:      http.Header{"X-Static": {"v1"}},
	})
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("X-Own", "mine")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ReadBody(resp, 1<<10)
	if len(seen) != 1 {
		t.Fatalf("server saw %d requests", len(seen))
	}
	for k, want := range map[string]string{"Authorization": "Bearer tok-123", "X-Static": "v1", "X-Own": "mine"} {
		if got := seen[0].Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if req.Header.Get("X-Static") != "" || req.Header.Get("Authorization") != "" {
		t.Error("the caller's request was modified")
	}
	// A write goes to the paused bucket and waits there until its context ends.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wreq, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("{}"))
	if _, err := c.Do(wreq); !errors.Is(err, context.Canceled) {
		t.Errorf("write through a paused bucket = %v, want it held until cancelled", err)
	}
	if len(seen) != 1 {
		t.Errorf("a write passed a paused bucket")
	}
}

func TestMetricsCountAnswers(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := bubbleServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	synctest.Test(t, func(t *testing.T) {
		clients := NewClients(nil, m)
		c := clients.New(ClientOptions{Name: "dest", AllowHosts: loopbackIP, Bucket: clients.Bucket("b", 0, 0, 1)})
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		ReadBody(resp, 1<<10)
		if _, err := c.Get("http://" + refusedAddr(t)); err == nil {
			t.Error("a refused connection gave no error")
		}
	})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += " " + l.GetName() + "=" + l.GetValue()
			}
			got[name] = m.GetCounter().GetValue()
		}
	}
	for name, want := range map[string]float64{
		"surveysync_http_requests_total code=429 name=dest":   1,
		"surveysync_http_requests_total code=200 name=dest":   1,
		"surveysync_http_requests_total code=error name=dest": 4, // refused: the first try and three retries
		"surveysync_http_throttled_total name=dest":           1,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}

func TestReadBodyAndSnippet(t *testing.T) {
	t.Parallel()
	resp := &http.Response{Body: io.NopCloser(strings.NewReader(strings.Repeat("x", 500)))}
	if got := ReadBody(resp, 10); string(got) != "xxxxxxxxxx" {
		t.Errorf("ReadBody = %q, want 10 bytes", got)
	}
	if got := Snippet([]byte("  short \n")); got != "short" {
		t.Errorf("Snippet = %q", got)
	}
	long := Snippet([]byte("x" + strings.Repeat("é", 400)))
	if !strings.HasSuffix(long, "…") || len(long) > 300+len("…") {
		t.Errorf("Snippet of a long body = %d bytes, want at most 300 and an ellipsis", len(long))
	}
	if !utf8.ValidString(long) {
		t.Errorf("Snippet cut a character in two: %q", long[len(long)-8:])
	}
}

// TestRedirectsAreReturned: a redirect is handed to the connector, not
// followed with the client's credentials to wherever it points.
func TestRedirectsAreReturned(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
	}))
	defer srv.Close()
	c := NewClients(nil, nil).New(ClientOptions{Name: "t", AllowHosts: loopbackIP, Header: http.Header{"Authorization": {"Bearer tok"}}})
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(method, srv.URL, strings.NewReader("{}"))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		ReadBody(resp, 1<<10)
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), other.URL) {
			t.Errorf("%s: status %d, want the 302 itself", method, resp.StatusCode)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}
