package engine_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// scriptDestination delivers as its test says, and records what it saw.
type scriptDestination struct {
	mu      sync.Mutex
	deliver func(ctx context.Context, it *connectors.Item) error
	seen    []connectors.Item
	effects map[string]int
	batches int
}

type scriptConfig struct {
	Name string `yaml:"name"`
}

func (*scriptConfig) Validate() error { return nil }

var (
	scriptsMu sync.Mutex
	scripts   = map[string]*scriptDestination{}
)

func init() {
	connectors.RegisterDestination(connectors.DestinationSpec{
		Type:    "test_script",
		Config:  func() connectors.Config { return &scriptConfig{} },
		Accepts: []mapping.Kind{mapping.SheetRows, mapping.Requests},
		New: func(_ string, cfg connectors.Config, _ connectors.Deps) (connectors.Destination, error) {
			scriptsMu.Lock()
			defer scriptsMu.Unlock()
			d, ok := scripts[cfg.(*scriptConfig).Name]
			if !ok {
				return nil, fmt.Errorf("no script %q", cfg.(*scriptConfig).Name)
			}
			return d, nil
		},
	})
}

func (d *scriptDestination) Deliver(ctx context.Context, b *connectors.Batch) []connectors.Result {
	out := make([]connectors.Result, len(b.Items))
	d.mu.Lock()
	d.batches++
	d.mu.Unlock()
	for i, it := range b.Items {
		d.mu.Lock()
		d.seen = append(d.seen, *it)
		fn := d.deliver
		d.mu.Unlock()
		var err error
		if fn != nil {
			err = fn(ctx, it)
		}
		if err == nil {
			d.mu.Lock()
			d.effects[it.ResponseKey+"#"+fmt.Sprint(it.Version)]++
			d.mu.Unlock()
		}
		out[i].Err = err
	}
	return out
}

func (d *scriptDestination) Close() error { return nil }

func (d *scriptDestination) setDeliver(fn func(ctx context.Context, it *connectors.Item) error) {
	d.mu.Lock()
	d.deliver = fn
	d.mu.Unlock()
}

func (d *scriptDestination) effectCount() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for k, v := range d.effects {
		out[k] = v
	}
	return out
}

func (d *scriptDestination) batchCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.batches
}

type testBundle struct {
	dir  string
	dest *scriptDestination
	e    *engine.Engine
	stop func()
}

// setup writes a configuration with one source and a script destination,
// starts the engine and returns it running.
func setup(t *testing.T, sourceExtra string) *testBundle {
	t.Helper()
	dir := t.TempDir()
	name := t.Name()
	dest := &scriptDestination{effects: map[string]int{}}
	scriptsMu.Lock()
	scripts[name] = dest
	scriptsMu.Unlock()
	write := func(file, content string) {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("m.yaml", "request: {method: POST, path: /x, body: {k: \"{{ key }}\", v: \"{{ v | default '' }}\"}}\n")
	write("surveysync.yaml", fmt.Sprintf(`store: sqlite:./ledger.db
dispatch: {backoff_min: 10ms, backoff_max: 50ms, pause_probe: 50ms, idle: 10ms, lease: 2s}
sources:
  in: {type: file, paths: [./none/*.jsonl], key: id%s}
destinations:
  out: {type: test_script, name: %q}
syncs:
  - {name: s, source: in, mapping: m.yaml, to: out}
`, sourceExtra, name))
	b := &testBundle{dir: dir, dest: dest}
	b.start(t)
	return b
}

func loadPlan(t *testing.T, dir string) *engine.Plan {
	t.Helper()
	cfg, errs := config.Load(filepath.Join(dir, "surveysync.yaml"))
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	plan, errs := engine.Compile(cfg)
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	return plan
}

func (b *testBundle) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e, err := engine.New(ctx, loadPlan(t, b.dir), engine.Options{Logger: testLogger(t), ShutdownGrace: 500 * time.Millisecond, Parts: engine.Parts{NoHTTP: true, NoSources: true, NoScores: true}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = e.Run(ctx); close(done) }()
	b.e = e
	b.stop = func() { cancel(); <-done }
	t.Cleanup(func() { b.stop() })
}

func (b *testBundle) ingest(t *testing.T, payloads ...string) {
	t.Helper()
	sink, _ := b.e.Sink("in")
	var rs []survey.Response
	for _, p := range payloads {
		fields, err := survey.DecodeObject([]byte(p))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, survey.Response{Source: "in", Key: fmt.Sprint(fields["id"]), Payload: []byte(p)})
	}
	if _, err := sink.Ingest(context.Background(), rs, nil); err != nil {
		t.Fatal(err)
	}
}

