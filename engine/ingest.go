package engine

import (
	"context"
	"log/slog"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// maxGroup bounds how many responses one group commit holds.
const maxGroup = 2000

// committer turns concurrent ingests into group commits: while one
// transaction is being written and synced, the ingests that arrive queue up
// and go together into the next one. Each caller returns only after the
// transaction holding its responses is durable.
type committer struct {
	st   store.Store
	reqs chan *commitReq
	done chan struct{}
}

type commitReq struct {
	ctx   context.Context
	items []store.Incoming
	state []store.SourceState
	reply chan commitResult
}

type commitResult struct {
	results []store.IngestResult
	err     error
}

func newCommitter(st store.Store) *committer {
	c := &committer{st: st, reqs: make(chan *commitReq, 256), done: make(chan struct{})}
	go c.loop()
	return c
}

func (c *committer) close() {
	close(c.reqs)
	<-c.done
}

func (c *committer) loop() {
	defer close(c.done)
	for first := range c.reqs {
		group := []*commitReq{first}
		n := len(first.items)
	drain:
		for n < maxGroup {
			select {
			case r, ok := <-c.reqs:
				if !ok {
					break drain
				}
				group = append(group, r)
				n += len(r.items)
			default:
				break drain
			}
		}
		c.commit(group, n)
	}
}

func (c *committer) commit(group []*commitReq, n int) {
	// Requests whose callers already gave up are left out.
	live := group[:0]
	for _, r := range group {
		if r.ctx.Err() != nil {
			r.reply <- commitResult{err: r.ctx.Err()}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	items := make([]store.Incoming, 0, n)
	var state []store.SourceState
	for _, r := range live {
		items = append(items, r.items...)
		state = append(state, r.state...)
	}
	// The commit runs to completion even if a caller cancels: the other
	// callers in the group are waiting for it.
	results, err := c.st.Ingest(context.Background(), items, state)
	off := 0
	for _, r := range live {
		if err != nil {
			r.reply <- commitResult{err: err}
			continue
		}
		r.reply <- commitResult{results: results[off : off+len(r.items)]}
		off += len(r.items)
	}
}

// ingest submits items and waits for their commit.
func (c *committer) ingest(ctx context.Context, items []store.Incoming, state []store.SourceState) ([]store.IngestResult, error) {
	r := &commitReq{ctx: ctx, items: items, state: state, reply: make(chan commitResult, 1)}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the commit may
	// already be under way, and the caller must not report failure for
	// responses that are stored.
	res := <-r.reply
	return res.results, res.err
}

// sourceSink is the connectors.Sink of one source: it routes each response
// through the filters of the source's syncs and commits it with its planned
// deliveries.
type sourceSink struct {
	name      string
	policy    store.UpdatePolicy
	syncs     []*SyncPlan
	committer *committer
	st        store.Store
	metrics   *Metrics
	log       *slog.Logger
	notify    func()
}

var _ connectors.Sink = (*sourceSink)(nil)

// route returns the syncs whose filters accept r.
func (s *sourceSink) route(r *survey.Response) []string {
	var out []string
	in := &mapping.Input{Response: r}
	for _, sp := range s.syncs {
		ok, err := accepts(sp, in)
		if err != nil {
			// The response is routed anyway: delivery will surface the
			// problem as a dead letter with its reason, which can be
			// replayed once the filter is fixed, instead of silently
			// skipping the response.
			s.log.Warn("filter failed; routing the response so the failure is visible", "sync", sp.Name, "key", r.Key, "err", err)
			ok = true
		}
		if ok {
			out = append(out, sp.Name)
		}
	}
	return out
}

func accepts(sp *SyncPlan, in *mapping.Input) (bool, error) {
	if sp.Mapping != nil {
		ok, err := sp.Mapping.Match(in)
		if err != nil || !ok {
			return ok, err
		}
	}
	if sp.Filter != nil {
		return sp.Filter.Match(in)
	}
	return true, nil
}

// Ingest implements connectors.Sink.
func (s *sourceSink) Ingest(ctx context.Context, responses []survey.Response, state []store.SourceState) (connectors.IngestReport, error) {
	var rep connectors.IngestReport
	items := make([]store.Incoming, len(responses))
	for i := range responses {
		r := &responses[i]
		if r.Source == "" {
			r.Source = s.name
		}
		items[i] = store.Incoming{Response: *r, Syncs: s.route(r), Policy: s.policy}
		if len(items[i].Syncs) == 0 {
			rep.Filtered++
		}
	}
	for i := range state {
		state[i].Source = s.name
	}
	return s.commit(ctx, items, state, rep)
}

// commit stores items and state (a group commit), counts the outcomes into
// rep, records them and wakes the dispatchers when work was planned.
func (s *sourceSink) commit(ctx context.Context, items []store.Incoming, state []store.SourceState, rep connectors.IngestReport) (connectors.IngestReport, error) {
	results, err := s.committer.ingest(ctx, items, state)
	if err != nil {
		return rep, err
	}
	for _, res := range results {
		switch res.Outcome {
		case store.Inserted:
			rep.Inserted++
		case store.Duplicate:
			rep.Duplicates++
		case store.Updated:
			rep.Updated++
		case store.Ignored, store.Stale:
			rep.Ignored++
		}
		rep.Planned += res.Planned
	}
	s.metrics.ingested(s.name, rep)
	if rep.Planned > 0 && s.notify != nil {
		s.notify()
	}
	return rep, nil
}

// Reject implements connectors.Sink.
func (s *sourceSink) Reject(ctx context.Context, rejects []store.Rejected) error {
	for i := range rejects {
		rejects[i].Source = s.name
	}
	if err := s.st.Reject(ctx, rejects); err != nil {
		return err
	}
	s.metrics.rejected(s.name, len(rejects))
	return nil
}

// State implements connectors.Sink.
func (s *sourceSink) State(ctx context.Context, name string) (string, bool, error) {
	return s.st.SourceState(ctx, s.name, name)
}
