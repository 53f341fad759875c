package hubspotapi

import (
	"bytes"
	"encoding/json"
	"github.com/surveysync/surveysync/sandbox/hubspotapi/openapicheck"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const testToken = "pat-test-token"

// clock is a settable clock for rate-limit and search-delay tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// start serves a new emulator over loopback.
func start(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s := New(opts)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// response is an HTTP answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request with a bearer token (none when token is "") and a
// JSON body (none when body is nil; a string or []byte is sent as is).
func call(t *testing.T, ts *httptest.Server, method, path, token string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// decode unmarshals a response body into a T.
func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

// wantStatus fails the test unless r has the status want.
func wantStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body %s", r.status, want, r.body)
	}
}

// specDir returns the HubSpot specs folder, or skips the test.
func specDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "specs", "hubspot")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("HubSpot OpenAPI specs not found at %s (expected beside the repository as ../shared/specs): %v", dir, err)
	}
	return dir
}

var (
	validatorOnce sync.Once
	validator     *openapicheck.Validator
	validatorErr  error
)

// sharedValidator loads the specs once for all tests.
func sharedValidator(t *testing.T) *openapicheck.Validator {
	t.Helper()
	dir := specDir(t)
	validatorOnce.Do(func() { validator, validatorErr = openapicheck.LoadValidator(dir) })
	if validatorErr != nil {
		t.Fatal(validatorErr)
	}
	return validator
}

// upsertInput builds one batch/upsert input keyed by email.
func upsertInput(email string, props map[string]any) map[string]any {
	return map[string]any{"id": email, "idProperty": "email", "properties": props}
}

// errBody is the part of HubSpot's error body tests look at.
type errBody struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	Category      string              `json:"category"`
	CorrelationID string              `json:"correlationId"`
	Context       map[string][]string `json:"context"`
	Errors        []errorDetail       `json:"errors"`
}
