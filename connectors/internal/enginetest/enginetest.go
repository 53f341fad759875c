// Package enginetest runs the real engine on a configuration directory,
// for the connectors' end-to-end tests: a SQLite ledger in the directory,
// every connector registered, no HTTP listener.
package enginetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surveysync/surveysync/config"
	_ "github.com/surveysync/surveysync/connectors/all" // every source and destination
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/store"
)

// Daemon is the real engine running a configuration from a directory, with
// its SQLite ledger in that directory and no HTTP listener.
type Daemon struct {
	t   *testing.T
	dir string
	// Engine is the running engine.
	Engine *engine.Engine
	// Plan is the compiled configuration it runs.
	Plan   *engine.Plan
	cancel context.CancelFunc
	done   chan error
}

// WriteFile writes a file below dir, creating its directory.
func WriteFile(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Compile loads and compiles dir/surveysync.yaml, failing on any error.
func Compile(t *testing.T, dir string) *engine.Plan {
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

// Start runs the engine on dir until the test ends.
func Start(t *testing.T, dir string) *Daemon {
	t.Helper()
	plan := Compile(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	e, err := engine.New(ctx, plan, engine.Options{Parts: engine.Parts{NoHTTP: true}, ShutdownGrace: 5 * time.Second})
	if err != nil {
		cancel()
		t.Fatalf("engine: %v", err)
	}
	d := &Daemon{t: t, dir: dir, Engine: e, Plan: plan, cancel: cancel, done: make(chan error, 1)}
	go func() { d.done <- e.Run(ctx) }()
	t.Cleanup(d.Stop)
	return d
}

// Stop ends the engine and waits for it.
func (d *Daemon) Stop() {
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

// SyncStats returns the ledger's counts for a sync.
func (d *Daemon) SyncStats(sync string) store.SyncStats {
	d.t.Helper()
	st, err := d.Engine.Store().Stats(context.Background(), time.Time{})
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

// WaitSettled waits until n deliveries of sync are delivered or dead and
// none is pending.
func (d *Daemon) WaitSettled(sync string, n int64, timeout time.Duration) store.SyncStats {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := d.SyncStats(sync)
		if s.Delivered+s.Dead >= n && s.Pending == 0 && s.Sending == 0 {
			return s
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("sync %s not settled after %s: %+v", sync, timeout, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// DeadLetters lists a sync's dead deliveries.
func (d *Daemon) DeadLetters(sync string) []store.DeadLetter {
	d.t.Helper()
	dl, err := engine.DeadLetters(context.Background(), d.Engine.Store(), sync, 1000)
	if err != nil {
		d.t.Fatal(err)
	}
	return dl
}
