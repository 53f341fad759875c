package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surveysync/surveysync/sandbox"
	"github.com/surveysync/surveysync/sandbox/fault"
	"github.com/surveysync/surveysync/sandbox/sheetsapi"
)

// The soak test of the Sheets destination (issue 3's acceptance): the real
// binary delivers 10,000 responses from a file into a sandbox sheet while
// the sandbox applies 5 % of writes and then resets the connection, applies
// 5 % and then never answers, and delays every write by 25 ms; the daemon
// is killed with SIGKILL 20 times after random delays (seeded), every
// other time at the moment one of its appends reaches the sandbox (which
// applies it 25 ms later, unanswered), and started again each time. Every response must be in
// the sheet exactly once, no append may follow an unknown outcome without
// a key-column read, and status must show everything delivered and nothing
// dead.
//
// The sandbox runs in a process of its own, its sheets in that process's
// memory only. `surveysync sandbox` has no flag for the Sheets quota, and
// Google's 60 requests a minute would make the test last many minutes (a
// restarted daemon starts with a fresh budget while the sandbox still
// counts the killed one's requests), so the sandbox process is this test
// binary again (TestSoakSandboxProcess) running sandbox.New with the
// quota raised; the faults are given in the --faults syntax.

const (
	soakResponses   = 10_000
	soakKills       = 20
	soakFaults      = "reset=0.05,timeout=0.05,hold=5s,latency=25ms,seed=3"
	soakSpreadsheet = "soak-spreadsheet"
	soakSandboxEnv  = "SURVEYSYNC_SOAK_SANDBOX"
	// soakChecker is the quota user of the test's own reads, which the
	// sandbox's summary leaves out: they must not count as the
	// destination's key-column reads.
	soakChecker = "soak-checker"
)

func TestSoakSheetsKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end soak of the real binary; skipped with -short")
	}
	sb := startSoakSandbox(t)
	started := time.Now()

	dir := t.TempDir()
	listen := freeAddr(t)
	writeFile(t, filepath.Join(dir, "surveysync.yaml"), fmt.Sprintf(`
store: sqlite:./data/ledger.db
listen: %s
dispatch:
  backoff_min: 50ms
  backoff_max: 1s
  pause_probe: 200ms
  idle: 20ms
  lease: 1s
sources:
  inbox:
    type: file
    paths: [./inbox/*.jsonl]
    key: id
    submitted_at: at
    chunk: 500
destinations:
  sheet:
    type: google_sheets
    spreadsheet: %s
    endpoint: %s
    batch_rows: 40
    timeout: 1s
    reconcile_after: 0s
    quota: {writes_per_minute: 1200, reads_per_minute: 1200}
syncs:
  - {name: inbox-to-sheet, source: inbox, mapping: mappings/sheet.yaml, to: sheet}
`, listen, soakSpreadsheet, sb.url))
	writeFile(t, filepath.Join(dir, "mappings/sheet.yaml"), `
sheet: Responses
key: Response ID
columns:
  Response ID: "{{ key }}"
  Submitted:   {value: "{{ submitted_at }}", type: datetime}
  Score:       {value: "{{ score }}", type: number}
  Comment:     {value: "{{ comment }}", optional: true}
`)
	var lines strings.Builder
	for i := range soakResponses {
		fmt.Fprintf(&lines, `{"id":"soak-%05d","score":%d,"at":"2026-11-0%dT10:%02d:00Z","comment":"=HYPERLINK(\"x\") %d"}`+"\n", i, i%11, 1+i%9, i%60, i)
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
	rnd := rand.New(rand.NewPCG(20, 26))
	pendingAtKill, midAppend := 0, 0
	for kill := 1; kill <= soakKills; kill++ {
		time.Sleep(time.Duration(300+rnd.IntN(1500)) * time.Millisecond)
		if kill%2 == 0 && sb.nextAppend(2*time.Second) {
			midAppend++
		}
		d.kill9()
		if rows := sb.keyCount(t); rows < soakResponses {
			pendingAtKill++
		}
		d.start()
	}
	t.Logf("killed %d times (%d while an append was in flight), %d of them with responses not yet in the sheet, %s after the start",
		soakKills, midAppend, pendingAtKill, time.Since(started).Round(time.Millisecond))

	waitFor(t, 2*time.Minute, "every response to be delivered", func() bool {
		s := readStatus(t, dir, nil)
		return len(s.Syncs) == 1 && s.Syncs[0].Delivered == soakResponses && s.Syncs[0].Pending == 0
	})
	// The last start may still be opening its ledger: stop a running daemon.
	waitReady(t, listen)
	if err := d.stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}

	counts := map[string]int{}
	for _, k := range sb.keys(t) {
		counts[k]++
	}
	missing, doubled := 0, 0
	for i := range soakResponses {
		switch n := counts[fmt.Sprintf("soak-%05d", i)]; {
		case n == 0:
			missing++
		case n > 1:
			doubled++
			if doubled <= 5 {
				t.Errorf("soak-%05d is in the sheet %d times", i, n)
			}
		}
	}
	if missing > 0 || doubled > 0 || len(counts) != soakResponses {
		t.Errorf("%d responses missing, %d in the sheet more than once, %d distinct keys; want 0, 0, %d", missing, doubled, len(counts), soakResponses)
	}
	s := readStatus(t, dir, nil)
	for _, x := range s.Syncs {
		if x.Delivered != soakResponses || x.Dead != 0 || x.Pending != 0 {
			t.Errorf("status of %s: %d delivered, %d dead, %d pending; want %d, 0, 0", x.Name, x.Delivered, x.Dead, x.Pending, soakResponses)
		}
	}

	sum := sb.stop(t)
	t.Logf("sandbox: %d appends (%d applied), %d applied then reset, %d applied then held; %d key-column reads; finished in %s",
		sum.Appends, sum.Applied, sum.Resets, sum.Held, sum.KeyReads, time.Since(started).Round(time.Millisecond))
	if sum.BlindRetries > 0 {
		t.Errorf("%d appends followed an unknown outcome without a key-column read; first: %s", sum.BlindRetries, sum.FirstBlind)
	}
	if sum.Resets == 0 || sum.Held == 0 {
		t.Errorf("the sandbox injected %d resets and %d held answers: too few to prove anything", sum.Resets, sum.Held)
	}
}

