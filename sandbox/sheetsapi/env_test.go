package sheetsapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	"google.golang.org/api/sheets/v4"
)

// captured is one response the emulator produced during the tests; the
// conformance check validates every one against the discovery doc.
type captured struct {
	test   string
	method string
	path   string // escaped
	status int
	ctype  string
	body   []byte
}

var (
	captureMu sync.Mutex
	captures  []captured
)

// capturer records responses on their way to the client. It passes Hijack
// through so injected resets still work.
type capturer struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capturer) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *capturer) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body.Write(p)
	return c.ResponseWriter.Write(p)
}

func (c *capturer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := c.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("not a hijacker")
	}
	return hj.Hijack()
}

func capturing(t testing.TB, h http.Handler) http.Handler {
	if _, bench := t.(*testing.B); bench {
		return h
	}
	name := t.Name()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &capturer{ResponseWriter: w}
		h.ServeHTTP(c, r)
		if c.status == 0 {
			return // hijacked or abandoned: nothing reached the client
		}
		captureMu.Lock()
		defer captureMu.Unlock()
		captures = append(captures, captured{test: name, method: r.Method, path: r.URL.EscapedPath(), status: c.status,
			ctype: c.Header().Get("Content-Type"), body: bytes.Clone(c.body.Bytes())})
	})
}

// env is an emulator on a loopback listener plus a real Sheets client.
type env struct {
	srv *Server
	ts  *httptest.Server
	svc *sheets.Service
	ctx context.Context
}

// newEnv starts an emulator with opts (quotas off unless opts sets them)
// and a client without authentication.
func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	if opts.Quotas == nil {
		opts.Quotas = &Quotas{}
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	srv := New(opts)
	ts := httptest.NewServer(capturing(t, srv.Handler()))
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	e := &env{srv: srv, ts: ts, ctx: context.Background()}
	e.svc = e.client(t)
	return e
}

// client returns a Sheets service for the emulator; with a token, every
// request carries "Authorization: Bearer <token>".
func (e *env) client(t testing.TB, token ...string) *sheets.Service {
	t.Helper()
	opts := []option.ClientOption{option.WithEndpoint(e.ts.URL + "/")}
	if len(token) > 0 {
		opts = append(opts, option.WithHTTPClient(&http.Client{Transport: bearer{token[0], http.DefaultTransport}}))
	} else {
		opts = append(opts, option.WithoutAuthentication())
	}
	svc, err := sheets.NewService(e.ctx, opts...)
	if err != nil {
		t.Fatalf("sheets.NewService: %v", err)
	}
	return svc
}

// bearer adds an Authorization header, as an oauth2 transport would.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// apiErr asserts err is a *googleapi.Error with the code and returns it.
func apiErr(t testing.TB, err error, code int) *googleapi.Error {
	t.Helper()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		t.Fatalf("error = %v, want *googleapi.Error %d", err, code)
	}
	if gerr.Code != code {
		t.Fatalf("error code = %d (%s), want %d", gerr.Code, gerr.Message, code)
	}
	return gerr
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
