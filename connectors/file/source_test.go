package file_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	_ "github.com/surveysync/surveysync/connectors/all"
	"github.com/surveysync/surveysync/connectors/file"
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// ledger is an engine with its ledger in a temporary directory, running
// nothing: the tests drive a file source against its ingest path.
type ledger struct {
	dir   string
	logs  *syncBuffer
	e     *engine.Engine
	sink  connectors.Sink
	src   *file.Source
	clock time.Time
}

// newLedger configures source "in" with the given settings (YAML flow
// mapping entries after the type) and one sync to an http destination that
// is never dispatched to, so that planned deliveries can be counted.
func newLedger(t *testing.T, settings string) *ledger {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "inbox"), 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "m.yaml", "request: {method: POST, path: /x, body: {k: \"{{ key }}\"}}\n")
	write(t, dir, "surveysync.yaml", fmt.Sprintf(`store: sqlite:./ledger.db
sources:
  in: {type: file, %s}
destinations:
  out: {type: http, endpoint: "http://127.0.0.1:1"}
syncs:
  - {name: s, source: in, mapping: m.yaml, to: out}
`, settings))
	cfg, errs := config.Load(filepath.Join(dir, "surveysync.yaml"))
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	plan, errs := engine.Compile(cfg)
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	l := &ledger{dir: dir, logs: &syncBuffer{}, clock: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	e, err := engine.New(context.Background(), plan, engine.Options{
		Now:   func() time.Time { return l.clock },
		Parts: engine.Parts{NoHTTP: true, NoSources: true, NoDispatch: true, NoScores: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	l.e = e
	l.sink, _ = e.Sink("in")
	// The source under test is built from the compiled configuration, as
	// the engine builds it.
	fc := plan.Sources[0].Config.(*file.Config)
	l.src, err = file.New("in", fc, connectors.Deps{
		Dir:    dir,
		Now:    func() time.Time { return l.clock },
		Logger: slog.New(slog.NewTextHandler(l.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// drop writes a file into the inbox the way a drop folder should be fed:
// under a name the globs do not match, then renamed.
func (l *ledger) drop(t *testing.T, name, content string) string {
	t.Helper()
	tmp := write(t, l.dir, "inbox/."+name+".part", content)
	final := filepath.Join(l.dir, "inbox", name)
	if err := os.Rename(tmp, final); err != nil {
		t.Fatal(err)
	}
	return final
}

// keys returns the stored responses' keys, sorted.
func (l *ledger) keys(t *testing.T) []string {
	t.Helper()
	var out []string
	err := l.e.Store().ScanResponses(context.Background(), "in", time.Time{}, time.Time{}, func(r *survey.Response) error {
		out = append(out, r.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// pending counts the deliveries planned for the sync.
func (l *ledger) pending(t *testing.T) int64 {
	t.Helper()
	st, err := l.e.Store().Stats(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st.Syncs {
		if s.Sync == "s" {
			return s.Pending + s.Sending + s.Delivered
		}
	}
	return 0
}

type reject struct{ Ref, Reason string }

func (l *ledger) rejects(t *testing.T) []reject {
	t.Helper()
	rs, err := l.e.Store().Rejects(context.Background(), "in", 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []reject
	for _, r := range rs {
		out = append(out, reject{r.Ref, r.Reason})
	}
	return out
}

func (l *ledger) ingestAll(t *testing.T) []file.FileReport {
	t.Helper()
	files, err := l.src.Files()
	if err != nil {
		t.Fatal(err)
	}
	var out []file.FileReport
	for _, f := range files {
		rep, err := l.src.IngestFile(context.Background(), l.sink, f, false, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, rep)
	}
	return out
}

func jsonl(keys ...string) string {
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "{\"id\": %q, \"rating\": 5}\n", k)
	}
	return b.String()
}

func TestEachFileIsIngestedOnce(t *testing.T) {
	t.Parallel()
	l := newLedger(t, "paths: [./inbox/*.jsonl, ./inbox/*.csv, ./inbox/a.jsonl], key: id, chunk: 2")
	l.drop(t, "a.jsonl", jsonl("a1", "a2", "a3"))
	l.drop(t, "b.csv", "id,rating\nb1,4\nb2,3\n")
	write(t, l.dir, "inbox/ignored.txt", "not matched")

	files, err := l.src.Files()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(l.dir, "inbox", "a.jsonl"), filepath.Join(l.dir, "inbox", "b.csv")}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("Files, each once and sorted (-want +got):\n%s", diff)
	}

	first := l.ingestAll(t)
	if first[0].Inserted != 3 || first[1].Inserted != 2 || first[0].Read != 3 || first[1].Read != 2 {
		t.Errorf("first run: %+v", first)
	}
	second := l.ingestAll(t)
	for i, rep := range second {
		if !rep.Skipped || rep.Read != 0 {
			t.Errorf("second run, file %d: %+v, want skipped unread", i, rep)
		}
	}
	// The same content under another name is the same file.
	l.drop(t, "a-copy.jsonl", jsonl("a1", "a2", "a3"))
	for _, rep := range l.ingestAll(t) {
		if !rep.Skipped {
			t.Errorf("a copy of an ingested file was read again: %+v", rep)
		}
	}
	// A file that grew is new content: read again, the old records are
	// duplicates.
	grown := l.drop(t, "b.csv", "id,rating\nb1,4\nb2,3\nb3,1\n")
	rep, err := l.src.IngestFile(context.Background(), l.sink, grown, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Inserted != 1 || rep.Duplicates != 2 {
		t.Errorf("grown file: %+v, want 1 inserted and 2 duplicates", rep)
	}
	if diff := cmp.Diff([]string{"a1", "a2", "a3", "b1", "b2", "b3"}, l.keys(t)); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
	if n := l.pending(t); n != 6 {
		t.Errorf("%d deliveries planned, want 6", n)
	}
}

// failingSink passes the first n Ingest calls to the ledger and fails the
// rest, as a crash or Ctrl-C half-way through a file would.
type failingSink struct {
	connectors.Sink
	left atomic.Int32
}

var errInterrupted = errors.New("interrupted")

func (s *failingSink) Ingest(ctx context.Context, rs []survey.Response, st []store.SourceState) (connectors.IngestReport, error) {
	if s.left.Add(-1) < 0 {
		return connectors.IngestReport{}, errInterrupted
	}
	return s.Sink.Ingest(ctx, rs, st)
}

func TestInterruptedFileIsReadAgainWithoutDuplicates(t *testing.T) {
	t.Parallel()
	l := newLedger(t, "paths: [./inbox/*.jsonl], key: id, chunk: 3")
	var keys []string
	for i := range 10 {
		keys = append(keys, fmt.Sprintf("r%02d", i))
	}
	// The bad line comes after the interruption, so it is recorded once.
	path := l.drop(t, "big.jsonl", jsonl(keys...)+"{broken\n")

	broken := &failingSink{Sink: l.sink}
	broken.left.Store(2) // two chunks of three get in, then it stops
	if _, err := l.src.IngestFile(context.Background(), broken, path, false, nil); !errors.Is(err, errInterrupted) {
		t.Fatalf("IngestFile = %v, want the interruption", err)
	}
	if diff := cmp.Diff(keys[:6], l.keys(t)); diff != "" {
		t.Errorf("stored before the interruption (-want +got):\n%s", diff)
	}

	// The file was not marked as ingested: it is read again from the start.
	var progress []int
	rep, err := l.src.IngestFile(context.Background(), l.sink, path, false, func(read int, _ connectors.IngestReport) {
		progress = append(progress, read)
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped || rep.Read != 11 || rep.Inserted != 4 || rep.Duplicates != 6 || rep.Rejected != 1 {
		t.Errorf("second read: %+v, want 11 read, 4 inserted, 6 duplicates, 1 rejected", rep)
	}
	if diff := cmp.Diff([]int{3, 6, 9, 11}, progress); diff != "" {
		t.Errorf("progress after each chunk (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(keys, l.keys(t)); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
	if n := l.pending(t); n != 10 {
		t.Errorf("%d deliveries planned, want one per response (10)", n)
	}
	if n := len(l.rejects(t)); n != 1 {
		t.Errorf("%d rejects, want 1", n)
	}
	// Now it is done.
	if rep, err := l.src.IngestFile(context.Background(), l.sink, path, false, nil); err != nil || !rep.Skipped {
		t.Errorf("third read: %+v, %v; want skipped", rep, err)
	}
}

func TestRejectsAreRecordedWithTheirPlace(t *testing.T) {
	t.Parallel()
	l := newLedger(t, `paths: ["./inbox/*"], key: Response ID, submitted_at: Submitted, accept: [{field: Status, not_equals: test}]`)
	l.drop(t, "week.csv", "\ufeff\"Response ID\",Submitted,Status\n"+
		"r1,2026-05-01 10:00,done\n"+ // line 2
		",2026-05-01 11:00,done\n"+ // line 3: no key
		"r3,yesterday,done\n"+ // line 4: bad time
		"r4,2026-05-01 12:00\n"+ // line 5: a field short
		"r5,2026-05-01 13:00,test\n"+ // line 6: dropped by accept
		"\"r6\nstill r6\",2026-05-01 14:00,done\n") // lines 7-8: one record
	l.drop(t, "more.jsonl", "{\"Response ID\": \"j1\", \"Submitted\": 1777629600}\n[1]\n\n{\"Response ID\": \"j2\", \"Submitted\": \"2026-05-01T10:00:00+02:00\", \"Status\": \"done\"}\n")
	l.ingestAll(t)

	want := []reject{
		{"more.jsonl:2", "expected a JSON object"},
		{"week.csv:3", "key: the key expression yielded an empty value"},
		{"week.csv:4", `submitted_at: "yesterday" is not a time (want RFC 3339 such as 2026-05-01T10:00:00Z, YYYY-MM-DD hh:mm:ss, or Unix seconds)`},
		{"week.csv:5", "row has 2 fields, the header has 3"},
	}
	if diff := cmp.Diff(want, l.rejects(t)); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"j1", "j2", "r1", "r6\nstill r6"}, l.keys(t)); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
	var times []string
	l.e.Store().ScanResponses(context.Background(), "in", time.Time{}, time.Time{}, func(r *survey.Response) error {
		times = append(times, r.Key+" "+r.SubmittedAt.UTC().Format(time.RFC3339))
		return nil
	})
	wantTimes := []string{"j2 2026-05-01T08:00:00Z", "r1 2026-05-01T10:00:00Z", "j1 2026-05-01T10:00:00Z", "r6\nstill r6 2026-05-01T14:00:00Z"}
	slices.Sort(times)
	slices.Sort(wantTimes)
	if diff := cmp.Diff(wantTimes, times); diff != "" {
		t.Errorf("submission times (-want +got):\n%s", diff)
	}
	// A payload kept with its reject can be replayed once the cause is fixed.
	rs, err := l.e.Store().Rejects(context.Background(), "in", 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(rs[1].Payload); got != `{"Response ID":"","Status":"done","Submitted":"2026-05-01 11:00"}` {
		t.Errorf("the keyless CSV row was kept as %q, want the object it became", got)
	}
	if got := string(rs[0].Payload); got != "[1]" {
		t.Errorf("the JSON line was kept as %q, want its bytes", got)
	}
	if got := string(rs[3].Payload); got != `["r4","2026-05-01 12:00"]` {
		t.Errorf("the short CSV row was kept as %q, want its fields", got)
	}
}

func TestWatchPicksUpNewFiles(t *testing.T) {
	t.Parallel()
	l := newLedger(t, "paths: [./inbox/*.jsonl], key: id, watch: 10ms")
	l.drop(t, "1.jsonl", jsonl("w1"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.src.Run(ctx, l.sink) }()
	waitFor(t, "the first file", func() bool { return len(l.keys(t)) == 1 })
	l.drop(t, "2.jsonl", jsonl("w2", "w3"))
	waitFor(t, "the dropped file", func() bool { return len(l.keys(t)) == 3 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil when its context ends", err)
	}
	if diff := cmp.Diff([]string{"w1", "w2", "w3"}, l.keys(t)); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
}

func TestRunReadsOnceWithoutWatch(t *testing.T) {
	t.Parallel()
	l := newLedger(t, "paths: [./inbox/*.jsonl, ./inbox/*.json], key: id")
	l.drop(t, "1.jsonl", jsonl("o1", "o2"))
	l.drop(t, "2.json", `[{"id": "o3"}, {"id": `)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.src.Run(ctx, l.sink) }()
	// A file that cannot be read to its end is logged and left for the
	// next start; Run keeps running.
	waitFor(t, "the failure to be logged", func() bool { return strings.Contains(l.logs.String(), "reading file failed") })
	if !strings.Contains(l.logs.String(), "2.json") {
		t.Errorf("the log does not name the file: %s", l.logs.String())
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned %v before its context ended", err)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if diff := cmp.Diff([]string{"o1", "o2"}, l.keys(t)); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
	if rep, err := l.src.IngestFile(context.Background(), l.sink, filepath.Join(l.dir, "inbox", "2.json"), false, nil); err == nil || rep.Skipped {
		t.Errorf("the broken file was marked as ingested: %+v, %v", rep, err)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBackfillReadsAgainWithinTheWindow(t *testing.T) {
	t.Parallel()
	l := newLedger(t, "paths: [./inbox/*.jsonl], key: id, submitted_at: at")
	history := l.drop(t, "history.jsonl", strings.Join([]string{
		`{"id": "jan", "at": "2026-01-10T00:00:00Z"}`,
		`{"id": "feb", "at": "2026-02-10T00:00:00Z"}`,
		`{"id": "feb-end", "at": "2026-03-01T00:00:00Z"}`,
		`{"id": "mar", "at": "2026-03-10T00:00:00Z"}`,
		`{"no": "key"}`,
	}, "\n")+"\n")
	window := connectors.BackfillRequest{
		Since: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		Until: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), // exclusive
	}
	var progress []int
	if err := l.src.Backfill(context.Background(), l.sink, window, func(n int) { progress = append(progress, n) }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"feb"}, l.keys(t)); diff != "" {
		t.Errorf("stored after the February backfill (-want +got):\n%s", diff)
	}
	if len(progress) == 0 || progress[len(progress)-1] != 5 {
		t.Errorf("progress = %v, want it to end at the 5 records read", progress)
	}
	// The backfill read only part of the file: the live source must still
	// read all of it.
	rep, err := l.src.IngestFile(context.Background(), l.sink, history, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped || rep.Inserted != 3 || rep.Duplicates != 1 {
		t.Errorf("live read after the backfill: %+v, want 3 inserted and 1 duplicate", rep)
	}
	// A backfill reads files already ingested, and files named on the
	// command line instead of the configured paths.
	other := write(t, l.dir, "export-2025.jsonl", `{"id": "dec", "at": "2025-12-24T18:00:00Z"}`+"\n")
	if err := l.src.Backfill(context.Background(), l.sink, connectors.BackfillRequest{Files: []string{history, other}}, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"dec", "feb", "feb-end", "jan", "mar"}, l.keys(t)); diff != "" {
		t.Errorf("stored keys (-want +got):\n%s", diff)
	}
	if n := l.pending(t); n != 5 {
		t.Errorf("%d deliveries planned, want 5 (nothing doubled)", n)
	}
	// The file named only on the command line is not remembered either.
	if rep, err := l.src.IngestFile(context.Background(), l.sink, other, false, nil); err != nil || rep.Skipped {
		t.Errorf("a backfilled file counts as ingested: %+v, %v", rep, err)
	}

	empty := newLedger(t, "paths: [./inbox/*.jsonl], key: id")
	if err := empty.src.Backfill(context.Background(), empty.sink, connectors.BackfillRequest{}, nil); err == nil || !strings.Contains(err.Error(), "no files to read") {
		t.Errorf("Backfill with no files = %v", err)
	}
}

// TestEngineBackfillDryRun runs a backfill the way `surveysync backfill
// --dry-run` does, through the engine, which builds the file source itself.
func TestEngineBackfillDryRun(t *testing.T) {
	t.Parallel()
	l := newLedger(t, "paths: [./inbox/*.csv], key: id, submitted_at: at")
	l.drop(t, "h.csv", "id,at\na,2026-01-10\nb,2026-02-10\n,2026-02-11\nc,2026-03-10\n")
	rep, err := l.e.Backfill(context.Background(), engine.BackfillOptions{
		Source: "in",
		Since:  time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		Until:  time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		DryRun: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Read != 4 || rep.Responses != 1 || rep.Rejected != 1 || rep.Syncs[0].New != 1 {
		t.Errorf("dry run: read %d, responses %d, rejected %d, new %d; want 4, 1, 1, 1", rep.Read, rep.Responses, rep.Rejected, rep.Syncs[0].New)
	}
	if keys := l.keys(t); len(keys) != 0 {
		t.Errorf("a dry run stored %q", keys)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*file.Config)
		want string
	}{
		{"defaults with a path", func(c *file.Config) {}, ""},
		{"no paths", func(c *file.Config) { c.Paths = nil }, "paths: list at least one file or glob"},
		{"bad glob", func(c *file.Config) { c.Paths = []string{"inbox/[a-"} }, `paths: "inbox/[a-" is not a valid glob`},
		{"format", func(c *file.Config) { c.Format = "xlsx" }, `format: "xlsx": want auto, jsonl, json or csv`},
		{"chunk too small", func(c *file.Config) { c.Chunk = 0 }, "chunk: must be between 1 and 50000"},
		{"chunk too large", func(c *file.Config) { c.Chunk = 50001 }, "chunk: must be between 1 and 50000"},
		{"delimiter", func(c *file.Config) { c.CSV.Delimiter = ";;" }, "csv.delimiter: must be one character"},
		{"one-character delimiter", func(c *file.Config) { c.CSV.Delimiter = "§" }, ""},
		{"response settings", func(c *file.Config) { c.OnUpdate = "sometimes" }, `on_update: "sometimes"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := file.DefaultConfig()
			c.Paths = []string{"inbox/*.csv"}
			tc.edit(c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
