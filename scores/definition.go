package scores

import (
	"errors"
	"fmt"
	"math"
)

// Metric names what a score measures.
type Metric string

// The metrics surveysync computes.
const (
	// CSAT is customer satisfaction, usually on 1–5.
	CSAT Metric = "csat"
	// NPS is the Net Promoter Score on the 0–10 likelihood-to-recommend scale.
	NPS Metric = "nps"
	// CES is the Customer Effort Score; vendors disagree on its scale, its
	// polarity and its formula, so a CES definition must state all three.
	CES Metric = "ces"
)

// Variant names the formula that turns ratings into a score.
type Variant string

// The formulas a Definition can use. Which ones apply depends on the metric;
// see Definition.
const (
	// PercentSatisfied is responses at or beyond the positive threshold ÷ all
	// valid responses × 100 (Delighted, Retently, Nicereply "Satisfaction
	// score"). Neutral answers count in the denominator.
	PercentSatisfied Variant = "percent_satisfied"
	// GoodBad is good ÷ (good + bad) × 100, the helpdesk convention (Zendesk):
	// answers between the two thresholds count in neither.
	GoodBad Variant = "good_bad"
	// Composite is the sum of all ratings ÷ the sum of the maximum possible
	// ratings × 100 (Zykrr "CSAT on multiple dimensions").
	Composite Variant = "composite"
	// Mean is the average rating on the scale (Nicereply "Average CSAT", CES
	// 2.0).
	Mean Variant = "mean"
	// PercentAgree is CES responses at or beyond the positive threshold ÷ all
	// valid responses × 100 (Delighted, Simplesat's adaptation of Gartner).
	PercentAgree Variant = "percent_agree"
	// Index is % positive − % negative with neutral answers in the
	// denominator only: NPS itself, and the CES index (Nicereply blog, CYS).
	Index Variant = "index"
)

// variantsByMetric lists the variants each metric allows, default first.
var variantsByMetric = map[Metric][]Variant{
	CSAT: {PercentSatisfied, GoodBad, Composite, Mean},
	NPS:  {Index, Mean},
	CES:  {Mean, PercentAgree, Index},
}

// Definition states exactly how a score is computed, so that every number
// surveysync reports can be reproduced by hand. A configuration file
// describes it with the keys in the yaml tags; unset keys take the defaults
// listed on each field, and Validate says what is missing or contradictory.
//
// Thresholds are inclusive. When high is good a response is positive at or
// above Positive and negative at or below Negative; when low is good both
// comparisons flip: positive at or below Positive, negative at or above
// Negative.
type Definition struct {
	// Metric is csat, nps or ces. It is required.
	Metric Metric `yaml:"metric" json:"metric"`
	// Variant is the formula. Defaults: percent_satisfied for csat, index for
	// nps. A ces definition must name one (mean, percent_agree or index)
	// because vendors mean different things by "CES".
	Variant Variant `yaml:"variant,omitempty" json:"variant,omitempty"`
	// Scale is the range of valid ratings, written "1-5" in configuration.
	// Defaults: 1–5 for csat, 0–10 for nps. A ces definition must state it.
	Scale Scale `yaml:"scale,omitempty" json:"scale,omitzero"`
	// Fractional accepts ratings between whole numbers, for a continuous
	// scale. By default ratings must be whole numbers and anything else, such
	// as 4.5 on 1–5, is counted as invalid.
	Fractional bool `yaml:"fractional,omitempty" json:"fractional,omitempty"`
	// Positive is the threshold of a positive answer: satisfied, good,
	// promoter, agree. Defaults come from the conventions in DefaultThresholds.
	Positive *float64 `yaml:"positive,omitempty" json:"positive,omitempty"`
	// Negative is the threshold of a negative answer: bad, detractor,
	// disagree. Only good_bad and index use it.
	Negative *float64 `yaml:"negative,omitempty" json:"negative,omitempty"`
	// HighIsGood says which end of the scale is good. It defaults to true.
	// Some CES surveys ask "how much effort" on 1–5 where 1 is best; those
	// set it to false.
	HighIsGood *bool `yaml:"high_is_good,omitempty" json:"high_is_good,omitempty"`
}

