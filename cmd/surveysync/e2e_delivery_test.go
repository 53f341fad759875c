package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultyReceiver is an API that applies each idempotency key once, and
// misbehaves like real APIs do: 5xx, 429 with and without Retry-After, and
// connections reset after the request was applied.
type faultyReceiver struct {
	mu        sync.Mutex
	rnd       *rand.Rand
	applied   map[string]int      // response key → effects applied
	idemKeys  map[string][]string // response key → distinct idempotency keys seen
	requests  int64
	resets    int64
	errors5xx int64
	throttled int64
	noKey     int64
}

func newFaultyReceiver() *faultyReceiver {
	return &faultyReceiver{rnd: rand.New(rand.NewPCG(7, 11)), applied: map[string]int{}, idemKeys: map[string][]string{}}
}

func (f *faultyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var msg struct {
		Key string `json:"key"`
	}
	_ = json.Unmarshal(body, &msg)
	idem := r.Header.Get("Idempotency-Key")
	f.mu.Lock()
	f.requests++
	roll := f.rnd.Float64()
	if idem == "" {
		f.noKey++
	}
	switch {
	case roll < 0.05:
		f.errors5xx++
		f.mu.Unlock()
		http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
		return
	case roll < 0.10:
		f.throttled++
		f.mu.Unlock()
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	}
	seen := false
	for _, k := range f.idemKeys[msg.Key] {
		if k == idem {
			seen = true
		}
	}
	if !seen {
		f.idemKeys[msg.Key] = append(f.idemKeys[msg.Key], idem)
		f.applied[msg.Key]++
	}
	reset := roll < 0.12
	if reset {
		f.resets++
	}
	f.mu.Unlock()
	if reset {
		// Applied, then the connection dies before the answer.
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":%q}`, msg.Key)
}

func (f *faultyReceiver) appliedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.applied)
}

// webhookSender sends signed webhooks the way a survey tool does: it
// retries until it gets a 2xx, and records which ones were acknowledged.
type webhookSender struct {
	url    string
	secret []byte
	acked  sync.Map
	tries  atomic.Int64
}

