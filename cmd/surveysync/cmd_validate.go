package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/console"
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// ValidateOptions are the flags of the validate command.
type ValidateOptions struct {
	Sample string
	JSON   bool
}

func newValidateCommand(g *GlobalOptions) *cobra.Command {
	o := &ValidateOptions{}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration and every mapping file, reporting all mistakes at once",
		Long: `Check surveysync.yaml, every connector's settings and every mapping file without
connecting to anything. Every mistake is listed as file:line:col: message.

With --sample FILE (a JSON object, such as one webhook body), every sync's mapping is
also rendered against that response, and every field it refers to that the sample
lacks is reported at the place the mapping refers to it.

Secrets that cannot be resolved on this machine (an unset environment variable, a
missing file) are warnings: validate still passes, run will fail until they exist.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runValidate(cmd.Context(), o, g)
		},
	}
	cmd.Flags().StringVar(&o.Sample, "sample", "", "render every sync's mapping against this sample response (a JSON object)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the result as JSON")
	return cmd
}

type validateResult struct {
	File     string   `json:"file"`
	Valid    bool     `json:"valid"`
	Errors   []string `json:"errors"`
	Warnings []string `json:"warnings"`
	Syncs    []string `json:"syncs,omitempty"`
}

func runValidate(_ context.Context, o *ValidateOptions, g *GlobalOptions) error {
	path := g.ConfigFile()
	cfg, errs := config.Load(path)
	var plan *engine.Plan
	if cfg != nil && !hasFatal(errs) {
		var cerrs config.ErrorList
		plan, cerrs = engine.Compile(cfg)
		errs = append(errs, cerrs...)
		errs = append(errs, engine.CheckSecrets(cfg)...)
		if err := console.Check(cfg); err != nil {
			errs = append(errs, &config.Error{Pos: cfg.At("console"), Msg: "console: " + err.Error()})
		}
	}
	if o.Sample != "" && plan != nil && len(errs.Errs()) == 0 {
		serrs, err := checkSample(plan, o.Sample)
		if err != nil {
			return usagef("--sample: %v", err)
		}
		errs = append(errs, serrs...)
	}
	errs.Sort()
	res := validateResult{File: path, Valid: len(errs.Errs()) == 0, Errors: []string{}, Warnings: []string{}}
	for _, e := range errs {
		if e.Warning {
			res.Warnings = append(res.Warnings, e.Error())
		} else {
			res.Errors = append(res.Errors, e.Error())
		}
	}
	if plan != nil {
		res.Syncs = plan.SyncNames()
	}
	if o.JSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		printProblems(g.stderr, errs)
		if res.Valid {
			fmt.Fprintf(g.stdout, "%s: valid (%d %s, %d %s, %d %s)\n", path,
				len(cfg.Sources), plural(len(cfg.Sources), "source", "sources"),
				len(cfg.Destinations), plural(len(cfg.Destinations), "destination", "destinations"),
				len(cfg.Syncs), plural(len(cfg.Syncs), "sync", "syncs"))
		} else {
			fmt.Fprintf(g.stderr, "%s: %d %s\n", path, len(res.Errors), plural(len(res.Errors), "error", "errors"))
		}
	}
	if !res.Valid {
		return errReported
	}
	return nil
}

// hasFatal reports whether the configuration could not be read at all.
func hasFatal(errs config.ErrorList) bool {
	for _, e := range errs {
		if e.Pos.Line == 0 && !e.Warning {
			return true
		}
	}
	return false
}

// checkSample renders every sync's mapping against the sample response.
func checkSample(plan *engine.Plan, path string) (config.ErrorList, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fields, err := survey.DecodeObject(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	var errs config.ErrorList
	for _, sp := range plan.Syncs {
		if sp.Mapping == nil {
			continue
		}
		r := &survey.Response{Source: sp.Config.Source, Key: "sample", Payload: raw}
		if src := sp.Source; src != nil {
			if x, err := src.Extractor(); err == nil {
				if er, err := x.Extract(src.Name, fields, raw, timeNow()); err == nil {
					r = &er
				}
			}
		}
		in := &mapping.Input{Response: r, Sync: sp.Name, DeliveryKey: survey.DeliveryKey(sp.Name, r.Source, r.Key, 1), Version: 1, Now: timeNow()}
		errs = append(errs, sp.Mapping.Check(in)...)
	}
	return errs, nil
}
