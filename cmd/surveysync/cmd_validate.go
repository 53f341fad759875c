package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

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
	// Connect adds the live, read-only check of every destination.
	Connect bool
	// ConnectTimeout bounds that check as a whole.
	ConnectTimeout time.Duration
}

func newValidateCommand(g *GlobalOptions) *cobra.Command {
	o := &ValidateOptions{}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration and every mapping file, reporting all mistakes at once",
		Long: `Check surveysync.yaml, every connector's settings and every mapping file without
connecting to anything. Every mistake is listed as file:line:col: message.

With --sample FILE (a JSON object such as one webhook body, or the first record of a
JSON Lines, JSON array or CSV file), every sync's source turns it into a response as
the daemon would, every sync's mapping renders it, and every field a mapping refers
to that the sample lacks is reported at the place the mapping refers to it, as is a
rendered request the destination would refuse to send.

Secrets that cannot be resolved on this machine (an unset environment variable, a
missing file) are warnings: validate still passes, run will fail until they exist.

With --connect, every destination is also built as run builds it and contacted,
reading only: a Google Sheets spreadsheet must be readable with the credentials,
with the tab found and its header row holding the mapping's headers (a missing tab
is a note: the first delivery creates it); the HubSpot properties a mapping sets
must exist (and idProperty hold unique values); the Zendesk custom field ids a
mapping sends must exist (ids written as templates are checked with --sample).
Nothing is written. A generic http destination has no read-only check and is not
contacted. The whole check is bounded by --connect-timeout.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runValidate(cmd.Context(), o, g)
		},
	}
	cmd.Flags().StringVar(&o.Sample, "sample", "", "render every sync's mapping against this sample response (a JSON object)")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVar(&o.Connect, "connect", false, "also contact every destination, reading only, to check sheets, headers, properties and field ids")
	cmd.Flags().DurationVar(&o.ConnectTimeout, "connect-timeout", engine.DefaultConnectTimeout, "time limit of --connect as a whole")
	return cmd
}

type validateResult struct {
	File     string   `json:"file"`
	Valid    bool     `json:"valid"`
	Errors   []string `json:"errors"`
	Warnings []string `json:"warnings"`
	Syncs    []string `json:"syncs,omitempty"`
	// Connect is set when --connect ran.
	Connect *connectResult `json:"connect,omitempty"`
}

// connectResult lists the destinations --connect checked and skipped; what
// it found is among the errors and warnings.
type connectResult struct {
	Checked []string `json:"checked"`
	Skipped []string `json:"skipped"`
}

func runValidate(ctx context.Context, o *ValidateOptions, g *GlobalOptions) error {
	path := g.ConfigFile()
	cfg, errs := config.Load(path)
	var plan *engine.Plan
	if cfg != nil && !hasFatal(errs) {
		var cerrs config.ErrorList
		plan, cerrs = engine.Compile(cfg)
		errs = append(errs, cerrs...)
		errs = append(errs, engine.CheckSecrets(cfg)...)
		if err := console.CheckSettings(cfg); err != nil {
			errs = append(errs, &config.Error{Pos: cfg.At("console"), Msg: "console: " + err.Error()})
		}
	}
	configOK := plan != nil && len(errs.Errs()) == 0
	if o.Sample != "" && configOK {
		serrs, err := checkSample(ctx, plan, o.Sample)
		if err != nil {
			return usagef("--sample: %v", err)
		}
		errs = append(errs, serrs...)
	}
	var conn *connectResult
	connectBlocked := o.Connect && !configOK
	if o.Connect && configOK {
		var samples map[string]*mapping.Request
		if o.Sample != "" {
			samples = sampleRequests(ctx, plan, o.Sample)
		}
		rep := engine.CheckConnect(ctx, plan, engine.ConnectOptions{
			Logger:  cliLogger(g, slog.LevelError),
			Now:     timeNow,
			Timeout: o.ConnectTimeout,
			Samples: samples,
		})
		errs = append(errs, rep.Problems...)
		conn = &connectResult{Checked: append([]string{}, rep.Checked...), Skipped: append([]string{}, rep.Skipped...)}
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
	res.Connect = conn
	if o.JSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		printProblems(g.stderr, errs)
		if res.Valid {
			fmt.Fprintf(g.stdout, "%s: valid (%d %s, %d %s, %d %s)%s\n", path,
				len(cfg.Sources), plural(len(cfg.Sources), "source", "sources"),
				len(cfg.Destinations), plural(len(cfg.Destinations), "destination", "destinations"),
				len(cfg.Syncs), plural(len(cfg.Syncs), "sync", "syncs"), connectSummary(conn))
		} else {
			fmt.Fprintf(g.stderr, "%s: %d %s\n", path, len(res.Errors), plural(len(res.Errors), "error", "errors"))
			if connectBlocked {
				fmt.Fprintf(g.stderr, "--connect: no destination was contacted; fix the errors above first\n")
			}
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

// checkSample renders every sync's mapping against the sample response:
// the file's first record (a JSON object, the first line of JSON Lines, the
// first element of an array or the first CSV row), turned into a response
// by the sync's source as the daemon would.
func checkSample(ctx context.Context, plan *engine.Plan, path string) (config.ErrorList, error) {
	var errs config.ErrorList
	for _, sp := range plan.Syncs {
		if sp.Mapping == nil || sp.Source == nil {
			continue
		}
		rs, problems, err := readResponses(ctx, sp.Source, path, 1)
		if err != nil {
			return nil, err
		}
		if len(rs) == 0 {
			msg := "the file holds no record"
			if len(problems) > 0 {
				msg = problems[0]
			}
			errs = append(errs, config.Errorf(config.Pos{File: path}, "sample for sync %s: source %s would not take it: %s", sp.Name, sp.Source.Name, msg))
			continue
		}
		r := &rs[0]
		in := &mapping.Input{Response: r, Sync: sp.Name, DeliveryKey: survey.DeliveryKey(sp.Name, r.Source, r.Key, 1), Version: 1, Now: timeNow()}
		serrs := sp.Mapping.Check(in)
		errs = append(errs, serrs...)
		if serrs.Err() == nil {
			errs = append(errs, checkSampleSend(sp, r)...)
		}
	}
	for _, sp := range plan.Scores {
		errs = append(errs, checkSampleScore(ctx, sp, path)...)
	}
	return errs, nil
}

// checkSampleScore warns when the sample, read as the score job's source
// reads it, lacks the job's rating field or one of its segments: the job
// would count such responses as without a rating, or put them in an empty
// segment. Warnings, because the sample may be another kind of event.
func checkSampleScore(ctx context.Context, sp *engine.ScorePlan, path string) config.ErrorList {
	if sp.Source == nil || sp.Field == nil || sp.Job == nil {
		return nil
	}
	rs, _, err := readResponses(ctx, sp.Source, path, 1)
	if err != nil || len(rs) == 0 {
		return nil
	}
	in := &mapping.Input{Response: &rs[0], Now: timeNow()}
	if sp.Filter != nil {
		if ok, err := sp.Filter.Match(in); err != nil || !ok {
			return nil
		}
	}
	var out config.ErrorList
	warn := func(key, msg string) {
		pos := sp.Job.Pos
		if n := sp.Job.Node.Get(key); n != nil {
			pos = n.Pos
		}
		e := config.Errorf(pos, "score job %s: %s", sp.Name, msg)
		e.Warning = true
		out = append(out, e)
	}
	if v, err := sp.Field.Eval(in); err != nil || v == nil {
		warn("field", fmt.Sprintf("the sample has no rating at %s; the job would count it as without a rating", sp.Job.Field))
	}
	for i, seg := range sp.Segments {
		if v, err := seg.Eval(in); (err != nil || v == nil) && i < len(sp.GroupBy) {
			warn("group_by", fmt.Sprintf("the sample has no %s; it would be scored in an empty %s segment", sp.GroupBy[i], sp.GroupBy[i]))
		}
	}
	return out
}

// checkSampleSend reports a rendered sample the sync's destination would
// refuse to send (a HubSpot upsert without an id, a Zendesk update that
// changes nothing…), at the mapping's request.
func checkSampleSend(sp *engine.SyncPlan, r *survey.Response) config.ErrorList {
	items := []engine.PreviewItem{engine.Preview(sp, r, timeNow())}
	if _, ok := engine.PreviewWire(sp, items); !ok || items[0].Error == "" {
		return nil
	}
	pos := config.Pos{File: sp.Mapping.File()}
	if shape, ok := sp.Mapping.RequestShape(); ok {
		pos = shape.Pos
	}
	return config.ErrorList{config.Errorf(pos, "destination %s would refuse the sample: %s", sp.Destination.Name, items[0].Error)}
}

// connectSummary is the end of validate's success line after --connect.
func connectSummary(c *connectResult) string {
	if c == nil {
		return ""
	}
	var parts []string
	if len(c.Checked) > 0 {
		parts = append(parts, "checked live: "+strings.Join(c.Checked, ", "))
	}
	if len(c.Skipped) > 0 {
		parts = append(parts, "not contacted: "+strings.Join(c.Skipped, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

// sampleRequests renders the sample through every sync with a request
// mapping, as checkSample does, and returns the rendered requests by sync
// name, for --connect's checks of values only a rendered request shows.
// Syncs that do not route or cannot render the sample are left out; that
// is checkSample's to report.
func sampleRequests(ctx context.Context, plan *engine.Plan, path string) map[string]*mapping.Request {
	out := map[string]*mapping.Request{}
	for _, sp := range plan.Syncs {
		if sp.Mapping == nil || sp.Source == nil || sp.Mapping.Kind() != mapping.Requests {
			continue
		}
		rs, _, err := readResponses(ctx, sp.Source, path, 1)
		if err != nil || len(rs) == 0 {
			continue
		}
		if item := engine.Preview(sp, &rs[0], timeNow()); item.Request != nil {
			out[sp.Name] = item.Request
		}
	}
	return out
}
