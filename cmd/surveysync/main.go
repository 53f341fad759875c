// Command surveysync moves customer-survey responses from webhooks, polled
// APIs and files into Google Sheets and CRMs exactly once, and computes
// summary scores. Run `surveysync --help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	_ "time/tzdata" // time zones work even where the system has no zone database

	"github.com/spf13/cobra"
	"github.com/surveysync/surveysync/config"
	_ "github.com/surveysync/surveysync/connectors/all"
	"github.com/surveysync/surveysync/engine"
)

// Exit codes, documented in the help of every command.
const (
	exitOK        = 0
	exitFailure   = 1
	exitUsage     = 2
	exitAttention = 3
)

const exitCodesHelp = `
Exit status:
  0  success
  1  failure: an invalid configuration or mapping, or an operation that failed
  2  usage error: unknown command or flag, missing or bad argument
  3  done, but something needs attention: a backfill left dead letters or
     deliveries still pending, or status --check found dead letters or a
     paused sync`

// GlobalOptions are the flags every command takes.
type GlobalOptions struct {
	Config   string
	LogLevel string

	stdout io.Writer
	stderr io.Writer
}

// ConfigFile returns the configuration file to read.
func (g *GlobalOptions) ConfigFile() string { return config.File(g.Config) }

// usageError marks an error as a usage mistake (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// failed is an error already reported to the user (exit 1, nothing more
// printed).
var errReported = errors.New("reported")

// errAttention ends a command that did its work but reported something that
// needs attention (exit 3, nothing more printed).
var errAttention = errors.New("needs attention")

func main() {
	os.Exit(execute(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// execute runs the command line and returns the exit status.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &GlobalOptions{stdout: stdout, stderr: stderr}
	root := newRootCommand(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ue usageError
	switch {
	case errors.Is(err, errReported):
		return exitFailure
	case errors.Is(err, errAttention):
		return exitAttention
	case errors.As(err, &ue) || isCobraUsage(err):
		fmt.Fprintf(stderr, "surveysync: %s\nRun 'surveysync --help' for usage.\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "surveysync: %s\n", config.Redact(err.Error()))
		return exitFailure
	}
}

// isCobraUsage recognises cobra's own argument and flag errors.
func isCobraUsage(err error) bool {
	var ue *usageFlagError
	return errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command ")
}

type usageFlagError struct{ err error }

func (e *usageFlagError) Error() string { return e.err.Error() }

func newRootCommand(g *GlobalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "surveysync",
		Short: "Move survey responses to Sheets and CRMs exactly once, and compute CSAT, NPS and CES",
		Long: `surveysync pulls survey responses (CSAT, NPS, CES ratings and comments) from signed
webhooks, polled APIs and files, applies the mapping files you write, appends rows to
Google Sheets or sends templated requests to CRMs, and recomputes summary scores on
schedules. Every response reaches every destination once: never lost, never doubled.

The configuration is read from --config, else $SURVEYSYNC_CONFIG, else ./surveysync.yaml.
` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&g.Config, "config", "c", "", "configuration file (default $SURVEYSYNC_CONFIG or ./surveysync.yaml)")
	root.PersistentFlags().StringVar(&g.LogLevel, "log-level", "", "log level: debug, info, warn or error")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageFlagError{err} })
	root.AddCommand(
		newRunCommand(g),
		newValidateCommand(g),
		newPreviewCommand(g),
		newStatusCommand(g),
		newReplayCommand(g),
		newDemoCommand(g),
		newScoresCommand(g),
		newBackfillCommand(g),
		newSandboxCommand(g),
		newVersionCommand(g),
	)
	for _, c := range root.Commands() {
		c.Long += "\n" + exitCodesHelp
		if c.Args == nil {
			c.Args = noArgs
		}
	}
	return root
}

func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}

// loadPlan reads and compiles the configuration, printing every problem to
// stderr. It returns errReported when the configuration is invalid.
func loadPlan(g *GlobalOptions) (*engine.Plan, error) {
	path := g.ConfigFile()
	cfg, errs := config.Load(path)
	if cfg != nil && len(errs.Errs()) == 0 {
		plan, cerrs := engine.Compile(cfg)
		errs = append(errs, cerrs...)
		if len(errs.Errs()) == 0 {
			printProblems(g.stderr, errs)
			return plan, nil
		}
	}
	printProblems(g.stderr, errs)
	n := len(errs.Errs())
	fmt.Fprintf(g.stderr, "%s: %d %s; nothing was run\n", path, n, plural(n, "error", "errors"))
	return nil, errReported
}

func printProblems(w io.Writer, errs config.ErrorList) {
	errs.Sort()
	for _, e := range errs {
		if e.Warning {
			fmt.Fprintf(w, "warning: %s\n", e.Error())
		} else {
			fmt.Fprintln(w, e.Error())
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// cliLogger is the text logger of the commands other than run.
func cliLogger(g *GlobalOptions, def slog.Level) *slog.Logger {
	level := def
	if g.LogLevel != "" {
		_ = level.UnmarshalText([]byte(g.LogLevel))
	}
	h := slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: level})
	return slog.New(engine.NewRedactingHandler(h))
}
