package connectors

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/mapping"
)

// Config is a connector's settings. Validate checks them without any I/O and
// returns every problem it finds (a config.ErrorList, or a plain error whose
// message starts with the offending key, such as "path: must start with /").
type Config interface {
	Validate() error
}

// SourceSpec registers a source type.
type SourceSpec struct {
	// Type is the name used in surveysync.yaml, such as "webhook".
	Type string
	// Summary is one line for listings.
	Summary string
	// Sample is the connector's sample.yaml: a commented example that is
	// also its documentation and a test fixture.
	Sample string
	// Config returns a fresh configuration holding the defaults.
	Config func() Config
	// New builds the source from a validated configuration.
	New func(name string, cfg Config, deps Deps) (Source, error)
}

// DestinationSpec registers a destination type.
type DestinationSpec struct {
	Type    string
	Summary string
	Sample  string
	Config  func() Config
	// Accepts lists the mapping kinds the destination renders.
	Accepts []mapping.Kind
	// CheckMapping, when set, checks when the configuration is loaded that
	// the destination can send what a sync's mapping renders (for example
	// that a request mapping uses a path the connector understands), so the
	// mistake is reported by validate instead of dead-lettering every
	// response.
	CheckMapping func(m *mapping.Mapping) error
	New          func(name string, cfg Config, deps Deps) (Destination, error)
}

var (
	regMu        sync.RWMutex
	sources      = map[string]SourceSpec{}
	destinations = map[string]DestinationSpec{}
)

// RegisterSource adds a source type; it is called from the connector
// package's init function and panics on a duplicate, which is a programming
// error.
func RegisterSource(s SourceSpec) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := sources[s.Type]; dup {
		panic("connectors: source type registered twice: " + s.Type)
	}
	sources[s.Type] = s
}

// RegisterDestination adds a destination type.
func RegisterDestination(s DestinationSpec) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := destinations[s.Type]; dup {
		panic("connectors: destination type registered twice: " + s.Type)
	}
	destinations[s.Type] = s
}

// Sources returns the registered source types, sorted by type.
func Sources() []SourceSpec {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]SourceSpec, 0, len(sources))
	for _, s := range sources {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// Destinations returns the registered destination types, sorted by type.
func Destinations() []DestinationSpec {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]DestinationSpec, 0, len(destinations))
	for _, s := range destinations {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// LookupSource returns the source type named typ.
func LookupSource(typ string) (SourceSpec, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	s, ok := sources[typ]
	return s, ok
}

// LookupDestination returns the destination type named typ.
func LookupDestination(typ string) (DestinationSpec, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	s, ok := destinations[typ]
	return s, ok
}

// ConfigureSource decodes and validates a source entry of surveysync.yaml.
func ConfigureSource(p *config.Plugin) (SourceSpec, Config, config.ErrorList) {
	spec, ok := LookupSource(p.Type)
	if !ok {
		return spec, nil, unknownType(p, "source", typeNames(Sources()))
	}
	cfg, errs := configure(p, "sources", spec.Config)
	return spec, cfg, errs
}

// ConfigureDestination decodes and validates a destination entry.
func ConfigureDestination(p *config.Plugin) (DestinationSpec, Config, config.ErrorList) {
	spec, ok := LookupDestination(p.Type)
	if !ok {
		return spec, nil, unknownType(p, "destination", destinationNames())
	}
	cfg, errs := configure(p, "destinations", spec.Config)
	return spec, cfg, errs
}

// Accepts reports whether the destination renders mappings of kind k.
func (s DestinationSpec) AcceptsKind(k mapping.Kind) bool { return slices.Contains(s.Accepts, k) }

func typeNames(specs []SourceSpec) []string {
	var names []string
	for _, s := range specs {
		names = append(names, s.Type)
	}
	return names
}

func destinationNames() []string {
	var names []string
	for _, s := range Destinations() {
		names = append(names, s.Type)
	}
	return names
}

func unknownType(p *config.Plugin, what string, known []string) config.ErrorList {
	pos := p.Pos
	msg := fmt.Sprintf("%s %q: unknown type %q", what, p.Name, p.Type)
	if s := config.Suggest(p.Type, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
	}
	return config.ErrorList{config.Errorf(pos, "%s", msg)}
}

// configure decodes p.Body into a fresh Config and validates it. Validation
// errors without a position are placed at the key they name, when the
// message starts with one, else at the entry's name.
func configure(p *config.Plugin, section string, fresh func() Config) (Config, config.ErrorList) {
	cfg := fresh()
	var errs config.ErrorList
	prefix := section + "." + p.Name + ": "
	if err := config.Decode(p.Body, cfg); err != nil {
		for _, e := range config.AsList(err) {
			e.Msg = prefix + e.Msg
			errs = append(errs, e)
		}
		return cfg, errs
	}
	if err := cfg.Validate(); err != nil {
		for _, e := range validationErrors(err) {
			if e.Pos.Line == 0 {
				e.Pos = keyPos(p, e.Msg)
			}
			e.Msg = prefix + e.Msg
			errs = append(errs, e)
		}
	}
	return cfg, errs
}

// validationErrors splits what Validate returned into one error per
// problem. config.AsList alone does not do that for errors.Join trees, the
// way most Validate methods collect problems: it returns one error holding
// every message, or, when one branch wraps a positioned list (a compiled
// expression's errors, say), only that list, dropping the rest. A wrapped
// error ("key: %w") keeps its wrapper's text as a prefix of each message.
func validationErrors(err error) config.ErrorList {
	switch e := err.(type) {
	case config.ErrorList:
		out := make(config.ErrorList, len(e))
		for i, x := range e {
			c := *x
			out[i] = &c
		}
		return out
	case *config.Error:
		c := *e
		return config.ErrorList{&c}
	case interface{ Unwrap() []error }:
		var out config.ErrorList
		for _, x := range e.Unwrap() {
			out = append(out, validationErrors(x)...)
		}
		return out
	}
	if inner := errors.Unwrap(err); inner != nil {
		if prefix, ok := strings.CutSuffix(err.Error(), inner.Error()); ok {
			out := validationErrors(inner)
			for _, e := range out {
				e.Msg = prefix + e.Msg
			}
			return out
		}
	}
	return config.ErrorList{{Msg: err.Error()}}
}

// keyPos returns where the key a message starts with is written in the
// entry: for "csv.delimiter: ..." the deepest of csv and csv.delimiter that
// is there, else the entry's name.
func keyPos(p *config.Plugin, msg string) config.Pos {
	pos := p.Pos
	key, _, ok := strings.Cut(msg, ":")
	if !ok {
		return pos
	}
	n := p.Body
	for _, k := range strings.Split(strings.TrimSpace(key), ".") {
		if n = n.Get(k); n == nil {
			break
		}
		pos = n.Pos
	}
	return pos
}
