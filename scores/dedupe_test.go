package scores

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDedupeByContact(t *testing.T) {
	t.Parallel()
	at := func(hour int) time.Time { return time.Date(2026, 11, 18, hour, 0, 0, 0, time.UTC) }
	type row struct {
		Label        string
		Segment      []string
		N            int
		Sum          float64
		Invalid      int
		Deduplicated int
	}
	tests := []struct {
		name string
		opts Options
		obs  []Observation
		want []row
	}{
		{
			name: "latest answer wins",
			opts: Options{DedupeByContact: true},
			obs: []Observation{
				{At: at(9), Value: 1, Contact: "ana"},
				{At: at(11), Value: 5, Contact: "ana"},
				{At: at(10), Value: 3, Contact: "ana"},
				{At: at(10), Value: 2, Contact: "bo"},
			},
			want: []row{{Label: "all", N: 2, Sum: 7, Deduplicated: 2}},
		},
		{
			name: "without dedupe every answer counts",
			opts: Options{},
			obs: []Observation{
				{At: at(9), Value: 1, Contact: "ana"},
				{At: at(11), Value: 5, Contact: "ana"},
			},
			want: []row{{Label: "all", N: 2, Sum: 6}},
		},
		{
			name: "same instant: greater key wins",
			opts: Options{DedupeByContact: true},
			obs: []Observation{
				{At: at(9), Value: 5, Contact: "ana", Key: "r-2"},
				{At: at(9), Value: 1, Contact: "ana", Key: "r-10"},
				{At: at(9), Value: 4, Contact: "ana", Key: "r-1"},
			},
			want: []row{{Label: "all", N: 1, Sum: 5, Deduplicated: 2}},
		},
		{
			name: "same instant and key: greater value wins",
			opts: Options{DedupeByContact: true},
			obs: []Observation{
				{At: at(9), Value: 2, Contact: "ana"},
				{At: at(9), Value: 4, Contact: "ana"},
				{At: at(9), Value: 3, Contact: "ana"},
			},
			want: []row{{Label: "all", N: 1, Sum: 4, Deduplicated: 2}},
		},
		{
			name: "anonymous answers are never merged",
			opts: Options{DedupeByContact: true},
			obs: []Observation{
				{At: at(9), Value: 2},
				{At: at(10), Value: 4},
				{At: at(11), Value: 5, Contact: "ana"},
			},
			want: []row{{Label: "all", N: 3, Sum: 11}},
		},
		{
			name: "invalid answers do not replace valid ones",
			opts: Options{DedupeByContact: true},
			obs: []Observation{
				{At: at(9), Value: 4, Contact: "ana"},
				{At: at(10), Value: math.NaN(), Contact: "ana"},
				{At: at(11), Value: 9, Contact: "ana"},
			},
			want: []row{{Label: "all", N: 1, Sum: 4, Invalid: 2}},
		},
		{
			name: "one answer per contact per period",
			opts: Options{Period: Day, DedupeByContact: true},
			obs: []Observation{
				{At: at(9), Value: 1, Contact: "ana"},
				{At: at(10), Value: 2, Contact: "ana"},
				{At: at(9).AddDate(0, 0, 1), Value: 5, Contact: "ana"},
			},
			want: []row{
				{Label: "2026-11-18", N: 1, Sum: 2, Deduplicated: 1},
				{Label: "2026-11-19", N: 1, Sum: 5},
			},
		},
		{
			name: "one answer per contact per segment",
			opts: Options{GroupBy: []string{"agent"}, DedupeByContact: true},
			obs: []Observation{
				{At: at(9), Value: 1, Contact: "ana", Segment: []string{"lena"}},
				{At: at(10), Value: 2, Contact: "ana", Segment: []string{"omar"}},
				{At: at(11), Value: 3, Contact: "ana", Segment: []string{"lena"}},
			},
			want: []row{
				{Label: "all", Segment: []string{"lena"}, N: 1, Sum: 3, Deduplicated: 1},
				{Label: "all", Segment: []string{"omar"}, N: 1, Sum: 2},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			results, err := Compute(Definition{Metric: CSAT, Variant: Mean}, tt.obs, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, r := range results {
				got = append(got, row{r.Period.Label, r.Segment, r.N, r.Sum, r.Invalid, r.Deduplicated})
			}
			if diff := cmp.Diff(tt.want, got, resultOptions); diff != "" {
				t.Errorf("results mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDedupeNoteInDefinitionText(t *testing.T) {
	t.Parallel()
	obs := []Observation{{At: noon, Value: 9, Contact: "ana"}}
	for _, dedupe := range []bool{false, true} {
		results, err := Compute(Definition{Metric: NPS}, obs, Options{DedupeByContact: dedupe})
		if err != nil {
			t.Fatal(err)
		}
		want := Definition{Metric: NPS}.Describe()
		if dedupe {
			want += "; one response per contact in each result, the latest"
		}
		if got := results[0].Definition; got != want {
			t.Errorf("dedupe %v: Definition = %q, want %q", dedupe, got, want)
		}
	}
}
