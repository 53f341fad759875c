package engine

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/surveysync/surveysync/scores"
	"github.com/surveysync/surveysync/store"
)

// ScoreRow is one computed score (one period × segment) as stored with a
// score run, printed by `surveysync scores --json`, written to summary
// tables and charted by the console. Undefined numbers (a score with no
// responses, a margin with too few) are null.
type ScoreRow struct {
	Job         string    `json:"job"`
	Metric      string    `json:"metric"`
	Variant     string    `json:"variant"`
	Period      string    `json:"period"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	// Segment maps each group_by field to its value for this row.
	Segment       map[string]string `json:"segment,omitempty"`
	Score         *float64          `json:"score"`
	MarginOfError *float64          `json:"margin_of_error"`
	N             int               `json:"n"`
	Positive      int               `json:"positive"`
	Neutral       int               `json:"neutral"`
	Negative      int               `json:"negative"`
	Invalid       int               `json:"invalid"`
	Deduplicated  int               `json:"deduplicated"`
	// Basis states the counts behind the score in words.
	Basis string `json:"basis"`
	// Definition states the formula in words.
	Definition string `json:"definition"`
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// ScoreRows converts results of job (grouped by groupBy) to rows.
func ScoreRows(job string, groupBy []string, results []scores.Result) []ScoreRow {
	out := make([]ScoreRow, 0, len(results))
	for _, r := range results {
		row := ScoreRow{
			Job: job, Metric: string(r.Metric), Variant: string(r.Variant),
			Period: r.Period.Label, PeriodStart: r.Period.Start, PeriodEnd: r.Period.End,
			Score: finite(r.Score), MarginOfError: finite(r.MarginOfError),
			N: r.N, Positive: r.Positive, Neutral: r.Neutral, Negative: r.Negative,
			Invalid: r.Invalid, Deduplicated: r.Deduplicated,
			Basis: r.Basis(), Definition: r.Definition,
		}
		if len(groupBy) > 0 {
			row.Segment = map[string]string{}
			for i, g := range groupBy {
				if i < len(r.Segment) {
					row.Segment[g] = r.Segment[i]
				}
			}
		}
		out = append(out, row)
	}
	return out
}

// ScoreRunView is one stored run of a score job with its rows.
type ScoreRunView struct {
	Job          string     `json:"job"`
	ScheduledFor time.Time  `json:"scheduled_for"`
	RanAt        time.Time  `json:"ran_at"`
	Rows         []ScoreRow `json:"rows"`
}

// LoadScoreRuns reads a job's stored runs, newest first.
func LoadScoreRuns(ctx context.Context, st store.Store, job string, limit int) ([]ScoreRunView, error) {
	runs, err := st.ScoreRuns(ctx, job, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ScoreRunView, 0, len(runs))
	for _, r := range runs {
		v := ScoreRunView{Job: r.Job, ScheduledFor: r.ScheduledFor, RanAt: r.RanAt}
		if len(r.Results) > 0 {
			if err := json.Unmarshal(r.Results, &v.Rows); err != nil {
				return nil, err
			}
		}
		out = append(out, v)
	}
	return out, nil
}
