package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// ReplayOptions select deliveries to send again.
type ReplayOptions struct {
	Sync string
	// Keys limits the replay to these response keys.
	Keys []string
	// Dead re-opens dead-lettered deliveries (the usual case, after fixing
	// a mapping or a destination).
	Dead bool
	// Delivered re-sends deliveries already made, as redeliveries; it needs
	// Keys.
	Delivered bool
}

// Replay re-opens deliveries so the dispatcher sends them again (with the
// current mapping). It returns how many were re-opened.
func Replay(ctx context.Context, plan *Plan, st store.Store, o ReplayOptions) (int, error) {
	if plan.Sync(o.Sync) == nil {
		return 0, fmt.Errorf("%w %q (configured: %v)", errNoSync, o.Sync, plan.SyncNames())
	}
	if o.Delivered && len(o.Keys) == 0 {
		return 0, errors.New("re-sending delivered responses needs --key, so a whole history is never resent by accident")
	}
	if !o.Dead && !o.Delivered {
		o.Dead = true
	}
	return st.Replay(ctx, store.ReplayRequest{Sync: o.Sync, Keys: o.Keys, Dead: o.Dead, Delivered: o.Delivered})
}

// ReplayRejectsReport counts a replay of rejected payloads.
type ReplayRejectsReport struct {
	Tried      int `json:"tried"`
	Ingested   int `json:"ingested"`
	Duplicates int `json:"duplicates"`
	StillBad   int `json:"still_rejected"`
}

// ReplayRejects runs the rejected payloads of a source through its current
// extraction settings again: those that now make responses are ingested
// (and marked replayed), the rest stay rejected with their new reason.
func (e *Engine) ReplayRejects(ctx context.Context, source string) (ReplayRejectsReport, error) {
	var rep ReplayRejectsReport
	rt := e.currentRuntime()
	sink, ok := rt.sinks[source]
	if !ok {
		return rep, fmt.Errorf("no source %q", source)
	}
	sp := rt.plan.source(source)
	xc, ok := sp.Config.(interface {
		Extractor() (*connectors.Extractor, error)
	})
	if !ok {
		return rep, fmt.Errorf("source %q cannot replay payloads", source)
	}
	x, err := xc.Extractor()
	if err != nil {
		return rep, err
	}
	stillBad := map[int64]bool{}
	for {
		// Payloads that still fail stay rejected (not marked replayed) and
		// are skipped on the next round.
		rejects, err := e.st.Rejects(ctx, source, 500+len(stillBad))
		if err != nil {
			return rep, err
		}
		var responses []survey.Response
		var done []int64
		for _, r := range rejects {
			if stillBad[r.ID] {
				continue
			}
			rep.Tried++
			fields, err := survey.DecodeObject(r.Payload)
			if err == nil {
				var resp survey.Response
				resp, err = x.Extract(source, fields, r.Payload, e.now())
				switch {
				case err == nil:
					responses = append(responses, resp)
					done = append(done, r.ID)
					continue
				case errors.Is(err, connectors.ErrNotAccepted):
					done = append(done, r.ID)
					continue
				}
			}
			rep.StillBad++
			stillBad[r.ID] = true
		}
		if len(done) == 0 {
			return rep, nil
		}
		if len(responses) > 0 {
			ir, err := sink.Ingest(ctx, responses, nil)
			if err != nil {
				return rep, err
			}
			rep.Ingested += ir.Inserted + ir.Updated
			rep.Duplicates += ir.Duplicates + ir.Ignored
		}
		if err := e.st.MarkRejectsReplayed(ctx, done); err != nil {
			return rep, err
		}
	}
}

func (e *Engine) currentRuntime() *runtime {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rt
}

// DeadLetters lists a sync's dead letters with their reasons.
func DeadLetters(ctx context.Context, st store.Store, sync string, limit int) ([]store.DeadLetter, error) {
	return st.DeadLetters(ctx, store.DeadFilter{Sync: sync, Limit: limit})
}

// Sink returns the ingest path of a source: what its connector uses, for
// backfills and tests that feed responses in directly.
func (e *Engine) Sink(source string) (connectors.Sink, bool) {
	rt := e.currentRuntime()
	s, ok := rt.sinks[source]
	return s, ok
}
