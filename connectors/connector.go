// Package connectors defines what a source and a destination are, the error
// classes that decide what happens after a failed delivery, the registry of
// connector types, the per-credential quota buckets and the one HTTP client
// builder every connector uses. Each connector lives in its own package
// below this one, with the same shape: Config, DefaultConfig, Validate, New,
// then Run or Deliver, and Close.
package connectors

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// Source produces survey responses and hands them to a Sink.
type Source interface {
	// Run produces responses until ctx is done. It returns nil when ctx ends
	// and an error only for a failure it cannot recover from.
	Run(ctx context.Context, sink Sink) error
	// Close releases what the source holds.
	Close() error
}

// HTTPSource is a source that is fed by requests to the daemon's listener,
// such as a webhook.
type HTTPSource interface {
	Source
	// Route returns the path the source serves on the daemon's listener.
	Route() string
	// Handler returns the handler for that path; it ingests through sink.
	Handler(sink Sink) http.Handler
}

// Sink is where sources put responses. Ingest returns only after the
// responses and the source state are durably committed, with their
// deliveries planned, so a source may acknowledge them.
type Sink interface {
	// Ingest stores responses and source state in one transaction.
	Ingest(ctx context.Context, responses []survey.Response, state []store.SourceState) (IngestReport, error)
	// Reject records payloads that could not become responses, with reasons,
	// so they can be replayed when the cause is fixed.
	Reject(ctx context.Context, rejects []store.Rejected) error
	// State returns a value the source saved earlier with Ingest.
	State(ctx context.Context, name string) (string, bool, error)
}

// IngestReport counts what an Ingest did.
type IngestReport struct {
	Inserted   int
	Duplicates int
	Updated    int
	Ignored    int
	// Planned counts deliveries planned or re-opened.
	Planned int
	// Filtered counts responses that no sync routes.
	Filtered int
}

// Add adds o to r.
func (r *IngestReport) Add(o IngestReport) {
	r.Inserted += o.Inserted
	r.Duplicates += o.Duplicates
	r.Updated += o.Updated
	r.Ignored += o.Ignored
	r.Planned += o.Planned
	r.Filtered += o.Filtered
}

// Destination delivers rendered responses.
type Destination interface {
	// Deliver sends one batch of one sync and returns one Result per item,
	// in the same order. It must not return before every item's fate is
	// known or classified; a whole-destination problem is reported as a
	// Paused error on the items it concerns.
	Deliver(ctx context.Context, b *Batch) []Result
	// Close releases what the destination holds.
	Close() error
}

// Limits is implemented by destinations that choose how many deliveries
// one Deliver call takes, for example the rows one Sheets append can carry
// or the inputs of one HubSpot batch.
type Limits interface {
	// MaxBatch is the most items one Deliver call takes for a sync with
	// mapping m; 0 leaves the choice to the engine's dispatch.batch_size.
	MaxBatch(m *mapping.Mapping) int
}

// Prober is implemented by destinations that can tell cheaply whether the
// cause of a pause is fixed, such as a Sheets tab whose header is back.
type Prober interface {
	// Probe returns nil when the destination can take deliveries again for
	// the given sync.
	Probe(ctx context.Context, sync string, m *mapping.Mapping) error
}

// Checker is implemented by destinations that can check, before the first
// delivery, that the service will take what a sync's mapping renders: that
// the spreadsheet can be read and its tab has the mapped headers, that the
// HubSpot properties exist, that the Zendesk ticket fields do. It backs
// `surveysync validate --connect`.
type Checker interface {
	// Check reads and never writes. sample is the request m rendered from
	// validate's --sample response, or nil (no sample, the sample was not
	// routed to the sync, or m renders rows). Check returns what it found
	// about the sync, and an error when the check could not be made at all,
	// such as the service being unreachable or the credentials refused.
	Check(ctx context.Context, sync string, m *mapping.Mapping, sample *mapping.Request) ([]Finding, error)
}