// Threshold returns a pointer to v, for filling Definition.Positive and
// Definition.Negative in Go code.
func Threshold(v float64) *float64 { return &v }

// clonePtr returns a pointer to a copy of *p, or nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// FieldError is one problem with one key of a Definition. Validate joins
// them with errors.Join so that every problem is reported at once; the
// config package can use Field to point at the offending line.
type FieldError struct {
	// Field is the configuration key, as in the yaml tags: metric, variant,
	// scale, positive, negative or high_is_good.
	Field string
	// Problem says what is wrong and what would be right.
	Problem string
}

// Error returns "field: problem".
func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// WithDefaults returns a copy of d with every unset key that has a default
// filled in. The copy shares no pointers with d. It never fails; Validate
// reports what is still missing.
func (d Definition) WithDefaults() Definition {
	d.Positive = clonePtr(d.Positive)
	d.Negative = clonePtr(d.Negative)
	d.HighIsGood = clonePtr(d.HighIsGood)
	switch d.Metric {
	case CSAT:
		if d.Variant == "" {
			d.Variant = PercentSatisfied
		}
		if d.Scale.IsZero() {
			d.Scale = Scale1to5
		}
	case NPS:
		if d.Variant == "" {
			d.Variant = Index
		}
		if d.Scale.IsZero() {
			d.Scale = Scale0to10
		}
	}
	if d.HighIsGood == nil {
		yes := true
		d.HighIsGood = &yes
	}
	positive, negative, ok := DefaultThresholds(d.Metric, d.Scale, *d.HighIsGood)
	if ok {
		if d.Positive == nil && d.usesPositive() {
			d.Positive = Threshold(positive)
		}
		if d.Negative == nil && d.usesNegative() {
			d.Negative = Threshold(negative)
		}
	}
	return d
}

// DefaultThresholds returns the positive and negative thresholds that the
// published conventions give for a metric on a scale, and false where no
// convention exists (the definition must then state them):
//
//   - csat on 1–5: positive 4, negative 3 (Delighted, Nicereply and Zendesk
//     count 4–5 as satisfied or good; Zendesk counts 1–3 as bad);
//   - csat on 1–3 and 1–2: the top value is good, the rest bad (Zendesk);
//   - nps on 0–10: promoters 9–10, detractors 0–6;
//   - ces on 1–7: positive 5–7, negative 1–3 (Delighted, Simplesat);
//   - ces on 1–5: positive 4–5, negative 1–2 (Delighted), or with low good
//     positive 1–2, negative 4–5 (Hexia).
func DefaultThresholds(metric Metric, scale Scale, highIsGood bool) (positive, negative float64, ok bool) {
	t, ok := conventions[convention{metric, scale, highIsGood}]
	return t.positive, t.negative, ok
}

// convention identifies a metric on a scale with a polarity.
type convention struct {
	metric     Metric
	scale      Scale
	highIsGood bool
}

// thresholds is a positive and a negative threshold.
type thresholds struct{ positive, negative float64 }

// conventions holds the defaults DefaultThresholds documents.
var conventions = map[convention]thresholds{
	{CSAT, Scale1to5, true}:             {4, 3},
	{CSAT, Scale{Min: 1, Max: 3}, true}: {3, 2},
	{CSAT, Scale{Min: 1, Max: 2}, true}: {2, 1},
	{NPS, Scale0to10, true}:             {9, 6},
	{CES, Scale1to7, true}:              {5, 3},
	{CES, Scale1to7, false}:             {3, 5},
	{CES, Scale1to5, true}:              {4, 2},
	{CES, Scale1to5, false}:             {2, 4},
}

// usesPositive reports whether the variant needs a positive threshold.
func (d Definition) usesPositive() bool {
	switch d.Variant {
	case PercentSatisfied, GoodBad, PercentAgree, Index:
		return true
	}
	return false
}