func (s *webhookSender) send(key string, body []byte) {
	mac := hmac.New(sha256.New, s.secret)
	mac.Write(body)
	sig := hex.EncodeToString(mac.Sum(nil))
	client := &http.Client{Timeout: 10 * time.Second}
	for {
		s.tries.Add(1)
		req, _ := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(body))
		req.Header.Set("X-Signature", sig)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				s.acked.Store(key, true)
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestEndToEndExactlyOnceThroughFaultsAndKill9 is the foundation's promise:
// 10,000 responses through the webhook and file sources to the http
// destination against a receiver that fails 10 % of requests with 5xx or 429
// and resets the connection on 2 % after applying them; the daemon is
// killed with SIGKILL in the middle of the run and restarted. Every response
// has exactly one effect, its idempotency key is the same on every attempt
// and after the restart, none is dead, every acknowledged webhook arrived,
// and status agrees.
func TestEndToEndExactlyOnceThroughFaultsAndKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run of the real binary; skipped with -short")
	}
	const perSource = 5000
	recv := newFaultyReceiver()
	srv := httptest.NewServer(recv)
	defer srv.Close()

	dir := t.TempDir()
	listen := freeAddr(t)
	secretFile := filepath.Join(dir, "webhook.secret")
	writeFile(t, secretFile, "e2e-webhook-secret-value")
	writeFile(t, filepath.Join(dir, "surveysync.yaml"), fmt.Sprintf(`
store: sqlite:./data/ledger.db
listen: %s
dispatch:
  backoff_min: 50ms
  backoff_max: 2s
sources:
  hooks:
    type: webhook
    path: /hooks/survey
    auth:
      signature: {header: X-Signature, encoding: hex, secret: "${file:./webhook.secret}"}
    key: id
    submitted_at: at
  imports:
    type: file
    paths: [./inbox/*.jsonl]
    key: id
    submitted_at: at
    chunk: 500
destinations:
  crm:
    type: http
    endpoint: %s
    timeout: 5s
    concurrency: 8
    throttle_backoff: 20ms
syncs:
  - {name: hooks-to-crm, source: hooks, mapping: mappings/crm.yaml, to: crm}
  - {name: imports-to-crm, source: imports, mapping: mappings/crm.yaml, to: crm}
`, listen, srv.URL))
	writeFile(t, filepath.Join(dir, "mappings/crm.yaml"), `
request:
  method: POST
  path: /effects
  idempotency_key: "{{ delivery_key }}"
  body:
    key: "{{ key }}"
    score: "{{ score }}"
    comment: "{{ comment }}"
`)
	var lines strings.Builder
	for i := range perSource {
		fmt.Fprintf(&lines, `{"id":"file-%05d","score":%d,"at":"2026-11-0%dT10:00:00Z","comment":"line \"%d\" é 😀"}`+"\n", i, i%11, 1+i%9, i)
	}
	writeFile(t, filepath.Join(dir, "inbox/responses.jsonl"), lines.String())

	d := startDaemon(t, dir)
	defer func() {
		if t.Failed() {
			out := d.output()
			if len(out) > 20000 {
				out = out[len(out)-20000:]
			}
			t.Logf("daemon output (tail):\n%s", out)
		}
	}()
	sender := &webhookSender{url: "http://" + listen + "/hooks/survey", secret: []byte("e2e-webhook-secret-value")}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				key := fmt.Sprintf("hook-%05d", i)
				body := fmt.Sprintf(`{"id":%q,"score":%d,"at":%d,"comment":"hook %d: \"quoted\" {braces}"}`, key, i%11, 1732186844+i, i)
				sender.send(key, []byte(body))
			}
		}()
	}
	go func() {
		for i := range perSource {
			work <- i
		}
		close(work)
	}()

	// Crash the daemon in the middle of delivery, then start it again.
	waitFor(t, 30*time.Second, "a third of the responses to be delivered", func() bool { return recv.appliedCount() >= 2*perSource/3 })
	d.kill9()
	t.Logf("killed with SIGKILL after %d effects", recv.appliedCount())
	d.start()

	wg.Wait()
	waitFor(t, 120*time.Second, "every response to be delivered", func() bool { return recv.appliedCount() == 2*perSource })
	// Let any straggling retry land, then compare with the ledger.
	waitFor(t, 60*time.Second, "status to show nothing pending", func() bool {
		s := readStatus(t, dir, nil)
		for _, x := range s.Syncs {
			if x.Pending != 0 {
				return false
			}
		}
		return true
	})
	if err := d.stop(); err != nil {
		t.Errorf("graceful stop: %v\n%s", err, d.output())
	}

	recv.mu.Lock()
	defer recv.mu.Unlock()
	for i := range perSource {
		for _, key := range []string{fmt.Sprintf("file-%05d", i), fmt.Sprintf("hook-%05d", i)} {
			if n := recv.applied[key]; n != 1 {
				t.Errorf("response %s has %d effects, want exactly 1", key, n)
			}
			if ks := recv.idemKeys[key]; len(ks) != 1 {
				t.Errorf("response %s was sent with %d different idempotency keys %v, want 1", key, len(ks), ks)
			}
		}
		key := fmt.Sprintf("hook-%05d", i)
		if _, ok := sender.acked.Load(key); !ok {
			t.Errorf("webhook %s was never acknowledged", key)
		}
	}
	if recv.noKey > 0 {
		t.Errorf("%d requests carried no idempotency key", recv.noKey)
	}
	s := readStatus(t, dir, nil)
	total := int64(0)
	for _, x := range s.Syncs {
		if x.Dead != 0 || x.Pending != 0 {
			t.Errorf("sync %s: %d dead, %d pending; want 0 and 0", x.Name, x.Dead, x.Pending)
		}
		if x.Delivered != perSource {
			t.Errorf("sync %s: status says %d delivered, want %d", x.Name, x.Delivered, perSource)
		}
		total += x.Delivered
	}
	t.Logf("requests %d (5xx %d, 429 %d, reset after apply %d), webhook tries %d, delivered %d",
		recv.requests, recv.errors5xx, recv.throttled, recv.resets, sender.tries.Load(), total)
	if recv.resets == 0 || recv.errors5xx == 0 || recv.throttled == 0 {
		t.Errorf("the receiver injected too few faults to prove anything")
	}
}
