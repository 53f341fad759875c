package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkBackfill1MPeakRSS runs the real binary's backfill of a file of
// 1,000,000 responses to an HTTP destination (batches of 500 per request)
// and reports the backfill process's peak resident memory. The goal is
// ≤ 150 MB: records are streamed in chunks, never held whole.
func BenchmarkBackfill1MPeakRSS(b *testing.B) {
	const n = 1_000_000
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	for range b.N {
		dir := b.TempDir()
		history := filepath.Join(dir, "history.jsonl")
		f, err := os.Create(history)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range n {
			fmt.Fprintf(w, `{"id":"r%07d","at":%q,"score":%d,"agent":"Maria","contact":{"email":"c%d@example.com"},"comment":"Quick and friendly, thanks!"}`+"\n",
				i, start.Add(time.Duration(i)*30*time.Second).Format(time.RFC3339), i%11, i%50000)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		cfg := fmt.Sprintf(`store: sqlite:./data/ledger.db
sources:
  imports: {type: file, paths: [./none/*.jsonl], key: id, submitted_at: at}
destinations:
  out: {type: http, endpoint: %q}
syncs:
  - {name: s, source: imports, mapping: m.yaml, to: out}
`, srv.URL)
		if err := os.WriteFile(filepath.Join(dir, "surveysync.yaml"), []byte(cfg), 0o600); err != nil {
			b.Fatal(err)
		}
		mapping := "request:\n  method: POST\n  path: /batch\n  idempotency_key: \"{{ delivery_key }}\"\n  body: {id: \"{{ key }}\", score: \"{{ score }}\"}\n  batch: {max: 500, path: items}\n"
		if err := os.WriteFile(filepath.Join(dir, "m.yaml"), []byte(mapping), 0o600); err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(buildBinary(b), "backfill", "--yes", "--source", "imports", "--config", filepath.Join(dir, "surveysync.yaml"), history)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("backfill: %v\n%s", err, out)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
		b.ReportMetric(float64(n)/cmd.ProcessState.UserTime().Seconds(), "responses/cpu-s")
	}
}
