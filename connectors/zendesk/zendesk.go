// Package zendesk is the Zendesk Support destination: survey results update
// tickets (custom fields and an optional comment) or create tickets.
//
// Exactly once in effect:
//
//   - An update that only sets fields is idempotent: sending it twice leaves
//     the ticket as sending it once, so an update whose outcome is unknown
//     is sent again. Several responses' field updates go out in one
//     update_many job, polled to completion, and settle ticket by ticket.
//   - An update that adds a comment is not idempotent: every PUT adds one.
//     The comment ends with a marker line carrying the delivery key, and an
//     update whose outcome is unknown is reconciled by reading the ticket's
//     comments before it is ever sent again.
//   - A ticket is created with an Idempotency-Key (the mapping's
//     idempotency_key, else the delivery key), stable across attempts and
//     restarts, so Zendesk answers a repeated request with the first
//     ticket; after an unknown outcome the ticket is also looked for by its
//     external_id, which outlives Zendesk's two-hour key window.
//
// Requests are paced by the account's per-minute limit and the Update
// Ticket endpoint's, shared by every destination with the same credential.
// A 429 from those limits pauses the whole bucket until its Retry-After; a
// 429 for one ticket (Zendesk limits the updates of one ticket by one user)
// only holds that ticket.
package zendesk

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
)

//go:embed sample.yaml
var sample string

func init() {
	connectors.RegisterDestination(connectors.DestinationSpec{
		Type:         "zendesk",
		Summary:      "Zendesk Support: ticket fields and comments, or new tickets, exactly once.",
		Sample:       sample,
		Config:       func() connectors.Config { return DefaultConfig() },
		Accepts:      []mapping.Kind{mapping.Requests},
		CheckMapping: checkMapping,
		New: func(name string, cfg connectors.Config, deps connectors.Deps) (connectors.Destination, error) {
			return New(name, cfg.(*Config), deps)
		},
	})
}

// Destination is a Zendesk account. Its methods are safe for concurrent use.
type Destination struct {
	name     string
	cfg      *Config
	base     string
	header   http.Header
	quotaKey string
	log      *slog.Logger
	now      func() time.Time
	// doubts are the updates with a comment sent whose outcome is unknown.
	doubts *connectors.Doubts

	// client sends each request once; do paces it and sends it again.
	client  *http.Client
	account *connectors.Bucket
	updates *connectors.Bucket

	mu sync.Mutex
	// holds are tickets Zendesk asked to leave alone until a time.
	holds map[int64]time.Time
}

var (
	_ connectors.Destination = (*Destination)(nil)
	_ connectors.Limits      = (*Destination)(nil)
	_ connectors.QuotaKeyer  = (*Destination)(nil)
)

// New builds the destination; it resolves the secrets.
func New(name string, cfg *Config, deps connectors.Deps) (*Destination, error) {
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &Destination{
		name:   name,
		cfg:    cfg,
		base:   cfg.endpoint(),
		header: http.Header{},
		log:    logger,
		now:    deps.Clock(),
		holds:  map[int64]time.Time{},
	}
	d.doubts = connectors.NewDoubts(d.now())
	credential := cfg.Email + "|" + cfg.Token.String()
	if cfg.OAuthToken.IsSet() {
		tok, err := cfg.OAuthToken.Resolve()
		if err != nil {
			return nil, fmt.Errorf("oauth_token: %w", err)
		}
		d.header.Set("Authorization", "Bearer "+tok)
		credential = cfg.OAuthToken.String()
	} else {
		tok, err := cfg.Token.Resolve()
		if err != nil {
			return nil, fmt.Errorf("token: %w", err)
		}
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(cfg.Email+"/token", tok)
		d.header.Set("Authorization", r.Header.Get("Authorization"))
	}
	// The quota key names the account and the credential by its reference,
	// hashed: never by the secret itself.
	sum := sha256.Sum256([]byte(d.base + "\x00" + credential))
	u, _ := url.Parse(d.base)
	d.quotaKey = "zendesk:" + u.Host + ":" + hex.EncodeToString(sum[:6])
	// A token bucket with a burst of one lets through at most 1+rate·T
	// requests in any window T; limit−1 per minute keeps every minute
	// within the limit.
	d.account = deps.Clients.Bucket(d.quotaKey, max(cfg.RateLimit-1, 1), time.Minute, 1)
	d.updates = deps.Clients.Bucket(d.quotaKey+":update_ticket", max(cfg.UpdateTicketLimit-1, 1), time.Minute, 1)
	d.account.SetThrottleBackoff(cfg.ThrottleBackoff, 0)
	d.updates.SetThrottleBackoff(cfg.ThrottleBackoff, 0)
	// The buckets are waited for and throttled in do, not in the client's
	// transport, so that a 429 for one ticket does not pause the account.
	d.client = deps.Clients.New(connectors.ClientOptions{
		Name: name, Timeout: cfg.Timeout, Header: d.header, RetryMax: -1,
		AllowHosts: connectors.URLHosts(d.base), AllowPrivate: cfg.AllowPrivateNetwork,
	})
	return d, nil
}