// soakSummary is what the sandbox process reports when it stops.
type soakSummary struct {
	Appends      int    `json:"appends"`
	Applied      int    `json:"applied"` // appends that changed the sheet
	Resets       int    `json:"resets"`
	Held         int    `json:"held"`
	KeyReads     int    `json:"keyReads"`
	BlindRetries int    `json:"blindRetries"`
	FirstBlind   string `json:"firstBlind,omitempty"`
}

// soakSandbox is the sandbox process.
type soakSandbox struct {
	cmd     *exec.Cmd
	url     string
	stdin   io.Closer
	lines   chan string
	appends chan struct{} // a values.append reached the sandbox
}

func startSoakSandbox(t *testing.T) *soakSandbox {
	return startSandboxProcess(t, "TestSoakSandboxProcess", soakSandboxEnv, soakFaults)
}

// startSandboxProcess runs the test binary again with only test selected,
// which serves emulators when env is set to faults, and reads its first
// line, "addr HOST:PORT". Lines "append" signal appends on sb.appends; the
// others go to sb.lines.
func startSandboxProcess(t *testing.T, test, env, faults string) *soakSandbox {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env+"="+faults)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sb := &soakSandbox{cmd: cmd, stdin: stdin, lines: make(chan string, 16), appends: make(chan struct{}, 1)}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "append" {
				select {
				case sb.appends <- struct{}{}:
				default:
				}
				continue
			}
			sb.lines <- sc.Text()
		}
		close(sb.lines)
	}()
	sb.url = "http://" + sb.next(t, "addr ") + "/"
	return sb
}

// next returns the rest of the next output line starting with prefix.
func (sb *soakSandbox) next(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case line, ok := <-sb.lines:
			if !ok {
				t.Fatalf("sandbox process ended before printing %q", prefix)
			}
			if rest, found := strings.CutPrefix(line, prefix); found {
				return rest
			}
		case <-deadline:
			t.Fatalf("sandbox process printed no %q within a minute", prefix)
		}
	}
}

// nextAppend waits up to timeout for the next append to reach the sandbox.
func (sb *soakSandbox) nextAppend(timeout time.Duration) bool {
	select {
	case <-sb.appends: // an old one
	default:
	}
	select {
	case <-sb.appends:
		return true
	case <-time.After(timeout):
		return false
	}
}

