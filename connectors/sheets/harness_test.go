package sheets_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	_ "github.com/surveysync/surveysync/connectors/file" // the file source feeds the engine tests
	"github.com/surveysync/surveysync/connectors/sheets"
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/mapping"
	emu "github.com/surveysync/surveysync/sandbox/sheetsapi"
	"github.com/surveysync/surveysync/survey"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// logBuffer collects logs and shows them when a test fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func testLogger(t testing.TB, level slog.Level) (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", lb.String())
		}
	})
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: level})), lb
}

// env is a Sheets emulator on a loopback listener with one spreadsheet.
type env struct {
	srv *emu.Server
	url string
	id  string
}

// newEnv starts an emulator; quotas are off unless opts sets them.
func newEnv(t testing.TB, opts emu.Options, tabs ...string) *env {
	t.Helper()
	if opts.Quotas == nil {
		opts.Quotas = &emu.Quotas{}
	}
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	srv := emu.New(opts)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	e := &env{srv: srv, url: ts.URL + "/", id: "sheet-" + strings.ReplaceAll(t.Name(), "/", "-")}
	if len(tabs) == 0 {
		tabs = []string{"Sheet1"}
	}
	if err := srv.CreateSpreadsheetWithID(e.id, "Survey", tabs...); err != nil {
		t.Fatal(err)
	}
	return e
}

// config returns a destination configuration for the emulator: no
// credentials, no pacing, a short timeout.
func (e *env) config() *sheets.Config {
	cfg := sheets.DefaultConfig()
	cfg.Spreadsheet = e.id
	cfg.Endpoint = e.url
	cfg.Quota = sheets.Quota{}
	cfg.Timeout = 5 * time.Second
	cfg.ReconcileAfter = 0
	return cfg
}

