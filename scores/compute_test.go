package scores

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// noon is an arbitrary instant that all undated-period tests use.
var noon = time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)

// ratings returns one observation per value, all at noon.
func ratings(values ...float64) []Observation {
	obs := make([]Observation, len(values))
	for i, v := range values {
		obs[i] = Observation{At: noon, Value: v}
	}
	return obs
}

// repeat returns value n times.
func repeat(value float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = value
	}
	return out
}

// concat joins slices of values.
func concat(parts ...[]float64) []float64 {
	var out []float64
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// compareResults compares results with NaN equal to NaN and floats equal to
// 1e-9, the noise of floating point, never of a formula.
var resultOptions = cmp.Options{cmpopts.EquateNaNs(), cmpopts.EquateApprox(0, 1e-9), cmpopts.EquateEmpty()}

// only computes over the All period and returns the single result.
func only(t *testing.T, def Definition, obs []Observation) Result {
	t.Helper()
	results, err := Compute(def, obs, Options{})
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	if len(results) != 1 {
		t.Fatalf("Compute returned %d results, want 1", len(results))
	}
	r := results[0]
	r.Period, r.Definition = Period{}, "" // checked elsewhere
	return r
}

// proportionMargin is the brief's formula for a proportion's margin.
func proportionMargin(p, n float64) float64 { return 1.96 * math.Sqrt(p*(1-p)/n) * 100 }

func TestPublishedWorkedExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		def    Definition
		values []float64
		want   Result
	}{
		{
			// Ten answers on 1–5 summing to 35: composite CSAT 35/50 = 70 %.
			name:   "composite 35 of 50",
			def:    Definition{Metric: CSAT, Variant: Composite},
			values: []float64{5, 5, 4, 4, 3, 3, 3, 3, 3, 2},
			want: Result{
				Metric: CSAT, Variant: Composite, Score: 70, N: 10, Sum: 35, MaxSum: 50,
				StdDev:        math.Sqrt(8.5 / 9),
				MarginOfError: 1.96 * math.Sqrt(8.5/9) / math.Sqrt(10) / 5 * 100,
			},
		},
		{
			name:   "five of ten satisfied",
			def:    Definition{Metric: CSAT},
			values: []float64{5, 4, 4, 5, 4, 3, 2, 1, 3, 2},
			want: Result{
				Metric: CSAT, Variant: PercentSatisfied, Score: 50, N: 10, Positive: 5, Negative: 5, Sum: 33,
				MarginOfError: proportionMargin(0.5, 10),
			},
		},
		{
			// Delighted: 40 fives and 30 fours of 100 responses → CSAT 70.
			name:   "delighted 40 fives 30 fours",
			def:    Definition{Metric: CSAT},
			values: concat(repeat(5, 40), repeat(4, 30), repeat(3, 10), repeat(2, 10), repeat(1, 10)),
			want: Result{
				Metric: CSAT, Variant: PercentSatisfied, Score: 70, N: 100, Positive: 70, Negative: 30, Sum: 380,
				MarginOfError: proportionMargin(0.7, 100),
			},
		},
		{
			// 50 promoters, 30 passives, 20 detractors of 100 → NPS 30 ± 15.3.
			name:   "nps 50 30 20",
			def:    Definition{Metric: NPS},
			values: concat(repeat(10, 25), repeat(9, 25), repeat(8, 15), repeat(7, 15), repeat(6, 10), repeat(0, 10)),
			want: Result{
				Metric: NPS, Variant: Index, Score: 30, N: 100, Positive: 50, Neutral: 30, Negative: 20, Sum: 760,
				MarginOfError: 1.96 * math.Sqrt((0.5+0.2-0.09)/100) * 100,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := only(t, tt.def, ratings(tt.values...))
			if diff := cmp.Diff(tt.want, got, resultOptions); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("nps margin rounds to 15.3", func(t *testing.T) {
		t.Parallel()
		r := only(t, Definition{Metric: NPS}, ratings(concat(repeat(9, 50), repeat(7, 30), repeat(6, 20))...))
		if got := math.Round(r.MarginOfError*10) / 10; got != 15.3 {
			t.Errorf("margin of error = %v, want ≈ 15.3", r.MarginOfError)
		}
	})
}

func TestVariants(t *testing.T) {
	t.Parallel()
	no := false
	tests := []struct {
		name   string
		def    Definition
		values []float64
		want   Result
	}{
		{
			// Zendesk: a 3 on 1–5 is bad.
			name:   "zendesk good bad counts 3 as bad",
			def:    Definition{Metric: CSAT, Variant: GoodBad},
			values: []float64{5, 4, 3, 3, 1},
			want: Result{
				Metric: CSAT, Variant: GoodBad, Score: 40, N: 5, Positive: 2, Negative: 3, Sum: 16,
				MarginOfError: proportionMargin(0.4, 5),
			},
		},
		{
			name:   "good bad leaves the middle out",
			def:    Definition{Metric: CSAT, Variant: GoodBad, Negative: Threshold(2)},
			values: []float64{5, 4, 3, 3, 1},
			want: Result{
				Metric: CSAT, Variant: GoodBad, Score: 100 * 2.0 / 3, N: 3, Positive: 2, Neutral: 2, Negative: 1, Sum: 10,
				MarginOfError: proportionMargin(2.0/3, 3),
			},
		},
		{
			name:   "mean with sample standard deviation",
			def:    Definition{Metric: CSAT, Variant: Mean},
			values: []float64{1, 2, 3, 4, 5},
			want: Result{
				Metric: CSAT, Variant: Mean, Score: 3, N: 5, Sum: 15,
				StdDev:        math.Sqrt(2.5),
				MarginOfError: 1.96 * math.Sqrt(2.5) / math.Sqrt(5),
			},
		},
		{
			name:   "nps mean",
			def:    Definition{Metric: NPS, Variant: Mean},
			values: []float64{0, 10},
			want: Result{
				Metric: NPS, Variant: Mean, Score: 5, N: 2, Sum: 10,
				StdDev:        math.Sqrt(50),
				MarginOfError: 1.96 * math.Sqrt(50) / math.Sqrt(2),
			},
		},
		{
			// Delighted 7-point: 5–7 agree.
			name:   "ces percent agree on 1-7",
			def:    Definition{Metric: CES, Variant: PercentAgree, Scale: Scale1to7},
			values: []float64{7, 6, 5, 4, 1},
			want: Result{
				Metric: CES, Variant: PercentAgree, Score: 60, N: 5, Positive: 3, Negative: 2, Sum: 23,
				MarginOfError: proportionMargin(0.6, 5),
			},
		},
		{
			// Nicereply blog: % positive − % negative, neutral in the total.
			name:   "ces index on 1-7",
			def:    Definition{Metric: CES, Variant: Index, Scale: Scale1to7},
			values: []float64{7, 6, 4, 4, 2},
			want: Result{
				Metric: CES, Variant: Index, Score: 20, N: 5, Positive: 2, Neutral: 2, Negative: 1, Sum: 23,
				MarginOfError: 1.96 * math.Sqrt((0.4+0.2-0.2*0.2)/5) * 100,
			},
		},
		{
			// Hexia: 1–2 is low effort, the good end.
			name:   "ces index low is good",
			def:    Definition{Metric: CES, Variant: Index, Scale: Scale1to5, HighIsGood: &no},
			values: []float64{1, 2, 3, 5, 5},
			want: Result{
				Metric: CES, Variant: Index, Score: 0, N: 5, Positive: 2, Neutral: 1, Negative: 2, Sum: 16,
				MarginOfError: 1.96 * math.Sqrt(0.8/5) * 100,
			},
		},
		{
			name:   "ces percent agree low is good",
			def:    Definition{Metric: CES, Variant: PercentAgree, Scale: Scale1to5, HighIsGood: &no},
			values: []float64{1, 2, 3, 5},
			want: Result{
				Metric: CES, Variant: PercentAgree, Score: 50, N: 4, Positive: 2, Negative: 2, Sum: 11,
				MarginOfError: proportionMargin(0.5, 4),
			},
		},
		{
			name:   "ces mean low is good is still a plain mean",
			def:    Definition{Metric: CES, Variant: Mean, Scale: Scale1to5, HighIsGood: &no},
			values: []float64{1, 3},
			want: Result{
				Metric: CES, Variant: Mean, Score: 2, N: 2, Sum: 4,
				StdDev:        math.Sqrt(2),
				MarginOfError: 1.96 * math.Sqrt(2) / math.Sqrt(2),
			},
		},
		{
			name:   "custom nps thresholds",
			def:    Definition{Metric: NPS, Positive: Threshold(8), Negative: Threshold(5)},
			values: []float64{8, 7, 6, 5},
			want: Result{
				Metric: NPS, Variant: Index, Score: 0, N: 4, Positive: 1, Neutral: 2, Negative: 1, Sum: 26,
				MarginOfError: 1.96 * math.Sqrt(0.5/4) * 100,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := only(t, tt.def, ratings(tt.values...))
			if diff := cmp.Diff(tt.want, got, resultOptions); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInvalidValuesAreExcludedAndCounted(t *testing.T) {
	t.Parallel()
	bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, 6, 4.5, -1}
	tests := []struct {
		name string
		def  Definition
		want Result
	}{
		{
			name: "whole-number scale",
			def:  Definition{Metric: CSAT},
			want: Result{
				Metric: CSAT, Variant: PercentSatisfied, Score: 50, N: 2, Positive: 1, Negative: 1, Sum: 6,
				Invalid: 7, MarginOfError: proportionMargin(0.5, 2),
			},
		},
		{
			name: "fractional scale accepts 4.5",
			def:  Definition{Metric: CSAT, Fractional: true},
			want: Result{
				Metric: CSAT, Variant: PercentSatisfied, Score: 100 * 2.0 / 3, N: 3, Positive: 2, Negative: 1, Sum: 10.5,
				Invalid: 6, MarginOfError: proportionMargin(2.0/3, 3),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := only(t, tt.def, ratings(append([]float64{5, 1}, bad...)...))
			if diff := cmp.Diff(tt.want, got, resultOptions); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResultWithoutValidResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		def        Definition
		values     []float64
		wantScore  bool
		wantMargin bool
	}{
		{name: "all invalid", def: Definition{Metric: NPS}, values: []float64{11, -1}},
		{name: "all in between", def: Definition{Metric: CSAT, Variant: GoodBad, Negative: Threshold(2)}, values: []float64{3, 3}},
		{name: "one rating has a mean but no margin", def: Definition{Metric: CSAT, Variant: Mean}, values: []float64{4}, wantScore: true},
		{name: "one rating has a proportion margin", def: Definition{Metric: CSAT}, values: []float64{4}, wantScore: true, wantMargin: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := only(t, tt.def, ratings(tt.values...))
			if r.HasScore() != tt.wantScore || r.HasMargin() != tt.wantMargin {
				t.Errorf("HasScore, HasMargin = %v, %v; want %v, %v (result %+v)", r.HasScore(), r.HasMargin(), tt.wantScore, tt.wantMargin, r)
			}
		})
	}
}

func TestBasis(t *testing.T) {
	t.Parallel()
	tests := []struct {
		def    Definition
		values []float64
		want   string
	}{
		{Definition{Metric: NPS}, []float64{10, 8, 2, 12}, "1 promoters, 1 passives, 1 detractors of 3; 1 invalid excluded"},
		{Definition{Metric: CSAT}, []float64{5, 3}, "1 satisfied of 2"},
		{Definition{Metric: CSAT, Variant: GoodBad, Negative: Threshold(2)}, []float64{5, 3, 1}, "1 good, 1 bad; 1 in between left out"},
		{Definition{Metric: CSAT, Variant: Composite}, []float64{5, 3}, "sum 8 of maximum 10 over 2"},
		{Definition{Metric: CSAT, Variant: Mean}, []float64{5, 3}, "sum 8 over 2"},
		{Definition{Metric: CES, Variant: PercentAgree, Scale: Scale1to7}, []float64{7, 1}, "1 agree of 2"},
		{Definition{Metric: CES, Variant: Index, Scale: Scale1to7}, []float64{7, 4, 1}, "1 positive, 1 neutral, 1 negative of 3"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := only(t, tt.def, ratings(tt.values...)).Basis(); got != tt.want {
				t.Errorf("Basis() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSegmentsAndOrder(t *testing.T) {
	t.Parallel()
	day := func(d int) time.Time { return time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC) }
	obs := []Observation{
		{At: day(3), Value: 5, Segment: []string{"zoe", "email"}},
		{At: day(2), Value: 1, Segment: []string{"ann", "whatsapp"}},
		{At: day(3), Value: 4, Segment: []string{"ann", "email"}},
		{At: day(2), Value: 5, Segment: []string{"ann", "email"}},
		{At: day(2), Value: 2, Segment: []string{"ann", "whatsapp"}},
		// Values that would collide if segments were joined naively.
		{At: day(2), Value: 3, Segment: []string{"ann\x00", "email"}},
		{At: day(2), Value: 3, Segment: []string{"", "ann\x00email"}},
	}
	a, err := NewAccumulator(Definition{Metric: CSAT, Variant: Mean}, Options{Period: Day, GroupBy: []string{"agent", "channel"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range obs {
		if err := a.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	type row struct {
		Label   string
		Segment []string
		N       int
		Score   float64
	}
	var got []row
	for _, r := range a.Results() {
		got = append(got, row{r.Period.Label, r.Segment, r.N, r.Score})
	}
	want := []row{
		{"2026-11-02", []string{"", "ann\x00email"}, 1, 3},
		{"2026-11-02", []string{"ann", "email"}, 1, 5},
		{"2026-11-02", []string{"ann", "whatsapp"}, 2, 1.5},
		{"2026-11-02", []string{"ann\x00", "email"}, 1, 3},
		{"2026-11-03", []string{"ann", "email"}, 1, 4},
		{"2026-11-03", []string{"zoe", "email"}, 1, 5},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(a.Results(), a.Results(), resultOptions); diff != "" {
		t.Errorf("Results is not stable across calls:\n%s", diff)
	}
}

func TestAddRejectsWrongSegmentLength(t *testing.T) {
	t.Parallel()
	a, err := NewAccumulator(Definition{Metric: NPS}, Options{GroupBy: []string{"agent"}})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Add(Observation{At: noon, Value: 9})
	if err == nil || !strings.Contains(err.Error(), `0 segment values for 1 group-by keys ["agent"]`) {
		t.Errorf("Add error = %v", err)
	}
	if got := a.Stats().Seen; got != 0 {
		t.Errorf("rejected observation was counted: Seen = %d", got)
	}
	if _, err := Compute(Definition{Metric: NPS}, []Observation{{Value: 9, Segment: []string{"x"}}}, Options{}); err == nil || !strings.HasPrefix(err.Error(), "observation 0: adding observation:") {
		t.Errorf("Compute error = %v", err)
	}
}

func TestNewAccumulatorErrors(t *testing.T) {
	t.Parallel()
	asOf := noon
	tests := []struct {
		name string
		def  Definition
		opts Options
		want string
	}{
		{"bad definition", Definition{Metric: CES}, Options{}, "score definition: variant: required for ces"},
		{"unknown period", Definition{Metric: NPS}, Options{Period: "fortnight"}, `score options: period "fortnight" is unknown`},
		{"rolling without days", Definition{Metric: NPS}, Options{Period: Rolling, AsOf: asOf}, "score options: rolling period needs a number of days above 0, got 0"},
		{"rolling without as-of", Definition{Metric: NPS}, Options{Period: Rolling, RollingDays: 30}, "score options: rolling period needs an as-of time to end at"},
		{"days without rolling", Definition{Metric: NPS}, Options{Period: Week, RollingDays: 7}, "score options: rolling days only apply to the rolling period, not week"},
		{"empty group key", Definition{Metric: NPS}, Options{GroupBy: []string{""}}, "score options: group-by key is empty"},
		{"repeated group key", Definition{Metric: NPS}, Options{GroupBy: []string{"agent", "agent"}}, `score options: group-by key "agent" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewAccumulator(tt.def, tt.opts)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("NewAccumulator error = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestStatsCountWhatNoResultHolds(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	obs := []Observation{
		{At: asOf.Add(-time.Hour), Value: 9},
		{At: asOf, Value: 9},                       // at as-of: excluded
		{At: asOf.Add(time.Hour), Value: 9},        // after: excluded
		{Value: 9},                                 // undated
		{At: asOf.AddDate(0, 0, -8), Value: 9},     // before the 7-day window
		{At: asOf.AddDate(0, 0, -7), Value: 9},     // first instant of the window
		{At: asOf.Add(-time.Nanosecond), Value: 4}, // last instant of the window
	}
	tests := []struct {
		name      string
		opts      Options
		wantStats Stats
		wantN     int
	}{
		{"all without as-of", Options{}, Stats{Seen: 7}, 7},
		{"all with as-of keeps undated", Options{AsOf: asOf}, Stats{Seen: 7, OutOfWindow: 2}, 5},
		{"day skips undated", Options{Period: Day, AsOf: asOf}, Stats{Seen: 7, OutOfWindow: 2, Undated: 1}, 4},
		{"rolling 7 days", Options{Period: Rolling, RollingDays: 7, AsOf: asOf}, Stats{Seen: 7, OutOfWindow: 4}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := NewAccumulator(Definition{Metric: NPS}, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range obs {
				if err := a.Add(o); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.wantStats, a.Stats()); diff != "" {
				t.Errorf("Stats mismatch (-want +got):\n%s", diff)
			}
			n := 0
			for _, r := range a.Results() {
				n += r.N
			}
			if n != tt.wantN {
				t.Errorf("results count %d responses, want %d", n, tt.wantN)
			}
		})
	}
}
