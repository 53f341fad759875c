package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/console"
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/examples"
	"github.com/surveysync/surveysync/sandbox"
)

// DemoOptions are the flags of the demo command.
type DemoOptions struct {
	Dir    string
	Listen string
	Serve  bool
	Rows   int
}

func newDemoCommand(g *GlobalOptions) *cobra.Command {
	o := &DemoOptions{}
	cmd := &cobra.Command{
		Use:   "demo [--serve]",
		Short: "Run the quick start: sample responses through the daemon into a sandbox sheet, with scores",
		Long: `Run the daemon's main job end to end on the embedded defaults, with nothing to set up:
a local sandbox of the Google Sheets API, the SQLite ledger, the quick start's mapping
(examples/quickstart) and 240 sample survey responses. The responses are ingested,
delivered into the sandbox sheet exactly once, CSAT and NPS are computed into summary
tabs, and the result is printed.

With --serve the sandbox page (every tab as a table) and the daemon's console stay up
until Ctrl-C.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), o, g)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", "", "keep the demo's files and ledger here (default: a temporary directory, removed afterwards)")
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8090", "address of the sandbox (a free port is used if this one is taken)")
	f.BoolVar(&o.Serve, "serve", false, "keep the sandbox page and the console running until Ctrl-C")
	f.IntVar(&o.Rows, "rows", 8, "how many sheet rows to print")
	return cmd
}

func listenOrAny(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

// writeQuickstart copies the embedded quick start into dir, pointing its
// destinations at the sandbox's address.
func writeQuickstart(dir, sandboxURL string) error {
	return fs.WalkDir(examples.Quickstart, "quickstart", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(path, "quickstart"), "/")
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := examples.Quickstart.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".yaml") {
			b = []byte(strings.ReplaceAll(string(b), examples.QuickstartSandbox, sandboxURL))
		}
		return os.WriteFile(target, b, 0o600)
	})
}

func runDemo(ctx context.Context, o *DemoOptions, g *GlobalOptions) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := o.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "surveysync-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	out := g.stdout

	// With --dir the sandbox's sheets are kept there too, so that a second
	// run shows the rows of the first one and that nothing was added.
	sbDir := ""
	if o.Dir != "" {
		sbDir = dir
	}
	sb, err := sandbox.New(sandbox.Options{Demo: true, Dir: sbDir, Logger: cliLogger(g, 8)})
	if err != nil {
		return err
	}
	defer sb.Close()
	sln, err := listenOrAny(o.Listen)
	if err != nil {
		return err
	}
	sandboxURL := "http://" + sln.Addr().String() + "/"
	ssrv := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = ssrv.Serve(sln) }()
	defer ssrv.Close()

	if err := writeQuickstart(dir, sandboxURL); err != nil {
		return fmt.Errorf("writing the quick start: %w", err)
	}
	fmt.Fprintf(out, "surveysync demo\n  sandbox (Google Sheets emulator): %s\n  working directory: %s\n\n", sandboxURL, dir)

	g.Config = filepath.Join(dir, "surveysync.yaml")
	plan, err := loadPlan(g)
	if err != nil {
		return err
	}
	if err := console.Check(plan.Config); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	dln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e, err := engine.New(ctx, plan, engine.Options{Logger: cliLogger(g, 8), Listener: dln, Console: consoleHandler})
	if err != nil {
		return err
	}
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	runDone := make(chan error, 1)
	go func() { runDone <- e.Run(runCtx) }()

	want := countSampleLines(dir)
	fmt.Fprintf(out, "1. The daemon reads %d sample responses (samples/responses.jsonl) into its ledger\n   and delivers them to the sheet's \"Responses\" tab, matched to the header by name.\n", want)
	start := time.Now()
	var st *engine.Status
	for {
		st, err = engine.ReadStatus(ctx, plan, e.Store(), time.Now())
		if err != nil {
			return err
		}
		s := st.Syncs[0]
		if s.Delivered+s.Dead >= int64(want) && s.Pending == 0 {
			break
		}
		if time.Since(start) > 2*time.Minute {
			return fmt.Errorf("the demo did not finish delivering within 2 minutes (%d delivered, %d pending)", s.Delivered, s.Pending)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-runDone:
			return fmt.Errorf("the daemon stopped: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	fmt.Fprintf(out, "   Done in %s: %d delivered, %d dead letters.\n\n", time.Since(start).Round(time.Millisecond), st.Syncs[0].Delivered, st.Syncs[0].Dead)

	fmt.Fprintln(out, "2. Scores are computed from the ledger and written to summary tabs:")
	for _, sp := range plan.Scores {
		if err := e.RunScoreJob(ctx, sp.Name, time.Now().Truncate(time.Minute)); err != nil {
			return err
		}
		fmt.Fprintf(out, "   %-22s %s\n", sp.Name, sp.Definition.Describe())
	}
	fmt.Fprintln(out)

	fmt.Fprintln(out, "3. The sheet, as the Sheets API returns it:")
	printTab(out, sb, "Responses", o.Rows)
	for _, sp := range plan.Scores {
		if sp.Job.Sheet != "" {
			printTab(out, sb, sp.Job.Sheet, o.Rows)
		}
	}
	fmt.Fprintln(out, "4. Exactly once: run the demo again with --dir to reuse the ledger and nothing is added.")
	fmt.Fprintln(out)
	printStatus(out, st)

	if o.Serve {
		addr := dln.Addr().String()
		fmt.Fprintf(out, "\nServing until Ctrl-C:\n  sandbox page (every tab as a table): %s\n  daemon console:                      http://%s/console/\n  metrics:                             http://%s/metrics\n", sandboxURL, addr, addr)
		<-ctx.Done()
	}
	cancelRun()
	if err := <-runDone; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func countSampleLines(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "samples", "responses.jsonl"))
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

// printTab prints the first rows of a sandbox tab as a table.
func printTab(w io.Writer, sb *sandbox.Sandbox, tab string, rows int) {
	values := sb.Sheets().FormattedValues(sandbox.DemoSpreadsheetID, tab)
	fmt.Fprintf(w, "   tab %q: %d rows under the header\n", tab, max(0, len(values)-1))
	if len(values) == 0 {
		fmt.Fprintln(w)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, r := range values {
		if i > rows {
			fmt.Fprintf(tw, "   …\n")
			break
		}
		cells := make([]string, len(r))
		for j, c := range r {
			cells[j] = demoCell(c)
		}
		fmt.Fprintf(tw, "   %s\n", strings.Join(cells, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func demoCell(v any) string {
	var s string
	switch t := v.(type) {
	case nil:
		return ""
	case float64:
		s = fmt.Sprintf("%.6g", t)
	default:
		s = fmt.Sprint(t)
	}
	s = strings.NewReplacer("\n", `\n`, "\t", " ").Replace(s)
	if r := []rune(s); len(r) > 32 {
		s = string(r[:31]) + "…"
	}
	return config.Redact(s)
}
