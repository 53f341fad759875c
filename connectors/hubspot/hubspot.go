// Package hubspot is the HubSpot CRM destination: survey results become
// contact properties, upserted in batches of up to 100 by a unique
// property, and optionally notes on the contact's timeline.
//
// Exactly once in effect:
//
//   - Contact upserts (POST /crm/v3/objects/contacts/batch/upsert keyed by
//     idProperty) are idempotent: sending the same input twice leaves the
//     contact as sending it once, so an upsert whose outcome is unknown is
//     simply sent again. A 207 answer is settled input by input: the inputs
//     HubSpot applied are delivered and never sent again, the failed ones
//     are dead-lettered with HubSpot's message.
//   - Notes (POST /crm/v3/objects/notes) are not idempotent. Each note
//     carries its delivery key (a marker line in its body, or a custom note
//     property), and a note whose creation had an unknown outcome is looked
//     for with a search before it is ever sent again. Search results lag
//     behind writes, so a search that finds nothing is only trusted once
//     reconcile_after has passed since the uncertain attempt.
//
// Requests are paced by a bucket of rate_limit requests per rolling ten
// seconds shared by every destination with the same credential, which also
// follows HubSpot's X-HubSpot-RateLimit headers; searches have their own
// per-second bucket. A 429 with policy DAILY pauses the destination until
// midnight in the account's time zone.
package hubspot

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
)

//go:embed sample.yaml
var sample string

func init() {
	connectors.RegisterDestination(connectors.DestinationSpec{
		Type:         "hubspot",
		Summary:      "HubSpot CRM: contact properties upserted in batches of 100, optional notes, exactly once.",
		Sample:       sample,
		Config:       func() connectors.Config { return DefaultConfig() },
		Accepts:      []mapping.Kind{mapping.Requests},
		CheckMapping: checkMapping,
		New: func(name string, cfg connectors.Config, deps connectors.Deps) (connectors.Destination, error) {
			return New(name, cfg.(*Config), deps)
		},
	})
}

// Destination is a HubSpot account. Its methods are safe for concurrent use.
type Destination struct {
	name     string
	cfg      *Config
	base     string
	client   *http.Client
	bucket   *connectors.Bucket
	search   *connectors.Bucket
	zone     *time.Location
	quotaKey string
	log      *slog.Logger
	now      func() time.Time
	// doubts are the notes sent whose outcome is unknown.
	doubts *connectors.Doubts

	mu         sync.Mutex
	dailyUntil time.Time
	// upserted holds, by delivery key, contacts upserted for responses
	// whose note is still to be made.
	upserted map[string]upsertDone
}

var (
	_ connectors.Destination = (*Destination)(nil)
	_ connectors.Limits      = (*Destination)(nil)
	_ connectors.Prober      = (*Destination)(nil)
	_ connectors.QuotaKeyer  = (*Destination)(nil)
)

// New builds the destination; it resolves the secrets.
func New(name string, cfg *Config, deps connectors.Deps) (*Destination, error) {
	zone, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("timezone: %w", err)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &Destination{
		name:     name,
		cfg:      cfg,
		base:     strings.TrimSuffix(cfg.Endpoint, "/"),
		zone:     zone,
		log:      logger,
		now:      deps.Clock(),
		upserted: map[string]upsertDone{},
	}
	d.doubts = connectors.NewDoubts(d.now())
	// An address written as the endpoint may be internal; a name must
	// resolve to a public address unless allow_private_network.
	opts := connectors.ClientOptions{Name: name, Timeout: cfg.Timeout, AllowHosts: connectors.URLHosts(cfg.Endpoint), AllowPrivate: cfg.AllowPrivateNetwork}
	credential := cfg.Token.String()
	if cfg.OAuth != nil {
		credential = cfg.OAuth.ClientID + "|" + cfg.OAuth.RefreshToken.String()
		secret, err := cfg.OAuth.ClientSecret.Resolve()
		if err != nil {
			return nil, fmt.Errorf("oauth.client_secret: %w", err)
		}
		refresh, err := cfg.OAuth.RefreshToken.Resolve()
		if err != nil {
			return nil, fmt.Errorf("oauth.refresh_token: %w", err)
		}
		oc := &oauth2.Config{
			ClientID:     cfg.OAuth.ClientID,
			ClientSecret: secret,
			Endpoint:     oauth2.Endpoint{TokenURL: cfg.OAuth.tokenURL(), AuthStyle: oauth2.AuthStyleInParams},
		}
		tokenClient := deps.Clients.New(connectors.ClientOptions{
			Name: name + "-oauth", Timeout: cfg.Timeout,
			AllowHosts: connectors.URLHosts(cfg.OAuth.tokenURL()), AllowPrivate: cfg.AllowPrivateNetwork,
		})
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, tokenClient)
		opts.TokenSource = oc.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh})
	} else {
		tok, err := cfg.Token.Resolve()
		if err != nil {
			return nil, fmt.Errorf("token: %w", err)
		}
		opts.Header = http.Header{"Authorization": {"Bearer " + tok}}
	}
	// The quota key names the account and credential by the reference
	// written in the configuration, hashed: never by the secret itself.
	sum := sha256.Sum256([]byte(d.base + "\x00" + credential))
	u, _ := url.Parse(d.base)
	d.quotaKey = "hubspot:" + u.Host + ":" + hex.EncodeToString(sum[:6])
	// A token bucket with a burst of one lets through at most 1+rate·T
	// requests in any window T; rate_limit−1 per ten seconds keeps any
	// rolling ten seconds within rate_limit.
	d.bucket = deps.Clients.Bucket(d.quotaKey, max(cfg.RateLimit-1, 1), rateInterval, 1)
	d.search = deps.Clients.Bucket(d.quotaKey+":search", max(cfg.SearchRateLimit-1, 1), time.Second, 1)
	d.bucket.SetThrottleBackoff(cfg.ThrottleBackoff, cfg.ThrottleBackoffMax)
	// The search limit is per second.
	d.search.SetThrottleBackoff(min(cfg.ThrottleBackoff, time.Second), time.Second)
	opts.Bucket = d.bucket
	opts.BucketFor = func(r *http.Request) *connectors.Bucket {
		if strings.HasSuffix(r.URL.Path, "/search") {
			return d.search
		}
		return nil
	}
	d.client = deps.Clients.New(opts)
	return d, nil
}

