package webhook_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/engine"
)

// listening runs the engine's own HTTP server (not an httptest wrapper, so
// its timeouts apply) with a token webhook at the default body limit, and
// returns its address and the engine.
func listening(t *testing.T, readHeader, read time.Duration) (string, *engine.Engine) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"token":    "respondio-token",
		"out.yaml": "request: {method: POST, path: /x, body: {k: \"{{ key }}\"}}\n",
		"surveysync.yaml": `store: sqlite:./ledger.db
sources:
  respondio:
    type: webhook
    path: /hooks/respondio
    auth: {token: {header: Authorization, value: "${file:./token}"}}
    key: conversation_id
destinations:
  out: {type: http, endpoint: "http://127.0.0.1:1"}
syncs:
  - {source: respondio, mapping: out.yaml, to: out}
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, errs := config.Load(filepath.Join(dir, "surveysync.yaml"))
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	plan, errs := engine.Compile(cfg)
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := engine.New(ctx, plan, engine.Options{Listener: ln, ReadHeaderTimeout: readHeader, ReadTimeout: read,
		Parts: engine.Parts{NoDispatch: true, NoSources: true, NoScores: true}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		e.Close()
	})
	return ln.Addr().String(), e
}

// closedWithin reports whether the server closes conn within d (reading
// whatever it sends first, such as a 408).
func closedWithin(conn net.Conn, d time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := bufio.NewReader(conn).ReadString(0)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return err != nil
}

// TestSlowSendersAreCut sends a header that never ends and a body that
// stops halfway: the server closes both connections once its read timeouts
// pass, and nothing is stored.
func TestSlowSendersAreCut(t *testing.T) {
	t.Parallel()
	addr, e := listening(t, 300*time.Millisecond, 600*time.Millisecond)
	for name, send := range map[string]string{
		"header never ends":  "POST /hooks/respondio HTTP/1.1\r\nHost: x\r\nAuthorization: respondio-token\r\n",
		"body stops halfway": "POST /hooks/respondio HTTP/1.1\r\nHost: x\r\nAuthorization: respondio-token\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"conversation_id\": \"c",
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write([]byte(send)); err != nil {
			t.Fatal(err)
		}
		if !closedWithin(conn, 10*time.Second) {
			t.Errorf("%s: the connection was still open after 10 s", name)
		}
		conn.Close()
	}
	if r, rej := stored(t, e.Store()); r != 0 || rej != 0 {
		t.Errorf("slow senders stored %d responses and %d rejects, want none", r, rej)
	}
}

// TestHugeBodyIsRefused posts 10 MB to a webhook at the default 1 MiB
// limit: 413, nothing stored.
func TestHugeBodyIsRefused(t *testing.T) {
	t.Parallel()
	addr, e := listening(t, 0, 0)
	body := append([]byte(`{"conversation_id": "c1", "comment": "`), bytes.Repeat([]byte("x"), 10<<20)...)
	body = append(body, `"}`...)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/hooks/respondio", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "respondio-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The server may close the connection while the client still
		// writes the rest of the body; that is a refusal too.
		t.Logf("the server cut the upload: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", resp.StatusCode)
		}
	}
	if r, rej := stored(t, e.Store()); r != 0 || rej != 0 {
		t.Errorf("a 10 MB body stored %d responses and %d rejects, want none", r, rej)
	}
}
