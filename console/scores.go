package console

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/surveysync/surveysync/engine"
)

// scoresView is the scores page.
type scoresView struct {
	page
	Jobs []jobView
}

type jobView struct {
	Name, Anchor                      string
	Metric, Variant, Period, Schedule string
	Source, Destination               string
	HasRun                            bool
	RanAt, ScheduledFor               timeView
	Definition                        string
	Segments                          []segmentLink
	Segment                           string
	Chart                             *chart
	Rows                              []scoreRowView
	Unit                              string
}

type segmentLink struct {
	Label    string
	Href     string
	Selected bool
}

type scoreRowView struct {
	Period, From, To       string
	Score, Margin          string
	N                      int
	Positive, Neutral, Neg int
	Invalid, Deduplicated  int
	Basis                  string
	Undefined              bool
}

// allResponses labels the rows of a job without group_by.
const allResponses = "all responses"

// segmentLabel names a segment: "agent=Ann, channel=email".
func segmentLabel(seg map[string]string) string {
	if len(seg) == 0 {
		return allResponses
	}
	keys := make([]string, 0, len(seg))
	for k := range seg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + seg[k]
	}
	return strings.Join(parts, ", ")
}

func (c *Console) scores(w http.ResponseWriter, r *http.Request) {
	rq := c.req(r)
	q := r.URL.Query()
	wantJob, wantSegment := q.Get("job"), q.Get("segment")
	now := c.now()
	v := scoresView{page: c.withRefresh(c.page(rq, "Scores", "scores"), r)}
	ctx, cancel := readContext(r)
	defer cancel()
	for _, sp := range rq.plan.Scores {
		j := sp.Job
		jv := jobView{Name: red(sp.Name), Anchor: "job-" + sp.Name, Metric: strings.ToUpper(j.Metric), Variant: red(j.Variant),
			Period: red(j.Period), Schedule: red(j.Schedule), Source: red(j.Source), Destination: red(j.To)}
		if jv.Period == "" {
			jv.Period = "week"
		}
		runs, err := engine.LoadScoreRuns(ctx, c.e.Store(), sp.Name, 1)
		if err != nil {
			c.fail(w, r, rq, http.StatusServiceUnavailable, "The score runs could not be read", err.Error())
			return
		}
		if len(runs) == 0 {
			v.Jobs = append(v.Jobs, jv)
			continue
		}
		run := runs[0]
		jv.HasRun = true
		jv.RanAt, jv.ScheduledFor = showTime(run.RanAt, now), showTime(run.ScheduledFor, now)

		bySegment := map[string][]engine.ScoreRow{}
		for _, row := range run.Rows {
			l := segmentLabel(row.Segment)
			bySegment[l] = append(bySegment[l], row)
		}
		labels := make([]string, 0, len(bySegment))
		for l := range bySegment {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		selected := ""
		if len(labels) > 0 {
			selected = labels[0]
		}
		if wantJob == sp.Name {
			if _, ok := bySegment[wantSegment]; ok {
				selected = wantSegment
			}
		}
		for _, l := range labels {
			href := pageURL(Prefix+"scores", url.Values{"job": {sp.Name}, "segment": {l}}) + "#" + jv.Anchor
			jv.Segments = append(jv.Segments, segmentLink{Label: red(l), Href: href, Selected: l == selected})
		}
		jv.Segment = red(selected)
		rows := bySegment[selected]
		sort.SliceStable(rows, func(a, b int) bool { return rows[a].PeriodStart.Before(rows[b].PeriodStart) })
		var metric, variant string
		points := make([]chartPoint, 0, len(rows))
		for _, row := range rows {
			metric, variant = row.Metric, row.Variant
			if jv.Definition == "" {
				jv.Definition = red(row.Definition)
			}
			points = append(points, chartPoint{Period: red(row.Period), Score: row.Score, Margin: row.MarginOfError, N: row.N})
			rv := scoreRowView{Period: red(row.Period), From: dateText(row.PeriodStart, false), To: dateText(row.PeriodEnd, true),
				N: row.N, Positive: row.Positive, Neutral: row.Neutral, Neg: row.Negative,
				Invalid: row.Invalid, Deduplicated: row.Deduplicated, Basis: red(row.Basis), Score: "—", Margin: "—"}
			if row.Score != nil {
				rv.Score = formatNumber(*row.Score, 2)
			} else {
				rv.Undefined = true
			}
			if row.MarginOfError != nil {
				rv.Margin = "± " + formatNumber(*row.MarginOfError, 2)
			}
			jv.Rows = append(jv.Rows, rv)
		}
		if variant != "" {
			jv.Variant = red(variant)
		}
		jv.Unit = strings.TrimSpace(scoreUnit(variant))
		label := jv.Metric + " per " + jv.Period + " for " + jv.Segment + ", with the margin of error as a band"
		jv.Chart = buildChart(label, metric, variant, points)
		v.Jobs = append(v.Jobs, jv)
	}
	c.render(w, http.StatusOK, "scores", v)
}

// dateText prints a period boundary as a date; an end is exclusive, so
// the last day in the period is shown. The zero time (an open bound) is "—".
func dateText(t time.Time, end bool) string {
	if t.IsZero() {
		return "—"
	}
	if end {
		t = t.Add(-time.Nanosecond)
	}
	return t.Format("2006-01-02")
}
