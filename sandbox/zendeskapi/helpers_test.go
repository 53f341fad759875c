package zendeskapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// agentAuth is a well-formed API-token credential.
var agentAuth = basic("agent@example.com/token", "tok-1")

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// clock is a settable clock for rate-limit, expiry and job tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock starts at 10:00:30 UTC, half way through a minute.
func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 10, 0, 30, 0, time.UTC)} }

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

// testFields are custom fields of every type.
var testFields = []Field{
	{ID: 101, Title: "CSAT", Type: FieldInteger},
	{ID: 102, Title: "Comment", Type: FieldText},
	{ID: 103, Title: "Score band", Type: FieldTagger, Tags: []string{"promoter", "passive", "detractor"}},
	{ID: 104, Title: "Followed up", Type: FieldCheckbox},
	{ID: 105, Title: "Survey date", Type: FieldDate},
	{ID: 106, Title: "CES", Type: FieldDecimal},
	{ID: 107, Title: "Topics", Type: FieldMultiselect, Tags: []string{"speed", "price"}},
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

// request sends a request with an Authorization header (none when auth is
// ""), extra headers, and a JSON body (a string is sent as is).
func request(t *testing.T, ts *httptest.Server, method, path, auth string, body any, headers ...string) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
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
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
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

// call is request with the agent's credentials.
func call(t *testing.T, ts *httptest.Server, method, path string, body any, headers ...string) response {
	t.Helper()
	return request(t, ts, method, path, agentAuth, body, headers...)
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

// ticketReply is the part of a ticket answer tests look at.
type ticketReply struct {
	Ticket struct {
		ID           int64            `json:"id"`
		Subject      string           `json:"subject"`
		Status       string           `json:"status"`
		Description  string           `json:"description"`
		RequesterID  int64            `json:"requester_id"`
		Tags         []string         `json:"tags"`
		CustomFields []fieldValueJSON `json:"custom_fields"`
	} `json:"ticket"`
	Audit *auditJSON `json:"audit"`
}

// createBody builds a ticket create body.
func createBody(subject string, fields ...map[string]any) map[string]any {
	tk := map[string]any{
		"subject":   subject,
		"comment":   map[string]any{"body": "Survey response for " + subject},
		"requester": map[string]any{"name": "Ann", "email": "ann@example.com"},
	}
	if len(fields) > 0 {
		tk["custom_fields"] = fields
	}
	return map[string]any{"ticket": tk}
}
