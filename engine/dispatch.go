package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/store"
)

// coalesceWindow is how long a dispatcher woken by new work waits before
// claiming, so that a burst is claimed in one batch rather than many.
const coalesceWindow = 20 * time.Millisecond

// dispatcher delivers the deliveries of one group of destinations that share
// a quota. It works only while it holds the group's lease in the store, so
// one process at a time delivers to a destination: the daemon, or a backfill
// run beside it, or one of several replicas.
type dispatcher struct {
	rt        *runtime
	leaseName string
	dests     []*destRuntime
	wake      chan struct{}
	log       *slog.Logger

	mu    sync.Mutex
	lease store.Lease
}

// destRuntime is a built destination and its pause state.
type destRuntime struct {
	plan    *DestinationPlan
	dest    connectors.Destination
	paused  string
	probeAt time.Time
	// failures counts consecutive batches in which nothing was delivered
	// and something failed; holdUntil backs the whole destination off, so
	// an outage is not hammered with the rest of the backlog.
	failures  int
	holdUntil time.Time
}

func (d *dispatcher) notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *dispatcher) currentLease() store.Lease {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lease
}

// run takes the lease whenever it is free and delivers while holding it,
// until ctx ends. In-flight requests use hard, which ends later than ctx.
func (d *dispatcher) run(ctx, hard context.Context) {
	cfg := d.rt.plan.Config.Dispatch
	for ctx.Err() == nil {
		lease, err := d.rt.st.AcquireLease(ctx, d.leaseName, d.rt.holder, cfg.Lease)
		switch {
		case errors.Is(err, store.ErrLeaseHeld):
			d.log.Debug("lease held elsewhere; waiting")
			sleep(ctx, cfg.Lease/3)
			continue
		case err != nil:
			if ctx.Err() == nil {
				d.log.Error("acquiring lease failed", "err", err)
			}
			sleep(ctx, time.Second)
			continue
		}
		d.mu.Lock()
		d.lease = lease
		d.mu.Unlock()
		d.log.Info("dispatching", "token", lease.Token)
		d.serve(ctx, hard)
	}
}

// serve delivers while the lease holds.
func (d *dispatcher) serve(ctx, hard context.Context) {
	cfg := d.rt.plan.Config.Dispatch
	work, lost := context.WithCancel(ctx)
	defer lost()
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		t := time.NewTicker(cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-work.Done():
				return
			case <-t.C:
			}
			l, err := d.rt.st.RenewLease(work, d.currentLease(), cfg.Lease)
			if err != nil {
				if work.Err() == nil {
					d.log.Warn("lease lost; stopping delivery", "err", err)
				}
				lost()
				return
			}
			d.mu.Lock()
			d.lease = l
			d.mu.Unlock()
		}
	}()
	d.loadPauses(work)
	for work.Err() == nil {
		worked, full := d.pass(work, hard)
		if worked && !full {
			// Everything due was taken in short batches: let more arrive
			// before the next claim, so a steady stream is delivered in
			// full batches (fewer requests against the destination's
			// quota, and fewer durable transactions) rather than in
			// small ones as fast as the destination answers.
			sleep(work, coalesceWindow)
			continue
		}
		if !worked {
			select {
			case <-work.Done():
			case <-d.wake:
				// New work just arrived; give the ingests arriving with it
				// a moment to commit, so one claim takes them together
				// (each claim and settle is a durable transaction).
				sleep(work, coalesceWindow)
			case <-time.After(cfg.Idle):
			}
		}
	}
	lost()
	<-renewDone
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.rt.st.ReleaseLease(rctx, d.currentLease()); err != nil && !errors.Is(err, store.ErrLeaseLost) {
		d.log.Warn("releasing lease failed", "err", err)
	}
}

func (d *dispatcher) loadPauses(ctx context.Context) {
	pauses, err := d.rt.st.Pauses(ctx)
	if err != nil {
		return
	}
	for _, p := range pauses {
		for _, dr := range d.dests {
			if dr.plan.Name == p.Destination {
				// Try at once: the cause may have been fixed while the
				// daemon was down. A failure pauses it again.
				dr.paused = p.Reason
				dr.probeAt = time.Time{}
			}
		}
	}
}

// pass delivers one batch per sync of every destination that is not paused,
// and reports whether any work was done and whether any batch was claimed
// full (so more may be due at once).
func (d *dispatcher) pass(ctx, hard context.Context) (worked, full bool) {
	for _, dr := range d.dests {
		if d.rt.now().Before(dr.holdUntil) {
			continue
		}
		if dr.paused != "" {
			if d.rt.now().Before(dr.probeAt) {
				continue
			}
			if !d.probe(ctx, dr) {
				continue
			}
		}
		for _, sp := range dr.plan.Syncs {
			if ctx.Err() != nil {
				return worked, full
			}
			if sp.Config.Paused {
				continue
			}
			limit := d.batchLimit(dr, sp)
			n, err := d.batch(ctx, hard, dr, sp, limit)
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, store.ErrLeaseLost) {
					d.log.Error("delivery pass failed", "sync", sp.Name, "err", err)
					sleep(ctx, time.Second)
				}
				return worked, full
			}
			if n > 0 {
				worked = true
			}
			if n >= limit {
				full = true
			}
			if dr.paused != "" {
				break
			}
		}
	}
	return worked, full
}

