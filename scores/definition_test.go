package scores

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func boolPtr(b bool) *bool { return &b }

func TestDefinitionValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		def  Definition
		// want lists "field: problem fragment" for every expected problem.
		want []string
	}{
		{name: "csat defaults", def: Definition{Metric: CSAT}},
		{name: "csat good_bad defaults", def: Definition{Metric: CSAT, Variant: GoodBad}},
		{name: "csat composite", def: Definition{Metric: CSAT, Variant: Composite}},
		{name: "csat mean on 1-10", def: Definition{Metric: CSAT, Variant: Mean, Scale: Scale1to10}},
		{name: "nps defaults", def: Definition{Metric: NPS}},
		{name: "nps custom thresholds", def: Definition{Metric: NPS, Positive: Threshold(8), Negative: Threshold(5)}},
		{name: "ces percent agree 1-7", def: Definition{Metric: CES, Variant: PercentAgree, Scale: Scale1to7}},
		{name: "ces index low is good", def: Definition{Metric: CES, Variant: Index, Scale: Scale1to5, HighIsGood: boolPtr(false)}},
		{name: "fractional scale", def: Definition{Metric: CSAT, Variant: Mean, Scale: Scale{Min: 0, Max: 2.5}, Fractional: true}},
		{
			name: "missing metric",
			def:  Definition{},
			want: []string{"metric: required: csat, nps or ces"},
		},
		{
			name: "unknown metric",
			def:  Definition{Metric: "ltr"},
			want: []string{`metric: "ltr" is not a metric`},
		},
		{
			name: "ces needs variant and scale",
			def:  Definition{Metric: CES},
			want: []string{"variant: required for ces", "scale: required for ces"},
		},
		{
			name: "variant of another metric",
			def:  Definition{Metric: NPS, Variant: GoodBad},
			want: []string{`variant: "good_bad" does not apply to nps: want index or mean`},
		},
		{
			name: "reversed scale",
			def:  Definition{Metric: CSAT, Scale: Scale{Min: 5, Max: 1}},
			want: []string{"scale: minimum must be below maximum"},
		},
		{
			name: "fractional bounds on a whole-number scale",
			def:  Definition{Metric: CSAT, Variant: Mean, Scale: Scale{Min: 0.5, Max: 5}},
			want: []string{"scale: bounds of a whole-number scale must be whole numbers"},
		},
		{
			name: "no convention for thresholds",
			def:  Definition{Metric: CSAT, Scale: Scale1to7},
			want: []string{"positive: threshold required for csat percent_satisfied on 1–7"},
		},
		{
			name: "threshold outside the scale",
			def:  Definition{Metric: CSAT, Positive: Threshold(6)},
			want: []string{"positive: threshold 6 is outside the scale 1–5"},
		},
		{
			name: "unused threshold",
			def:  Definition{Metric: CSAT, Variant: Mean, Positive: Threshold(4)},
			want: []string{"positive: threshold is not used by csat mean"},
		},
		{
			name: "negative not used by percent satisfied",
			def:  Definition{Metric: CSAT, Negative: Threshold(2)},
			want: []string{"negative: threshold is not used by csat percent_satisfied"},
		},
		{
			name: "overlapping thresholds",
			def:  Definition{Metric: NPS, Positive: Threshold(7), Negative: Threshold(7)},
			want: []string{"negative: threshold 7 must be below the positive threshold 7"},
		},
		{
			name: "overlapping thresholds when low is good",
			def:  Definition{Metric: CES, Variant: Index, Scale: Scale1to5, HighIsGood: boolPtr(false), Positive: Threshold(3), Negative: Threshold(2)},
			want: []string{"negative: threshold 2 must be above the positive threshold 3 when low is good"},
		},
		{
			name: "nps low is good",
			def:  Definition{Metric: NPS, HighIsGood: boolPtr(false)},
			want: []string{"high_is_good: must be true for nps"},
		},
		{
			name: "composite low is good and negative scale",
			def:  Definition{Metric: CSAT, Variant: Composite, Scale: Scale{Min: -2, Max: 2}, HighIsGood: boolPtr(false)},
			want: []string{"high_is_good: must be true for composite", "scale: composite needs a scale that starts at 0 or above"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.def.Validate()
			var got []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var fe *FieldError
					if !errors.As(e, &fe) {
						t.Fatalf("error %v is not a *FieldError", e)
					}
					got = append(got, fe.Error())
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Validate() = %q, want %d problems like %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want it to start with %q", i, got[i], tt.want[i])
				}
				if got[i] != strings.ToLower(got[i][:1])+got[i][1:] || strings.HasSuffix(got[i], ".") {
					t.Errorf("problem %q should be lowercase without a trailing period", got[i])
				}
			}
		})
	}
}

