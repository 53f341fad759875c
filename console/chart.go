package console

import (
	"math"
	"strconv"
	"strings"
)

// chartPoint is one period of a score series.
type chartPoint struct {
	Period string
	Score  *float64
	Margin *float64
	N      int
}

// chart is a score trend drawn as SVG by the scores template: a line
// through the scores, the margin of error as a shaded band, one marker per
// period with n written above it and the numbers in its tooltip. Periods
// without a score are drawn as gaps on the axis.
type chart struct {
	Width, Height int
	Label         string
	Left, Right   string
	Top, Bottom   string
	YTicks        []chartTick
	XTicks        []chartTick
	Bands         []string
	Lines         []string
	Points        []chartMark
	Gaps          []chartMark
}

type chartTick struct {
	X, Y  string
	Label string
}

type chartMark struct {
	X, Y, LabelY string
	Period       string
	Score        string
	Margin       string
	N            int
	Title        string
}

// The chart's size in SVG units and its margins.
const (
	chartWidth   = 760
	chartHeight  = 300
	chartLeft    = 56.0
	chartRight   = 16.0
	chartTop     = 30.0
	chartBottom  = 46.0
	maxXLabels   = 12
	singleBandPx = 7.0
)

// scoreBounds are the values a score can take, when the formula fixes them.
func scoreBounds(metric, variant string) (lo, hi float64, ok bool) {
	switch variant {
	case "percent_satisfied", "good_bad", "composite", "percent_agree":
		return 0, 100, true
	case "index":
		return -100, 100, true
	case "", "mean":
		if metric == "nps" && variant == "" {
			return -100, 100, true
		}
	}
	return 0, 0, false
}

// scoreUnit is written after a score.
func scoreUnit(variant string) string {
	switch variant {
	case "percent_satisfied", "good_bad", "composite", "percent_agree":
		return " %"
	}
	return ""
}

// buildChart lays out points (in period order) on a chart.
func buildChart(label, metric, variant string, points []chartPoint) *chart {
	ch := &chart{Width: chartWidth, Height: chartHeight, Label: label,
		Left: num(chartLeft), Right: num(chartWidth - chartRight), Top: num(chartTop), Bottom: num(chartHeight - chartBottom)}
	if len(points) == 0 {
		return ch
	}
	unit := scoreUnit(variant)
	natLo, natHi, bounded := scoreBounds(metric, variant)
	clamp := func(v float64) float64 {
		if bounded {
			return math.Max(natLo, math.Min(natHi, v))
		}
		return v
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range points {
		if p.Score == nil {
			continue
		}
		m := 0.0
		if p.Margin != nil {
			m = *p.Margin
		}
		lo = math.Min(lo, clamp(*p.Score-m))
		hi = math.Max(hi, clamp(*p.Score+m))
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
		if bounded {
			lo, hi = natLo, natHi
		}
	}
	lo, hi, step := niceRange(lo, hi)
	if bounded {
		lo, hi = math.Max(lo, natLo), math.Min(hi, natHi)
	}
	plotW := chartWidth - chartLeft - chartRight
	plotH := chartHeight - chartTop - chartBottom
	x := func(i int) float64 { return chartLeft + (float64(i)+0.5)*plotW/float64(len(points)) }
	y := func(v float64) float64 { return chartTop + (hi-clamp(v))/(hi-lo)*plotH }

	for v := lo; v <= hi+step/1000; v += step {
		ch.YTicks = append(ch.YTicks, chartTick{Y: num(y(v)), Label: formatNumber(v, 2)})
	}
	every := (len(points) + maxXLabels - 1) / maxXLabels
	for i, p := range points {
		if i%every == 0 {
			ch.XTicks = append(ch.XTicks, chartTick{X: num(x(i)), Y: num(chartHeight - chartBottom + 18), Label: p.Period})
		}
	}

	var run []int
	flush := func() {
		if len(run) == 0 {
			return
		}
		ch.Bands = append(ch.Bands, bandPath(run, points, x, y))
		var pts []string
		for _, i := range run {
			pts = append(pts, num(x(i))+","+num(y(*points[i].Score)))
		}
		if len(pts) > 1 {
			ch.Lines = append(ch.Lines, strings.Join(pts, " "))
		}
		run = nil
	}
	for i, p := range points {
		if p.Score == nil {
			flush()
			ch.Gaps = append(ch.Gaps, chartMark{X: num(x(i)), Y: num(chartHeight - chartBottom), LabelY: num(chartHeight - chartBottom - 10), Period: p.Period, N: p.N,
				Title: p.Period + ": no score (n = " + strconv.Itoa(p.N) + ")"})
			continue
		}
		run = append(run, i)
		m := chartMark{X: num(x(i)), Y: num(y(*p.Score)), LabelY: num(y(*p.Score) - 10), Period: p.Period,
			Score: formatNumber(*p.Score, 1), N: p.N}
		m.Title = p.Period + ": " + m.Score + unit
		if p.Margin != nil {
			m.Margin = formatNumber(*p.Margin, 1)
			m.Title += " ± " + m.Margin
		}
		m.Title += " (n = " + strconv.Itoa(p.N) + ")"
		ch.Points = append(ch.Points, m)
	}
	flush()
	return ch
}

// bandPath outlines the margin of error along a run of defined points: the
// upper edge left to right, the lower edge back.
func bandPath(run []int, points []chartPoint, x func(int) float64, y func(float64) float64) string {
	type edge struct{ x, hi, lo float64 }
	var edges []edge
	for _, i := range run {
		s, m := *points[i].Score, 0.0
		if points[i].Margin != nil {
			m = *points[i].Margin
		}
		edges = append(edges, edge{x(i), y(s + m), y(s - m)})
	}
	if len(edges) == 1 {
		e := edges[0]
		edges = []edge{{e.x - singleBandPx, e.hi, e.lo}, {e.x + singleBandPx, e.hi, e.lo}}
	}
	var b strings.Builder
	for i, e := range edges {
		if i == 0 {
			b.WriteString("M")
		} else {
			b.WriteString(" L")
		}
		b.WriteString(num(e.x) + "," + num(e.hi))
	}
	for i := len(edges) - 1; i >= 0; i-- {
		b.WriteString(" L" + num(edges[i].x) + "," + num(edges[i].lo))
	}
	b.WriteString(" Z")
	return b.String()
}

// niceRange widens [lo, hi] a little and rounds it to a step of 1, 2, 2.5
// or 5 times a power of ten, giving four to six ticks.
func niceRange(lo, hi float64) (float64, float64, float64) {
	span := hi - lo
	if span <= 0 {
		span = math.Max(math.Abs(hi)*0.1, 1)
		lo, hi = lo-span/2, hi+span/2
	}
	pad := span * 0.08
	lo, hi = lo-pad, hi+pad
	raw := (hi - lo) / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, f := range []float64{1, 2, 2.5, 5} {
		if raw <= f*mag {
			step = f * mag
			break
		}
	}
	return math.Floor(lo/step) * step, math.Ceil(hi/step) * step, step
}

// num prints an SVG coordinate.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }
