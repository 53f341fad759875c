// Package store is surveysync's ledger: the stored responses, the outbox of
// deliveries planned from them, source cursors, destination leases and
// pauses, rejected payloads and score runs. The embedded implementation is
// SQLite; the Store interface is kept narrow so that a Postgres
// implementation can follow, and storetest holds one conformance suite that
// every implementation must pass.
//
// The ledger is what makes "nothing lost, nothing doubled" hold:
//
//   - Ingest stores responses and plans one delivery per routed sync in the
//     same transaction (a transactional outbox). A webhook is acknowledged
//     only after Ingest returns.
//   - Claim moves due deliveries to "sending" under a lease token before
//     anything is sent, and that mark is committed first. A delivery found in
//     "sending" under an older token was in flight when its dispatcher died:
//     it is handed out again with Uncertain set, and the connector reconciles
//     before re-sending.
//   - Settle records each outcome, only while the caller still holds the
//     lease (a fencing token), so a dispatcher that lost its lease cannot
//     overwrite the work of the one that took over.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/surveysync/surveysync/survey"
)

// Store is the ledger. Implementations are safe for concurrent use.
type Store interface {
	// Ingest stores a batch of responses and plans their deliveries, and
	// saves source state (cursors, seen files), in one transaction. It
	// returns one result per incoming response, in order.
	Ingest(ctx context.Context, batch []Incoming, state []SourceState) ([]IngestResult, error)

	// SourceState returns the value saved under name for source.
	SourceState(ctx context.Context, source, name string) (value string, ok bool, err error)

	// Claim marks up to req.Limit deliveries of one sync as sending under the
	// lease and returns them, oldest first, with their responses. Due pending
	// deliveries are claimed, and so are deliveries left "sending" under an
	// older lease token (or stale under the current one), which come back
	// with Uncertain set. It fails with ErrLeaseLost, claiming nothing, when
	// req.Lease is no longer the current holder of its lease.
	Claim(ctx context.Context, req ClaimRequest) ([]Delivery, error)

	// Settle records outcomes of claimed deliveries, in one transaction. It
	// fails with ErrLeaseLost, changing nothing, when lease is no longer the
	// current holder of its lease.
	Settle(ctx context.Context, lease Lease, outcomes []Outcome) error

	// AcquireLease takes the named lease for holder for ttl, or returns
	// ErrLeaseHeld while another holder's lease is unexpired. Every
	// acquisition gets a new, larger fencing token.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (Lease, error)
	// RenewLease extends a held lease; ErrLeaseLost when it was taken over.
	RenewLease(ctx context.Context, lease Lease, ttl time.Duration) (Lease, error)
	// ReleaseLease gives a lease up so another holder can take it at once.
	ReleaseLease(ctx context.Context, lease Lease) error
	// Leases lists current leases.
	Leases(ctx context.Context) ([]Lease, error)

	// SetPause pauses a destination with a reason an ops person can act on;
	// an empty reason clears the pause.
	SetPause(ctx context.Context, destination, reason string) error
	// Pauses lists paused destinations.
	Pauses(ctx context.Context) ([]Pause, error)

	// Stats summarises the ledger for status, metrics and the console.
	// DeliveredSince counts deliveries settled at or after since.
	Stats(ctx context.Context, since time.Time) (*Stats, error)

	// DeadLetters lists dead deliveries, newest first.
	DeadLetters(ctx context.Context, f DeadFilter) ([]DeadLetter, error)

	// Replay re-opens deliveries: dead ones are set pending again; with Keys
	// and Delivered set, delivered ones are re-opened as a redelivery (a new
	// delivery version, so a new delivery key). It returns how many were
	// re-opened.
	Replay(ctx context.Context, req ReplayRequest) (int, error)

	// Reject records payloads a source could not turn into responses, with
	// their reason, so they can be replayed once the cause is fixed.
	Reject(ctx context.Context, rejects []Rejected) error
	// Rejects lists rejected payloads not yet replayed, oldest first.
	Rejects(ctx context.Context, source string, limit int) ([]Rejected, error)
	// MarkRejectsReplayed marks rejected payloads as replayed.
	MarkRejectsReplayed(ctx context.Context, ids []int64) error

	// Lookup returns what the ledger knows of the given response keys of a
	// source: their content hash, version and the state of each delivery.
	// Keys the ledger has never seen are absent from the map.
	Lookup(ctx context.Context, source string, keys []string) (map[string]ResponseState, error)

	// ScanResponses calls fn for every stored response of source submitted in
	// [from, to), in submission order, stopping at fn's first error. A zero
	// from or to leaves that side open.
	ScanResponses(ctx context.Context, source string, from, to time.Time, fn func(*survey.Response) error) error

	// ScanBatches is ScanResponses for bulk readers such as score jobs: it
	// calls fn with the same responses a batch at a time, in no particular
	// order (an implementation reads them in whatever order is fastest,
	// in parallel if it likes), stopping at fn's first error. fn is never
	// called concurrently. A batch and the Payload bytes of its responses
	// are valid only until fn returns, because the store may reuse their
	// memory for a later batch; their Key, Source and SubmittedAt may be
	// kept.
	ScanBatches(ctx context.Context, source string, from, to time.Time, fn func([]survey.Response) error) error

	// LastScoreRun returns when a score job last ran (zero if never).
	LastScoreRun(ctx context.Context, job string) (ScoreRun, error)
	// RecordScoreRun stores a score job's run and its results (JSON).
	RecordScoreRun(ctx context.Context, run ScoreRun) error
	// ScoreRuns returns a job's runs, newest first.
	ScoreRuns(ctx context.Context, job string, limit int) ([]ScoreRun, error)

	// Close closes the store.
	Close() error
}

