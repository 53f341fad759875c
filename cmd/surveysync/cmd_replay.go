package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/surveysync/surveysync/engine"
)

// ReplayOptions are the flags of the replay command.
type ReplayOptions struct {
	Sync      string
	Dead      bool
	Keys      []string
	Delivered bool
	Rejected  bool
	Source    string
	JSON      bool
}

func newReplayCommand(g *GlobalOptions) *cobra.Command {
	o := &ReplayOptions{}
	cmd := &cobra.Command{
		Use:   "replay (--sync NAME [--dead] [--key KEY]… | --rejected --source NAME)",
		Short: "Send dead-lettered deliveries again, or retry rejected payloads",
		Long: `Re-open deliveries so the running daemon (or the next run) sends them again with the
current mapping and destination settings. Fix the cause first: the reason is shown by
status and the console.

  replay --sync NAME                  re-open every dead letter of the sync (same as --dead)
  replay --sync NAME --key K1 --key K2  only these response keys
  replay --sync NAME --delivered --key K  send an already delivered response once more
                                      (needs --key, so a history is never resent by accident)
  replay --rejected --source NAME     run payloads the source rejected (bad JSON, a missing
                                      key) through the source's current settings again`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReplay(cmd.Context(), o, g)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Sync, "sync", "", "the sync whose deliveries to re-open")
	f.BoolVar(&o.Dead, "dead", false, "re-open dead letters (the default)")
	f.StringArrayVar(&o.Keys, "key", nil, "limit to this response key (repeatable)")
	f.BoolVar(&o.Delivered, "delivered", false, "send delivered responses again (needs --key)")
	f.BoolVar(&o.Rejected, "rejected", false, "retry the payloads a source rejected")
	f.StringVar(&o.Source, "source", "", "the source whose rejected payloads to retry")
	f.BoolVar(&o.JSON, "json", false, "print JSON")
	return cmd
}

func runReplay(ctx context.Context, o *ReplayOptions, g *GlobalOptions) error {
	switch {
	case o.Rejected && o.Source == "":
		return usagef("--rejected needs --source NAME")
	case !o.Rejected && o.Sync == "":
		return usagef("replay needs --sync NAME, or --rejected --source NAME")
	case o.Delivered && len(o.Keys) == 0:
		return usagef("--delivered needs --key, so a whole history is never resent by accident")
	}
	plan, err := loadPlan(g)
	if err != nil {
		return err
	}
	log := cliLogger(g, 4)
	if o.Rejected {
		e, err := engine.New(ctx, plan, engine.Options{Logger: log, Parts: engine.Parts{NoHTTP: true, NoSources: true, NoDispatch: true, NoScores: true}})
		if err != nil {
			return err
		}
		defer e.Close()
		rep, err := e.ReplayRejects(ctx, o.Source)
		if err != nil {
			return err
		}
		if o.JSON {
			return json.NewEncoder(g.stdout).Encode(rep)
		}
		fmt.Fprintf(g.stdout, "%d rejected payloads tried: %d ingested, %d already stored, %d still rejected\n", rep.Tried, rep.Ingested, rep.Duplicates, rep.StillBad)
		return nil
	}
	st, err := engine.OpenStore(ctx, plan.Config, log, timeNow)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := engine.Replay(ctx, plan, st, engine.ReplayOptions{Sync: o.Sync, Keys: o.Keys, Dead: o.Dead, Delivered: o.Delivered})
	if err != nil {
		return err
	}
	if o.JSON {
		return json.NewEncoder(g.stdout).Encode(map[string]int{"reopened": n})
	}
	fmt.Fprintf(g.stdout, "%d %s re-opened for %s; the daemon delivers them within seconds\n", n, plural(n, "delivery", "deliveries"), o.Sync)
	return nil
}
