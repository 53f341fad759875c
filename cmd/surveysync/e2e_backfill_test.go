package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surveysync/surveysync/engine"
)

// sandboxProc is `surveysync sandbox` running in its own process, so that
// its data outlives the daemons and backfills killed in a test.
type sandboxProc struct {
	url string
	cmd *exec.Cmd
	out *bytes.Buffer
}

func startSandboxProc(t *testing.T, args ...string) *sandboxProc {
	t.Helper()
	addr := freeAddr(t)
	out := &bytes.Buffer{}
	cmd := exec.Command(buildBinary(t), append([]string{"sandbox", "--listen", addr}, args...)...)
	w := lockedBuffer{mu: &sync.Mutex{}, buf: out} // one lock for both streams
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	p := &sandboxProc{url: "http://" + addr + "/", cmd: cmd, out: out}
	waitFor(t, 10*time.Second, "the sandbox to listen", func() bool {
		resp, err := http.Get(p.url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	return p
}

// column reads one column of a tab through the Sheets API.
func (p *sandboxProc) column(t *testing.T, spreadsheet, tab, col string) []string {
	t.Helper()
	rng := url.PathEscape(fmt.Sprintf("'%s'!%s:%s", tab, col, col))
	resp, err := http.Get(p.url + "v4/spreadsheets/" + spreadsheet + "/values/" + rng + "?majorDimension=COLUMNS")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var vr struct {
		Values [][]any `json:"values"`
	}
	if resp.StatusCode == http.StatusBadRequest {
		return nil // the tab does not exist yet
	}
	if err := json.NewDecoder(resp.Body).Decode(&vr); err != nil {
		t.Fatal(err)
	}
	if len(vr.Values) == 0 {
		return nil
	}
	out := make([]string, 0, len(vr.Values[0]))
	for _, v := range vr.Values[0][1:] { // below the header
		out = append(out, fmt.Sprint(v))
	}
	return out
}

func countKeys(keys []string) (unique int, dups []string) {
	seen := map[string]int{}
	for _, k := range keys {
		seen[k]++
		if seen[k] == 2 {
			dups = append(dups, k)
		}
	}
	return len(seen), dups
}

func writeBackfillConfig(t *testing.T, dir, sandboxURL, tab string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "surveysync.yaml"), fmt.Sprintf(`
store: sqlite:./data/ledger.db
listen: %s
dispatch: {backoff_min: 50ms, backoff_max: 2s}
sources:
  imports:
    type: file
    paths: [./inbox/*.jsonl]
    key: id
    submitted_at: at
destinations:
  sheet:
    type: google_sheets
    spreadsheet: sandbox-survey-responses
    endpoint: %s
    timeout: 2s
    reconcile_after: 5s
    quota: {writes_per_minute: 100000, reads_per_minute: 100000}
syncs:
  - {name: imports-to-sheet, source: imports, mapping: mappings/sheet.yaml, to: sheet}
`, freeAddr(t), sandboxURL))
	writeFile(t, filepath.Join(dir, "mappings/sheet.yaml"), fmt.Sprintf(`
sheet: %s
key: Response ID
columns:
  Response ID: "{{ key }}"
  Submitted: {value: "{{ submitted_at }}", type: datetime}
  Score: {value: "{{ score }}", type: integer}
  Comment: {value: "{{ comment }}", default: ""}
`, tab))
}

func writeHistory(t *testing.T, path string, from, n int) {
	t.Helper()
	var b strings.Builder
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, `{"id":"h-%06d","at":%q,"score":%d,"comment":"=SUM(A1) \"%d\""}`+"\n", i, start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), i%11, i)
	}
	writeFile(t, path, b.String())
}

func backfillJSON(t *testing.T, dir string, args ...string) *engine.BackfillReport {
	t.Helper()
	out, errOut, code := cli(t, dir, nil, append([]string{"backfill", "--json", "--yes", "--source", "imports"}, args...)...)
	if code != 0 {
		t.Fatalf("backfill %v exited %d:\n%s\n%s", args, code, errOut, out)
	}
	var r engine.BackfillReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("backfill --json: %v\n%s", err, out)
	}
	return &r
}

