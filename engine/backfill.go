package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// BackfillOptions describe a backfill.
type BackfillOptions struct {
	Source string
	// Since and Until bound the submission times; zero leaves a side open.
	Since, Until time.Time
	// Syncs limits the backfill to these syncs of the source; empty means all.
	Syncs []string
	// Files replaces a file source's configured paths.
	Files []string
	// DryRun reads the source and reports what would happen, changing nothing.
	DryRun bool
	// Redeliver sends responses already delivered once more (once).
	Redeliver bool
	// Progress, when set, receives counts while the backfill runs.
	Progress func(BackfillProgress)
}

// BackfillProgress is a snapshot of a running backfill.
type BackfillProgress struct {
	Phase     string // "reading" or "delivering"
	Read      int
	Planned   int
	Delivered int64
	Pending   int64
}

// BackfillReport is what a backfill did, or with DryRun would do. The same
// counting runs in both modes, so a dry run predicts the real one.
type BackfillReport struct {
	Source string    `json:"source"`
	DryRun bool      `json:"dry_run"`
	Since  time.Time `json:"since,omitzero"`
	Until  time.Time `json:"until,omitzero"`
	// Read counts the records the source read; Responses those that became
	// responses in the window.
	Read      int `json:"read"`
	Responses int `json:"responses"`
	// Rejected counts records the source could not turn into responses, by
	// reason.
	Rejected        int                  `json:"rejected"`
	RejectedReasons map[string]int       `json:"rejected_reasons,omitempty"`
	Syncs           []*BackfillSyncCount `json:"syncs"`
	// Delivered counts deliveries made while the backfill waited.
	Delivered int64         `json:"delivered"`
	Pending   int64         `json:"pending"`
	Elapsed   time.Duration `json:"elapsed_ns"`
}

// BackfillSyncCount counts one sync's share of a backfill.
type BackfillSyncCount struct {
	Sync string `json:"sync"`
	// New are responses this sync has never delivered or planned: sent now.
	New int `json:"new"`
	// AlreadyDelivered are skipped (or, with Redeliver, sent once more).
	AlreadyDelivered int `json:"already_delivered"`
	// Redelivered are already delivered responses sent once more.
	Redelivered int `json:"redelivered"`
	// AlreadyPlanned are waiting in the ledger already (pending or retrying).
	AlreadyPlanned int `json:"already_planned"`
	// Dead are dead letters already; `replay` sends them again.
	Dead int `json:"dead"`
	// Filtered are not routed to this sync by its filters.
	Filtered int `json:"filtered"`
	// Failing are responses the mapping cannot render: they become dead
	// letters, by reason.
	Failing        int            `json:"failing"`
	FailingReasons map[string]int `json:"failing_reasons,omitempty"`
}

