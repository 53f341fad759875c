package scores

import (
	"fmt"
	"math"
	"strings"
)

// Z95 is the standard normal quantile for a two-sided 95 % confidence
// interval, used by every margin of error.
const Z95 = 1.96

// Result is the score of one period and segment, with everything needed to
// check it by hand.
type Result struct {
	// Period is the time span the result covers.
	Period Period
	// Segment holds the values of Options.GroupBy for this result, in the
	// same order; it is empty without grouping.
	Segment []string
	// Metric and Variant repeat the definition's.
	Metric  Metric
	Variant Variant
	// Score is the number the definition describes: a percentage from 0 to
	// 100, an index from −100 to 100, or a mean on the scale. It is NaN when
	// N is 0 (every response was invalid or, for good_bad, in between).
	Score float64
	// N is the number of responses the score counts, after invalid ones are
	// excluded and duplicates dropped. For good_bad it is good + bad; for
	// every other variant it is all valid responses.
	N int
	// Positive counts satisfied, good, agreeing or promoter responses.
	// For percent_satisfied and percent_agree Negative counts the rest; for
	// good_bad and index it counts bad, negative or detractor responses and
	// Neutral counts the ones in between (passives). Mean and composite
	// leave all three at 0.
	Positive, Neutral, Negative int
	// Sum is the sum of the N counted ratings.
	Sum float64
	// MaxSum is N × the scale maximum: the denominator of composite, 0 for
	// other variants.
	MaxSum float64
	// StdDev is the sample standard deviation of the N ratings for mean and
	// composite (NaN when N < 2), 0 for other variants.
	StdDev float64
	// Invalid counts responses excluded because their value was not a
	// rating on the scale.
	Invalid int
	// Deduplicated counts responses dropped because the same contact
	// answered again later in the same result (Options.DedupeByContact).
	Deduplicated int
	// MarginOfError is the half-width of the 95 % confidence interval, in
	// the score's own units, by the normal approximation:
	//   - proportions: 1.96 · √(p(1−p)/N) × 100;
	//   - index and NPS: 1.96 · √((p₊ + p₋ − (p₊ − p₋)²)/N) × 100, from the
	//     variance of the positive-minus-negative difference;
	//   - mean: 1.96 · s/√N with the sample standard deviation s, and
	//     composite the same divided by the scale maximum × 100.
	// It is NaN when N is 0, or below 2 for mean and composite. With few
	// responses the approximation is rough; read N alongside it.
	MarginOfError float64
	// Definition is the formula in words (Definition.Describe), with the
	// deduplication rule when it applied.
	Definition string
}

// HasScore reports whether the result has a score, that is N > 0.
func (r Result) HasScore() bool { return !math.IsNaN(r.Score) }

// HasMargin reports whether the margin of error is defined.
func (r Result) HasMargin() bool { return !math.IsNaN(r.MarginOfError) }

// Basis writes the counts behind the score in words, for example
// "50 promoters, 30 passives, 20 detractors of 100; 2 invalid excluded".
func (r Result) Basis() string {
	var b strings.Builder
	switch {
	case r.Variant == PercentSatisfied:
		fmt.Fprintf(&b, "%d satisfied of %d", r.Positive, r.N)
	case r.Variant == PercentAgree:
		fmt.Fprintf(&b, "%d agree of %d", r.Positive, r.N)
	case r.Variant == GoodBad:
		fmt.Fprintf(&b, "%d good, %d bad", r.Positive, r.Negative)
		if r.Neutral > 0 {
			fmt.Fprintf(&b, "; %d in between left out", r.Neutral)
		}
	case r.Variant == Index && r.Metric == NPS:
		fmt.Fprintf(&b, "%d promoters, %d passives, %d detractors of %d", r.Positive, r.Neutral, r.Negative, r.N)
	case r.Variant == Index:
		fmt.Fprintf(&b, "%d positive, %d neutral, %d negative of %d", r.Positive, r.Neutral, r.Negative, r.N)
	case r.Variant == Composite:
		fmt.Fprintf(&b, "sum %s of maximum %s over %d", formatNumber(r.Sum), formatNumber(r.MaxSum), r.N)
	default:
		fmt.Fprintf(&b, "sum %s over %d", formatNumber(r.Sum), r.N)
	}
	if r.Invalid > 0 {
		fmt.Fprintf(&b, "; %d invalid excluded", r.Invalid)
	}
	if r.Deduplicated > 0 {
		if r.Deduplicated == 1 {
			b.WriteString("; 1 earlier answer from the same contact dropped")
		} else {
			fmt.Fprintf(&b, "; %d earlier answers from the same contacts dropped", r.Deduplicated)
		}
	}
	return b.String()
}

// score computes a result's score, counts and margin of error from its
// histogram. Period, Segment, Invalid and Deduplicated are left to the
// caller.
func (a *Accumulator) score(h *histogram) Result {
	def := &a.def
	r := Result{Metric: def.Metric, Variant: def.Variant, Definition: a.definition}
	high := def.highIsGood()
	isPositive := func(v float64) bool {
		if def.Positive == nil {
			return false
		}
		return high && v >= *def.Positive || !high && v <= *def.Positive
	}
	isNegative := func(v float64) bool {
		if def.Negative == nil {
			return false
		}
		return high && v <= *def.Negative || !high && v >= *def.Negative
	}

	h.each(def.Scale.Min, func(v float64, n int) {
		switch def.Variant {
		case PercentSatisfied, PercentAgree:
			if isPositive(v) {
				r.Positive += n
			} else {
				r.Negative += n
			}
		case GoodBad:
			switch {
			case isPositive(v):
				r.Positive += n
			case isNegative(v):
				r.Negative += n
			default:
				r.Neutral += n
				return // in between: not counted
			}
		case Index:
			switch {
			case isPositive(v):
				r.Positive += n
			case isNegative(v):
				r.Negative += n
			default:
				r.Neutral += n
			}
		}
		r.N += n
		r.Sum += v * float64(n)
	})

	r.Score, r.MarginOfError = math.NaN(), math.NaN()
	if r.N == 0 {
		if def.Variant == Mean || def.Variant == Composite {
			r.StdDev = math.NaN()
		}
		return r
	}
	n := float64(r.N)
	switch def.Variant {
	case PercentSatisfied, PercentAgree, GoodBad:
		r.Score = 100 * float64(r.Positive) / n
		p := float64(r.Positive) / n
		r.MarginOfError = Z95 * math.Sqrt(p*(1-p)/n) * 100
	case Index:
		r.Score = 100 * float64(r.Positive-r.Negative) / n
		pp, pn := float64(r.Positive)/n, float64(r.Negative)/n
		variance := pp + pn - (pp-pn)*(pp-pn)
		r.MarginOfError = Z95 * math.Sqrt(math.Max(variance, 0)/n) * 100
	case Mean, Composite:
		mean := r.Sum / n
		r.StdDev = math.NaN()
		if r.N > 1 {
			var squares float64
			h.each(def.Scale.Min, func(v float64, c int) {
				d := v - mean
				squares += d * d * float64(c)
			})
			r.StdDev = math.Sqrt(squares / (n - 1))
			r.MarginOfError = Z95 * r.StdDev / math.Sqrt(n)
		}
		r.Score = mean
		if def.Variant == Composite {
			r.MaxSum = n * def.Scale.Max
			r.Score = 100 * r.Sum / r.MaxSum
			r.MarginOfError = r.MarginOfError / def.Scale.Max * 100
		}
	}
	return r
}
