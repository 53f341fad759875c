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
// DedupeByContact, with the number of distinct contacts per group), not with
// the number of observations. The counts do not depend on the order
// observations arrive in, so neither do the results.
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
	// spans holds the calendar periods seen, sorted by start, for a binary
	// search by instant; lastSpan is the one the previous observation fell
	// in, since stored responses mostly arrive in time order.
	spans    []periodSpan
	lastSpan periodSpan

	groups    map[string]*group
	groupList []*group // in order of creation
	lastGroup *group
	keyBuf    []byte

	// For DedupeByContact, latest holds each (group, contact)'s latest
	// response, found through the group's latestIndex.
	latest             []latestResponse
	groupsWithContacts int // groups whose latestIndex exists

	stats Stats
}

// periodSpan is one calendar period as Unix seconds: period boundaries are
// local midnights, which are whole seconds in every time zone.
type periodSpan struct {
	start, end int64
	id         int
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
	index        int32
	period       int
	segment      []string
	invalid      int
	deduplicated int
	counts       histogram
	// latestIndex maps a contact to its entry in Accumulator.latest.
	latestIndex map[string]int32
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
		lastSpan:   periodSpan{id: -1},
		groups:     make(map[string]*group),
	}
	if opts.DedupeByContact {
		a.definition += "; one response per contact in each result, the latest"
		a.latest = make([]latestResponse, 0, opts.SizeHint)
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
	next := latestResponse{sec: o.At.Unix(), nsec: int32(o.At.Nanosecond()), group: g.index, value: v, key: o.Key}
	if g.latestIndex == nil {
		// Size the map like the average group so far: periods of one job
		// tend to be alike, and growing a map step by step costs more than
		// the lookups.
		g.latestIndex = make(map[string]int32, len(a.latest)/(a.groupsWithContacts+1))
		a.groupsWithContacts++
	}
	i, seen := g.latestIndex[o.Contact]
	if !seen {
		g.latestIndex[o.Contact] = int32(len(a.latest))
		a.latest = append(a.latest, next)
		return nil
	}
	g.deduplicated++
	if later(&next, &a.latest[i]) {
		a.latest[i] = next
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
	sec := t.Unix() // floored, so sec < end ⇔ t < end for whole-second ends
	if s := a.lastSpan; s.id >= 0 && s.start <= sec && sec < s.end {
		return s.id, true
	}
	i, found := slices.BinarySearchFunc(a.spans, sec, func(s periodSpan, sec int64) int {
		switch {
		case s.end <= sec:
			return -1
		case s.start > sec:
			return 1
		}
		return 0
	})
	if !found {
		span := calendarSpanOf(opts.Period, t, opts.Location)
		id := len(a.periods)
		a.periods = append(a.periods, Period{
			Kind:  opts.Period,
			Start: span.start,
			End:   span.end,
			Label: span.anchor.label(opts.Period),
		})
		a.spans = slices.Insert(a.spans, i, periodSpan{start: span.start.Unix(), end: span.end.Unix(), id: id})
	}
	a.lastSpan = a.spans[i]
	return a.lastSpan.id, true
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
		g = &group{index: int32(len(a.groupList)), period: period, segment: slices.Clone(segment)}
		if a.dense {
			g.counts.dense = make([]int, a.width)
		}
		a.groups[string(key)] = g
		a.groupList = append(a.groupList, g)
	}
	a.lastGroup = g
	return g
}

// Results returns one Result per (period, segment) group seen, sorted by
// period start and then by segment values. It may be called again after
// more observations are added.
func (a *Accumulator) Results() []Result {
	counts := make([]histogram, len(a.groupList))
	for i, g := range a.groupList {
		counts[i] = g.counts
	}
	if len(a.latest) > 0 {
		for i := range counts {
			counts[i] = counts[i].clone()
		}
		for i := range a.latest {
			r := &a.latest[i]
			counts[r.group].add(r.value, 1, a.def.Scale.Min)
		}
	}
	results := make([]Result, 0, len(a.groupList))
	for i, g := range a.groupList {
		r := a.score(&counts[i])
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
	if opts.SizeHint == 0 {
		opts.SizeHint = len(obs)
	}
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
