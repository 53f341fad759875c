package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// procMemMB reads a VmRSS/VmHWM style field of a process, in MB.
func procMemMB(pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return -1
}

// BenchmarkDaemonMemory measures the daemon's resident memory: idle after
// start, and with 1,000,000 responses waiting in the ledger for a paused
// sync. Goals: idle ≤ 30 MB; 1,000,000 waiting ≤ 100 MB.
func BenchmarkDaemonMemory(b *testing.B) {
	const n = 1_000_000
	for range b.N {
		dir := b.TempDir()
		writeFile(b, filepath.Join(dir, "m.yaml"), "request: {method: POST, path: /x, body: {k: \"{{ key }}\"}}\n")
		writeFile(b, filepath.Join(dir, "surveysync.yaml"), fmt.Sprintf(`store: sqlite:./data/ledger.db
listen: %s
sources:
  imports: {type: file, paths: [./inbox/*.jsonl], key: id, submitted_at: at, watch: 1s}
destinations:
  out: {type: http, endpoint: "http://127.0.0.1:9"}
syncs:
  - {name: s, source: imports, mapping: m.yaml, to: out, paused: true}
`, freeAddr(b)))
		cmd := exec.Command(buildBinary(b), "run", "--config", filepath.Join(dir, "surveysync.yaml"))
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		idle := procMemMB(cmd.Process.Pid, "VmRSS")

		// Drop a file of 1,000,000 responses into the watched folder.
		inbox := filepath.Join(dir, "inbox")
		if err := os.MkdirAll(inbox, 0o755); err != nil {
			b.Fatal(err)
		}
		tmp := filepath.Join(dir, "big.tmp")
		f, _ := os.Create(tmp)
		w := bufio.NewWriter(f)
		for i := range n {
			fmt.Fprintf(w, `{"id":"r%07d","at":"2026-01-01T00:00:00Z","score":%d,"comment":"Quick and friendly, thanks!"}`+"\n", i, i%11)
		}
		w.Flush()
		f.Close()
		if err := os.Rename(tmp, filepath.Join(inbox, "big.jsonl")); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Minute)
		for {
			out, _, _ := cli(b, dir, nil, "status", "--json")
			if strings.Contains(out, fmt.Sprintf(`"pending": %d`, n)) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("the 1,000,000 responses were not all waiting after 30 minutes:\n%s", out)
			}
			time.Sleep(2 * time.Second)
		}
		time.Sleep(3 * time.Second)
		waiting := procMemMB(cmd.Process.Pid, "VmRSS")
		peak := procMemMB(cmd.Process.Pid, "VmHWM")
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		b.ReportMetric(idle, "idle-RSS-MB")
		b.ReportMetric(waiting, "1M-waiting-RSS-MB")
		b.ReportMetric(peak, "peak-RSS-MB")
	}
}
