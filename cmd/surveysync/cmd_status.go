package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/surveysync/surveysync/engine"
)

// StatusOptions are the flags of the status command.
type StatusOptions struct {
	JSON bool
	// Check makes the exit status 3 when a sync has dead letters or is
	// paused, for monitoring scripts.
	Check bool
}

func newStatusCommand(g *GlobalOptions) *cobra.Command {
	o := &StatusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show per sync what is pending, delivered, dead or paused, and per source what came in",
		Long: `Read the ledger and show, per sync: pending deliveries (including retries and those
whose last attempt may have been applied and will be reconciled), delivered (in total
and today), dead letters, whether its destination is paused and why, the last success
and the last error; per source: responses stored, the last ingest, the cursor and the
payloads rejected. It works while the daemon runs. No secret is ever shown.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), o, g)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&o.Check, "check", false, "exit 3 when a sync has dead letters or is paused (for cron and monitoring)")
	return cmd
}

func runStatus(ctx context.Context, o *StatusOptions, g *GlobalOptions) error {
	plan, err := loadPlan(g)
	if err != nil {
		return err
	}
	st, err := engine.OpenStore(ctx, plan.Config, cliLogger(g, 8), timeNow)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := engine.ReadStatus(ctx, plan, st, timeNow())
	if err != nil {
		return err
	}
	if o.JSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil {
			return err
		}
	} else {
		printStatus(g.stdout, s)
	}
	if o.Check && needsAttention(s) {
		return errAttention
	}
	return nil
}

// needsAttention reports whether a sync has dead letters or is paused by
// its destination.
func needsAttention(s *engine.Status) bool {
	for _, x := range s.Syncs {
		if x.Dead > 0 || x.Paused != "" {
			return true
		}
	}
	return false
}

func ago(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return d.String() + " ago"
}

func printStatus(w io.Writer, s *engine.Status) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SYNC\tSOURCE → DESTINATION\tPENDING\tUNCERTAIN\tDELIVERED\tTODAY\tDEAD\tLAST SUCCESS\tSTATE")
	for _, x := range s.Syncs {
		state := "ok"
		switch {
		case x.ConfigPaused:
			state = "paused in the configuration"
		case x.Paused != "":
			state = "PAUSED: " + x.Paused
		case x.Dead > 0:
			state = "has dead letters (surveysync replay --sync " + x.Name + ")"
		}
		fmt.Fprintf(tw, "%s\t%s → %s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", x.Name, x.Source, x.Destination,
			x.Pending, x.Uncertain, x.Delivered, x.DeliveredToday, x.Dead, ago(x.LastSuccess, s.GeneratedAt), state)
	}
	tw.Flush()
	for _, x := range s.Syncs {
		if x.LastError != "" {
			fmt.Fprintf(w, "  %s: last error %s: %s\n", x.Name, ago(x.LastErrorAt, s.GeneratedAt), x.LastError)
		}
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tTYPE\tRESPONSES\tLAST INGEST\tREJECTED\tCURSOR")
	for _, x := range s.Sources {
		cursor := x.Cursor
		if cursor == "" {
			cursor = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\n", x.Name, x.Type, x.Responses, ago(x.LastIngest, s.GeneratedAt), x.Rejected, cursor)
	}
	tw.Flush()
	for _, d := range s.Destinations {
		if d.Paused {
			fmt.Fprintf(w, "\ndestination %s is PAUSED since %s: %s\n", d.Name, d.PausedSince.Format(time.RFC3339), d.Reason)
		}
	}
	if len(s.Dispatchers) > 0 {
		fmt.Fprintln(w)
		for _, d := range s.Dispatchers {
			fmt.Fprintf(w, "dispatcher %s held by %s\n", d.Lease, d.Holder)
		}
	}
}
