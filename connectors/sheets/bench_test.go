package sheets_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	emu "github.com/surveysync/surveysync/sandbox/sheetsapi"
)

// BenchmarkSheetsDelivery measures what the issue promises: rows per
// minute delivered into one sheet under Google's default quota of 60 write
// and 60 read requests per minute per user, and the peak memory of the
// process delivering them.
//
// One op is one response delivered. The real engine (file source, SQLite
// ledger, dispatcher) and the real destination run in this process with
// their default batch_rows, batch_bytes and quota (60/min each); the
// emulator runs in a child process (this test binary again, see
// TestBenchEmulatorProcess) with its default quotas, over loopback, so the
// emulator's own memory is not counted. The timer covers the engine's
// start to the last delivery settled: tab creation, header writes and
// reads, ingestion and every append.
//
// Run it long enough to be bound by the quota, for example
//
//	go test -run='^$' -bench=SheetsDelivery -benchtime=300000x -timeout=0 ./connectors/sheets
//
// (over a minute; scripts/bench.sh sheets does this). Not much more: the
// destination creates the tab 26 columns wide, so 300,000 rows already
// take 7.8 of the workbook's 10 million cells, and past 9 million it warns
// and then pauses. Metrics: rows/min, end to end; steady-rows/min, after
// the quota buckets' initial burst of 10 requests; peak-RSS-MB, the VmHWM
// of this process, reset just before the engine starts (so it is the
// delivering process's peak, test harness included); appends/min and
// reads/min, the requests the emulator served; rows/append;
// emulator-RSS-MB, the emulator process's own peak.
func BenchmarkSheetsDelivery(b *testing.B) {
	em := startEmulatorProcess(b)
	dir := b.TempDir()
	writeBenchResponses(b, filepath.Join(dir, "in", "all.jsonl"), b.N)
	cfg := benchConfig(em.url, em.id)
	resetPeakRSS()

	b.ResetTimer()
	start := time.Now()
	run := startEngine(b, dir, cfg, testMapping, 5*time.Second)
	waitAllDelivered(b, run, int64(b.N))
	elapsed := time.Since(start)
	b.StopTimer()
	peak := peakRSS()
	run.stop()

	sum := em.stop(b)
	if sum.Rows != b.N {
		b.Fatalf("the sheet holds %d rows, want %d", sum.Rows, b.N)
	}
	minutes := elapsed.Minutes()
	b.ReportMetric(float64(b.N)/minutes, "rows/min")
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(sum.Ops[emu.OpValuesAppend])/minutes, "appends/min")
	b.ReportMetric(float64(sum.Reads)/minutes, "reads/min")
	if n := sum.Ops[emu.OpValuesAppend]; n > 0 {
		b.ReportMetric(float64(b.N)/float64(n), "rows/append")
	}
	b.ReportMetric(float64(sum.PeakRSS)/(1<<20), "emulator-RSS-MB")
	if sum.SteadyRowsPerMin > 0 {
		b.ReportMetric(sum.SteadyRowsPerMin, "steady-rows/min")
	}
	b.Logf("%d rows in %s; emulator served %v; %d answered 429", b.N, elapsed.Round(time.Millisecond), sortedOps(sum.Ops), sum.Throttled)
}

// benchConfig is surveysync.yaml for the benchmark: the JSONL file read
// once (no drop-folder watching), the engine's and the destination's
// defaults otherwise, Google's quota spelled out.
func benchConfig(url, id string) string {
	return fmt.Sprintf(`store: sqlite:./ledger.db
sources:
  files:
    type: file
    paths: [./in/*.jsonl]
    key: id
    submitted_at: at
destinations:
  sheet:
    type: google_sheets
    spreadsheet: %s
    endpoint: %s
    quota: {writes_per_minute: 60, reads_per_minute: 60}
syncs:
  - {name: responses, source: files, mapping: mapping.yaml, to: sheet}
`, id, url)
}

// waitAllDelivered waits until n deliveries are delivered and none is
// pending or dead. Reading the ledger's statistics is not free, so it polls
// once a second. A destination paused for 30 s fails the benchmark.
func waitAllDelivered(b *testing.B, run *running, n int64) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Minute)
	var pausedSince time.Time
	for {
		st := run.status()
		if st.Dead > 0 {
			b.Fatalf("%d dead deliveries: %s", st.Dead, st.LastError)
		}
		if st.Delivered == n && st.Pending == 0 {
			return
		}
		switch {
		case st.Paused == "":
			pausedSince = time.Time{}
		case pausedSince.IsZero():
			pausedSince = time.Now()
		case time.Since(pausedSince) > 30*time.Second:
			b.Fatalf("paused for 30 s with %d of %d delivered: %s", st.Delivered, n, st.Paused)
		}
		if time.Now().After(deadline) {
			b.Fatalf("after 30 minutes: %d of %d delivered (paused: %q)", st.Delivered, n, st.Paused)
		}
		time.Sleep(time.Second)
	}
}

