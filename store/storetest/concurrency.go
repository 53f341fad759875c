package storetest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/surveysync/surveysync/store"
)

var concurrencyTests = []test{
	{"MixedLoad", testConcurrentMixedLoad},
}

// testConcurrentMixedLoad runs ingesters, competing dispatchers and readers
// at once. No error may surface, no delivery may be claimed by two holders
// at a time, and every delivery ends delivered exactly once.
func testConcurrentMixedLoad(t *testing.T, h *harness) {
	const (
		ingesters   = 4
		batches     = 5
		batchSize   = 20
		dispatchers = 3 // per sync, competing for its lease
		readers     = 2
		reads       = 20 // per reader
	)
	syncs := []string{"sheet", "crm"}
	total := ingesters * batches * batchSize

	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	var (
		mu        sync.Mutex
		inFlight  = map[int64]string{} // delivery → holder
		delivered = map[int64]int{}
		errs      []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
		cancel()
	}
	done := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) == total*len(syncs)
	}

	var wg sync.WaitGroup
	var ingestWG sync.WaitGroup
	for g := range ingesters {
		ingestWG.Add(1)
		wg.Go(func() {
			defer ingestWG.Done()
			for b := range batches {
				batch := make([]store.Incoming, batchSize)
				for i := range batch {
					k := fmt.Sprintf("g%d-b%d-%d", g, b, i)
					batch[i] = incoming(response("hook", k, "x", Epoch), syncs...)
				}
				// Every batch is sent twice, as a retrying provider would.
				for range 2 {
					if _, err := h.s.Ingest(ctx, batch, []store.SourceState{{Source: "hook", Name: fmt.Sprintf("g%d", g), Value: fmt.Sprint(b)}}); err != nil {
						fail(fmt.Errorf("ingest: %w", err))
						return
					}
				}
			}
		})
	}
	for _, sync := range syncs {
		for d := range dispatchers {
			holder := fmt.Sprintf("%s-w%d", sync, d)
			wg.Go(func() {
				for !done() && ctx.Err() == nil {
					if err := dispatchOnce(ctx, h.s, sync, holder, &mu, inFlight, delivered); err != nil {
						fail(err)
						return
					}
				}
			})
		}
	}
	for range readers {
		wg.Go(func() {
			for range reads {
				if ctx.Err() != nil {
					return
				}
				if _, err := h.s.Stats(ctx, Epoch); err != nil {
					fail(fmt.Errorf("stats: %w", err))
					return
				}
				if _, err := h.s.Lookup(ctx, "hook", []string{"g0-b0-0", "g1-b1-1"}); err != nil {
					fail(fmt.Errorf("lookup: %w", err))
					return
				}
				if _, err := h.s.DeadLetters(ctx, store.DeadFilter{}); err != nil {
					fail(fmt.Errorf("dead letters: %w", err))
					return
				}
			}
		})
	}
	go func() {
		ingestWG.Wait()
		// Give up if the dispatchers stop making progress.
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Minute):
			fail(errors.New("deliveries did not finish within 2 minutes"))
		}
	}()
	wg.Wait()
	cancel()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("delivery %d delivered %d times", id, n)
		}
	}
	for _, sync := range syncs {
		if got := countsOf(h.syncStats(sync)); got != (counts{Delivered: int64(total)}) {
			t.Errorf("%s counts = %+v, want %d delivered", sync, got, total)
		}
	}
}

// dispatchOnce acquires sync's lease if free, claims a batch, checks that
// no delivery in it is held by another holder, settles it and releases the
// lease.
func dispatchOnce(ctx context.Context, s store.Store, sync, holder string, mu *sync.Mutex, inFlight map[int64]string, delivered map[int64]int) error {
	lease, err := s.AcquireLease(ctx, sync, holder, time.Hour)
	if errors.Is(err, store.ErrLeaseHeld) {
		runtime.Gosched()
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: acquire: %w", holder, err)
	}
	ds, err := s.Claim(ctx, store.ClaimRequest{Sync: sync, Lease: lease, Limit: 25, Now: Epoch.Add(time.Hour)})
	if err != nil {
		return fmt.Errorf("%s: claim: %w", holder, err)
	}
	mu.Lock()
	for _, d := range ds {
		if other, ok := inFlight[d.ID]; ok {
			mu.Unlock()
			return fmt.Errorf("delivery %d claimed by %s while %s holds it", d.ID, holder, other)
		}
		inFlight[d.ID] = holder
	}
	mu.Unlock()
	outcomes := make([]store.Outcome, len(ds))
	for i, d := range ds {
		outcomes[i] = store.Outcome{ID: d.ID, State: store.Delivered, At: Epoch}
	}
	if err := s.Settle(ctx, lease, outcomes); err != nil {
		return fmt.Errorf("%s: settle: %w", holder, err)
	}
	mu.Lock()
	for _, d := range ds {
		delete(inFlight, d.ID)
		delivered[d.ID]++
	}
	mu.Unlock()
	if err := s.ReleaseLease(ctx, lease); err != nil {
		return fmt.Errorf("%s: release: %w", holder, err)
	}
	return nil
}
