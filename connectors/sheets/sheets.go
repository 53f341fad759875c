// Package sheets is the Google Sheets destination: each sync appends one row
// per response to a tab, exactly once, within the credential's quota.
//
// Exactly once rests on the mapping's key column. Appends are never
// re-sent blindly: an append whose outcome is unknown (a timeout, a reset
// connection, a 5xx) is reconciled by reading the key column before
// anything is sent again, and rows found there are settled as delivered. The
// tab is followed by its sheetId when renamed, its header row is read and
// matched by name before every batch, and a header that went missing pauses
// the destination instead of writing a misaligned row. Text is written RAW,
// so survey answers never become formulas.
package sheets

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/option"
	sheetsapi "google.golang.org/api/sheets/v4"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
)

//go:embed sample.yaml
var sample string

func init() {
	connectors.RegisterDestination(connectors.DestinationSpec{
		Type:    "google_sheets",
		Summary: "Google Sheets: one row per response in a tab, exactly once, matched to the header row by name.",
		Sample:  sample,
		Config:  func() connectors.Config { return DefaultConfig() },
		Accepts: []mapping.Kind{mapping.SheetRows},
		New: func(name string, cfg connectors.Config, deps connectors.Deps) (connectors.Destination, error) {
			return New(name, cfg.(*Config), deps)
		},
	})
}

// Destination is a Google Sheets spreadsheet. Its methods are safe for
// concurrent use; calls are serialised, since they share one quota.
type Destination struct {
	name   string
	cfg    *Config
	id     string // spreadsheet ID
	who    identity
	svc    *sheetsapi.Service
	client *http.Client
	reads  *connectors.Bucket
	writes *connectors.Bucket
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	tabs    map[string]*tabState // by the mapping's tab name
	book    workbook
	unknown map[int64]unknownSend // appends with an unknown outcome, by delivery id
	warned  map[string]bool       // warnings logged once
}

var (
	_ connectors.Destination = (*Destination)(nil)
	_ connectors.Limits      = (*Destination)(nil)
	_ connectors.Prober      = (*Destination)(nil)
	_ connectors.Checker     = (*Destination)(nil)
	_ connectors.QuotaKeyer  = (*Destination)(nil)
	_ connectors.TableWriter = (*Destination)(nil)
)

// New builds the destination: it resolves the credentials and the quota
// buckets; it sends no request.
func New(name string, cfg *Config, deps connectors.Deps) (*Destination, error) {
	id, err := ParseSpreadsheet(cfg.Spreadsheet)
	if err != nil {
		return nil, fmt.Errorf("spreadsheet: %w", err)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// Token requests go through the shared client builder too (no quota
	// bucket: they do not count against the Sheets quota), with the same
	// network safety as the API's requests. The client is filled in once the
	// credentials file has named its token URL, whose host the operator
	// chose like the endpoint's; no token is fetched before then. (Only the
	// metadata server behind adc: true on Google Cloud is reached by
	// Google's own client, at its fixed link-local address.)
	tokenClient := &http.Client{}
	tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, tokenClient)
	who, err := resolveIdentity(tokenCtx, cfg)
	if err != nil {
		return nil, err
	}
	*tokenClient = *deps.Clients.New(connectors.ClientOptions{
		Name: name + ":oauth", Timeout: 30 * time.Second,
		AllowHosts: connectors.URLHosts(who.tokenURL), AllowPrivate: cfg.AllowPrivateNetwork,
	})
	var refused refusals
	tokenClient.Transport = refused.transport(tokenClient.Transport)
	d := &Destination{
		name:    name,
		cfg:     cfg,
		id:      id,
		who:     who,
		log:     logger,
		now:     deps.Clock(),
		tabs:    map[string]*tabState{},
		unknown: map[int64]unknownSend{},
		warned:  map[string]bool{},
	}
	// One write bucket and one read bucket per credential, shared by every
	// destination, sync, score job and backfill using it. A minute plus a
	// second keeps clear of Google's per-minute refill edge.
	per := time.Minute + time.Second
	d.writes = deps.Clients.QuotaBucket("sheets:write:"+who.id, cfg.Quota.WritesPerMinute, per)
	d.reads = deps.Clients.QuotaBucket("sheets:read:"+who.id, cfg.Quota.ReadsPerMinute, per)
	d.client = deps.Clients.New(connectors.ClientOptions{
		Name:         name,
		Timeout:      cfg.Timeout,
		BucketFor:    d.bucketFor,
		TokenSource:  refused.tokens(who.tokens),
		AllowHosts:   connectors.URLHosts(cfg.endpoint()),
		AllowPrivate: cfg.AllowPrivateNetwork,
	})
	d.svc, err = sheetsapi.NewService(context.Background(), option.WithHTTPClient(d.client), option.WithEndpoint(cfg.endpoint()))
	if err != nil {
		return nil, fmt.Errorf("building the Sheets client: %w", err)
	}
	return d, nil
}

// bucketFor paces reads and writes separately, as Google counts them.
func (d *Destination) bucketFor(r *http.Request) *connectors.Bucket {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return d.reads
	}
	return d.writes
}

// QuotaKey names the credential, so that destinations sharing it are
// dispatched by one worker under one lease.
func (d *Destination) QuotaKey() string { return "google_sheets:" + d.who.id }

// MaxBatch is the most rows one Deliver call takes: batch_rows.
func (d *Destination) MaxBatch(*mapping.Mapping) int { return d.cfg.BatchRows }

// Close releases idle connections.
func (d *Destination) Close() error {
	d.client.CloseIdleConnections()
	return nil
}

// warnOnce logs a warning the first time key is seen.
func (d *Destination) warnOnce(key, msg string, args ...any) {
	if d.warned[key] {
		return
	}
	d.warned[key] = true
	d.log.Warn(msg, args...)
}

// sheetOptions are a mapping's options combined with the destination's
// defaults. A mapping cannot tell "serial" from "not set", so a
// destination's dates: text and long_text: dead_letter apply whenever the
// mapping leaves the option at its default.
type sheetOptions struct {
	dates         mapping.DateMode
	longText      mapping.LongTextMode
	appendMissing bool
}

func (d *Destination) options(spec *mapping.SheetSpec) sheetOptions {
	o := sheetOptions{
		dates:         spec.Options.Dates,
		longText:      spec.Options.LongText,
		appendMissing: spec.Options.AppendMissingHeaders || d.cfg.AppendMissingHeaders,
	}
	if o.dates == "" || o.dates == mapping.DatesSerial {
		o.dates = mapping.DateMode(d.cfg.Dates)
	}
	if o.longText == "" || o.longText == mapping.LongTextTruncate {
		o.longText = mapping.LongTextMode(d.cfg.LongText)
	}
	return o
}
