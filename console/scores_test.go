package console_test

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/surveysync/surveysync/engine"
)

// weeklyRows makes one row per week for a channel; a nil score is a week
// without responses.
func weeklyRows(channel string, scores []*float64) []engine.ScoreRow {
	start := time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC)
	var rows []engine.ScoreRow
	for i, s := range scores {
		n := 0
		var moe *float64
		if s != nil {
			n = 30 + i
			moe = ptr(4 + float64(i))
		}
		rows = append(rows, engine.ScoreRow{Job: "csat-weekly", Metric: "csat", Variant: "percent_satisfied",
			Period: "2026-W" + strconv.Itoa(37+i), PeriodStart: start.AddDate(0, 0, 7*i), PeriodEnd: start.AddDate(0, 0, 7*i+7),
			Segment: map[string]string{"channel": channel}, Score: s, MarginOfError: moe, N: n})
	}
	return rows
}

type chartSummary struct {
	Points  []string // period:n
	Gaps    []string
	Bands   int
	Lines   int
	Rows    int
	Chips   []string
	Heading string
}

func summarizeChart(t *testing.T, body string) (chartSummary, []float64) {
	t.Helper()
	doc := parseHTML(t, body)
	svgs := findAll(doc, hasClass("chart"))
	if len(svgs) != 1 {
		t.Fatalf("%d charts, want 1", len(svgs))
	}
	svg := svgs[0]
	var s chartSummary
	var ys []float64
	for _, p := range findAll(svg, hasClass("point")) {
		s.Points = append(s.Points, attr(p, "data-period")+":"+attr(p, "data-n"))
		c := findAll(p, func(n *html.Node) bool { return n.Data == "circle" })
		if len(c) != 1 {
			t.Fatalf("point %s has %d circles", attr(p, "data-period"), len(c))
		}
		y, err := strconv.ParseFloat(attr(c[0], "cy"), 64)
		if err != nil {
			t.Fatal(err)
		}
		ys = append(ys, y)
	}
	for _, g := range findAll(svg, hasClass("gap")) {
		s.Gaps = append(s.Gaps, attr(g, "data-period"))
	}
	s.Bands = len(findAll(svg, hasClass("band")))
	s.Lines = len(findAll(svg, hasClass("line")))
	s.Rows = len(findAll(doc, func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-period") != "" }))
	for _, a := range findAll(doc, func(n *html.Node) bool { return n.Data == "a" && attr(n.Parent, "class") == "chips segments" }) {
		label := textOf(a)
		if attr(a, "class") == "selected" {
			label = "[" + label + "]"
		}
		s.Chips = append(s.Chips, label)
	}
	if h := findAll(doc, hasClass("segment")); len(h) == 1 {
		s.Heading = textOf(h[0])
	}
	return s, ys
}

func TestScoreChartHasOnePointPerPeriod(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	web := []*float64{ptr(80), ptr(85), ptr(70), nil, ptr(90), ptr(75)}
	email := []*float64{ptr(50), ptr(55), ptr(60), ptr(65)}
	f.recordRun(t, append(weeklyRows("web", web), weeklyRows("email", email)...))

	_, body := f.get(t, "/console/scores?job=csat-weekly&segment="+url.QueryEscape("channel=web"))
	got, ys := summarizeChart(t, body)
	want := chartSummary{
		Points:  []string{"2026-W37:30", "2026-W38:31", "2026-W39:32", "2026-W41:34", "2026-W42:35"},
		Gaps:    []string{"2026-W40"},
		Bands:   2, // one per run of periods with a score
		Lines:   2,
		Rows:    6,
		Chips:   []string{"channel=email", "[channel=web]"},
		Heading: "channel=web",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chart (-want +got):\n%s", diff)
	}
	// Higher scores are drawn higher (smaller y).
	scoresShown := []float64{80, 85, 70, 90, 75}
	for i := range ys {
		for j := range ys {
			if scoresShown[i] > scoresShown[j] && ys[i] >= ys[j] {
				t.Errorf("score %v is drawn at y=%v, not above score %v at y=%v", scoresShown[i], ys[i], scoresShown[j], ys[j])
			}
		}
	}

	// Without a choice the first segment is shown.
	_, body = f.get(t, "/console/scores")
	got, _ = summarizeChart(t, body)
	if diff := cmp.Diff([]string{"2026-W37:30", "2026-W38:31", "2026-W39:32", "2026-W40:33"}, got.Points); diff != "" {
		t.Errorf("default segment points (-want +got):\n%s", diff)
	}
}

func TestScoresPageReadsTheNewestRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	f.recordRun(t, weeklyRows("web", []*float64{ptr(10), ptr(20)}))
	time.Sleep(2 * time.Millisecond) // runs are ordered by their microsecond run time
	f.recordRun(t, weeklyRows("web", []*float64{ptr(10), ptr(20), ptr(30)}))
	_, body := f.get(t, "/console/scores")
	got, _ := summarizeChart(t, body)
	if len(got.Points) != 3 {
		t.Errorf("points = %v, want the newest run's 3", got.Points)
	}
}

func TestScoresPageWithoutRuns(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	_, body := f.get(t, "/console/scores")
	doc := parseHTML(t, body)
	if n := len(findAll(doc, hasClass("chart"))); n != 0 {
		t.Errorf("%d charts for a job that never ran", n)
	}
	if n := len(findAll(doc, hasAttr("data-job", "csat-weekly"))); n != 1 {
		t.Errorf("the job is listed %d times, want 1", n)
	}
}