// probe checks a paused destination; it returns true when delivery may be
// tried again.
func (d *dispatcher) probe(ctx context.Context, dr *destRuntime) bool {
	cfg := d.rt.plan.Config.Dispatch
	pr, ok := dr.dest.(connectors.Prober)
	if !ok {
		// A real batch is the probe; it re-pauses on failure.
		return true
	}
	for _, sp := range dr.plan.Syncs {
		if err := pr.Probe(ctx, sp.Name, sp.Mapping); err != nil {
			dr.probeAt = d.rt.now().Add(cfg.PauseProbe)
			if msg := ledgerText(err); msg != dr.paused {
				d.pause(ctx, dr, msg)
			}
			return false
		}
	}
	d.unpause(ctx, dr)
	return true
}

// ledgerText is an error's text as it is kept in the ledger, with every
// secret this process resolved masked. The ledger is read by other
// processes (status, replay, a later daemon) that may not have resolved
// the secrets, so cannot mask them; and a destination may echo the
// credential it refused in its answer, which becomes the error's text.
func ledgerText(err error) string { return config.Redact(err.Error()) }

func (d *dispatcher) pause(ctx context.Context, dr *destRuntime, reason string) {
	cfg := d.rt.plan.Config.Dispatch
	first := dr.paused == ""
	dr.paused = reason
	dr.probeAt = d.rt.now().Add(cfg.PauseProbe)
	if err := d.rt.st.SetPause(context.WithoutCancel(ctx), dr.plan.Name, reason); err != nil {
		d.log.Error("recording pause failed", "destination", dr.plan.Name, "err", err)
	}
	if first {
		d.log.Error("destination paused; its backlog is kept", "destination", dr.plan.Name, "reason", reason)
	}
}

func (d *dispatcher) unpause(ctx context.Context, dr *destRuntime) {
	if dr.paused == "" {
		return
	}
	dr.paused = ""
	if err := d.rt.st.SetPause(context.WithoutCancel(ctx), dr.plan.Name, ""); err != nil {
		d.log.Error("clearing pause failed", "destination", dr.plan.Name, "err", err)
	}
	d.log.Info("destination resumed", "destination", dr.plan.Name)
}

// batchLimit is how many deliveries one claim takes for a sync.
func (d *dispatcher) batchLimit(dr *destRuntime, sp *SyncPlan) int {
	if l, ok := dr.dest.(connectors.Limits); ok {
		if n := l.MaxBatch(sp.Mapping); n > 0 {
			return n
		}
	}
	return d.rt.plan.Config.Dispatch.BatchSize
}