// usesNegative reports whether the variant needs a negative threshold.
func (d Definition) usesNegative() bool {
	return d.Variant == GoodBad || d.Variant == Index
}

// highIsGood returns the polarity, true when unset.
func (d Definition) highIsGood() bool { return d.HighIsGood == nil || *d.HighIsGood }

// Validate reports every problem with the definition once its defaults are
// applied, as *FieldError values joined with errors.Join, or nil when the
// definition can be computed.
func (d Definition) Validate() error {
	d = d.WithDefaults()
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}

	allowed, known := variantsByMetric[d.Metric]
	switch {
	case d.Metric == "":
		add("metric", "required: csat, nps or ces")
		return errors.Join(errs...)
	case !known:
		add("metric", "%q is not a metric: want csat, nps or ces", d.Metric)
		return errors.Join(errs...)
	}

	variantOK := false
	for _, v := range allowed {
		variantOK = variantOK || v == d.Variant
	}
	switch {
	case d.Variant == "":
		add("variant", "required for %s, because vendors define it differently: want %s", d.Metric, listVariants(allowed))
	case !variantOK:
		add("variant", "%q does not apply to %s: want %s", d.Variant, d.Metric, listVariants(allowed))
	}

	scaleOK := false
	if d.Scale.IsZero() {
		add("scale", "required for %s, for example 1-7 or 1-5", d.Metric)
	} else if err := d.Scale.validate(d.Fractional); err != nil {
		add("scale", "%v", err)
	} else {
		scaleOK = true
	}

	high := d.highIsGood()
	polarityOK := true
	if !high && d.Metric == NPS {
		add("high_is_good", "must be true for nps, whose promoters answer 9–10")
		polarityOK = false
	}
	if d.Variant == Composite {
		if !high {
			add("high_is_good", "must be true for composite, which scores against the scale maximum")
		}
		if scaleOK && d.Scale.Min < 0 {
			add("scale", "composite needs a scale that starts at 0 or above, got %s", d.Scale)
		}
	}

	if !variantOK || !scaleOK || !polarityOK {
		// Thresholds cannot be judged without a formula, a scale and a
		// direction; their problems would only be noise.
		return errors.Join(errs...)
	}
	errs = append(errs, d.validateThreshold("positive", d.Positive, d.usesPositive())...)
	errs = append(errs, d.validateThreshold("negative", d.Negative, d.usesNegative())...)
	if d.Positive != nil && d.Negative != nil && d.usesPositive() && d.usesNegative() {
		p, n := *d.Positive, *d.Negative
		if high && n >= p {
			add("negative", "threshold %s must be below the positive threshold %s so that no answer is both", formatNumber(n), formatNumber(p))
		}
		if !high && n <= p {
			add("negative", "threshold %s must be above the positive threshold %s when low is good, so that no answer is both", formatNumber(n), formatNumber(p))
		}
	}
	return errors.Join(errs...)
}

// validateThreshold checks one threshold: present when used, absent when
// not, finite and within the scale.
func (d Definition) validateThreshold(field string, value *float64, used bool) []error {
	problem := func(format string, args ...any) []error {
		return []error{&FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}}
	}
	switch {
	case used && value == nil:
		return problem("threshold required for %s %s on %s, as no published convention gives a default", d.Metric, d.Variant, d.Scale)
	case !used && value != nil:
		return problem("threshold is not used by %s %s; remove it", d.Metric, d.Variant)
	case value == nil:
		return nil
	case math.IsNaN(*value) || math.IsInf(*value, 0):
		return problem("threshold must be a finite number")
	case !d.Scale.Contains(*value):
		return problem("threshold %s is outside the scale %s", formatNumber(*value), d.Scale)
	}
	return nil
}

// listVariants writes "a, b or c".
func listVariants(vs []Variant) string {
	out := ""
	for i, v := range vs {
		switch {
		case i == 0:
		case i == len(vs)-1:
			out += " or "
		default:
			out += ", "
		}
		out += string(v)
	}
	return out
}