// QuotaKey names the credential's quota, so that destinations sharing it are
// dispatched by one worker.
func (d *Destination) QuotaKey() string { return d.quotaKey }

// MaxBatch takes up to 100 responses per call: one batch upsert, plus their
// notes.
func (d *Destination) MaxBatch(m *mapping.Mapping) int {
	if n := m.BatchMax(); n > 0 && n < MaxBatchInputs {
		return n
	}
	return MaxBatchInputs
}

// Probe reports the daily-limit pause until it ends; any other pause is
// probed by the next batch.
func (d *Destination) Probe(context.Context, string, *mapping.Mapping) error {
	return d.dailyPause()
}

// Close releases idle connections.
func (d *Destination) Close() error {
	d.client.CloseIdleConnections()
	return nil
}

// Deliver upserts the batch's contacts, then creates their notes, and
// settles every response on its own outcome.
func (d *Destination) Deliver(ctx context.Context, b *connectors.Batch) []connectors.Result {
	results := make([]connectors.Result, len(b.Items))
	if err := d.dailyPause(); err != nil {
		for i := range results {
			results[i].Err = err
		}
		return results
	}
	var upserts []*upsertJob
	var notes []*noteJob
	for i, it := range b.Items {
		var submitted time.Time
		if it.Response != nil {
			submitted = it.Response.SubmittedAt
		}
		a, err := parseAction(it.Request, submitted)
		if err != nil {
			results[i].Err = err
			continue
		}
		if a.note != nil {
			if err := d.reconcileWait(it); err != nil {
				// Nothing is sent, not even the upsert, until the note of
				// the earlier attempt can be looked for.
				results[i].Err = err
				continue
			}
		}
		if a.upsert != nil {
			upserts = append(upserts, &upsertJob{idx: i, it: it, input: a.upsert, dedupe: a.dedupe, note: a.note})
			continue
		}
		notes = append(notes, &noteJob{idx: i, it: it, note: a.note})
	}
	notes = append(notes, d.upsert(ctx, upserts, results)...)
	for _, j := range upserts {
		if j.note != nil && (j.it.Uncertain || d.doubts.Unknown(j.it.DeliveryKey)) {
			// The note of an earlier attempt may exist: a failed upsert must
			// not clear that doubt, or the next attempt would post the note
			// without looking for it first.
			results[j.idx].Err = keepUncertain(results[j.idx].Err)
		}
	}
	d.createNotes(ctx, notes, results)
	d.settleUpserted(upserts, results)
	return results
}

// keepUncertain turns a retryable failure into an unknown outcome, so that
// the ledger keeps the delivery uncertain.
func keepUncertain(err error) error {
	switch c, _ := connectors.Classify(err); c {
	case connectors.ClassTransient, connectors.ClassRetryAfter:
		return connectors.Ambiguous(err)
	}
	return err
}

// call sends one JSON request and returns the answer with its body read.
// The error is the transport's; every answer, whatever its status, comes
// back as a response.
func (d *Destination) call(ctx context.Context, method, path string, body any) (*http.Response, []byte, error) {
	req, err := connectors.NewJSONRequest(ctx, method, d.base+path, body)
	if err != nil {
		return nil, nil, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	data := connectors.ReadBody(resp, 4<<20)
	d.followHeaders(resp.Header)
	return resp, data, nil
}

// followHeaders pauses the shared bucket when HubSpot says the window is
// spent (X-HubSpot-RateLimit-Remaining: 0) until the window has passed, and
// marks the daily limit spent when the daily remainder is zero. They keep
// the destination within the account's limits when other apps share them.
func (d *Destination) followHeaders(h http.Header) {
	if v := h.Get("X-HubSpot-RateLimit-Remaining"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n <= 0 {
			interval := rateInterval
			if ms, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds")); err == nil && ms > 0 {
				interval = time.Duration(ms) * time.Millisecond
			}
			d.bucket.Throttled(interval)
		}
	}
	if v := h.Get("X-HubSpot-RateLimit-Daily-Remaining"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n <= 0 {
			d.markDaily(d.now())
		}
	}
}

// transportError classifies a request that got no answer.
func transportError(what string, err error, idempotent bool) error {
	switch {
	case connectors.NotSent(err):
		return connectors.Transient(fmt.Errorf("%s: %w", what, err))
	case connectors.IsCanceled(err) && !idempotent:
		return connectors.Ambiguous(fmt.Errorf("%s: cut off, the request may have been applied: %w", what, err))
	case idempotent:
		return connectors.Transient(fmt.Errorf("%s: no answer: %w", what, err))
	}
	return connectors.Ambiguous(fmt.Errorf("%s: no answer, the request may have been applied: %w", what, err))
}
