// Package storetest is the conformance suite of store.Store. It is written
// only against the interface, so every implementation (SQLite, Postgres)
// runs the same tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
//			return openEmptyStore(t, now)
//		})
//	}
//
// Time is injected: each test drives a Clock, so lease expiry and due times
// are tested without sleeping.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// Opener opens an empty store whose clock is now. The suite closes it.
type Opener func(t *testing.T, now func() time.Time) store.Store

// Run runs every conformance test against stores from open, each test in
// its own store and in parallel with the others.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) store.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests []test
	}{
		{"Ingest", ingestTests},
		{"Claim", claimTests},
		{"Settle", settleTests},
		{"Lease", leaseTests},
		{"Replay", replayTests},
		{"Stats", statsTests},
		{"Ledger", ledgerTests},
		{"Concurrency", concurrencyTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, newHarness(t, open))
				})
			}
		})
	}
}

// test is one conformance test.
type test struct {
	name string
	run  func(t *testing.T, h *harness)
}

// Epoch is when every test's clock starts.
var Epoch = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)

// Clock is a settable clock for tests. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads t until moved.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// harness is one test's store, clock and helpers that fail the test on
// unexpected errors.
type harness struct {
	t     *testing.T
	ctx   context.Context
	s     store.Store
	clock *Clock
}

// newHarness opens a store for t and closes it when t ends.
func newHarness(t *testing.T, open Opener) *harness {
	t.Helper()
	clock := NewClock(Epoch)
	s := open(t, clock.Now)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &harness{t: t, ctx: t.Context(), s: s, clock: clock}
}

// response builds a response whose payload records its key and a note, so
// two notes make two contents.
func response(source, key, note string, submitted time.Time) survey.Response {
	payload, _ := json.Marshal(map[string]string{"id": key, "note": note})
	return survey.Response{Source: source, Key: key, SubmittedAt: submitted, Payload: payload}
}

// incoming routes a response to syncs.
func incoming(r survey.Response, syncs ...string) store.Incoming {
	return store.Incoming{Response: r, Syncs: syncs}
}

// ingest ingests a batch and fails the test on error.
func (h *harness) ingest(batch ...store.Incoming) []store.IngestResult {
	h.t.Helper()
	res, err := h.s.Ingest(h.ctx, batch, nil)
	if err != nil {
		h.t.Fatalf("Ingest: %v", err)
	}
	if len(res) != len(batch) {
		h.t.Fatalf("Ingest returned %d results for %d responses", len(res), len(batch))
	}
	return res
}

// lease acquires a lease for an hour and fails the test on error.
func (h *harness) lease(name, holder string) store.Lease {
	h.t.Helper()
	l, err := h.s.AcquireLease(h.ctx, name, holder, time.Hour)
	if err != nil {
		h.t.Fatalf("AcquireLease(%s, %s): %v", name, holder, err)
	}
	return l
}

// claim claims up to limit deliveries of sync at the clock's time.
func (h *harness) claim(sync string, l store.Lease, limit int) []store.Delivery {
	h.t.Helper()
	ds, err := h.s.Claim(h.ctx, store.ClaimRequest{Sync: sync, Lease: l, Limit: limit, Now: h.clock.Now()})
	if err != nil {
		h.t.Fatalf("Claim(%s): %v", sync, err)
	}
	return ds
}

// settle settles outcomes and fails the test on error.
func (h *harness) settle(l store.Lease, outcomes ...store.Outcome) {
	h.t.Helper()
	if err := h.s.Settle(h.ctx, l, outcomes); err != nil {
		h.t.Fatalf("Settle: %v", err)
	}
}

// delivered is a successful outcome at the clock's time.
func (h *harness) delivered(d store.Delivery) store.Outcome {
	return store.Outcome{ID: d.ID, State: store.Delivered, At: h.clock.Now(), Ref: "ref-" + d.Response.Key}
}

// deliverAll claims and delivers every due delivery of sync.
func (h *harness) deliverAll(sync string, l store.Lease) []store.Delivery {
	h.t.Helper()
	ds := h.claim(sync, l, 1000)
	outcomes := make([]store.Outcome, len(ds))
	for i, d := range ds {
		outcomes[i] = h.delivered(d)
	}
	h.settle(l, outcomes...)
	return ds
}

// lookup returns the state of one key, failing the test if it is absent.
func (h *harness) lookup(source, key string) store.ResponseState {
	h.t.Helper()
	m, err := h.s.Lookup(h.ctx, source, []string{key})
	if err != nil {
		h.t.Fatalf("Lookup: %v", err)
	}
	rs, ok := m[key]
	if !ok {
		h.t.Fatalf("Lookup(%s, %s): absent", source, key)
	}
	return rs
}

// stats reads Stats with since and fails the test on error.
func (h *harness) stats(since time.Time) *store.Stats {
	h.t.Helper()
	st, err := h.s.Stats(h.ctx, since)
	if err != nil {
		h.t.Fatalf("Stats: %v", err)
	}
	return st
}

// syncStats returns one sync's stats, or zero counts if it has none.
func (h *harness) syncStats(sync string) store.SyncStats {
	h.t.Helper()
	for _, ss := range h.stats(time.Time{}).Syncs {
		if ss.Sync == sync {
			return ss
		}
	}
	return store.SyncStats{Sync: sync}
}

// keysOf lists the response keys of deliveries, in order.
func keysOf(ds []store.Delivery) []string {
	keys := make([]string, len(ds))
	for i, d := range ds {
		keys[i] = d.Response.Key
	}
	return keys
}

// note reads the note of a delivery's payload.
func note(t *testing.T, d store.Delivery) string {
	t.Helper()
	var p struct{ Note string }
	if err := json.Unmarshal(d.Response.Payload, &p); err != nil {
		t.Fatalf("delivery %d payload %q: %v", d.ID, d.Response.Payload, err)
	}
	return p.Note
}

// counts are the per-state counts of a sync, for comparisons.
type counts struct {
	Pending, Sending, Delivered, Dead, Uncertain int64
}

// countsOf picks the counts out of SyncStats.
func countsOf(ss store.SyncStats) counts {
	return counts{ss.Pending, ss.Sending, ss.Delivered, ss.Dead, ss.Uncertain}
}

// key is a test response key.
func key(i int) string { return fmt.Sprintf("r%03d", i) }
