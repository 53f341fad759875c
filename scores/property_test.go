package scores

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// propertyDefinitions covers every variant, polarity and a fractional scale.
var propertyDefinitions = []Definition{
	{Metric: CSAT},
	{Metric: CSAT, Variant: GoodBad},
	{Metric: CSAT, Variant: GoodBad, Negative: Threshold(2)},
	{Metric: CSAT, Variant: Composite},
	{Metric: CSAT, Variant: Mean, Scale: Scale1to10},
	{Metric: CSAT, Variant: Mean, Scale: Scale{Min: 0, Max: 5}, Fractional: true},
	{Metric: NPS},
	{Metric: NPS, Variant: Mean},
	{Metric: CES, Variant: Mean, Scale: Scale1to7},
	{Metric: CES, Variant: PercentAgree, Scale: Scale1to7},
	{Metric: CES, Variant: Index, Scale: Scale1to5, HighIsGood: boolPtr(false)},
	{Metric: CES, Variant: PercentAgree, Scale: Scale{Min: 1, Max: 3}, Fractional: true, Positive: Threshold(2.5)},
}

// propertyOptions covers every period kind with and without segments and
// deduplication. Locations are filled in by the test.
var propertyOptions = []Options{
	{},
	{Period: Day, GroupBy: []string{"agent"}},
	{Period: Week, GroupBy: []string{"agent", "channel"}, DedupeByContact: true},
	{Period: Month, DedupeByContact: true},
	{Period: Quarter, GroupBy: []string{"channel"}},
	{Period: Year},
	{Period: Rolling, RollingDays: 30, AsOf: time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC), DedupeByContact: true},
	{Period: Day, AsOf: time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC), DedupeByContact: true, GroupBy: []string{"agent"}},
}

// randomValue returns a valid rating for def, drawn at random.
func randomValue(rng *rand.Rand, def Definition) float64 {
	def = def.WithDefaults()
	lo, hi := def.Scale.Min, def.Scale.Max
	if def.Fractional {
		// Quarter steps keep sums exact, so the test compares bit for bit.
		return lo + float64(rng.IntN(int((hi-lo)*4)+1))/4
	}
	return lo + float64(rng.IntN(int(hi-lo)+1))
}

// randomObservations returns n valid observations over March and April
// 2026 (two daylight-saving changes away from UTC in Berlin and New York),
// with few distinct instants, contacts and keys so that deduplication ties
// happen.
func randomObservations(rng *rand.Rand, def Definition, opts Options, n int) []Observation {
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	agents := []string{"ann", "bo", "cy"}
	channels := []string{"email", "whatsapp"}
	obs := make([]Observation, n)
	for i := range obs {
		o := Observation{
			At:      base.Add(time.Duration(rng.IntN(61*24*4)) * 15 * time.Minute),
			Value:   randomValue(rng, def),
			Contact: fmt.Sprintf("c%d", rng.IntN(n/3+1)),
			Key:     fmt.Sprintf("k%d", rng.IntN(3)),
		}
		if rng.IntN(10) == 0 {
			o.Contact = "" // anonymous
		}
		for _, key := range opts.GroupBy {
			if key == "agent" {
				o.Segment = append(o.Segment, agents[rng.IntN(len(agents))])
			} else {
				o.Segment = append(o.Segment, channels[rng.IntN(len(channels))])
			}
		}
		obs[i] = o
	}
	return obs
}

// propertyCase runs fn for every definition and option set, in Berlin and
// New York, with a seeded generator per case.
func propertyCase(t *testing.T, fn func(t *testing.T, rng *rand.Rand, def Definition, opts Options)) {
	t.Helper()
	for _, zone := range []string{"Europe/Berlin", "America/New_York"} {
		loc := mustLoad(t, zone)
		for di, def := range propertyDefinitions {
			for oi, opts := range propertyOptions {
				opts.Location = loc
				seed := uint64(di*100 + oi)
				t.Run(fmt.Sprintf("%s/%s/%d", zone, def.WithDefaults().Describe(), oi), func(t *testing.T) {
					t.Parallel()
					fn(t, rand.New(rand.NewPCG(seed, 2026)), def, opts)
				})
			}
		}
	}
}

