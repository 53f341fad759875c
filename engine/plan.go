// Package engine wires surveysync together: it compiles a configuration into
// a plan (every check, no I/O), then runs it: sources feed a group-committing
// ingestor that stores responses and plans deliveries in one transaction,
// one dispatcher per destination quota holds a lease and delivers batches,
// and the HTTP listener serves webhooks, health, metrics and the console.
// It knows no vendor's API; connectors do.
package engine

import (
	"fmt"
	"os"
	"strings"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
)

// Plan is a configuration compiled and checked: connector settings decoded
// and validated, mapping files compiled, references resolved. Building a
// plan does no I/O besides reading the mapping files.
type Plan struct {
	Config       *config.Config
	Sources      []*SourcePlan
	Destinations []*DestinationPlan
	Syncs        []*SyncPlan
	Scores       []*ScorePlan
}

// SourcePlan is one configured source.
type SourcePlan struct {
	Name   string
	Type   string
	Spec   connectors.SourceSpec
	Config connectors.Config
	// Syncs are the syncs fed by this source.
	Syncs []*SyncPlan
}

// DestinationPlan is one configured destination.
type DestinationPlan struct {
	Name   string
	Type   string
	Spec   connectors.DestinationSpec
	Config connectors.Config
	// Syncs are the syncs that deliver here.
	Syncs []*SyncPlan
}

// SyncPlan is one sync with its compiled mapping and filter.
type SyncPlan struct {
	Name        string
	Config      *config.Sync
	Source      *SourcePlan
	Destination *DestinationPlan
	Mapping     *mapping.Mapping
	// Filter is the sync's own filter from surveysync.yaml, if any; the
	// mapping's filter applies too.
	Filter *mapping.Filter
}

// Compile checks a loaded configuration and compiles it. It returns every
// problem found, positioned; the plan is usable only when the list holds no
// errors.
func Compile(cfg *config.Config) (*Plan, config.ErrorList) {
	p := &Plan{Config: cfg}
	var errs config.ErrorList

	for _, sp := range cfg.Sources {
		spec, c, e := connectors.ConfigureSource(sp)
		errs = append(errs, e...)
		p.Sources = append(p.Sources, &SourcePlan{Name: sp.Name, Type: sp.Type, Spec: spec, Config: c})
	}
	routes := map[string]string{}
	for _, sp := range p.Sources {
		if r, ok := sp.Config.(interface{ RouteConfig() string }); ok && sp.Config != nil {
			path := r.RouteConfig()
			if prev, dup := routes[path]; dup && path != "" {
				errs = append(errs, config.Errorf(cfg.Sources.Get(sp.Name).Pos, "sources.%s: path %s is already used by source %q", sp.Name, path, prev))
			}
			routes[path] = sp.Name
		}
	}
	for _, dp := range cfg.Destinations {
		spec, c, e := connectors.ConfigureDestination(dp)
		errs = append(errs, e...)
		p.Destinations = append(p.Destinations, &DestinationPlan{Name: dp.Name, Type: dp.Type, Spec: spec, Config: c})
	}

	for i := range cfg.Syncs {
		sc := &cfg.Syncs[i]
		s := &SyncPlan{Name: sc.Name, Config: sc}
		s.Source = p.source(sc.Source)
		s.Destination = p.destination(sc.To)
		if sc.Mapping != "" {
			m, err := mapping.Load(cfg.Resolve(sc.Mapping))
			if err != nil {
				errs.Add(sc.At("mapping"), err)
			}
			s.Mapping = m
		}
		if sc.Filter != nil {
			f, err := mapping.CompileFilter(sc.Filter)
			if err != nil {
				errs.Add(sc.Filter.Pos, err)
			}
			s.Filter = f
		}
		if s.Mapping != nil && s.Destination != nil && s.Destination.Config != nil && !s.Destination.Spec.AcceptsKind(s.Mapping.Kind()) {
			errs = append(errs, config.Errorf(sc.At("mapping"), "sync %s: destination %q (type %s) cannot use a %s mapping; it takes %s",
				sc.Name, s.Destination.Name, s.Destination.Type, s.Mapping.Kind(), kindList(s.Destination.Spec.Accepts)))
		}
		if s.Mapping != nil && s.Destination != nil && s.Destination.Config != nil && s.Destination.Spec.CheckMapping != nil && s.Destination.Spec.AcceptsKind(s.Mapping.Kind()) {
			if err := s.Destination.Spec.CheckMapping(s.Mapping); err != nil {
				pos := sc.At("mapping")
				if shape, ok := s.Mapping.RequestShape(); ok && shape.Pos.Line > 0 {
					pos = shape.Pos
				}
				errs.Add(pos, fmt.Errorf("destination %s (type %s) cannot send this mapping: %w", s.Destination.Name, s.Destination.Type, err))
			}
		}
		if s.Source != nil {
			s.Source.Syncs = append(s.Source.Syncs, s)
		}
		if s.Destination != nil {
			s.Destination.Syncs = append(s.Destination.Syncs, s)
		}
		p.Syncs = append(p.Syncs, s)
	}
	for i := range cfg.Scores {
		sp, e := compileScoreJob(p, &cfg.Scores[i])
		errs = append(errs, e...)
		if sp != nil {
			p.Scores = append(p.Scores, sp)
		}
	}
	errs.Sort()
	return p, errs
}

func kindList(kinds []mapping.Kind) string {
	var s []string
	for _, k := range kinds {
		s = append(s, k.String())
	}
	return strings.Join(s, " or ")
}

func (p *Plan) source(name string) *SourcePlan {
	for _, s := range p.Sources {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (p *Plan) destination(name string) *DestinationPlan {
	for _, d := range p.Destinations {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Sync returns the sync named name, or nil.
func (p *Plan) Sync(name string) *SyncPlan {
	for _, s := range p.Syncs {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// SyncNames lists the syncs' names.
func (p *Plan) SyncNames() []string {
	var out []string
	for _, s := range p.Syncs {
		out = append(out, s.Name)
	}
	return out
}

// CheckSecrets resolves every secret reference the connectors hold, and
// reports those that cannot be resolved here as warnings; run fails on them
// when the connector is built.
func CheckSecrets(cfg *config.Config) config.ErrorList {
	var out config.ErrorList
	for _, ps := range []config.Plugins{cfg.Sources, cfg.Destinations} {
		for _, p := range ps {
			walkSecrets(p.Body, func(n *config.Node) {
				s, err := config.ParseSecret(n.Value, dirOf(n.Pos.File))
				if err != nil {
					return
				}
				if err := s.Check(); err != nil {
					out = append(out, &config.Error{Pos: n.Pos, Msg: fmt.Sprintf("%s: %v (run will fail until it is available)", p.Name, err), Warning: true})
				}
			})
		}
	}
	return out
}

func walkSecrets(n *config.Node, fn func(*config.Node)) {
	if n == nil {
		return
	}
	switch n.Kind {
	case config.ScalarNode:
		if strings.Contains(n.Value, "${env:") || strings.Contains(n.Value, "${file:") {
			fn(n)
		}
	case config.MapNode:
		for _, p := range n.Pairs {
			walkSecrets(p.Value, fn)
		}
	case config.SeqNode:
		for _, it := range n.Items {
			walkSecrets(it, fn)
		}
	}
}

func dirOf(file string) string {
	if i := strings.LastIndexByte(file, os.PathSeparator); i >= 0 {
		return file[:i]
	}
	return "."
}
