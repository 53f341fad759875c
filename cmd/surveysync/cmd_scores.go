package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/surveysync/surveysync/engine"
)

// ScoresOptions are the flags of the scores command.
type ScoresOptions struct {
	Job   string
	At    string
	JSON  bool
	Write bool
}

func newScoresCommand(g *GlobalOptions) *cobra.Command {
	o := &ScoresOptions{}
	cmd := &cobra.Command{
		Use:   "scores [--job NAME] [--at TIME] [--json] [--write]",
		Short: "Compute CSAT, NPS and CES now from the stored responses and print them",
		Long: `Compute every score job (or one with --job) from the responses in the ledger, as
of now or of --at (RFC 3339, or YYYY-MM-DD HH:MM in the job's time zone), and print a
table or JSON: per period and segment the score, its 95 % margin of error, n, the
counts behind it and the definition that produced it.

Nothing is written unless --write is given; then each job's summary tab and
requests are written exactly as a scheduled run would (idempotently) and the run is
recorded.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScores(cmd.Context(), o, g)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Job, "job", "", "compute only this score job")
	f.StringVar(&o.At, "at", "", "compute as of this time instead of now")
	f.BoolVar(&o.JSON, "json", false, "print JSON")
	f.BoolVar(&o.Write, "write", false, "write the results to the jobs' destinations and record the run")
	return cmd
}

func parseAt(s string, loc *time.Location) (time.Time, error) {
	for _, l := range []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--at %q: write RFC 3339 (2026-11-23T06:00:00+01:00) or YYYY-MM-DD HH:MM", s)
}

func runScores(ctx context.Context, o *ScoresOptions, g *GlobalOptions) error {
	plan, err := loadPlan(g)
	if err != nil {
		return err
	}
	jobs := plan.Scores
	if o.Job != "" {
		sp := plan.ScoreJob(o.Job)
		if sp == nil {
			var names []string
			for _, s := range plan.Scores {
				names = append(names, s.Name)
			}
			return usagef("no score job %q (configured: %s)", o.Job, strings.Join(names, ", "))
		}
		jobs = []*engine.ScorePlan{sp}
	}
	if len(jobs) == 0 {
		return usagef("the configuration has no score jobs; add them under scores:")
	}
	log := cliLogger(g, 8)
	parts := engine.Parts{NoHTTP: true, NoSources: true, NoDispatch: true, NoScores: true}
	e, err := engine.New(ctx, plan, engine.Options{Logger: log, Parts: parts})
	if err != nil {
		return err
	}
	defer e.Close()
	var reports []*engine.ScoreReport
	for _, sp := range jobs {
		asOf := timeNow()
		if o.At != "" {
			if asOf, err = parseAt(o.At, sp.Location); err != nil {
				return usagef("%v", err)
			}
		}
		asOf = asOf.Truncate(time.Minute)
		if o.Write {
			if err := e.RunScoreJob(ctx, sp.Name, asOf); err != nil {
				return err
			}
		}
		rep, err := engine.ComputeScores(ctx, e.Store(), sp, asOf)
		if err != nil {
			return err
		}
		reports = append(reports, rep)
	}
	if o.JSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	}
	for _, rep := range reports {
		printScores(g.stdout, plan.ScoreJob(rep.Job), rep)
	}
	if o.Write {
		fmt.Fprintln(g.stdout, "written to the jobs' destinations and recorded")
	}
	return nil
}

func printScores(w io.Writer, sp *engine.ScorePlan, rep *engine.ScoreReport) {
	fmt.Fprintf(w, "%s — %s, as of %s\n", rep.Job, sp.Definition.Describe(), rep.AsOf.In(sp.Location).Format("2006-01-02 15:04 MST"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"PERIOD"}
	for _, g := range sp.GroupBy {
		head = append(head, strings.ToUpper(g))
	}
	head = append(head, "SCORE", "±95%", "N", "BASIS")
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	rows := append([]engine.ScoreRow(nil), rep.Rows...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].PeriodStart.Before(rows[j].PeriodStart) })
	for _, r := range rows {
		cells := []string{r.Period}
		for _, g := range sp.GroupBy {
			cells = append(cells, r.Segment[g])
		}
		cells = append(cells, fmtNum(r.Score), fmtNum(r.MarginOfError), fmt.Sprint(r.N), r.Basis)
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()
	fmt.Fprintf(w, "%d responses read, %d without a rating, %d filtered out\n", rep.Scanned, rep.NoRating, rep.Filtered)
	if err := rep.NoRatings(sp); err != nil {
		fmt.Fprintf(w, "warning: %v\n", err)
	}
	fmt.Fprintln(w)
}

func fmtNum(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f", *p)
}