// Backfill reads a source's history through the same ingest and plan path
// as the daemon and waits until the planned deliveries are made — by this
// process's dispatchers, or by a daemon on the same ledger that holds the
// destination's lease. With DryRun nothing is written or sent.
func (e *Engine) Backfill(ctx context.Context, o BackfillOptions) (*BackfillReport, error) {
	start := time.Now()
	rt := e.currentRuntime()
	sp := rt.plan.source(o.Source)
	if sp == nil {
		var names []string
		for _, s := range rt.plan.Sources {
			names = append(names, s.Name)
		}
		return nil, fmt.Errorf("no source %q (configured: %s)", o.Source, strings.Join(names, ", "))
	}
	bf, ok := rt.sources[o.Source].(connectors.Backfiller)
	if !ok {
		return nil, fmt.Errorf("source %s (type %s) cannot be backfilled: a webhook only receives what the tool sends; export the history to a file and backfill a file source", sp.Name, sp.Type)
	}
	if !o.Since.IsZero() && !o.Until.IsZero() && !o.Since.Before(o.Until) {
		return nil, fmt.Errorf("the window is empty or inverted: --since %s is not before --until %s", o.Since.Format(time.RFC3339), o.Until.Format(time.RFC3339))
	}
	if now := e.now(); o.Since.After(now) {
		return nil, fmt.Errorf("--since %s is in the future", o.Since.Format(time.RFC3339))
	}
	syncs, err := selectSyncs(sp, o.Syncs)
	if err != nil {
		return nil, err
	}
	rep := &BackfillReport{Source: o.Source, DryRun: o.DryRun, Since: o.Since, Until: o.Until, RejectedReasons: map[string]int{}}
	counts := map[string]*BackfillSyncCount{}
	for _, s := range syncs {
		c := &BackfillSyncCount{Sync: s.Name, FailingReasons: map[string]int{}}
		counts[s.Name] = c
		rep.Syncs = append(rep.Syncs, c)
	}
	sink := &backfillSink{
		base: rt.sinks[o.Source], st: e.st, syncs: syncs, counts: counts, rep: rep,
		dry: o.DryRun, redeliver: o.Redeliver, tag: backfillTag(o), now: e.now,
	}
	names := make([]string, len(syncs))
	for i, s := range syncs {
		names[i] = s.Name
	}
	began := e.now()
	var progressMu sync.Mutex
	report := func(p BackfillProgress) {
		if o.Progress != nil {
			progressMu.Lock()
			o.Progress(p)
			progressMu.Unlock()
		}
	}
	err = bf.Backfill(ctx, sink, connectors.BackfillRequest{Since: o.Since, Until: o.Until, Files: o.Files}, func(read int) {
		rep.Read = read
		report(BackfillProgress{Phase: "reading", Read: read, Planned: sink.planned()})
	})
	if err != nil {
		return rep, err
	}
	if o.DryRun {
		rep.Elapsed = time.Since(start)
		return rep, nil
	}
	// Wait until the backlog of the backfilled syncs is delivered, by this
	// process or by a daemon holding the destination's lease.
	for {
		delivered, pending, err := deliveredPending(ctx, e.st, names, began)
		if err != nil {
			return rep, err
		}
		rep.Delivered, rep.Pending = delivered, pending
		report(BackfillProgress{Phase: "delivering", Read: rep.Read, Planned: sink.planned(), Delivered: rep.Delivered, Pending: pending})
		if pending == 0 {
			break
		}
		select {
		case <-ctx.Done():
			rep.Elapsed = time.Since(start)
			return rep, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// deliveredPending sums the deliveries of the syncs made since since (new
// ones and redeliveries alike) and those still pending.
func deliveredPending(ctx context.Context, st store.Store, syncs []string, since time.Time) (int64, int64, error) {
	stats, err := st.Stats(ctx, since)
	if err != nil {
		return 0, 0, err
	}
	var delivered, pending int64
	for _, s := range stats.Syncs {
		for _, n := range syncs {
			if s.Sync == n {
				delivered += s.DeliveredSince
				pending += s.Pending + s.Sending
			}
		}
	}
	return delivered, pending, nil
}

func selectSyncs(sp *SourcePlan, names []string) ([]*SyncPlan, error) {
	if len(names) == 0 {
		if len(sp.Syncs) == 0 {
			return nil, fmt.Errorf("source %s feeds no sync", sp.Name)
		}
		return sp.Syncs, nil
	}
	var out []*SyncPlan
	for _, n := range names {
		var found *SyncPlan
		for _, s := range sp.Syncs {
			if s.Name == n {
				found = s
			}
		}
		if found == nil {
			var have []string
			for _, s := range sp.Syncs {
				have = append(have, s.Name)
			}
			return nil, fmt.Errorf("sync %q is not fed by source %s (its syncs: %s)", n, sp.Name, strings.Join(have, ", "))
		}
		out = append(out, found)
	}
	return out, nil
}

// backfillTag identifies a backfill by its arguments, so that repeating or
// resuming it redelivers each response at most once.
func backfillTag(o BackfillOptions) string {
	syncs := append([]string(nil), o.Syncs...)
	sort.Strings(syncs)
	files := append([]string(nil), o.Files...)
	sort.Strings(files)
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%d|%s|%s", o.Source, o.Since.UnixNano(), o.Until.UnixNano(), strings.Join(syncs, ","), strings.Join(files, ","))))
	return "backfill:" + hex.EncodeToString(sum[:8])
}

// backfillSink classifies each response for each selected sync against the
// ledger, then (unless dry) ingests it routed to those syncs only.
type backfillSink struct {
	base      *sourceSink
	st        store.Store
	syncs     []*SyncPlan
	counts    map[string]*BackfillSyncCount
	rep       *BackfillReport
	dry       bool
	redeliver bool
	tag       string
	now       func() time.Time

	mu       sync.Mutex
	plannedN int
}

func (b *backfillSink) planned() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.plannedN
}

// Ingest implements connectors.Sink.
func (b *backfillSink) Ingest(ctx context.Context, responses []survey.Response, state []store.SourceState) (connectors.IngestReport, error) {
	var rep connectors.IngestReport
	if len(responses) == 0 {
		return rep, nil
	}
	keys := make([]string, len(responses))
	for i := range responses {
		responses[i].Source = b.base.name
		keys[i] = responses[i].Key
	}
	known, err := b.st.Lookup(ctx, b.base.name, keys)
	if err != nil {
		return rep, err
	}
	items := make([]store.Incoming, 0, len(responses))
	now := b.now()
	b.mu.Lock()
	for i := range responses {
		r := &responses[i]
		b.rep.Responses++
		state := known[r.Key]
		in := &mapping.Input{Response: r}
		var routed []string
		for _, sp := range b.syncs {
			c := b.counts[sp.Name]
			ok, err := accepts(sp, in)
			if err == nil && !ok {
				c.Filtered++
				continue
			}
			routed = append(routed, sp.Name)
			switch state.Deliveries[sp.Name] {
			case store.Delivered:
				c.AlreadyDelivered++
				// A redelivery happens once per backfill: one already made
				// under this backfill's tag is not made again.
				if b.redeliver && state.RedeliverTags[sp.Name] != b.tag {
					c.Redelivered++
					b.plannedN++
				}
				continue
			case store.Pending, store.Sending:
				c.AlreadyPlanned++
				continue
			case store.Dead:
				c.Dead++
				continue
			}
			it := &connectors.Item{Response: r, ResponseKey: r.Key, DeliveryKey: survey.DeliveryKey(sp.Name, r.Source, r.Key, 1), Version: 1}
			if err := render(sp, it, now); err != nil {
				c.Failing++
				c.FailingReasons[err.Error()]++
			} else {
				c.New++
				b.plannedN++
			}
		}
		items = append(items, store.Incoming{Response: *r, Syncs: routed, Policy: b.base.policy, Redeliver: b.redeliver, RedeliverTag: b.tag})
	}
	b.mu.Unlock()
	if b.dry {
		return rep, nil
	}
	return b.base.commit(ctx, items, nil, rep)
}

// Reject implements connectors.Sink.
func (b *backfillSink) Reject(ctx context.Context, rejects []store.Rejected) error {
	b.mu.Lock()
	for _, r := range rejects {
		b.rep.Rejected++
		b.rep.RejectedReasons[r.Reason]++
	}
	b.mu.Unlock()
	if b.dry {
		return nil
	}
	return b.base.Reject(ctx, rejects)
}

// State implements connectors.Sink.
func (b *backfillSink) State(ctx context.Context, name string) (string, bool, error) {
	return b.base.State(ctx, name)
}
