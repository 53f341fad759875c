package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/connectors/file"
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// PreviewOptions are the flags of the preview command.
type PreviewOptions struct {
	Sync  string
	Input string
	JSON  bool
	Limit int
}

func newPreviewCommand(g *GlobalOptions) *cobra.Command {
	o := &PreviewOptions{}
	cmd := &cobra.Command{
		Use:   "preview --sync NAME --input FILE",
		Short: "Render responses through a sync's mapping and print the rows or requests; nothing is sent",
		Long: `Read responses from FILE (JSON Lines, a JSON array, a single JSON object or CSV),
turn them into responses exactly as the sync's source does, render them through the
sync's mapping, and print the sheet rows or HTTP requests that would be sent. Nothing
is stored and nothing is sent. Responses the mapping cannot render are listed with
the reason they would be dead-lettered.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Sync == "" || o.Input == "" {
				return usagef("preview needs --sync NAME and --input FILE")
			}
			return runPreview(cmd.Context(), o, g)
		},
	}
	cmd.Flags().StringVar(&o.Sync, "sync", "", "the sync whose mapping renders the responses")
	cmd.Flags().StringVar(&o.Input, "input", "", "file of sample responses")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	cmd.Flags().IntVar(&o.Limit, "limit", 100, "render at most this many responses")
	return cmd
}

type previewJSON struct {
	Key     string       `json:"key"`
	Routed  bool         `json:"routed"`
	Error   string       `json:"error,omitempty"`
	Row     []cellJSON   `json:"row,omitempty"`
	Request *requestJSON `json:"request,omitempty"`
}

type cellJSON struct {
	Header string `json:"header"`
	Type   string `json:"type"`
	Value  any    `json:"value"`
}

type requestJSON struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Query   map[string][]string `json:"query,omitempty"`
	Headers map[string][]string `json:"headers,omitempty"`
	IdemKey string              `json:"idempotency_key,omitempty"`
	Body    any                 `json:"body,omitempty"`
}

func toRequestJSON(r *mapping.Request) *requestJSON {
	if r == nil {
		return nil
	}
	return &requestJSON{Method: r.Method, Path: r.Path, Query: r.Query, Headers: r.Header, IdemKey: r.IdempotencyKey, Body: r.Body}
}

func runPreview(ctx context.Context, o *PreviewOptions, g *GlobalOptions) error {
	plan, err := loadPlan(g)
	if err != nil {
		return err
	}
	sp := plan.Sync(o.Sync)
	if sp == nil {
		return usagef("no sync %q (configured: %s)", o.Sync, strings.Join(plan.SyncNames(), ", "))
	}
	responses, problems, err := readResponses(ctx, sp.Source, o.Input, o.Limit)
	if err != nil {
		return err
	}
	now := timeNow()
	var items []engine.PreviewItem
	for i := range responses {
		items = append(items, engine.Preview(sp, &responses[i], now))
	}
	wire, hasWire := engine.PreviewWire(sp, items)
	if o.JSON {
		out := struct {
			Sync     string        `json:"sync"`
			Items    []previewJSON `json:"items"`
			Batch    *requestJSON  `json:"batch_request,omitempty"`
			Wire     []wireJSON    `json:"wire_requests,omitempty"`
			Rejected []string      `json:"rejected,omitempty"`
		}{Sync: sp.Name, Rejected: problems}
		for _, r := range wire {
			out.Wire = append(out.Wire, wireJSON{Method: r.Method, URL: r.URL, Headers: r.Header, Body: r.Body, Note: r.Note})
		}
		for _, it := range items {
			pj := previewJSON{Key: it.Key, Routed: it.Routed, Error: it.Error, Request: toRequestJSON(it.Request)}
			if it.Row != nil {
				for _, c := range it.Row.Cells {
					pj.Row = append(pj.Row, cellJSON{Header: c.Header, Type: c.Value.Kind.String(), Value: c.Value.Interface()})
				}
			}
			out.Items = append(out.Items, pj)
		}
		if b, err := engine.PreviewBody(sp, items); err == nil && b != nil && !hasWire {
			out.Batch = toRequestJSON(b)
		}
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	}
	printPreview(g.stdout, sp, items, wire, hasWire)
	for _, p := range problems {
		fmt.Fprintf(g.stdout, "rejected by the source: %s\n", p)
	}
	return nil
}

func printPreview(w io.Writer, sp *engine.SyncPlan, items []engine.PreviewItem, wire []connectors.WireRequest, hasWire bool) {
	routed, failed := 0, 0
	if sp.Mapping.Kind() == mapping.SheetRows {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		var header []string
		for _, it := range items {
			if it.Row != nil {
				for _, c := range it.Row.Cells {
					header = append(header, c.Header)
				}
				break
			}
		}
		if len(header) > 0 {
			fmt.Fprintf(w, "sheet %q, key column %q\n", sp.Mapping.Sheet().Tab, sp.Mapping.Sheet().KeyHeader)
			fmt.Fprintln(tw, strings.Join(header, "\t"))
		}
		for _, it := range items {
			if it.Row != nil {
				routed++
				vals := make([]string, len(it.Row.Cells))
				for i, c := range it.Row.Cells {
					vals[i] = cellText(c.Value)
				}
				fmt.Fprintln(tw, strings.Join(vals, "\t"))
			}
		}
		tw.Flush()
	} else if hasWire {
		// The destination rewrites what the mapping renders: show what it
		// would send.
		for _, it := range items {
			if it.Request != nil {
				routed++
			}
		}
		for _, r := range wire {
			printWireRequest(w, r)
		}
	} else {
		for _, it := range items {
			if it.Request == nil {
				continue
			}
			routed++
			if sp.Mapping.BatchMax() > 1 {
				continue
			}
			printRequest(w, it.Request)
		}
		if b, err := engine.PreviewBody(sp, items); err == nil && b != nil {
			fmt.Fprintf(w, "# %d responses in one batched request (up to %d per request)\n", routed, sp.Mapping.BatchMax())
			printRequest(w, b)
		}
	}
	for _, it := range items {
		if it.Error != "" {
			failed++
			fmt.Fprintf(w, "would be dead-lettered: %s: %s\n", it.Key, it.Error)
		}
	}
	filtered := len(items) - routed - failed
	fmt.Fprintf(w, "%d rendered, %d filtered out, %d would be dead-lettered; nothing was sent\n", routed, filtered, failed)
}

func printRequest(w io.Writer, r *mapping.Request) {
	q := ""
	if len(r.Query) > 0 {
		q = "?" + r.Query.Encode()
	}
	fmt.Fprintf(w, "%s %s%s\n", r.Method, r.Path, q)
	for k, vs := range r.Header {
		for _, v := range vs {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
	if r.IdempotencyKey != "" {
		fmt.Fprintf(w, "(idempotency key) %s\n", r.IdempotencyKey)
	}
	if r.Body != nil {
		writeIndentedJSON(w, r.Body)
	}
	fmt.Fprintln(w)
}

// wireJSON is a request as the destination would send it.
type wireJSON struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Headers map[string][]string `json:"headers,omitempty"`
	Body    any                 `json:"body,omitempty"`
	Note    string              `json:"note,omitempty"`
}

func printWireRequest(w io.Writer, r connectors.WireRequest) {
	if r.Note != "" {
		fmt.Fprintf(w, "# %s\n", r.Note)
	}
	fmt.Fprintf(w, "%s %s\n", r.Method, r.URL)
	for k, vs := range r.Header {
		for _, v := range vs {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
	if r.Body != nil {
		writeIndentedJSON(w, r.Body)
	}
	fmt.Fprintln(w)
}

// writeIndentedJSON prints v as indented JSON, with <, > and & as they are:
// the preview is read in a terminal, not embedded in HTML.
func writeIndentedJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(w, "(cannot print the body: %v)\n", err)
	}
}

func cellText(v survey.Value) string {
	s := v.String()
	s = strings.ReplaceAll(s, "\n", `\n`)
	s = strings.ReplaceAll(s, "\t", `\t`)
	if r := []rune(s); len(r) > 40 {
		s = string(r[:39]) + "…"
	}
	return s
}

// readResponses reads a file of sample records and turns them into
// responses with the source's own extraction settings.
func readResponses(ctx context.Context, src *engine.SourcePlan, path string, limit int) ([]survey.Response, []string, error) {
	x, err := src.Extractor()
	if err != nil {
		return nil, nil, err
	}
	format, err := file.FormatOf(path, "auto")
	if err != nil {
		format = "json"
	}
	var (
		out      []survey.Response
		problems []string
	)
	stop := errors.New("limit")
	now := timeNow()
	handle := func(rec file.Record) error {
		if limit > 0 && len(out) >= limit {
			return stop
		}
		if rec.Err != nil {
			problems = append(problems, rec.Ref+": "+rec.Err.Error())
			return nil
		}
		r, err := x.Extract(src.Name, rec.Fields, rec.Raw, now)
		switch {
		case errors.Is(err, connectors.ErrNotAccepted):
			problems = append(problems, rec.Ref+": not accepted by the source's filter")
		case err != nil:
			problems = append(problems, rec.Ref+": "+err.Error())
		default:
			out = append(out, r)
		}
		return nil
	}
	if format == "json" {
		if raw, rerr := os.ReadFile(path); rerr == nil && bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			// A single JSON object, such as one webhook body.
			fields, derr := survey.DecodeObject(raw)
			if derr != nil {
				return nil, nil, fmt.Errorf("%s: %v", path, derr)
			}
			err = handle(file.Record{Fields: fields, Raw: bytes.TrimSpace(raw), Ref: filepath.Base(path)})
			return out, problems, err
		}
	}
	err = file.ReadFile(ctx, path, format, file.CSV{}, handle)
	if err != nil && !errors.Is(err, stop) {
		return nil, nil, err
	}
	return out, problems, nil
}