func TestDefinitionWithDefaults(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	tests := []struct {
		name string
		in   Definition
		want Definition
	}{
		{
			name: "csat",
			in:   Definition{Metric: CSAT},
			want: Definition{Metric: CSAT, Variant: PercentSatisfied, Scale: Scale1to5, Positive: Threshold(4), HighIsGood: &yes},
		},
		{
			name: "zendesk good bad",
			in:   Definition{Metric: CSAT, Variant: GoodBad},
			want: Definition{Metric: CSAT, Variant: GoodBad, Scale: Scale1to5, Positive: Threshold(4), Negative: Threshold(3), HighIsGood: &yes},
		},
		{
			name: "zendesk three point",
			in:   Definition{Metric: CSAT, Variant: GoodBad, Scale: Scale{Min: 1, Max: 3}},
			want: Definition{Metric: CSAT, Variant: GoodBad, Scale: Scale{Min: 1, Max: 3}, Positive: Threshold(3), Negative: Threshold(2), HighIsGood: &yes},
		},
		{
			name: "nps",
			in:   Definition{Metric: NPS},
			want: Definition{Metric: NPS, Variant: Index, Scale: Scale0to10, Positive: Threshold(9), Negative: Threshold(6), HighIsGood: &yes},
		},
		{
			name: "nps keeps explicit thresholds",
			in:   Definition{Metric: NPS, Positive: Threshold(8)},
			want: Definition{Metric: NPS, Variant: Index, Scale: Scale0to10, Positive: Threshold(8), Negative: Threshold(6), HighIsGood: &yes},
		},
		{
			name: "ces low effort is good",
			in:   Definition{Metric: CES, Variant: PercentAgree, Scale: Scale1to5, HighIsGood: &no},
			want: Definition{Metric: CES, Variant: PercentAgree, Scale: Scale1to5, Positive: Threshold(2), HighIsGood: &no},
		},
		{
			name: "ces without a convention",
			in:   Definition{Metric: CES, Variant: Index, Scale: Scale1to10},
			want: Definition{Metric: CES, Variant: Index, Scale: Scale1to10, HighIsGood: &yes},
		},
		{
			name: "mean takes no thresholds",
			in:   Definition{Metric: CSAT, Variant: Mean},
			want: Definition{Metric: CSAT, Variant: Mean, Scale: Scale1to5, HighIsGood: &yes},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.in.WithDefaults()); diff != "" {
				t.Errorf("WithDefaults() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefinitionDescribe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		def  Definition
		want string
	}{
		{Definition{Metric: CSAT}, "CSAT % satisfied: responses rated 4–5 on 1–5 ÷ all valid responses × 100"},
		{Definition{Metric: CSAT, Variant: GoodBad}, "CSAT good/bad: good (4–5) ÷ (good (4–5) + bad (1–3)) × 100 on 1–5"},
		{Definition{Metric: CSAT, Variant: GoodBad, Scale: Scale1to10, Positive: Threshold(8), Negative: Threshold(4)}, "CSAT good/bad: good (8–10) ÷ (good (8–10) + bad (1–4)) × 100 on 1–10; 5–7 counts in neither"},
		{Definition{Metric: CSAT, Variant: Composite}, "CSAT composite: sum of ratings ÷ (responses × 5) × 100 on 1–5"},
		{Definition{Metric: CSAT, Variant: Mean}, "CSAT mean: average rating on 1–5"},
		{Definition{Metric: NPS}, "NPS: % promoters (9–10) − % detractors (0–6) of all valid responses on 0–10; passives (7–8) count in the total"},
		{Definition{Metric: NPS, Variant: Mean}, "NPS mean: average rating on 0–10"},
		{Definition{Metric: CES, Variant: Mean, Scale: Scale1to7}, "CES mean: average rating on 1–7; high is good"},
		{Definition{Metric: CES, Variant: PercentAgree, Scale: Scale1to7}, "CES % agree: responses rated 5–7 on 1–7 ÷ all valid responses × 100; high is good"},
		{Definition{Metric: CES, Variant: Index, Scale: Scale1to7}, "CES index: % positive (5–7) − % negative (1–3) of all valid responses on 1–7; neutral (4) counts in the total; high is good"},
		{Definition{Metric: CES, Variant: PercentAgree, Scale: Scale1to5, HighIsGood: boolPtr(false)}, "CES % agree: responses rated 1–2 on 1–5 ÷ all valid responses × 100; low is good"},
		{Definition{Metric: CSAT, Variant: PercentSatisfied, Scale: Scale{Min: 0, Max: 10}, Fractional: true, Positive: Threshold(7.5)}, "CSAT % satisfied: responses rated 7.5–10 on 0–10 ÷ all valid responses × 100; fractional ratings accepted"},
		{Definition{Metric: NPS, Scale: Scale{Min: 0, Max: 10}, Fractional: true}, "NPS: % promoters (9–10) − % detractors (0–6) of all valid responses on 0–10; passives (strictly between 6 and 9) count in the total; fractional ratings accepted"},
		{Definition{Metric: CES, Variant: Index, Scale: Scale1to10}, "CES index: % positive (?) − % negative (?) of all valid responses on 1–10; high is good"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.def.Describe(); got != tt.want {
				t.Errorf("Describe() =\n%s\nwant\n%s", got, tt.want)
			}
			if got := tt.def.String(); got != tt.want {
				t.Errorf("String() = %q, want Describe()", got)
			}
		})
	}
}

func TestParseScale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Scale
		wantErr string
	}{
		{in: "1-5", want: Scale1to5},
		{in: " 0 - 10 ", want: Scale0to10},
		{in: "1–7", want: Scale1to7},
		{in: "1..10", want: Scale1to10},
		{in: "-2-2", want: Scale{Min: -2, Max: 2}},
		{in: "-5--1", want: Scale{Min: -5, Max: -1}},
		{in: "0-2.5", want: Scale{Min: 0, Max: 2.5}},
		{in: "5", wantErr: `parsing scale "5": want min-max`},
		{in: "", wantErr: `parsing scale "": want min-max`},
		{in: "a-5", wantErr: `parsing scale "a-5": minimum "a" is not a number`},
		{in: "1-five", wantErr: `parsing scale "1-five": maximum "five" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseScale(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("ParseScale(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseScale(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseScale(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			text, err := got.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			var back Scale
			if err := back.UnmarshalText(text); err != nil || back != got {
				t.Errorf("round trip through %q = %v, %v; want %v", text, back, err, got)
			}
		})
	}
}

func TestAccumulatorKeepsItsOwnThresholds(t *testing.T) {
	t.Parallel()
	positive := 9.0
	def := Definition{Metric: NPS, Positive: &positive}
	a, err := NewAccumulator(def, Options{})
	if err != nil {
		t.Fatal(err)
	}
	positive = 7 // the caller reuses its variable
	if err := a.Add(Observation{At: noon, Value: 8}); err != nil {
		t.Fatal(err)
	}
	if r := a.Results()[0]; r.Positive != 0 || r.Neutral != 1 {
		t.Errorf("an 8 counted as %d promoters, %d passives after the caller changed its threshold", r.Positive, r.Neutral)
	}
}
