package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/surveysync/surveysync/sandbox"
	"github.com/surveysync/surveysync/sandbox/fault"
	"github.com/surveysync/surveysync/sandbox/sheetsapi"
)

// SandboxOptions are the flags of the sandbox command.
type SandboxOptions struct {
	Listen string
	Dir    string
	Faults []string
	NoDemo bool
	// SheetsQuota is the Sheets per-minute limit per user (reads and writes
	// each); the per-project limit is five times it, as Google's. 0 turns
	// the quotas off.
	SheetsQuota int
}

func newSandboxCommand(g *GlobalOptions) *cobra.Command {
	o := &SandboxOptions{}
	cmd := &cobra.Command{
		Use:   "sandbox [--listen ADDR]",
		Short: "Serve local Google Sheets, HubSpot and Zendesk emulators and a page showing their data",
		Long: `Serve emulators of the Google Sheets v4, HubSpot CRM and Zendesk APIs on one address,
with a web page at / that lists every spreadsheet, contact and ticket and refreshes
itself, so a mapping can be tried without any account. Point a destination's
endpoint at the sandbox's URL (no credentials needed).

Faults can be injected per emulator, as real APIs produce them:
  --faults sheets:429=0.1,5xx=0.05,reset=0.02,timeout=0.02,latency=20ms
  --faults hubspot:429=0.05,retry-after=2s --faults zendesk:5xx=0.05
Rates are shares of write requests: 429, 5xx, reset (applied, then the
connection is reset), timeout (applied, then no answer); latency delays each.

By default the demo spreadsheet (` + sandbox.DemoSpreadsheetID + `), HubSpot properties and
Zendesk tickets and fields used by examples/ are created.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSandbox(cmd.Context(), o, g)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8090", "address to serve on")
	f.StringVar(&o.Dir, "dir", "", "keep the Sheets data in this directory across restarts (default: memory only)")
	f.StringArrayVar(&o.Faults, "faults", nil, "inject faults: EMULATOR:SPEC (repeatable)")
	f.BoolVar(&o.NoDemo, "no-demo", false, "start empty, without the demo spreadsheet, properties and tickets")
	f.IntVar(&o.SheetsQuota, "sheets-quota", sheetsapi.DefaultPerUserPerMinute, "Sheets requests per minute per user, reads and writes each (Google's is 60; 0 turns quotas off)")
	return cmd
}

// parseFaults reads the --faults flags.
func parseFaults(specs []string) (map[string]fault.Config, error) {
	out := map[string]fault.Config{}
	for _, s := range specs {
		target, spec, ok := strings.Cut(s, ":")
		if !ok {
			return nil, fmt.Errorf("--faults %q: write EMULATOR:SPEC, such as sheets:429=0.1", s)
		}
		cfg, err := fault.Parse(spec)
		if err != nil {
			return nil, fmt.Errorf("--faults %q: %w", s, err)
		}
		out[target] = cfg
	}
	return out, nil
}

func runSandbox(ctx context.Context, o *SandboxOptions, g *GlobalOptions) error {
	faults, err := parseFaults(o.Faults)
	if err != nil {
		return usagef("%v", err)
	}
	if o.Dir != "" {
		if err := os.MkdirAll(o.Dir, 0o700); err != nil {
			return err
		}
	}
	q := sheetsapi.Quotas{ReadPerUser: o.SheetsQuota, ReadPerProject: 5 * o.SheetsQuota, WritePerUser: o.SheetsQuota, WritePerProject: 5 * o.SheetsQuota}
	sb, err := sandbox.New(sandbox.Options{Dir: o.Dir, Faults: faults, Demo: !o.NoDemo, SheetsQuotas: &q, Logger: cliLogger(g, 8)})
	if err != nil {
		return usagef("%v", err)
	}
	defer sb.Close()
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.Listen, err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Fprintf(g.stdout, "sandbox serving Google Sheets, HubSpot and Zendesk emulators\n  page:     http://%s/\n  endpoint: http://%s/   (use as a destination's endpoint)\nCtrl-C stops it.\n", ln.Addr(), ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