// QuotaKey names the credential's quota, so that destinations sharing it are
// dispatched by one worker.
func (d *Destination) QuotaKey() string { return d.quotaKey }

// MaxBatch takes up to 100 responses per call, the most one update_many
// names.
func (d *Destination) MaxBatch(*mapping.Mapping) int { return MaxBulk }

// Close releases idle connections.
func (d *Destination) Close() error {
	d.client.CloseIdleConnections()
	return nil
}

// job is one response's request.
type job struct {
	idx int
	it  *connectors.Item
	*action
	// resolved is set once an earlier attempt's doubt was cleared.
	resolved bool
}

// Deliver creates tickets, updates the tickets with comments one request at
// a time in order, and sends the field-only updates of other tickets in
// update_many jobs; every response is settled on its own outcome.
func (d *Destination) Deliver(ctx context.Context, b *connectors.Batch) []connectors.Result {
	results := make([]connectors.Result, len(b.Items))
	creates, sequences, bulk, byTicket := planJobs(b.Items, results)

	sem := make(chan struct{}, d.cfg.Concurrency)
	var wg sync.WaitGroup
	run := func(f func()) {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f()
		}()
	}
	if len(bulk) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.updateMany(ctx, bulk, results)
		}()
	}
	for _, j := range creates {
		run(func() { results[j.idx] = d.create(ctx, j) })
	}
	for _, seq := range sequences {
		run(func() { d.updateInOrder(ctx, seq, results) })
	}
	wg.Wait()
	for _, js := range byTicket {
		for _, j := range js {
			if j.comment && !j.resolved && (j.it.Uncertain || d.doubts.Unknown(j.it.DeliveryKey)) {
				// The comment of an earlier attempt may exist: a failure
				// before it was looked for must not clear that doubt.
				results[j.idx].Err = keepUncertain(results[j.idx].Err)
			}
		}
	}
	return results
}

// planJobs parses the items' requests and groups them: tickets to create;
// updates of tickets with a comment among them, to be sent one request at a
// time in order; and field-only updates of several tickets, to go in bulk
// (one ticket alone is cheaper with one PUT than with a job to poll). An
// item whose request the destination cannot send gets its error in results.
func planJobs(items []*connectors.Item, results []connectors.Result) (creates []*job, sequences [][]*job, bulk []*job, byTicket map[int64][]*job) {
	var order []int64
	byTicket = map[int64][]*job{}
	for i, it := range items {
		a, err := parseAction(it.Request)
		if err != nil {
			results[i].Err = err
			continue
		}
		j := &job{idx: i, it: it, action: a}
		if a.kind == createTicket {
			creates = append(creates, j)
			continue
		}
		if byTicket[a.ticketID] == nil {
			order = append(order, a.ticketID)
		}
		byTicket[a.ticketID] = append(byTicket[a.ticketID], j)
	}
	var fieldsOnly [][]*job
	for _, id := range order {
		js := byTicket[id]
		withComment := false
		for _, j := range js {
			withComment = withComment || j.comment
		}
		if withComment {
			sequences = append(sequences, js)
		} else {
			fieldsOnly = append(fieldsOnly, js)
		}
	}
	if len(fieldsOnly) < 2 {
		sequences = append(sequences, fieldsOnly...)
	} else {
		for _, js := range fieldsOnly {
			bulk = append(bulk, js...)
		}
	}
	return creates, sequences, bulk, byTicket
}

// updateInOrder updates one ticket for each of its responses, oldest first.
// Once one fails and will be retried, the later ones wait for it, so that
// an older response can never overwrite a newer one.
func (d *Destination) updateInOrder(ctx context.Context, js []*job, results []connectors.Result) {
	var blocked error
	for _, j := range js {
		if blocked != nil {
			results[j.idx].Err = blocked
			continue
		}
		results[j.idx] = d.update(ctx, j)
		switch c, _ := connectors.Classify(results[j.idx].Err); c {
		case connectors.ClassTransient, connectors.ClassRetryAfter, connectors.ClassAmbiguous, connectors.ClassPaused:
			blocked = connectors.Transient(fmt.Errorf("ticket %d: waiting for an earlier response to this ticket: %w", j.ticketID, results[j.idx].Err))
		}
	}
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

// transportError classifies a request that got no answer.
func transportError(what string, err error, idempotent bool) error {
	switch {
	case connectors.NotSent(err):
		return connectors.Transient(fmt.Errorf("%s: %w", what, err))
	case idempotent:
		return connectors.Transient(fmt.Errorf("%s: no answer: %w", what, err))
	}
	return connectors.Ambiguous(fmt.Errorf("%s: no answer, the request may have been applied: %w", what, err))
}