// mustCompute runs Compute or fails the test.
func mustCompute(t *testing.T, def Definition, obs []Observation, opts Options) []Result {
	t.Helper()
	results, err := Compute(def, obs, opts)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return results
}

// exact compares results bit for bit, with NaN equal to NaN.
var exact = cmp.Options{cmpopts.EquateNaNs(), cmpopts.EquateEmpty()}

// diffExact returns "" when the results are identical bit for bit, or
// their differences. It checks fast before asking cmp, which is slow on
// hundreds of results under the race detector.
func diffExact(want, got []Result) string {
	same := len(want) == len(got)
	for i := 0; same && i < len(want); i++ {
		same = sameResult(want[i], got[i])
	}
	if same {
		return ""
	}
	if diff := cmp.Diff(want, got, exact); diff != "" {
		return diff
	}
	return "results differ in the last bits of a float"
}

// sameResult reports whether two results are identical bit for bit.
func sameResult(x, y Result) bool {
	bits := math.Float64bits
	return x.Period.Kind == y.Period.Kind && x.Period.Start.Equal(y.Period.Start) && x.Period.End.Equal(y.Period.End) &&
		x.Period.Label == y.Period.Label && slices.Equal(x.Segment, y.Segment) &&
		x.Metric == y.Metric && x.Variant == y.Variant && bits(x.Score) == bits(y.Score) && x.N == y.N &&
		x.Positive == y.Positive && x.Neutral == y.Neutral && x.Negative == y.Negative &&
		bits(x.Sum) == bits(y.Sum) && bits(x.MaxSum) == bits(y.MaxSum) && bits(x.StdDev) == bits(y.StdDev) &&
		x.Invalid == y.Invalid && x.Deduplicated == y.Deduplicated &&
		bits(x.MarginOfError) == bits(y.MarginOfError) && x.Definition == y.Definition
}

func TestPropertyOrderNeverMatters(t *testing.T) {
	t.Parallel()
	propertyCase(t, func(t *testing.T, rng *rand.Rand, def Definition, opts Options) {
		obs := randomObservations(rng, def, opts, 400)
		// Mix in invalid values too.
		for i := 0; i < 20; i++ {
			o := obs[rng.IntN(len(obs))]
			o.Value = []float64{math.NaN(), -100, 1000, 0.3}[rng.IntN(4)]
			obs = append(obs, o)
		}
		want := mustCompute(t, def, obs, opts)
		for round := 0; round < 5; round++ {
			shuffled := slices.Clone(obs)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if diff := diffExact(want, mustCompute(t, def, shuffled, opts)); diff != "" {
				t.Fatalf("shuffling changed the results (-before +after):\n%s", diff)
			}
		}
		slices.Reverse(obs)
		if diff := diffExact(want, mustCompute(t, def, obs, opts)); diff != "" {
			t.Fatalf("reversing changed the results (-before +after):\n%s", diff)
		}
	})
}

func TestPropertyScoresStayInRange(t *testing.T) {
	t.Parallel()
	propertyCase(t, func(t *testing.T, rng *rand.Rand, def Definition, opts Options) {
		d := def.WithDefaults()
		for round := 0; round < 10; round++ {
			for _, r := range mustCompute(t, def, randomObservations(rng, def, opts, 1+rng.IntN(200)), opts) {
				if !r.HasScore() {
					if d.Variant == GoodBad && r.N == 0 && r.Neutral > 0 {
						continue // only answers in between: no score, by definition
					}
					t.Fatalf("result without score from valid ratings: %+v", r)
				}
				lo, hi := 0.0, 100.0
				switch d.Variant {
				case Index:
					lo = -100
				case Mean:
					lo, hi = d.Scale.Min, d.Scale.Max
				}
				if r.Score < lo || r.Score > hi {
					t.Fatalf("score %v outside %v..%v: %+v", r.Score, lo, hi, r)
				}
				if r.HasMargin() && r.MarginOfError < 0 {
					t.Fatalf("negative margin of error: %+v", r)
				}
				counted := r.Positive + r.Neutral + r.Negative
				switch d.Variant {
				case GoodBad:
					counted -= r.Neutral
				case Mean, Composite:
					counted = r.N
				}
				if counted != r.N {
					t.Fatalf("counts %d/%d/%d do not add up to N=%d", r.Positive, r.Neutral, r.Negative, r.N)
				}
			}
		}
	})
}

