package zendesk_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surveysync/surveysync/config"
	_ "github.com/surveysync/surveysync/connectors/file"    // the file source feeds the engine
	_ "github.com/surveysync/surveysync/connectors/zendesk" // the destination under test
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/store"
)

// daemon is the real engine running a configuration from a directory, with
// its SQLite ledger in that directory and no HTTP listener.
type daemon struct {
	t      *testing.T
	dir    string
	eng    *engine.Engine
	plan   *engine.Plan
	cancel context.CancelFunc
	done   chan error
}

// writeFile writes a file below dir, creating its directory.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// compile loads and compiles dir/surveysync.yaml, failing on any error.
func compile(t *testing.T, dir string) *engine.Plan {
	t.Helper()
	cfg, errs := config.Load(filepath.Join(dir, "surveysync.yaml"))
	if err := errs.Err(); err != nil {
		t.Fatalf("config: %v", err)
	}
	plan, errs := engine.Compile(cfg)
	if err := errs.Err(); err != nil {
		t.Fatalf("compile: %v", err)
	}
	return plan
}

// startDaemon runs the engine on dir until the test ends.
func startDaemon(t *testing.T, dir string) *daemon {
	t.Helper()
	plan := compile(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	e, err := engine.New(ctx, plan, engine.Options{Parts: engine.Parts{NoHTTP: true}, ShutdownGrace: 5 * time.Second})
	if err != nil {
		cancel()
		t.Fatalf("engine: %v", err)
	}
	d := &daemon{t: t, dir: dir, eng: e, plan: plan, cancel: cancel, done: make(chan error, 1)}
	go func() { d.done <- e.Run(ctx) }()
	t.Cleanup(d.stop)
	return d
}

// stop ends the engine and waits for it.
func (d *daemon) stop() {
	if d.cancel == nil {
		return
	}
	d.cancel()
	d.cancel = nil
	select {
	case err := <-d.done:
		if err != nil {
			d.t.Errorf("engine stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		d.t.Errorf("engine did not stop within 30s")
	}
}

// syncStats returns the ledger's counts for a sync.
func (d *daemon) syncStats(sync string) store.SyncStats {
	d.t.Helper()
	st, err := d.eng.Store().Stats(context.Background(), time.Time{})
	if err != nil {
		d.t.Fatalf("stats: %v", err)
	}
	for _, s := range st.Syncs {
		if s.Sync == sync {
			return s
		}
	}
	return store.SyncStats{Sync: sync}
}

// waitSettled waits until n deliveries of sync are delivered or dead and
// none is pending.
func (d *daemon) waitSettled(sync string, n int64, timeout time.Duration) store.SyncStats {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := d.syncStats(sync)
		if s.Delivered+s.Dead >= n && s.Pending == 0 && s.Sending == 0 {
			return s
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("sync %s not settled after %s: %+v", sync, timeout, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deadLetters lists a sync's dead deliveries.
func (d *daemon) deadLetters(sync string) []store.DeadLetter {
	d.t.Helper()
	dl, err := engine.DeadLetters(context.Background(), d.eng.Store(), sync, 1000)
	if err != nil {
		d.t.Fatal(err)
	}
	return dl
}
