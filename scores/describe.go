package scores

import (
	"math"
	"strings"
)

// String returns Describe.
func (d Definition) String() string { return d.Describe() }

// Describe states the definition's formula in words, with its defaults
// applied, for example "CSAT % satisfied: responses rated 4–5 on 1–5 ÷ all
// valid responses × 100". Every Result carries this text, so that a number in
// a summary table always says how it was made.
func (d Definition) Describe() string {
	d = d.WithDefaults()
	var b strings.Builder
	b.WriteString(strings.ToUpper(string(d.Metric)))
	pos, neg, mid := d.bands()
	scale := d.Scale.String()
	switch {
	case d.Variant == PercentSatisfied:
		b.WriteString(" % satisfied: responses rated " + pos + " on " + scale + " ÷ all valid responses × 100")
	case d.Variant == PercentAgree:
		b.WriteString(" % agree: responses rated " + pos + " on " + scale + " ÷ all valid responses × 100")
	case d.Variant == GoodBad:
		b.WriteString(" good/bad: good (" + pos + ") ÷ (good (" + pos + ") + bad (" + neg + ")) × 100 on " + scale)
		if mid != "" {
			b.WriteString("; " + mid + " counts in neither")
		}
	case d.Variant == Composite:
		b.WriteString(" composite: sum of ratings ÷ (responses × " + formatNumber(d.Scale.Max) + ") × 100 on " + scale)
	case d.Variant == Mean:
		b.WriteString(" mean: average rating on " + scale)
	case d.Variant == Index && d.Metric == NPS:
		b.WriteString(": % promoters (" + pos + ") − % detractors (" + neg + ") of all valid responses on " + scale)
		if mid != "" {
			b.WriteString("; passives (" + mid + ") count in the total")
		}
	case d.Variant == Index:
		b.WriteString(" index: % positive (" + pos + ") − % negative (" + neg + ") of all valid responses on " + scale)
		if mid != "" {
			b.WriteString("; neutral (" + mid + ") counts in the total")
		}
	default:
		b.WriteString(" " + string(d.Variant) + ": unknown variant on " + scale)
	}
	if d.Metric == CES || !d.highIsGood() {
		if d.highIsGood() {
			b.WriteString("; high is good")
		} else {
			b.WriteString("; low is good")
		}
	}
	if d.Fractional {
		b.WriteString("; fractional ratings accepted")
	}
	return b.String()
}

// bands writes the positive, negative and in-between ranges of ratings as
// text, such as "4–5", "1–3" and "" when nothing lies in between. A missing
// threshold is written as "?".
func (d Definition) bands() (pos, neg, mid string) {
	lo, hi := d.Scale.Min, d.Scale.Max
	high := d.highIsGood()
	pos, neg = "?", "?"
	// Bounds of the neutral band; they start as the whole scale and shrink.
	midLo, midHi := lo, hi
	if d.Positive != nil {
		p := *d.Positive
		if high {
			pos = d.rangeText(p, hi)
			midHi = d.below(p)
		} else {
			pos = d.rangeText(lo, p)
			midLo = d.above(p)
		}
	}
	if d.Negative != nil {
		n := *d.Negative
		if high {
			neg = d.rangeText(lo, n)
			midLo = d.above(n)
		} else {
			neg = d.rangeText(n, hi)
			midHi = d.below(n)
		}
	}
	switch {
	case d.Positive == nil || d.Negative == nil:
	case d.Fractional && midLo < midHi:
		mid = "strictly between " + formatNumber(midLo) + " and " + formatNumber(midHi)
	case !d.Fractional && midLo <= midHi:
		mid = d.rangeText(midLo, midHi)
	}
	return pos, neg, mid
}

// rangeText writes the ratings from lo to hi inclusive: "4–5", or "5" when
// only one whole number lies in the range.
func (d Definition) rangeText(lo, hi float64) string {
	if !d.Fractional {
		lo, hi = math.Ceil(lo), math.Floor(hi)
	}
	if lo == hi {
		return formatNumber(lo)
	}
	return formatNumber(lo) + "–" + formatNumber(hi)
}

// below returns the highest rating strictly below v on a whole-number scale,
// or v itself on a fractional one (where the band is only indicative).
func (d Definition) below(v float64) float64 {
	if d.Fractional {
		return v
	}
	return math.Ceil(v) - 1
}

// above returns the lowest rating strictly above v on a whole-number scale,
// or v itself on a fractional one.
func (d Definition) above(v float64) float64 {
	if d.Fractional {
		return v
	}
	return math.Floor(v) + 1
}
