package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/surveysync/surveysync/engine"
)

// BackfillOptions are the flags of the backfill command.
type BackfillOptions struct {
	Source    string
	Since     string
	Until     string
	Syncs     []string
	DryRun    bool
	Redeliver bool
	Yes       bool
	JSON      bool
}

// confirmAbove is the number of responses to send above which a backfill
// asks before sending.
const confirmAbove = 1000

func newBackfillCommand(g *GlobalOptions) *cobra.Command {
	o := &BackfillOptions{}
	cmd := &cobra.Command{
		Use:   "backfill --source NAME [--since T] [--until T] [--sync NAME]… [--dry-run] [--redeliver] [--yes] [--json] [FILE…]",
		Short: "Re-sync a source's history safely: predictable, resumable, never doubled",
		Long: `Read a source's history over a window (a polled API through its date filters and
pages; a file source through the files given, or its configured paths) along the same
ingest and plan path as the daemon, ignoring the live cursor, and deliver it.

  --dry-run     read the source and print, per sync, how many responses would be new,
                are already delivered, are filtered out or would be rejected (reasons
                grouped); nothing is written or sent
  --redeliver   send responses already delivered once more (for example into a fresh
                sheet) — once, even if the backfill is repeated or resumed
  --yes         do not ask before sending more than 1,000 responses

Safe to stop and run again: after Ctrl-C or kill -9 the same command continues where
it stopped without duplicates, and a repeated backfill adds nothing. It can run beside
a live daemon on the same ledger: one dispatcher per destination holds the lease and
both share the quota; when no daemon runs, the backfill delivers in-process.

Times are RFC 3339 (2026-11-01T00:00:00Z) or YYYY-MM-DD (midnight UTC).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Source == "" {
				return usagef("backfill needs --source NAME")
			}
			return runBackfill(cmd.Context(), o, g, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Source, "source", "", "the source to read")
	f.StringVar(&o.Since, "since", "", "only responses submitted at or after this time")
	f.StringVar(&o.Until, "until", "", "only responses submitted before this time")
	f.StringArrayVar(&o.Syncs, "sync", nil, "only these syncs of the source (repeatable; default all)")
	f.BoolVar(&o.DryRun, "dry-run", false, "report what would happen; change and send nothing")
	f.BoolVar(&o.Redeliver, "redeliver", false, "send already delivered responses once more")
	f.BoolVar(&o.Yes, "yes", false, "do not ask for confirmation")
	f.BoolVar(&o.JSON, "json", false, "print the summary as JSON")
	return cmd
}

func parseWindowTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--%s %q: write RFC 3339 (2026-11-01T00:00:00Z) or YYYY-MM-DD", flag, s)
}

func runBackfill(ctx context.Context, o *BackfillOptions, g *GlobalOptions, files []string) error {
	since, err := parseWindowTime("since", o.Since)
	if err != nil {
		return err
	}
	until, err := parseWindowTime("until", o.Until)
	if err != nil {
		return err
	}
	plan, err := loadPlan(g)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := cliLogger(g, 8)
	e, err := engine.New(ctx, plan, engine.Options{Logger: log, Parts: engine.Parts{NoHTTP: true, NoSources: true, NoScores: true}})
	if err != nil {
		return err
	}
	opts := engine.BackfillOptions{Source: o.Source, Since: since, Until: until, Syncs: o.Syncs, Files: files, Redeliver: o.Redeliver}

	// A dry run first: it is the answer to --dry-run, and it is what the
	// confirmation shows before a large backfill.
	dryOpts := opts
	dryOpts.DryRun = true
	dryOpts.Progress = progressPrinter(g.stderr, "reading (dry run)")
	dry, err := e.Backfill(ctx, dryOpts)
	if err != nil {
		e.Close()
		return err
	}
	if o.DryRun {
		e.Close()
		return printBackfill(g.stdout, dry, o.JSON)
	}
	toSend := 0
	for _, s := range dry.Syncs {
		toSend += s.New + s.Redelivered
	}
	if toSend > confirmAbove && !o.Yes {
		if !confirm(g, dry, toSend) {
			e.Close()
			fmt.Fprintln(g.stderr, "backfill cancelled; nothing was sent")
			return errReported
		}
	}

	var runErr error
	var rep *engine.BackfillReport
	done := make(chan struct{})
	go func() {
		defer close(done)
		opts.Progress = progressPrinter(g.stderr, "backfilling")
		rep, runErr = e.Backfill(ctx, opts)
	}()
	// The engine delivers in-process (or waits for a daemon's lease) while
	// the backfill reads; Run stops when the backfill is done.
	runCtx, cancelRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- e.Run(runCtx) }()
	<-done
	cancelRun()
	<-runDone
	if rep != nil {
		_ = printBackfill(g.stdout, rep, o.JSON)
	}
	if runErr != nil && ctx.Err() != nil {
		fmt.Fprintln(g.stderr, "backfill interrupted; run the same command again to continue (nothing is sent twice)")
		return errReported
	}
	if runErr == nil && rep != nil && backfillNeedsAttention(rep) {
		return errAttention
	}
	return runErr
}

// backfillNeedsAttention reports whether a finished backfill left responses
// its mappings could not render (now dead letters) or deliveries still
// pending (a paused destination, retries): exit 3, so that a script notices.
func backfillNeedsAttention(r *engine.BackfillReport) bool {
	if r.DryRun {
		return false
	}
	if r.Pending > 0 {
		return true
	}
	for _, s := range r.Syncs {
		if s.Failing > 0 {
			return true
		}
	}
	return false
}

// confirm asks on the terminal; without one it refuses and says how to
// proceed.
func confirm(g *GlobalOptions, dry *engine.BackfillReport, toSend int) bool {
	fmt.Fprintf(g.stderr, "This backfill will send %d responses from %s:\n", toSend, dry.Source)
	for _, s := range dry.Syncs {
		fmt.Fprintf(g.stderr, "  %s: %d new, %d sent again; %d already delivered are skipped\n", s.Sync, s.New, s.Redelivered, s.AlreadyDelivered-s.Redelivered)
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Fprintln(g.stderr, "Not asking without a terminal: run it with --yes to proceed, or --dry-run to see the details.")
		return false
	}
	fmt.Fprint(g.stderr, "Continue? [y/N] ")
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// progressPrinter shows a progress bar on a terminal, and a plain line
// every few seconds otherwise.
func progressPrinter(w io.Writer, what string) func(engine.BackfillProgress) {
	f, isFile := w.(*os.File)
	if isFile && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(what),
			progressbar.OptionSetItsString("responses"),
			progressbar.OptionShowIts(),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		var mu sync.Mutex
		phase := ""
		return func(p engine.BackfillProgress) {
			mu.Lock()
			defer mu.Unlock()
			if p.Phase != phase {
				phase = p.Phase
				if phase == "delivering" {
					total := p.Delivered + p.Pending
					bar.Reset()
					bar.ChangeMax64(total)
					bar.Describe("delivering")
				}
			}
			if phase == "delivering" {
				if total := p.Delivered + p.Pending; total > bar.GetMax64() {
					bar.ChangeMax64(total)
				}
				_ = bar.Set64(p.Delivered)
			} else {
				bar.Describe(fmt.Sprintf("%s: %d read, %d to deliver", what, p.Read, p.Planned))
				_ = bar.Set64(int64(p.Read))
			}
		}
	}
	var mu sync.Mutex
	last := time.Time{}
	return func(p engine.BackfillProgress) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < 5*time.Second {
			return
		}
		last = time.Now()
		if p.Phase == "delivering" {
			fmt.Fprintf(w, "%s: delivered %d, %d pending\n", what, p.Delivered, p.Pending)
		} else {
			fmt.Fprintf(w, "%s: %d read, %d to deliver\n", what, p.Read, p.Planned)
		}
	}
}

func printBackfill(w io.Writer, r *engine.BackfillReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	verb := "backfill"
	if r.DryRun {
		verb = "dry run (nothing written or sent)"
	}
	fmt.Fprintf(w, "%s of %s: %d records read, %d responses in the window, %d rejected by the source\n", verb, r.Source, r.Read, r.Responses, r.Rejected)
	printReasons(w, r.RejectedReasons)
	failing := "would be dead-lettered (the mapping cannot render them)"
	if !r.DryRun {
		failing = "dead-lettered (the mapping cannot render them; fix it and run replay --dead)"
	}
	for _, s := range r.Syncs {
		fmt.Fprintf(w, "  %s: %d new, %d already delivered (%d sent again), %d already waiting, %d dead letters before, %d filtered out, %d %s\n",
			s.Sync, s.New, s.AlreadyDelivered, s.Redelivered, s.AlreadyPlanned, s.Dead, s.Filtered, s.Failing, failing)
		printReasons(w, s.FailingReasons)
	}
	if !r.DryRun {
		fmt.Fprintf(w, "delivered %d while waiting, %d still pending, in %s\n", r.Delivered, r.Pending, r.Elapsed.Round(time.Millisecond))
		if backfillNeedsAttention(r) {
			fmt.Fprintln(w, "needs attention: see `surveysync status`; the exit status is 3")
		}
	}
	return nil
}

func printReasons(w io.Writer, reasons map[string]int) {
	type kv struct {
		reason string
		n      int
	}
	var list []kv
	for k, v := range reasons {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool {
		return list[i].n > list[j].n || (list[i].n == list[j].n && list[i].reason < list[j].reason)
	})
	for i, x := range list {
		if i == 10 {
			fmt.Fprintf(w, "      … %d more reasons\n", len(list)-10)
			break
		}
		fmt.Fprintf(w, "      %6d × %s\n", x.n, x.reason)
	}
}
