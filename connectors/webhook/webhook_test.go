package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surveysync/surveysync/config"
	_ "github.com/surveysync/surveysync/connectors/all"
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/store"
)

const typeformSecret = "typeform-test-secret"

type testBundle struct {
	srv *httptest.Server
	st  store.Store
}

// setup runs the engine's HTTP side (no dispatch) with a Typeform webhook,
// a token webhook and a ledger in a temporary directory.
func setup(t testing.TB) *testBundle {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "typeform.secret"), []byte(typeformSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token.secret"), []byte("respondio-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "out.yaml"), []byte("request: {method: POST, path: /x, body: {k: \"{{ key }}\"}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgText := `
store: sqlite:./ledger.db
sources:
  typeform:
    type: webhook
    path: /hooks/typeform
    auth: {preset: typeform, secret: "${file:./typeform.secret}"}
    key: form_response.token
    submitted_at: form_response.submitted_at
    accept: [{field: event_type, equals: form_response}]
    max_body: 2048
  respondio:
    type: webhook
    path: /hooks/respondio
    auth:
      token: {header: Authorization, value: "${file:./token.secret}"}
    key: conversation_id
destinations:
  out: {type: http, endpoint: "http://127.0.0.1:1"}
syncs:
  - {source: typeform, mapping: out.yaml, to: out}
  - {source: respondio, mapping: out.yaml, to: out}
`
	path := filepath.Join(dir, "surveysync.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, errs := config.Load(path)
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	plan, errs := engine.Compile(cfg)
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	e, err := engine.New(context.Background(), plan, engine.Options{Parts: engine.Parts{NoDispatch: true, NoSources: true, NoScores: true}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.Close()
		e.Close()
	})
	return &testBundle{srv: srv, st: e.Store()}
}

func sign(body []byte) string {
	mac := hmac.New(sha256.New, []byte(typeformSecret))
	mac.Write(body)
	return "sha256=" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func typeformBody(token string) []byte {
	return []byte(fmt.Sprintf(`{"event_id":"e-%s","event_type":"form_response","form_response":{"token":%q,"submitted_at":"2026-11-20T10:00:00Z","answers":[{"type":"number","number":9,"field":{"ref":"nps"}}]}}`, token, token))
}

func post(t testing.TB, url string, body []byte, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func stored(t testing.TB, st store.Store) (responses, rejected int64) {
	t.Helper()
	s, err := st.Stats(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range s.Sources {
		responses += src.Responses
		rejected += src.Rejected
	}
	return responses, rejected
}

func TestRefusedRequestsStoreNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	good := typeformBody("tok-1")
	altered := bytes.Replace(good, []byte(`"number":9`), []byte(`"number":0`), 1)
	reserialised := bytes.ReplaceAll(good, []byte(`:`), []byte(`: `))
	tests := []struct {
		name   string
		path   string
		body   []byte
		header http.Header
		want   int
	}{
		{"missing signature", "/hooks/typeform", good, http.Header{}, http.StatusUnauthorized},
		{"wrong signature", "/hooks/typeform", good, http.Header{"Typeform-Signature": {"sha256=" + base64.StdEncoding.EncodeToString([]byte("nope"))}}, http.StatusUnauthorized},
		{"altered body", "/hooks/typeform", altered, http.Header{"Typeform-Signature": {sign(good)}}, http.StatusUnauthorized},
		{"re-serialised body", "/hooks/typeform", reserialised, http.Header{"Typeform-Signature": {sign(good)}}, http.StatusUnauthorized},
		{"hex instead of base64", "/hooks/typeform", good, http.Header{"Typeform-Signature": {strings.Replace(sign(good), "sha256=", "sha256=00", 1)}}, http.StatusUnauthorized},
		{"oversized body", "/hooks/typeform", bytes.Repeat([]byte("x"), 4096), http.Header{}, http.StatusRequestEntityTooLarge},
		{"malformed JSON", "/hooks/respondio", []byte(`{"conversation_id": `), http.Header{"Authorization": {"Bearer respondio-token"}}, http.StatusBadRequest},
		{"unknown path", "/hooks/nope", good, http.Header{"Typeform-Signature": {sign(good)}}, http.StatusNotFound},
		{"wrong token", "/hooks/respondio", []byte(`{"conversation_id":"c1"}`), http.Header{"Authorization": {"Bearer respondio-tokem"}}, http.StatusUnauthorized},
		{"token in the wrong header", "/hooks/respondio", []byte(`{"conversation_id":"c1"}`), http.Header{"X-Token": {"respondio-token"}}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		code, body := post(t, b.srv.URL+tc.path, tc.body, tc.header)
		if code != tc.want {
			t.Errorf("%s: status %d (%s), want %d", tc.name, code, strings.TrimSpace(body), tc.want)
		}
	}
	if r, rej := stored(t, b.st); r != 0 || rej != 0 {
		t.Errorf("refused requests stored %d responses and %d rejects, want none", r, rej)
	}
}

func TestAcceptedWebhookIsStoredOnceAndDuplicatesAreAcknowledged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := typeformBody("tok-dup")
	// The same delivery, five times at once, as a retrying sender might.
	var wg sync.WaitGroup
	codes := make([]int, 5)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = post(t, b.srv.URL+"/hooks/typeform", body, http.Header{"Typeform-Signature": {sign(body)}})
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("delivery %d: status %d, want 200", i, c)
		}
	}
	if r, _ := stored(t, b.st); r != 1 {
		t.Errorf("stored %d responses, want 1", r)
	}
	// An event that is not a response is acknowledged and dropped.
	other := []byte(`{"event_type":"form_deleted","form_response":{"token":"x"}}`)
	if code, _ := post(t, b.srv.URL+"/hooks/typeform", other, http.Header{"Typeform-Signature": {sign(other)}}); code != http.StatusOK {
		t.Errorf("other event: status %d, want 200", code)
	}
	if r, _ := stored(t, b.st); r != 1 {
		t.Errorf("after an ignored event, %d responses stored, want 1", r)
	}
}

func TestPayloadWithoutKeyIsKeptAsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	code, body := post(t, b.srv.URL+"/hooks/respondio", []byte(`{"contact_id":"88001","rating":"5"}`), http.Header{"Authorization": {"Bearer respondio-token"}})
	if code != http.StatusAccepted || !strings.Contains(body, "conversation_id") {
		t.Fatalf("status %d %s, want 202 naming the missing key", code, body)
	}
	rejects, err := b.st.Rejects(context.Background(), "respondio", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejects) != 1 || !strings.Contains(rejects[0].Reason, "conversation_id") || !strings.Contains(string(rejects[0].Payload), "88001") {
		t.Fatalf("rejects = %+v, want one naming conversation_id with its payload", rejects)
	}
}

func TestArrayBodyStoresEachResponse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	code, body := post(t, b.srv.URL+"/hooks/respondio", []byte(`[{"conversation_id":"a"},{"conversation_id":"b"},{"conversation_id":"a"}]`), http.Header{"Authorization": {"respondio-token"}})
	if code != http.StatusOK {
		t.Fatalf("status %d %s", code, body)
	}
	if r, _ := stored(t, b.st); r != 2 {
		t.Errorf("stored %d responses, want 2", r)
	}
}