// TestBackfillKilledTwiceIsExactlyOnce backfills 50,000 responses into the
// Sheets sandbox with faults injected (resets and timeouts after the append
// was applied), killing the backfill with SIGKILL twice and running the same
// command again each time: every response ends up in the sheet exactly
// once, the dry run beforehand predicted what happened, and a second
// identical backfill adds nothing.
func TestBackfillKilledTwiceIsExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run of the real binary; skipped with -short")
	}
	const n = 50_000
	sb := startSandboxProc(t, "--sheets-quota", "0", "--faults", "sheets:reset=0.05,timeout=0.05,hold=3s,seed=3")
	dir := t.TempDir()
	writeBackfillConfig(t, dir, sb.url, "Backfill")
	history := filepath.Join(dir, "history.jsonl")
	writeHistory(t, history, 0, n)

	dry := backfillJSON(t, dir, "--dry-run", history)
	if dry.Read != n || dry.Syncs[0].New != n || dry.Syncs[0].AlreadyDelivered != 0 {
		t.Fatalf("dry run predicted %+v for %d fresh responses", dry.Syncs[0], n)
	}

	rnd := rand.New(rand.NewPCG(11, 13))
	for kill := 1; kill <= 2; kill++ {
		cmd := exec.Command(buildBinary(t), "backfill", "--yes", "--source", "imports", "--config", filepath.Join(dir, "surveysync.yaml"), history)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it once some rows are in the sheet, at a random moment.
		target := kill * n / 4
		waitFor(t, 2*time.Minute, "rows to arrive", func() bool { return len(sb.column(t, "sandbox-survey-responses", "Backfill", "A")) >= target })
		time.Sleep(time.Duration(rnd.IntN(300)) * time.Millisecond)
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		t.Logf("kill %d: SIGKILL with %d rows in the sheet", kill, len(sb.column(t, "sandbox-survey-responses", "Backfill", "A")))
	}
	final := backfillJSON(t, dir, history)
	keys := sb.column(t, "sandbox-survey-responses", "Backfill", "A")
	unique, dups := countKeys(keys)
	if len(keys) != n || unique != n || len(dups) > 0 {
		t.Fatalf("the sheet has %d rows, %d keys, duplicates %v; want %d once each", len(keys), unique, first(dups, 5), n)
	}
	s := readStatus(t, dir, nil)
	if s.Syncs[0].Delivered != n || s.Syncs[0].Dead != 0 || s.Syncs[0].Pending != 0 {
		t.Errorf("status after the backfill: %+v", s.Syncs[0])
	}
	if c := final.Syncs[0]; c.New+c.AlreadyDelivered+c.AlreadyPlanned != n {
		t.Errorf("the resumed run accounted for %d of %d responses: %+v", c.New+c.AlreadyDelivered+c.AlreadyPlanned, n, c)
	}
	// The dry run's prediction held: every predicted new response was delivered.
	if int64(dry.Syncs[0].New) != s.Syncs[0].Delivered {
		t.Errorf("the dry run predicted %d new, %d were delivered", dry.Syncs[0].New, s.Syncs[0].Delivered)
	}

	// A second identical backfill adds nothing, and its dry run says so.
	again := backfillJSON(t, dir, "--dry-run", history)
	if c := again.Syncs[0]; c.New != 0 || c.AlreadyDelivered != n {
		t.Errorf("a repeated dry run predicts %+v, want 0 new and %d already delivered", c, n)
	}
	backfillJSON(t, dir, history)
	if rows := len(sb.column(t, "sandbox-survey-responses", "Backfill", "A")); rows != n {
		t.Errorf("a second identical backfill changed the sheet to %d rows, want %d", rows, n)
	}
}

// TestBackfillBesideRunningDaemon runs a backfill on the same SQLite ledger
// as a live daemon that is delivering its own responses: no duplicates, no
// "database is locked" anywhere, and everything is delivered once.
func TestBackfillBesideRunningDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run of the real binary; skipped with -short")
	}
	sb := startSandboxProc(t, "--sheets-quota", "0")
	dir := t.TempDir()
	writeBackfillConfig(t, dir, sb.url, "Shared")
	writeHistory(t, filepath.Join(dir, "inbox/live.jsonl"), 0, 5000)
	d := startDaemon(t, dir)
	history := filepath.Join(dir, "history.jsonl")
	writeHistory(t, history, 3000, 10000) // overlaps the daemon's file by 2,000
	rep := backfillJSON(t, dir, history)
	waitFor(t, 2*time.Minute, "everything delivered", func() bool {
		s := readStatus(t, dir, nil)
		return s.Syncs[0].Pending == 0 && s.Syncs[0].Delivered == 13000
	})
	if err := d.stop(); err != nil {
		t.Error(err)
	}
	keys := sb.column(t, "sandbox-survey-responses", "Shared", "A")
	unique, dups := countKeys(keys)
	if len(keys) != 13000 || unique != 13000 {
		t.Errorf("the sheet has %d rows and %d keys (duplicates %v), want 13,000 once each", len(keys), unique, first(dups, 5))
	}
	for _, out := range []string{d.output()} {
		if strings.Contains(out, "database is locked") || strings.Contains(out, "SQLITE_BUSY") {
			t.Errorf("a lock error surfaced:\n%s", out)
		}
	}
	t.Logf("backfill: %+v", rep.Syncs[0])
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

var _ = os.Getpid
