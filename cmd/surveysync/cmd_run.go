package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/console"
	"github.com/surveysync/surveysync/engine"
)

// RunOptions are the flags of the run command.
type RunOptions struct {
	LogFormat string
	// AllowRoot lets the daemon run as root (also SURVEYSYNC_ALLOW_ROOT=1).
	AllowRoot bool
}

// allowRootEnv is the environment variable that lets the daemon run as
// root, for containers whose root is already confined.
const allowRootEnv = "SURVEYSYNC_ALLOW_ROOT"

func newRunCommand(g *GlobalOptions) *cobra.Command {
	o := &RunOptions{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the daemon: ingest, deliver, score",
		Long: `Run the daemon until SIGINT or SIGTERM: sources feed the ledger, dispatchers deliver
to destinations, score jobs run on their schedules, and the listener serves webhooks,
/healthz, /readyz, /metrics and the console.

On SIGINT or SIGTERM the daemon stops taking work and gives in-flight deliveries 30 s
to finish; anything cut off is reconciled at the next start, so nothing is lost or
doubled. On SIGHUP it re-reads the configuration, validates it and switches to it; a
configuration with errors is logged and the old one keeps running.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRun(cmd.Context(), o, g)
		},
	}
	cmd.Flags().StringVar(&o.LogFormat, "log-format", "", "log format: json (default for run) or text")
	cmd.Flags().BoolVar(&o.AllowRoot, "allow-root", false, "run even as root (also "+allowRootEnv+"=1), for containers whose root is confined")
	return cmd
}

// refuseRoot refuses to run the daemon as root without an explicit
// override: the ledger would belong to root, and a flaw reached through a
// webhook would have every privilege.
func refuseRoot(o *RunOptions) error {
	if os.Geteuid() != 0 || o.AllowRoot || os.Getenv(allowRootEnv) == "1" {
		return nil
	}
	return errors.New("refusing to run as root: the ledger and every file the daemon writes would belong to root, and a flaw reached through a webhook would have every privilege. " +
		"Run it as an unprivileged user that owns only its data directory (for example useradd --system surveysync), " +
		"or pass --allow-root (or set " + allowRootEnv + "=1) where root is already confined, as in a container; nothing was started")
}

func daemonLogger(g *GlobalOptions, o *RunOptions, cfg *config.Config) *slog.Logger {
	level := slog.LevelInfo
	lv := cfg.Log.Level
	if g.LogLevel != "" {
		lv = g.LogLevel
	}
	if lv != "" {
		_ = level.UnmarshalText([]byte(lv))
	}
	format := cfg.Log.Format
	if o.LogFormat != "" {
		format = o.LogFormat
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(g.stderr, opts)
	if format == "text" {
		h = slog.NewTextHandler(g.stderr, opts)
	}
	return slog.New(engine.NewRedactingHandler(h))
}

func runRun(ctx context.Context, o *RunOptions, g *GlobalOptions) error {
	if err := refuseRoot(o); err != nil {
		return err
	}
	plan, err := loadPlan(g)
	if err != nil {
		return err
	}
	if err := console.Check(plan.Config); err != nil {
		return fmt.Errorf("console: %w; nothing was started", err)
	}
	log := daemonLogger(g, o, plan.Config)
	if os.Geteuid() == 0 {
		log.Warn("running as root, as allowed by --allow-root or " + allowRootEnv + "; prefer an unprivileged user that owns only its data directory")
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	e, err := engine.New(ctx, plan, engine.Options{Logger: log, Console: consoleHandler})
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reload(g, e, log)
			}
		}
	}()
	return e.Run(ctx)
}

// reload validates the configuration again and switches to it; on any
// problem the running configuration stays.
func reload(g *GlobalOptions, e *engine.Engine, log *slog.Logger) {
	log.Info("SIGHUP: reloading the configuration", "file", g.ConfigFile())
	cfg, errs := config.Load(g.ConfigFile())
	if len(errs.Errs()) == 0 {
		plan, cerrs := engine.Compile(cfg)
		errs = append(errs, cerrs...)
		if len(errs.Errs()) == 0 {
			if err := console.Check(plan.Config); err != nil {
				log.Error("reload refused; keeping the running configuration", "err", "console: "+err.Error())
				return
			}
			if err := e.Reload(plan); err != nil {
				log.Error("reload failed; keeping the running configuration", "err", err)
			}
			return
		}
	}
	for _, e := range errs.Errs() {
		log.Error("configuration error", "error", e.Error())
	}
	log.Error("reload refused; keeping the running configuration", "errors", len(errs.Errs()))
}