func TestPropertyPassiveMovesNPSTowardZero(t *testing.T) {
	t.Parallel()
	loc := mustLoad(t, "Europe/Berlin")
	def := Definition{Metric: NPS}
	for oi, opts := range propertyOptions {
		opts.Location = loc
		t.Run(fmt.Sprint(oi), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(oi), 7))
			for round := 0; round < 50; round++ {
				obs := randomObservations(rng, def, opts, 1+rng.IntN(60))
				before := mustCompute(t, def, obs, opts)
				// A passive from a new contact, placed with an existing response.
				passive := obs[rng.IntN(len(obs))]
				passive.Value = float64(7 + rng.IntN(2))
				passive.Contact = "new passive"
				after := mustCompute(t, def, append(slices.Clone(obs), passive), opts)
				for _, a := range after {
					i := slices.IndexFunc(before, func(b Result) bool {
						return b.Period.Label == a.Period.Label && slices.Equal(b.Segment, a.Segment)
					})
					if i < 0 {
						if a.N > 0 && a.Score != 0 {
							t.Fatalf("a group holding only the passive has NPS %v", a.Score)
						}
						continue
					}
					b := before[i]
					if math.Abs(a.Score) > math.Abs(b.Score) || a.Score*b.Score < 0 {
						t.Fatalf("adding a passive moved NPS from %v to %v", b.Score, a.Score)
					}
				}
			}
		})
	}
}

func TestPropertyExcludedValuesNeverChangeTheScore(t *testing.T) {
	t.Parallel()
	propertyCase(t, func(t *testing.T, rng *rand.Rand, def Definition, opts Options) {
		d := def.WithDefaults()
		obs := randomObservations(rng, def, opts, 300)
		want := mustCompute(t, def, obs, opts)
		invalid := []float64{math.NaN(), math.Inf(1), math.Inf(-1), d.Scale.Min - 1, d.Scale.Max + 0.5, d.Scale.Max + 1}
		if !d.Fractional {
			invalid = append(invalid, d.Scale.Min+0.5)
		}
		// Invalid answers from existing contacts, later than anything, must
		// not replace their valid answers either.
		withInvalid := slices.Clone(obs)
		for i := 0; i < 100; i++ {
			o := obs[rng.IntN(len(obs))]
			o.Value = invalid[rng.IntN(len(invalid))]
			o.At = o.At.Add(time.Hour)
			o.Key = "zzz"
			withInvalid = append(withInvalid, o)
		}
		got := mustCompute(t, def, withInvalid, opts)
		var kept []Result
		for _, r := range got {
			opened := !slices.ContainsFunc(want, func(w Result) bool {
				return w.Period.Label == r.Period.Label && slices.Equal(w.Segment, r.Segment)
			})
			if opened {
				// A group that only invalid answers opened counts nothing.
				if r.N != 0 || r.Positive+r.Neutral+r.Negative != 0 || r.Invalid == 0 {
					t.Fatalf("a group of invalid answers counts some: %+v", r)
				}
				continue
			}
			r.Invalid = 0
			kept = append(kept, r)
		}
		for i := range want {
			want[i].Invalid = 0
		}
		if diff := diffExact(want, kept); diff != "" {
			t.Fatalf("invalid values changed the results (-without +with):\n%s", diff)
		}
	})
}
