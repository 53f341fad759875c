package console

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestChartStaysInsideThePlot(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name            string
		metric, variant string
		points          []chartPoint
	}{
		{"percent near 100 with a wide margin", "csat", "percent_satisfied", []chartPoint{{Period: "a", Score: f(98), Margin: f(9)}, {Period: "b", Score: f(100), Margin: f(12)}}},
		{"nps index around zero", "nps", "index", []chartPoint{{Period: "a", Score: f(-95), Margin: f(20)}, {Period: "b", Score: f(5), Margin: f(30)}}},
		{"mean without bounds", "ces", "mean", []chartPoint{{Period: "a", Score: f(5.2), Margin: f(0.3)}, {Period: "b", Score: f(5.9)}}},
		{"one flat point", "csat", "mean", []chartPoint{{Period: "a", Score: f(4)}}},
		{"no scores at all", "csat", "percent_satisfied", []chartPoint{{Period: "a"}, {Period: "b"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ch := buildChart("x", tc.metric, tc.variant, tc.points)
			var ys []string
			for _, p := range ch.Points {
				ys = append(ys, p.Y)
			}
			for _, b := range ch.Bands {
				for _, seg := range strings.Fields(strings.NewReplacer("M", " ", "L", " ", "Z", " ").Replace(b)) {
					_, y, _ := strings.Cut(seg, ",")
					ys = append(ys, y)
				}
			}
			for _, y := range ys {
				v, err := strconv.ParseFloat(y, 64)
				if err != nil {
					t.Fatal(err)
				}
				if v < chartTop-0.05 || v > chartHeight-chartBottom+0.05 {
					t.Errorf("y=%v is outside the plot [%v, %v]", v, chartTop, chartHeight-chartBottom)
				}
			}
			if len(ch.YTicks) < 2 {
				t.Errorf("%d y ticks", len(ch.YTicks))
			}
			if got := len(ch.Points) + len(ch.Gaps); got != len(tc.points) {
				t.Errorf("%d marks for %d periods", got, len(tc.points))
			}
		})
	}
}

func TestNiceRange(t *testing.T) {
	t.Parallel()
	tests := []struct{ lo, hi, wantLo, wantHi, wantStep float64 }{
		// 62–88 padded by 8 % of the span is 59.92–90.08, a quarter of which
		// is 7.54: the step rounds up to 10.
		{62, 88, 50, 100, 10},
		{0.5, 0.9, 0.4, 1, 0.2},
		{-40, 35, -50, 50, 25},
		// A flat range is opened to ±0.5 first.
		{4, 4, 3, 5, 0.5},
	}
	for _, tc := range tests {
		lo, hi, step := niceRange(tc.lo, tc.hi)
		if ticks := (hi - lo) / step; lo > tc.lo || hi < tc.hi || ticks < 3-1e-9 || ticks > 6+1e-9 {
			t.Errorf("niceRange(%v, %v) = %v, %v, %v: not a range of 3 to 6 steps around the input", tc.lo, tc.hi, lo, hi, step)
		}
		if math.Abs(step-tc.wantStep) > 1e-9 || math.Abs(lo-tc.wantLo) > 1e-9 || math.Abs(hi-tc.wantHi) > 1e-9 {
			t.Errorf("niceRange(%v, %v) = %v, %v, %v; want %v, %v, %v", tc.lo, tc.hi, lo, hi, step, tc.wantLo, tc.wantHi, tc.wantStep)
		}
	}
}