func (b *testBundle) status(t *testing.T) engine.SyncStatus {
	t.Helper()
	s, err := engine.ReadStatus(context.Background(), b.e.Plan(), b.e.Store(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s.Syncs[0]
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPermanentFailureIsDeadLetteredAndReplayable(t *testing.T) {
	b := setup(t, "")
	fixed := false
	var mu sync.Mutex
	b.dest.setDeliver(func(_ context.Context, it *connectors.Item) error {
		mu.Lock()
		defer mu.Unlock()
		if it.ResponseKey == "bad" && !fixed {
			return connectors.Permanent(errors.New("422 field \"score\" is invalid"))
		}
		return nil
	})
	b.ingest(t, `{"id":"good","v":1}`, `{"id":"bad","v":2}`)
	eventually(t, "one delivered and one dead", func() bool { s := b.status(t); return s.Delivered == 1 && s.Dead == 1 })
	dl, err := engine.DeadLetters(context.Background(), b.e.Store(), "s", 10)
	if err != nil || len(dl) != 1 || dl[0].Key != "bad" || dl[0].Reason != `422 field "score" is invalid` {
		t.Fatalf("dead letters = %+v, %v", dl, err)
	}
	mu.Lock()
	fixed = true
	mu.Unlock()
	n, err := engine.Replay(context.Background(), b.e.Plan(), b.e.Store(), engine.ReplayOptions{Sync: "s"})
	if err != nil || n != 1 {
		t.Fatalf("replay re-opened %d, %v; want 1", n, err)
	}
	eventually(t, "the replayed delivery", func() bool { s := b.status(t); return s.Delivered == 2 && s.Dead == 0 })
	if got := b.dest.effectCount(); got["good#1"] != 1 || got["bad#1"] != 1 {
		t.Errorf("effects = %v, want one each", got)
	}
}

func TestPausedDestinationKeepsItsBacklogAndResumes(t *testing.T) {
	b := setup(t, "")
	var mu sync.Mutex
	broken := true
	b.dest.setDeliver(func(_ context.Context, it *connectors.Item) error {
		mu.Lock()
		defer mu.Unlock()
		if broken {
			return connectors.Pausedf("tab \"CSAT\" has no column \"Rating\"; add it back")
		}
		return nil
	})
	b.ingest(t, `{"id":"a"}`, `{"id":"b"}`, `{"id":"c"}`)
	eventually(t, "the pause to show", func() bool { return b.status(t).Paused != "" })
	s := b.status(t)
	if s.Pending != 3 || s.Dead != 0 || s.Paused != `tab "CSAT" has no column "Rating"; add it back` {
		t.Fatalf("while paused: %+v", s)
	}
	mu.Lock()
	broken = false
	mu.Unlock()
	eventually(t, "everything delivered after the fix", func() bool { s := b.status(t); return s.Delivered == 3 && s.Paused == "" })
}

// TestPausedDestinationIsProbedAtItsPace checks that a paused destination
// without a probe of its own is tried with one real batch per pause_probe
// (50 ms here), not hammered, and not forgotten either.
func TestPausedDestinationIsProbedAtItsPace(t *testing.T) {
	b := setup(t, "")
	var mu sync.Mutex
	calls := 0
	b.dest.setDeliver(func(_ context.Context, it *connectors.Item) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return connectors.Pausedf("403: the service account lost access to the spreadsheet")
	})
	b.ingest(t, `{"id":"a"}`)
	eventually(t, "the pause to show", func() bool { return b.status(t).Paused != "" })
	mu.Lock()
	before := calls
	mu.Unlock()
	const window = 600 * time.Millisecond
	time.Sleep(window)
	mu.Lock()
	tried := calls - before
	mu.Unlock()
	if max := int(window/(50*time.Millisecond)) + 2; tried > max || tried < 2 {
		t.Errorf("%d attempts in %s while paused with pause_probe 50ms; want between 2 and %d", tried, window, max)
	}
	if s := b.status(t); s.Pending != 1 || s.Dead != 0 {
		t.Errorf("while paused: %+v; want the response pending, not dead", s)
	}
}

func TestUpdatePolicies(t *testing.T) {
	t.Run("latest", func(t *testing.T) {
		b := setup(t, "")
		block := make(chan struct{})
		b.dest.setDeliver(func(ctx context.Context, it *connectors.Item) error {
			<-block
			return nil
		})
		b.ingest(t, `{"id":"d1","v":"score only"}`)
		eventually(t, "delivery to start", func() bool { b.dest.mu.Lock(); defer b.dest.mu.Unlock(); return len(b.dest.seen) > 0 })
		close(block)
		eventually(t, "first delivery", func() bool { return b.status(t).Delivered == 1 })
		b.ingest(t, `{"id":"d1","v":"score and comment"}`)
		time.Sleep(100 * time.Millisecond)
		if got := b.dest.effectCount(); len(got) != 1 {
			t.Errorf("latest policy: effects %v, want the first only", got)
		}
	})
	t.Run("redeliver", func(t *testing.T) {
		b := setup(t, ", on_update: redeliver")
		b.ingest(t, `{"id":"d1","v":"score only"}`)
		eventually(t, "first delivery", func() bool { return b.status(t).Delivered == 1 })
		b.ingest(t, `{"id":"d1","v":"score and comment"}`)
		eventually(t, "the update delivered", func() bool { return b.dest.effectCount()["d1#2"] == 1 })
		b.ingest(t, `{"id":"d1","v":"score and comment"}`)
		time.Sleep(100 * time.Millisecond)
		got := b.dest.effectCount()
		if got["d1#1"] != 1 || got["d1#2"] != 1 || len(got) != 2 {
			t.Errorf("redeliver policy: effects %v, want version 1 and 2 once each", got)
		}
		b.dest.mu.Lock()
		last := b.dest.seen[len(b.dest.seen)-1]
		b.dest.mu.Unlock()
		if string(last.Response.Payload) != `{"id":"d1","v":"score and comment"}` {
			t.Errorf("the redelivery carried %s, want the new content", last.Response.Payload)
		}
	})
}

func TestShutdownCutsOffInFlightWorkWithinGraceAndReconcilesIt(t *testing.T) {
	b := setup(t, "")
	started := make(chan struct{}, 1)
	b.dest.setDeliver(func(ctx context.Context, it *connectors.Item) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return connectors.Ambiguous(ctx.Err())
	})
	b.ingest(t, `{"id":"slow"}`)
	<-started
	t0 := time.Now()
	b.stop()
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("shutdown took %s, want about the 500ms grace", d)
	}
	// The next run sees the cut-off delivery as uncertain and delivers it once.
	b.dest.setDeliver(func(context.Context, *connectors.Item) error { return nil })
	b.start(t)
	eventually(t, "the cut-off delivery", func() bool { return b.status(t).Delivered == 1 })
	b.dest.mu.Lock()
	last := b.dest.seen[len(b.dest.seen)-1]
	b.dest.mu.Unlock()
	if !last.Uncertain {
		t.Errorf("the retried delivery was not marked uncertain, so it would not be reconciled")
	}
}