// Errors with a meaning callers act on.
var (
	// ErrLeaseHeld means another holder has the lease.
	ErrLeaseHeld = errors.New("lease is held by another dispatcher")
	// ErrLeaseLost means the lease expired and was taken over.
	ErrLeaseLost = errors.New("lease was lost")
)

// UpdatePolicy says what happens when a source sends a response again with
// different content (Delighted sends survey_response.updated when a comment
// follows the score).
type UpdatePolicy string

// The update policies.
const (
	// UpdateLatest stores the new content; deliveries not yet made send the
	// latest content, deliveries already made are left alone. The default.
	UpdateLatest UpdatePolicy = "latest"
	// UpdateRedeliver stores the new content and re-opens deliveries already
	// made as a redelivery (a new delivery version), for destinations that
	// upsert or update in place.
	UpdateRedeliver UpdatePolicy = "redeliver"
	// UpdateIgnore keeps the first content and ignores later versions.
	UpdateIgnore UpdatePolicy = "ignore"
)

// Incoming is a response to ingest and the syncs that route it.
type Incoming struct {
	Response survey.Response
	// Syncs lists the syncs whose filters accept the response; one delivery
	// is planned for each.
	Syncs []string
	// Policy applies when the response is already stored with other content.
	// Empty means UpdateLatest.
	Policy UpdatePolicy
	// Redeliver re-opens deliveries already made for Syncs as redeliveries
	// (a new delivery version) even when the content did not change, for
	// backfill --redeliver.
	Redeliver bool
	// RedeliverTag makes Redeliver idempotent: a delivery already re-opened
	// under this tag is not re-opened again, so a resumed or repeated
	// backfill sends each response once more, once. Empty means always.
	RedeliverTag string
}

// IngestOutcome says what Ingest did with one response.
type IngestOutcome uint8

// The ingest outcomes.
const (
	// Inserted is a response seen for the first time.
	Inserted IngestOutcome = iota + 1
	// Duplicate is a response already stored with the same content.
	Duplicate
	// Updated is a response already stored whose content changed.
	Updated
	// Ignored is a changed response kept at its first content (UpdateIgnore).
	Ignored
	// Stale is a changed response older than the stored content by its
	// source's time (Response.UpdatedAt): a version delivered out of order.
	// The stored content is kept.
	Stale
)

// String names the outcome.
func (o IngestOutcome) String() string {
	switch o {
	case Inserted:
		return "inserted"
	case Duplicate:
		return "duplicate"
	case Updated:
		return "updated"
	case Ignored:
		return "ignored"
	case Stale:
		return "stale"
	}
	return "unknown"
}

// IngestResult is the result for one incoming response.
type IngestResult struct {
	Outcome IngestOutcome
	// Version is the stored version of the response after ingest (1 for new).
	Version int
	// Planned counts deliveries created or re-opened.
	Planned int
}

// SourceState is a value a source saves with an ingest: its cursor, or the
// hash of a file it has read.
type SourceState struct {
	Source string
	Name   string
	Value  string
}

// Lease is a held claim on a named piece of work, with its fencing token.
type Lease struct {
	Name      string
	Holder    string
	Token     int64
	ExpiresAt time.Time
}

// ClaimRequest asks for deliveries of one sync.
type ClaimRequest struct {
	Sync  string
	Lease Lease
	Limit int
	Now   time.Time
	// StaleAfter re-claims deliveries left "sending" under the current token
	// for longer than this (as uncertain); 0 means 10 minutes.
	StaleAfter time.Duration
}