// Finding is one result of a Checker.
type Finding struct {
	// Msg says what was found and what to do about it; it never holds a
	// secret.
	Msg string
	// Note marks something worth knowing that will not fail a delivery,
	// such as a tab the first delivery creates, or a value that could not
	// be checked.
	Note bool
	// Mapping marks a finding about what the mapping names (a property, a
	// field id): it is reported in the mapping file rather than at the
	// destination's entry in surveysync.yaml.
	Mapping bool
	// Pos is where in the mapping file the finding is, when the destination
	// can tell; the zero Pos reports a Mapping finding at the mapping's
	// request.
	Pos config.Pos
}

// QuotaKeyer is implemented by destinations that share a quota with others,
// such as two spreadsheets written with one Google credential. Destinations
// with the same key are dispatched by one worker under one lease, so that
// one process at a time spends that quota.
type QuotaKeyer interface {
	QuotaKey() string
}

// Batch is a set of claimed deliveries of one sync, rendered.
type Batch struct {
	// Sync names the sync.
	Sync string
	// Mapping is the sync's compiled mapping.
	Mapping *mapping.Mapping
	// Items are the deliveries, oldest first.
	Items []*Item
}

// Item is one delivery in a batch.
type Item struct {
	// DeliveryID is the ledger's id of the delivery.
	DeliveryID int64
	// ResponseKey is the response's key within its source.
	ResponseKey string
	// DeliveryKey is stable across attempts and restarts, for use as an
	// idempotency key.
	DeliveryKey string
	// Version is the delivery version: above 1 for a redelivery, which a
	// destination that can should apply as an update of the earlier effect.
	Version int
	// Attempt counts attempts, including this one.
	Attempt int
	// Uncertain reports that an earlier attempt may have been applied: the
	// destination must reconcile before sending again.
	Uncertain bool
	// PreviousAttemptAt is when the previous attempt started (zero for a
	// first attempt), also when it was made by another process before a
	// restart.
	PreviousAttemptAt time.Time
	// Response is the response at its latest content.
	Response *survey.Response
	// Row is the rendered row, for sheet mappings.
	Row *mapping.Row
	// Request is the rendered request, for request mappings.
	Request *mapping.Request
}

// Result is the outcome of one item. A nil Err means delivered.
type Result struct {
	Err error
	// Ref identifies the effect at the destination, such as a range or an id.
	Ref string
}

// Deps are what the engine gives connectors.
type Deps struct {
	// Logger is the connector's logger, already named.
	Logger *slog.Logger
	// Clients builds HTTP clients and holds the shared quota buckets.
	Clients *Clients
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Dir is the directory relative paths in the configuration start from.
	Dir string
}

// Clock returns d.Now or time.Now.
func (d Deps) Clock() func() time.Time {
	if d.Now != nil {
		return d.Now
	}
	return time.Now
}

// TableWriter is implemented by destinations that can hold a summary table,
// such as a Sheets tab. WriteTable replaces the table in place, so writing the
// same table twice leaves the same result as writing it once.
type TableWriter interface {
	WriteTable(ctx context.Context, t Table) error
}

// Table is a summary table: a header row and rows of typed values.
type Table struct {
	// Tab names where the table goes, such as a sheet tab; created if missing.
	Tab    string
	Header []string
	Rows   [][]survey.Value
}

// Backfiller is implemented by sources that can read their history again,
// for `surveysync backfill`. A backfill ignores and keeps the live cursor.
type Backfiller interface {
	// Backfill reads the responses of the window (or the given files)
	// through sink, calling progress with the running count of records read.
	Backfill(ctx context.Context, sink Sink, req BackfillRequest, progress func(read int)) error
}

// BackfillRequest bounds a backfill.
type BackfillRequest struct {
	// Since and Until bound the responses' submission times; zero leaves
	// that side open.
	Since, Until time.Time
	// Files, for file sources, replaces the configured paths.
	Files []string
}

// InWindow reports whether t is within the request's window.
func (r BackfillRequest) InWindow(t time.Time) bool {
	return (r.Since.IsZero() || !t.Before(r.Since)) && (r.Until.IsZero() || t.Before(r.Until))
}