// batch claims, renders, delivers and settles one batch of a sync. It
// returns how many deliveries it claimed.
func (d *dispatcher) batch(ctx, hard context.Context, dr *destRuntime, sp *SyncPlan, limit int) (int, error) {
	now := d.rt.now()
	claimed, err := d.rt.st.Claim(ctx, store.ClaimRequest{Sync: sp.Name, Lease: d.currentLease(), Limit: limit, Now: now})
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	d.log.Debug("claimed", "sync", sp.Name, "deliveries", len(claimed))
	outcomes := make([]store.Outcome, 0, len(claimed))
	b := &connectors.Batch{Sync: sp.Name, Mapping: sp.Mapping, Items: make([]*connectors.Item, 0, len(claimed))}
	for i := range claimed {
		c := &claimed[i]
		it := &connectors.Item{
			DeliveryID:  c.ID,
			ResponseKey: c.Response.Key,
			DeliveryKey: c.Key,
			Version:     c.Version,
			Attempt:     c.Attempts,
			Uncertain:   c.Uncertain,
			Response:    &c.Response,

			PreviousAttemptAt: c.PreviousAttemptAt,
		}
		if err := render(sp, it, now); err != nil {
			outcomes = append(outcomes, store.Outcome{ID: c.ID, State: store.Dead, Class: string(connectors.ClassRender), Error: ledgerText(err), At: now})
			d.rt.metrics.delivery(sp.Name, "dead")
			continue
		}
		b.Items = append(b.Items, it)
	}
	if len(b.Items) > 0 {
		results := d.deliver(hard, dr, b)
		done := d.rt.now()
		delivered, retried := false, false
		var wait time.Time
		for i, it := range b.Items {
			o := d.outcome(dr, sp, it, results[i], done)
			switch {
			case o.State == store.Delivered:
				delivered = true
			case o.State == store.Pending && !o.Release:
				retried = true
				if wait.IsZero() || o.NextAt.Before(wait) {
					wait = o.NextAt
				}
			}
			outcomes = append(outcomes, o)
		}
		switch {
		case delivered:
			dr.failures = 0
			dr.holdUntil = time.Time{}
			if dr.paused != "" {
				d.unpause(ctx, dr)
			}
		case retried:
			dr.failures++
			cfg := d.rt.plan.Config.Dispatch
			hold := done.Add(connectors.Backoff(dr.failures, cfg.BackoffMin, cfg.BackoffMax, nil))
			if wait.After(hold) {
				hold = wait
			}
			dr.holdUntil = hold
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := d.rt.st.Settle(sctx, d.currentLease(), outcomes); err != nil {
		// The deliveries stay "sending" under our token; whoever holds the
		// lease next reconciles them as uncertain. Nothing is lost.
		return len(claimed), fmt.Errorf("settling %d deliveries: %w", len(outcomes), err)
	}
	return len(claimed), nil
}

// render fills it.Row or it.Request from the sync's mapping.
func render(sp *SyncPlan, it *connectors.Item, now time.Time) error {
	in := &mapping.Input{
		Response:    it.Response,
		Sync:        sp.Name,
		DeliveryKey: it.DeliveryKey,
		Version:     it.Version,
		Now:         now,
	}
	switch sp.Mapping.Kind() {
	case mapping.SheetRows:
		row, err := sp.Mapping.RenderRow(in)
		if err != nil {
			return err
		}
		it.Row = &row
	default:
		req, err := sp.Mapping.RenderRequest(in)
		if err != nil {
			return err
		}
		it.Request = req
	}
	return nil
}

// deliver calls the destination, turning a panic into ambiguous results so
// that a connector bug can neither crash the daemon nor lose a response.
func (d *dispatcher) deliver(ctx context.Context, dr *destRuntime, b *connectors.Batch) (results []connectors.Result) {
	defer func() {
		if p := recover(); p != nil {
			d.log.Error("destination panicked; the batch will be reconciled", "destination", dr.plan.Name, "panic", fmt.Sprint(p))
			results = make([]connectors.Result, len(b.Items))
			for i := range results {
				results[i].Err = connectors.Ambiguous(fmt.Errorf("destination %s panicked: %v", dr.plan.Name, p))
			}
		}
	}()
	results = dr.dest.Deliver(ctx, b)
	if len(results) != len(b.Items) {
		d.log.Error("destination returned the wrong number of results; treating the batch as uncertain", "destination", dr.plan.Name, "items", len(b.Items), "results", len(results))
		out := make([]connectors.Result, len(b.Items))
		for i := range out {
			if i < len(results) && results[i].Err == nil {
				out[i] = results[i]
				continue
			}
			out[i].Err = connectors.Ambiguous(errors.New("no result from the destination"))
		}
		results = out
	}
	return results
}

// outcome turns one result into a ledger outcome.
func (d *dispatcher) outcome(dr *destRuntime, sp *SyncPlan, it *connectors.Item, r connectors.Result, now time.Time) store.Outcome {
	cfg := d.rt.plan.Config.Dispatch
	o := store.Outcome{ID: it.DeliveryID, At: now}
	if r.Err == nil {
		o.State = store.Delivered
		o.Ref = r.Ref
		d.rt.metrics.delivery(sp.Name, "delivered")
		return o
	}
	class, after := connectors.Classify(r.Err)
	d.log.Debug("delivery failed", "sync", sp.Name, "key", it.ResponseKey, "class", class, "err", r.Err)
	if connectors.IsCanceled(r.Err) && class == connectors.ClassAmbiguous {
		// Cut off by shutdown: the request may have been sent.
		o.Uncertain = true
	}
	o.Class = string(class)
	o.Error = ledgerText(r.Err)
	switch class {
	case connectors.ClassPermanent, connectors.ClassRender:
		o.State = store.Dead
		d.rt.metrics.delivery(sp.Name, "dead")
		return o
	case connectors.ClassPaused:
		o.State = store.Pending
		o.Release = true
		o.Uncertain = it.Uncertain
		o.NextAt = now.Add(cfg.PauseProbe)
		d.pause(context.Background(), dr, ledgerText(r.Err))
		d.rt.metrics.delivery(sp.Name, "paused")
		return o
	case connectors.ClassAmbiguous:
		o.Uncertain = true
	}
	// Doubt outlives a later failure: a delivery that may have been applied
	// stays uncertain until it is confirmed, so the next attempt reconciles.
	o.Uncertain = o.Uncertain || it.Uncertain
	if cfg.MaxAttempts > 0 && it.Attempt >= cfg.MaxAttempts {
		o.State = store.Dead
		o.Error = fmt.Sprintf("gave up after %d attempts: %s", it.Attempt, o.Error)
		if o.Uncertain {
			o.Error += " (the last attempt may have been applied)"
		}
		d.rt.metrics.delivery(sp.Name, "dead")
		return o
	}
	o.State = store.Pending
	wait := connectors.Backoff(it.Attempt, cfg.BackoffMin, cfg.BackoffMax, nil)
	if class == connectors.ClassRetryAfter && after > 0 {
		wait = after
	}
	o.NextAt = now.Add(wait)
	d.rt.metrics.delivery(sp.Name, "retry")
	return o
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