// Delivery is one claimed delivery of a response to a sync.
type Delivery struct {
	ID   int64
	Sync string
	// Version is the delivery version: 1, or more after a redelivery.
	Version int
	// Attempts counts claims, including this one.
	Attempts int
	// Uncertain reports that an earlier attempt's outcome is unknown: it
	// may have been applied. Connectors must reconcile before re-sending.
	Uncertain bool
	// PreviousAttemptAt is when the previous attempt was claimed, that is
	// shortly before it was sent; zero for a first attempt. An API that may
	// apply a request long after it was sent (Sheets: up to 180 s) uses it
	// to wait before concluding an uncertain attempt was not applied.
	PreviousAttemptAt time.Time
	// Key is survey.DeliveryKey(sync, source, response key, version).
	Key string
	// Response is the response at its latest stored content.
	Response survey.Response
	// ResponseVersion is the stored content version of Response.
	ResponseVersion int
}

// State is a delivery's state.
type State string

// The delivery states.
const (
	Pending   State = "pending"
	Sending   State = "sending"
	Delivered State = "delivered"
	Dead      State = "dead"
)

// Outcome settles one claimed delivery.
type Outcome struct {
	ID    int64
	State State // Delivered, Dead or Pending (retry)
	// NextAt is when a Pending delivery is due again.
	NextAt time.Time
	// Uncertain marks a Pending delivery whose attempt may have been applied.
	Uncertain bool
	// Release returns a Pending delivery without counting the attempt (the
	// destination was paused or the dispatcher is shutting down before
	// sending).
	Release bool
	// Class is the error class (permanent, transient, retry_after,
	// ambiguous, paused, render); empty on success.
	Class string
	// Error is the reason, shown in status and dead letters.
	Error string
	// Ref is what the destination returned to identify the effect, such as an
	// updated range or a record id.
	Ref string
	// At is when the outcome happened.
	At time.Time
}

// Pause is a paused destination.
type Pause struct {
	Destination string
	Reason      string
	Since       time.Time
}

// Stats summarises the ledger.
type Stats struct {
	Syncs   []SyncStats
	Sources []SourceStats
	Pauses  []Pause
	Leases  []Lease
}

// SyncStats counts one sync's deliveries by state.
type SyncStats struct {
	Sync           string
	Pending        int64
	Sending        int64
	Delivered      int64
	Dead           int64
	Uncertain      int64
	DeliveredSince int64
	// OldestPending is the planning time of the oldest pending delivery.
	OldestPending time.Time
	LastSuccess   time.Time
	LastError     string
	LastErrorAt   time.Time
}

// SourceStats describes one source.
type SourceStats struct {
	Source     string
	Responses  int64
	LastIngest time.Time
	// Cursor is the value saved under the name "cursor", if any.
	Cursor   string
	Rejected int64
}

// DeadFilter selects dead letters.
type DeadFilter struct {
	Sync  string
	Limit int
}

// DeadLetter is a dead delivery with its reason and payload.
type DeadLetter struct {
	ID       int64
	Sync     string
	Source   string
	Key      string
	Attempts int
	Class    string
	Reason   string
	At       time.Time
	Payload  []byte
}

// ReplayRequest selects deliveries to re-open.
type ReplayRequest struct {
	Sync string
	// Keys limits the replay to these response keys; empty means all.
	Keys []string
	// Dead re-opens dead deliveries.
	Dead bool
	// Delivered re-opens delivered deliveries as redeliveries; it requires
	// Keys, so a whole history is never resent by accident.
	Delivered bool
}

// Rejected is a payload a source could not turn into a response.
type Rejected struct {
	ID      int64
	Source  string
	Ref     string // where it came from: a file and line, a webhook path
	Reason  string
	Payload []byte
	At      time.Time
}

// ResponseState is what the ledger knows of one response.
type ResponseState struct {
	Hash       string
	Version    int
	Deliveries map[string]State // by sync
	// RedeliverTags maps a sync to the tag its delivery carries from a
	// Redeliver ingest: the tag under which it was last re-opened (or first
	// planned, when that ingest stored the response). An ingest with
	// Redeliver and the same tag does not re-open that delivery again.
	// Syncs whose delivery has no tag are absent; nil when none has one.
	RedeliverTags map[string]string
}

// ScoreRun is one run of a score job.
type ScoreRun struct {
	Job string
	// ScheduledFor is the schedule slot the run was for.
	ScheduledFor time.Time
	RanAt        time.Time
	// Results is the computed table as JSON.
	Results []byte
}