func TestReloadKeepsTheRunningConfigurationWhenTheNewOneFails(t *testing.T) {
	b := setup(t, "")
	bad := loadPlan(t, b.dir)
	bad.Destinations[0].Config.(*scriptConfig).Name = "no-such-script"
	if err := b.e.Reload(bad); err == nil {
		t.Fatal("reload with a destination that cannot be built succeeded")
	}
	b.ingest(t, `{"id":"after-failed-reload"}`)
	eventually(t, "delivery by the old configuration", func() bool { return b.status(t).Delivered == 1 })
	if err := b.e.Reload(loadPlan(t, b.dir)); err != nil {
		t.Fatalf("reload with a good configuration: %v", err)
	}
	b.ingest(t, `{"id":"after-good-reload"}`)
	eventually(t, "delivery by the new configuration", func() bool { return b.status(t).Delivered == 2 })
}

var _ = store.Pending

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("ENGINE_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestSteadyStreamIsDeliveredInFewBatches ingests responses one at a
// time, back to back (a commit each), for a destination that answers at
// once: the dispatcher must gather them into batches (a claim that comes
// back short waits for more) rather than make a request and two ledger
// transactions for every response or two, as fast as the destination
// answers.
func TestSteadyStreamIsDeliveredInFewBatches(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	const n = 200
	start := time.Now()
	for i := range n {
		b.ingest(t, fmt.Sprintf(`{"id":"r%d"}`, i))
	}
	eventually(t, "every response delivered", func() bool { return len(b.dest.effectCount()) == n })
	// Claims come at most every 20 ms (the coalescing window) while they
	// come back short: a handful over the stream, however fast or slow
	// this machine commits. (Claiming again as soon as a batch is settled
	// made 40 batches of 200 here.)
	took := time.Since(start)
	want := int(took/(20*time.Millisecond)) + 3
	if got := b.dest.batchCount(); got > want {
		t.Errorf("%d responses over %s were delivered in %d batches, want at most %d", n, took.Round(time.Millisecond), got, want)
	}
}
