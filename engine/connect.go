package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
)

// DefaultConnectTimeout bounds CheckConnect as a whole.
const DefaultConnectTimeout = 30 * time.Second

// NewDestination builds destination dp of plan exactly as run builds it:
// with its own logger, the process's client builder (and so its quota
// buckets and network guard), the clock and the configuration's directory.
// The caller closes it.
func NewDestination(plan *Plan, dp *DestinationPlan, clients *connectors.Clients, log *slog.Logger, now func() time.Time) (connectors.Destination, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	deps := connectors.Deps{Logger: log.With("destination", dp.Name), Clients: clients, Now: now, Dir: plan.Config.Dir()}
	return dp.Spec.New(dp.Name, dp.Config, deps)
}

// ConnectOptions configure CheckConnect.
type ConnectOptions struct {
	// Logger receives the connectors' logs; nil discards them.
	Logger *slog.Logger
	// Clients builds the HTTP clients; nil builds a fresh one, as run does.
	Clients *connectors.Clients
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Timeout bounds the whole check; default DefaultConnectTimeout. Each
	// request is also bounded by its destination's own timeout setting.
	Timeout time.Duration
	// Samples holds, by sync name, the request the sync's mapping rendered
	// from a sample response, for checks of values that only a rendered
	// request shows (a Zendesk field id written as a template).
	Samples map[string]*mapping.Request
}

// ConnectReport is what CheckConnect found.
type ConnectReport struct {
	// Problems are positioned like validate's other errors: at the
	// destination's entry in surveysync.yaml, or in the mapping file for a
	// finding about what the mapping names. Notes are warnings.
	Problems config.ErrorList
	// Checked names the destinations whose check ran to the end, sorted.
	Checked []string
	// Skipped names the destinations that have no read-only check, sorted.
	Skipped []string
}

// CheckConnect builds every destination of plan as run would and asks each
// one that can (a connectors.Checker) whether it will take what its syncs'
// mappings render. Nothing is written: no tab, header or record is created.
// Destinations are checked at once, within o.Timeout as a whole; secrets
// are masked in every message.
func CheckConnect(ctx context.Context, plan *Plan, o ConnectOptions) ConnectReport {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultConnectTimeout
	}
	if o.Clients == nil {
		o.Clients = connectors.NewClients(o.Logger, nil)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	type outcome struct {
		problems config.ErrorList
		checked  bool
		skipped  bool
	}
	outcomes := make([]outcome, len(plan.Destinations))
	var wg sync.WaitGroup
	for i, dp := range plan.Destinations {
		wg.Go(func() {
			outcomes[i].problems, outcomes[i].checked, outcomes[i].skipped = checkDestination(ctx, plan, dp, o)
		})
	}
	wg.Wait()
	var rep ConnectReport
	for i, oc := range outcomes {
		rep.Problems = append(rep.Problems, oc.problems...)
		switch {
		case oc.checked:
			rep.Checked = append(rep.Checked, plan.Destinations[i].Name)
		case oc.skipped:
			rep.Skipped = append(rep.Skipped, plan.Destinations[i].Name)
		}
	}
	rep.Problems.Sort()
	sort.Strings(rep.Checked)
	sort.Strings(rep.Skipped)
	return rep
}

// checkDestination checks one destination for each of its syncs. checked
// is set when every check ran to the end, whatever it found; skipped when
// the destination has no check.
func checkDestination(ctx context.Context, plan *Plan, dp *DestinationPlan, o ConnectOptions) (out config.ErrorList, checked, skipped bool) {
	at := plan.Config.At("destinations", dp.Name)
	if p := plan.Config.Destinations.Get(dp.Name); p != nil {
		at = p.Pos
	}
	seen := map[string]bool{}
	add := func(pos config.Pos, warning bool, msg string) {
		e := &config.Error{Pos: pos, Msg: config.Redact("destination " + dp.Name + ": " + msg), Warning: warning}
		if key := e.Error(); !seen[key] {
			seen[key] = true
			out = append(out, e)
		}
	}
	var syncs []*SyncPlan
	for _, sp := range dp.Syncs {
		if sp.Mapping != nil {
			syncs = append(syncs, sp)
		}
	}
	if len(syncs) == 0 {
		add(at, true, "no sync delivers here, so there is nothing to check; it was not contacted")
		return out, false, true
	}
	d, err := NewDestination(plan, dp, o.Clients, o.Logger, o.Now)
	if err != nil {
		add(at, false, fmt.Sprintf("cannot be built, so it was not contacted: %v", err))
		return out, false, false
	}
	defer d.Close()
	c, ok := d.(connectors.Checker)
	if !ok {
		add(at, true, fmt.Sprintf("type %s has no read-only check (a generic API offers no request that tells, without sending one, whether it takes the mapping's requests); it was not contacted", dp.Type))
		return out, false, true
	}
	checked = true
	for _, sp := range syncs {
		findings, err := c.Check(ctx, sp.Name, sp.Mapping, o.Samples[sp.Name])
		for _, f := range findings {
			pos := at
			if f.Mapping {
				pos = mappingPos(sp, f.Pos)
			}
			add(pos, f.Note, f.Msg)
		}
		if err != nil {
			checked = false
			add(at, false, connectFailure(ctx, err, o.Timeout))
		}
	}
	return out, checked, false
}

// mappingPos is where a finding about sp's mapping is reported: where the
// destination placed it, else at the mapping's request, else at the sync's
// mapping key in surveysync.yaml.
func mappingPos(sp *SyncPlan, pos config.Pos) config.Pos {
	if pos.Line > 0 {
		return pos
	}
	if shape, ok := sp.Mapping.RequestShape(); ok && shape.Pos.Line > 0 {
		return shape.Pos
	}
	if sp.Config != nil {
		return sp.Config.At("mapping")
	}
	return config.Pos{File: sp.Mapping.File()}
}

// connectFailure words a check that could not be made, saying so when the
// time limit cut it off.
func connectFailure(ctx context.Context, err error, limit time.Duration) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("the check did not finish within its time limit of %s: %v", limit, err)
	}
	return err.Error()
}