// dest builds a destination the way the engine does.
func (e *env) dest(t testing.TB, cfg *sheets.Config) *sheets.Destination {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	logger, _ := testLogger(t, slog.LevelDebug)
	d, err := sheets.New("sheet", cfg, connectors.Deps{Logger: logger, Clients: connectors.NewClients(logger, nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// newDestination builds a destination, returning New's error.
func newDestination(cfg *sheets.Config) (*sheets.Destination, error) {
	return sheets.New("sheet", cfg, connectors.Deps{Clients: connectors.NewClients(nil, nil)})
}

// values returns a tab's cells, as UNFORMATTED_VALUE reads them.
func (e *env) values(tab string) [][]any { return e.srv.Values(e.id, tab) }

// item renders a response into a delivery item.
func item(t testing.TB, m *mapping.Mapping, id int64, key, payload string) *connectors.Item {
	t.Helper()
	r := &survey.Response{Source: "files", Key: key, SubmittedAt: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), Payload: []byte(payload)}
	row, err := m.RenderRow(&mapping.Input{Response: r, Sync: "s", Version: 1})
	if err != nil {
		t.Fatalf("render %s: %v", key, err)
	}
	return &connectors.Item{DeliveryID: id, ResponseKey: key, DeliveryKey: fmt.Sprintf("dk-%d", id), Version: 1, Attempt: 1, Response: r, Row: &row}
}

// responseItem renders a test response as the engine would: submitted at
// its "at".
func responseItem(t testing.TB, m *mapping.Mapping, id int64, r response) *connectors.Item {
	t.Helper()
	payload, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	it := item(t, m, id, r.ID, string(payload))
	at, err := time.Parse(time.RFC3339, r.At)
	if err != nil {
		t.Fatal(err)
	}
	it.Response.SubmittedAt = at
	row, err := m.RenderRow(&mapping.Input{Response: it.Response, Sync: "s", Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	it.Row = &row
	return it
}

func batchOf(m *mapping.Mapping, items ...*connectors.Item) *connectors.Batch {
	return &connectors.Batch{Sync: "s", Mapping: m, Items: items}
}

// errClass returns the class of a result's error ("" when delivered).
func errClass(r connectors.Result) connectors.Class {
	c, _ := connectors.Classify(r.Err)
	return c
}

// table reads a tab as a header and rows keyed by the header.
type table struct {
	header []string
	rows   []map[string]any
}

func readTable(vals [][]any) table {
	var t table
	if len(vals) == 0 {
		return t
	}
	for _, h := range vals[0] {
		t.header = append(t.header, fmt.Sprint(h))
	}
	for _, r := range vals[1:] {
		row := map[string]any{}
		for i, v := range r {
			if i < len(t.header) && t.header[i] != "" {
				row[t.header[i]] = v
			}
		}
		t.rows = append(t.rows, row)
	}
	return t
}

// keyCounts counts the rows of each key.
func (t table) keyCounts(keyHeader string) map[string]int {
	out := map[string]int{}
	for _, r := range t.rows {
		if k, ok := r[keyHeader]; ok && k != "" {
			out[fmt.Sprint(k)]++
		}
	}
	return out
}

// engine harness ------------------------------------------------------

// response is one line of a JSONL file the file source reads.
type response struct {
	ID       string  `json:"id"`
	At       string  `json:"at"`
	Rating   float64 `json:"rating"`
	Promoter bool    `json:"promoter"`
	Comment  string  `json:"comment"`
}

func makeResponses(prefix string, n int) []response {
	out := make([]response, n)
	for i := range out {
		out[i] = response{
			ID:       fmt.Sprintf("%s-%05d", prefix, i),
			At:       time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
			Rating:   float64(1 + i%5),
			Promoter: i%3 == 0,
			Comment:  fmt.Sprintf("comment %s %d", prefix, i),
		}
	}
	return out
}

// serial is the Submitted cell expected for a response.
func (r response) serial(t testing.TB) float64 {
	at, err := time.Parse(time.RFC3339, r.At)
	if err != nil {
		t.Fatal(err)
	}
	return survey.DateTime(at.UTC()).SerialNumber()
}

// writeResponses drops a JSONL file into the source's folder atomically.
func writeResponses(t testing.TB, dir, name string, rs []response) {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range rs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(in, name+".tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(in, name+".jsonl")); err != nil {
		t.Fatal(err)
	}
}

// engineConfig is surveysync.yaml for the tests: a watched folder of JSONL
// files synced to the emulator. dest holds extra destination settings.
func engineConfig(e *env, dest string) string {
	if !strings.Contains(dest, "quota:") {
		dest += "quota: {writes_per_minute: 0, reads_per_minute: 0}\n"
	}
	return fmt.Sprintf(`store: sqlite:./ledger.db
dispatch:
  idle: 20ms
  backoff_min: 10ms
  backoff_max: 200ms
  pause_probe: 100ms
  lease: 10s
sources:
  files:
    type: file
    paths: [./in/*.jsonl]
    watch: 20ms
    key: id
    submitted_at: at
    on_update: redeliver
destinations:
  sheet:
    type: google_sheets
    spreadsheet: %s
    endpoint: %s
    reconcile_after: 0s
%s
syncs:
  - {name: responses, source: files, mapping: mapping.yaml, to: sheet}
`, e.id, e.url, indent(dest, "    "))
}

// running is an engine running in the background.
type running struct {
	t      testing.TB
	eng    *engine.Engine
	plan   *engine.Plan
	cancel context.CancelFunc
	done   chan error
}

// startEngine writes the configuration and mapping into dir and runs the
// real engine on them, with a SQLite ledger in dir.
func startEngine(t testing.TB, dir, cfgText, mappingText string, grace time.Duration) *running {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "mapping.yaml"), []byte(mappingText), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "surveysync.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, errs := config.Load(path)
	if len(errs.Errs()) > 0 {
		t.Fatalf("config: %v", errs)
	}
	plan, errs := engine.Compile(cfg)
	if len(errs.Errs()) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	logger, _ := testLogger(t, slog.LevelInfo)
	ctx := context.Background()
	eng, err := engine.New(ctx, plan, engine.Options{Logger: logger, Parts: engine.Parts{NoHTTP: true, NoScores: true}, ShutdownGrace: grace})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	r := &running{t: t, eng: eng, plan: plan, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- eng.Run(rctx) }()
	t.Cleanup(r.stop)
	return r
}

// stop ends the engine and waits for it.
func (r *running) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		r.t.Errorf("engine: %v", err)
	}
}

// status reads the sync's status from the ledger.
func (r *running) status() engine.SyncStatus {
	r.t.Helper()
	ledger := r.eng.Store()
	if r.cancel == nil {
		// The engine closed its ledger when it stopped: open it again.
		var err error
		if ledger, err = engine.OpenStore(context.Background(), r.plan.Config, nil, time.Now); err != nil {
			r.t.Fatalf("opening the ledger: %v", err)
		}
		defer ledger.Close()
	}
	st, err := engine.ReadStatus(context.Background(), r.plan, ledger, time.Now())
	if err != nil {
		r.t.Fatalf("status: %v", err)
	}
	return st.Syncs[0]
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	pollFor(t, timeout, 20*time.Millisecond, what, cond)
}

func pollFor(t testing.TB, timeout, every time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(every)
	}
}

// waitDelivered waits until n deliveries are delivered and none pending.
func (r *running) waitDelivered(n int64, timeout time.Duration) {
	r.t.Helper()
	// Reading the ledger's statistics is not free; do not compete with the
	// dispatcher for it.
	every := 20 * time.Millisecond
	if n > 1000 {
		every = 250 * time.Millisecond
	}
	var last engine.SyncStatus
	pollFor(r.t, timeout, every, fmt.Sprintf("%d delivered", n), func() bool {
		last = r.status()
		return last.Delivered == n && last.Pending == 0
	})
	if last.Dead != 0 {
		r.t.Fatalf("%d dead deliveries: %s", last.Dead, last.LastError)
	}
}

// checkRows checks that every response is in the tab exactly once with its
// own values in the right columns, whatever the column order.
func checkRows(t testing.TB, vals [][]any, rs []response) {
	t.Helper()
	tb := readTable(vals)
	counts := tb.keyCounts("Response ID")
	want := map[string]response{}
	for _, r := range rs {
		want[r.ID] = r
	}
	missing, dup := 0, 0
	for id := range want {
		switch counts[id] {
		case 0:
			missing++
		case 1:
		default:
			dup++
		}
	}
	if missing > 0 || dup > 0 || len(counts) != len(want) {
		t.Fatalf("%d missing keys, %d duplicated keys, %d keys in the sheet for %d responses", missing, dup, len(counts), len(want))
	}
	bad := 0
	for _, row := range tb.rows {
		r, ok := want[fmt.Sprint(row["Response ID"])]
		if !ok {
			continue
		}
		submitted := row["Submitted"] == r.serial(t) || row["Submitted"] == r.At // serial, or text with dates: text
		if row["Rating"] != r.Rating || row["Comment"] != r.Comment || !submitted || row["Promoter"] != r.Promoter {
			if bad < 5 {
				t.Errorf("row of %s is misaligned: %v (want rating %v, promoter %v, comment %q)", r.ID, row, r.Rating, r.Promoter, r.Comment)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%d misaligned rows", bad)
	}
}