// keys reads the key column of the Responses tab over plain HTTP, as any
// client of the Sheets API would.
func (sb *soakSandbox) keys(t *testing.T) []string {
	t.Helper()
	u := sb.url + "v4/spreadsheets/" + soakSpreadsheet + "/values/" + url.PathEscape("'Responses'!A2:A") + "?valueRenderOption=UNFORMATTED_VALUE&quotaUser=" + soakChecker
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("reading the key column: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusBadRequest && strings.Contains(string(body), "Unable to parse range") {
		return nil // the tab does not exist yet
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reading the key column: %s: %s", resp.Status, body)
	}
	var vr struct {
		Values [][]any `json:"values"`
	}
	if err := json.Unmarshal(body, &vr); err != nil {
		t.Fatalf("reading the key column: %v", err)
	}
	out := make([]string, 0, len(vr.Values))
	for _, row := range vr.Values {
		if len(row) > 0 {
			out = append(out, fmt.Sprint(row[0]))
		}
	}
	return out
}

func (sb *soakSandbox) keyCount(t *testing.T) int { return len(sb.keys(t)) }

// stop asks the sandbox for its summary and waits for it to exit.
func (sb *soakSandbox) stop(t *testing.T) soakSummary {
	t.Helper()
	var sum soakSummary
	sb.finish(t, "summary ", &sum)
	return sum
}

// finish closes the sandbox process's stdin, decodes the JSON of its line
// starting with prefix into sum, and waits for it to exit.
func (sb *soakSandbox) finish(t *testing.T, prefix string, sum any) {
	t.Helper()
	_ = sb.stdin.Close()
	if err := json.Unmarshal([]byte(sb.next(t, prefix)), sum); err != nil {
		t.Fatalf("sandbox summary: %v", err)
	}
	if err := sb.cmd.Wait(); err != nil {
		t.Errorf("sandbox process: %v", err)
	}
}

// TestSoakSandboxProcess is not a test: TestSoakSheetsKill9 runs the test
// binary again with this test selected to serve the sandbox in a process
// of its own, with the Sheets faults from $SURVEYSYNC_SOAK_SANDBOX (the
// --faults syntax) and a quota far above Google's. It prints "addr
// HOST:PORT", then "append" as each values.append arrives, serves until its
// stdin closes, then prints "summary {json}".
func TestSoakSandboxProcess(t *testing.T) {
	spec, ok := os.LookupEnv(soakSandboxEnv)
	if !ok {
		t.Skip("the sandbox process of TestSoakSheetsKill9")
	}
	faults, err := fault.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	const perMinute = 100_000
	sb, err := sandbox.New(sandbox.Options{
		Faults:       map[string]fault.Config{"sheets": faults},
		SheetsQuotas: &sheetsapi.Quotas{ReadPerUser: perMinute, ReadPerProject: perMinute, WritePerUser: perMinute, WritePerProject: perMinute},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if err := sb.Sheets().CreateSpreadsheetWithID(soakSpreadsheet, "Soak", "Sheet1"); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := sb.Handler()
	announce := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, ":append") {
			fmt.Println("append")
		}
		api.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: announce, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("addr %s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the test closes stdin
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)

	var log []sheetsapi.LogEntry
	for _, e := range sb.Sheets().Log() {
		if e.User != soakChecker {
			log = append(log, e)
		}
	}
	var sum soakSummary
	for _, e := range log {
		switch e.Operation {
		case sheetsapi.OpValuesAppend:
			sum.Appends++
			if e.Applied {
				sum.Applied++
			}
			switch e.Fault {
			case sheetsapi.FaultApplyThenReset:
				sum.Resets++
			case sheetsapi.FaultApplyThenTimeout:
				sum.Held++
			}
		case sheetsapi.OpValuesGet: // the destination reads only key columns so
			sum.KeyReads++
		}
	}
	blind := sheetsapi.BlindAppendRetries(log)
	sum.BlindRetries = len(blind)
	if len(blind) > 0 {
		sum.FirstBlind = fmt.Sprintf("%+v", blind[0])
	}
	out, _ := json.Marshal(sum)
	fmt.Printf("summary %s\n", out)
}