// writeBenchResponses streams n responses to a JSONL file, so the file
// never sits in this process's memory.
func writeBenchResponses(b *testing.B, path string, n int) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	for i := range n {
		r := response{
			ID:       fmt.Sprintf("r-%07d", i),
			At:       at.Add(time.Duration(i) * time.Second).Format(time.RFC3339),
			Rating:   float64(1 + i%5),
			Promoter: i%3 == 0,
			Comment:  fmt.Sprintf("Delivery was quick, support answered within the hour (%d)", i),
		}
		if err := enc.Encode(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

func sortedOps(ops map[string]int) string {
	var parts []string
	for op, n := range ops {
		parts = append(parts, fmt.Sprintf("%s=%d", op, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// Peak memory ----------------------------------------------------------

// resetPeakRSS resets this process's VmHWM (Linux ≥ 4.0), so that the
// peak read later excludes the set-up; elsewhere it does nothing.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is this process's peak resident set size in bytes (VmHWM), or 0
// where /proc is not available.
func peakRSS() int64 { return procPeakRSS("self") }

func procPeakRSS(pid string) int64 {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// The emulator process ----------------------------------------------------

// emulatorProcessEnv makes the test binary host the emulator; see
// TestBenchEmulatorProcess.
const emulatorProcessEnv = "SURVEYSYNC_BENCH_EMULATOR"

// benchSpreadsheet is the spreadsheet the emulator process creates.
const benchSpreadsheet = "bench-sheet"

// emulatorSummary is what the emulator process reports when it stops.
type emulatorSummary struct {
	Ops       map[string]int `json:"ops"`
	Reads     int            `json:"reads"`
	Throttled int            `json:"throttled"`
	Rows      int            `json:"rows"`
	PeakRSS   int64          `json:"peakRSS"`
	// SteadyRowsPerMin is the rate of appended rows after the quota
	// buckets' initial burst: from the end of the burstAppends-th append to
	// the last one.
	SteadyRowsPerMin float64 `json:"steadyRowsPerMin"`
}

// burstAppends is how many appends the destination's write bucket lets
// through at once before pacing (a sixth of the minute's quota).
const burstAppends = 10

type emulatorProcess struct {
	cmd     *exec.Cmd
	url, id string
	stdin   interface{ Close() error }
	lines   chan string
}

// startEmulatorProcess runs the test binary as an emulator with Google's
// default quotas and one spreadsheet.
func startEmulatorProcess(b *testing.B) *emulatorProcess {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchEmulatorProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), emulatorProcessEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &emulatorProcess{cmd: cmd, id: benchSpreadsheet, stdin: stdin, lines: make(chan string, 16)}
	b.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	addr := p.next(b, "addr ", 30*time.Second)
	p.url = "http://" + addr + "/"
	return p
}

// next returns the rest of the next output line that starts with prefix.
func (p *emulatorProcess) next(b *testing.B, prefix string, timeout time.Duration) string {
	b.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				b.Fatalf("emulator process ended before printing %q", prefix)
			}
			if rest, found := strings.CutPrefix(line, prefix); found {
				return rest
			}
		case <-deadline:
			b.Fatalf("emulator process printed no %q within %s", prefix, timeout)
		}
	}
}

// stop asks the emulator for its summary and waits for it to exit.
func (p *emulatorProcess) stop(b *testing.B) emulatorSummary {
	b.Helper()
	_ = p.stdin.Close()
	var sum emulatorSummary
	if err := json.Unmarshal([]byte(p.next(b, "summary ", time.Minute)), &sum); err != nil {
		b.Fatalf("emulator summary: %v", err)
	}
	if err := p.cmd.Wait(); err != nil {
		b.Fatalf("emulator process: %v", err)
	}
	return sum
}

// TestBenchEmulatorProcess is not a test: BenchmarkSheetsDelivery runs the
// test binary again with this test selected to host the emulator in a
// process of its own. It prints "addr HOST:PORT", serves until its stdin
// closes, then prints "summary {json}" and exits.
func TestBenchEmulatorProcess(t *testing.T) {
	if os.Getenv(emulatorProcessEnv) == "" {
		t.Skip("the emulator process of BenchmarkSheetsDelivery")
	}
	srv := emu.New(emu.Options{}) // Google's default quotas
	if err := srv.CreateSpreadsheetWithID(benchSpreadsheet, "Bench", "Sheet1"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	fmt.Printf("addr %s\n", ln.Addr())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the benchmark closes stdin
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(ctx)

	sum := emulatorSummary{Ops: map[string]int{}}
	for _, l := range srv.Log() {
		sum.Ops[l.Operation]++
		if l.Method == http.MethodGet {
			sum.Reads++
		}
		if l.Status == http.StatusTooManyRequests {
			sum.Throttled++
		}
	}
	var appends []emu.LogEntry
	for _, l := range srv.Log() {
		if l.Operation == emu.OpValuesAppend && l.Status == http.StatusOK {
			appends = append(appends, l)
		}
	}
	if len(appends) > burstAppends+2 {
		rows := 0
		for _, l := range appends[burstAppends+1:] {
			rows += l.RowsWritten
		}
		span := appends[len(appends)-1].Time.Sub(appends[burstAppends].Time)
		sum.SteadyRowsPerMin = float64(rows) / span.Minutes()
	}
	if vals := srv.Values(benchSpreadsheet, "Responses"); len(vals) > 0 {
		sum.Rows = len(vals) - 1
	}
	sum.PeakRSS = procPeakRSS("self")
	out, _ := json.Marshal(sum)
	fmt.Printf("summary %s\n", out)
	srv.Close()
}
