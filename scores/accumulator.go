package scores

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
)

// maxDenseWidth is the widest whole-number scale counted in an array; wider
// or fractional scales are counted in a map.
const maxDenseWidth = 1024

// Accumulator computes scores over a stream of observations without keeping
// them: it counts each (period, segment) group's ratings in a histogram, so
// memory grows with the number of groups and distinct ratings (and, with
// DedupeByContact, with the number of contacts), not with the number of
// observations. The counts do not depend on the order observations arrive
// in, so neither do the results.
//
// An Accumulator is not safe for concurrent use.
type Accumulator struct {
	def        Definition
	opts       Options
	definition string // the text every Result carries

	dense bool // ratings are counted in an array indexed by value − Min
	width int  // length of that array

	windowStart time.Time // rolling windows only
	periods     []Period  // every period seen, indexed by period id
	anchors     map[anchor]int
	lastSpan    calendarSpan // the calendar period of the previous observation
	lastPeriod  int          // its id, or −1

	groups    map[string]*group
	lastGroup *group
	keyBuf    []byte

	stats Stats
}

// Stats counts observations that no Result holds, so that nothing is
// dropped silently.
type Stats struct {
	// Seen is every observation passed to Add.
	Seen int
	// Undated observations had the zero At and a period other than All.
	Undated int
	// OutOfWindow observations were at or after Options.AsOf, or before the
	// start of a rolling window.
	OutOfWindow int
}

// group is the running state of one (period, segment) result.
type group struct {
	period  int
	segment []string
	invalid int
	counts  histogram
	// latest holds each contact's latest response when deduplicating.
	latest       map[string]latestResponse
	deduplicated int
}

// NewAccumulator returns an Accumulator for the definition and options, or
// every problem with them.
func NewAccumulator(def Definition, opts Options) (*Accumulator, error) {
	if err := def.Validate(); err != nil {
		return nil, fmt.Errorf("score definition: %w", err)
	}
	opts, err := opts.normalised()
	if err != nil {
		return nil, fmt.Errorf("score options: %w", err)
	}
	def = def.WithDefaults()
	a := &Accumulator{
		def:        def,
		opts:       opts,
		definition: def.Describe(),
		anchors:    make(map[anchor]int),
		lastPeriod: -1,
		groups:     make(map[string]*group),
	}
	if opts.DedupeByContact {
		a.definition += "; one response per contact in each result, the latest"
	}
	if width := def.Scale.Max - def.Scale.Min + 1; !def.Fractional && width <= maxDenseWidth {
		a.dense, a.width = true, int(width)
	}
	switch opts.Period {
	case Rolling:
		start, end := rollingWindow(opts.RollingDays, opts.AsOf, opts.Location)
		a.windowStart = start
		a.periods = append(a.periods, Period{Kind: Rolling, Start: start, End: end, Label: intervalLabel(start, end)})
	case All:
		p := Period{Kind: All, Label: "all"}
		if !opts.AsOf.IsZero() {
			p.End = opts.AsOf.In(opts.Location)
		}
		a.periods = append(a.periods, p)
	}
	return a, nil
}

// Add counts one observation. It fails only when the observation's
// Segment does not have one value per Options.GroupBy key; the observation
// is then not counted.
func (a *Accumulator) Add(o Observation) error {
	if len(o.Segment) != len(a.opts.GroupBy) {
		return fmt.Errorf("adding observation: %d segment values for %d group-by keys %q", len(o.Segment), len(a.opts.GroupBy), a.opts.GroupBy)
	}
	a.stats.Seen++
	period, ok := a.periodOf(o.At)
	if !ok {
		return nil
	}
	g := a.groupOf(period, o.Segment)
	v := o.Value
	if !a.valid(v) {
		g.invalid++
		return nil
	}
	if !a.opts.DedupeByContact || o.Contact == "" {
		g.counts.add(v, 1, a.def.Scale.Min)
		return nil
	}
	next := latestResponse{at: o.At, key: o.Key, value: v}
	if g.latest == nil {
		g.latest = make(map[string]latestResponse)
	}
	previous, seen := g.latest[o.Contact]
	if !seen {
		g.latest[o.Contact] = next
		return nil
	}
	g.deduplicated++
	if later(&next, &previous) {
		g.latest[o.Contact] = next
	}
	return nil
}

// Stats returns the counts of observations that no Result holds.
func (a *Accumulator) Stats() Stats { return a.stats }

// valid reports whether v is a rating on the definition's scale.
func (a *Accumulator) valid(v float64) bool {
	if math.IsNaN(v) || !a.def.Scale.Contains(v) {
		return false // infinities fall outside every finite scale
	}
	return a.def.Fractional || v == math.Trunc(v)
}

// periodOf returns the id of the period that holds t, or false when t
// belongs to none (and counts why in the stats).
func (a *Accumulator) periodOf(t time.Time) (int, bool) {
	opts := &a.opts
	if !opts.AsOf.IsZero() && !t.Before(opts.AsOf) {
		a.stats.OutOfWindow++
		return 0, false
	}
	switch opts.Period {
	case All:
		return 0, true
	case Rolling:
		if t.Before(a.windowStart) {
			a.stats.OutOfWindow++
			return 0, false
		}
		return 0, true
	}
	if t.IsZero() {
		a.stats.Undated++
		return 0, false
	}
	if a.lastPeriod >= 0 && a.lastSpan.contains(t) {
		return a.lastPeriod, true
	}
	span := calendarSpanOf(opts.Period, t, opts.Location)
	id, known := a.anchors[span.anchor]
	if !known {
		id = len(a.periods)
		a.anchors[span.anchor] = id
		a.periods = append(a.periods, Period{
			Kind:  opts.Period,
			Start: span.start,
			End:   span.end,
			Label: span.anchor.label(opts.Period),
		})
	}
	a.lastSpan, a.lastPeriod = span, id
	return id, true
}

// groupOf returns the group of a period and segment, creating it on first
// use.
func (a *Accumulator) groupOf(period int, segment []string) *group {
	if g := a.lastGroup; g != nil && g.period == period && slices.Equal(g.segment, segment) {
		return g
	}
	// The key is the period id and each segment value with its length, so
	// that no two different groups share a key.
	key := binary.AppendUvarint(a.keyBuf[:0], uint64(period))
	for _, value := range segment {
		key = binary.AppendUvarint(key, uint64(len(value)))
		key = append(key, value...)
	}
	a.keyBuf = key
	g, ok := a.groups[string(key)]
	if !ok {
		g = &group{period: period, segment: slices.Clone(segment)}
		if a.dense {
			g.counts.dense = make([]int, a.width)
		}
		a.groups[string(key)] = g
	}
	a.lastGroup = g
	return g
}

// Results returns one Result per (period, segment) group seen, sorted by
// period start and then by segment values. It may be called again after
// more observations are added.
func (a *Accumulator) Results() []Result {
	results := make([]Result, 0, len(a.groups))
	for _, g := range a.groups {
		counts := g.counts
		if len(g.latest) > 0 {
			counts = counts.clone()
			for _, r := range g.latest {
				counts.add(r.value, 1, a.def.Scale.Min)
			}
		}
		r := a.score(&counts)
		r.Period = a.periods[g.period]
		r.Segment = slices.Clone(g.segment)
		r.Invalid = g.invalid
		r.Deduplicated = g.deduplicated
		results = append(results, r)
	}
	slices.SortFunc(results, compareResults)
	return results
}

// compareResults orders results by period start, then period label (for
// periods without a start), then segment values.
func compareResults(x, y Result) int {
	if c := x.Period.Start.Compare(y.Period.Start); c != 0 {
		return c
	}
	if x.Period.Label != y.Period.Label {
		if x.Period.Label < y.Period.Label {
			return -1
		}
		return 1
	}
	return slices.Compare(x.Segment, y.Segment)
}

// Compute scores a slice of observations in one call. It is the
// Accumulator without the streaming.
func Compute(def Definition, obs []Observation, opts Options) ([]Result, error) {
	a, err := NewAccumulator(def, opts)
	if err != nil {
		return nil, err
	}
	for i := range obs {
		if err := a.Add(obs[i]); err != nil {
			return nil, fmt.Errorf("observation %d: %w", i, err)
		}
	}
	return a.Results(), nil
}
