package zendesk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/surveysync/surveysync/connectors"
)

// request is one call to the API.
type request struct {
	method, path string
	body         any
	header       http.Header
	// ticket is set for an update of one ticket: it is paced by the Update
	// Ticket bucket too, and a 429 of its own holds only that ticket.
	ticket int64
	// idempotent requests may be sent again after an unknown outcome.
	idempotent bool
}

// maxTries bounds the attempts of one request within a delivery; the
// engine's retries cover the rest.
const maxTries = 4

// do sends a request, paced by the account bucket (and the Update Ticket
// bucket for ticket updates), and sends it again while that is safe: after
// a 429, which Zendesk did not apply, once its bucket's pause is over; and,
// for idempotent requests, after a lost answer or a server error. Every
// answer comes back as a response; the error is the last transport error.
//
// The pacing and the throttles are handled here rather than in the shared
// client's transport, because Zendesk has a 429 that must not pause the
// account: the limit of updates of one ticket, which only holds that ticket.
func (d *Destination) do(ctx context.Context, r request) (*http.Response, []byte, error) {
	for try := 1; ; try++ {
		if wait := d.hold(r.ticket); wait > 0 {
			return nil, nil, &heldError{ticket: r.ticket, wait: wait}
		}
		if err := d.account.Wait(ctx); err != nil {
			return nil, nil, err
		}
		if r.ticket != 0 {
			if err := d.updates.Wait(ctx); err != nil {
				return nil, nil, err
			}
		}
		resp, data, err := d.call(ctx, r.method, r.path, r.body, r.header)
		retry := false
		switch {
		case err != nil:
			// An address the network guard refuses stays refused: no retry.
			var refused *connectors.DialRefusedError
			retry = (connectors.NotSent(err) || r.idempotent) && !errors.As(err, &refused)
		case resp.StatusCode == http.StatusTooManyRequests:
			retry = d.throttled(resp, data, r.ticket) != nil
		case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
			retry = r.idempotent
		default:
			if resp.StatusCode < 400 {
				d.account.OK()
				if r.ticket != 0 {
					d.updates.OK()
				}
			}
		}
		if !retry || try >= maxTries || ctx.Err() != nil {
			return resp, data, err
		}
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			// The bucket waits out a 429; other failures back off a little.
			t := time.NewTimer(connectors.Backoff(try, 100*time.Millisecond, 2*time.Second, nil) / 2)
			select {
			case <-ctx.Done():
				t.Stop()
				return resp, data, err
			case <-t.C:
			}
		}
	}
}

// heldError is returned for a ticket held after a 429 of its own.
type heldError struct {
	ticket int64
	wait   time.Duration
}

func (e *heldError) Error() string {
	return fmt.Sprintf("zendesk limits the updates of ticket %d; next try in %s", e.ticket, e.wait.Round(time.Second))
}

// Texts of Zendesk's rate-limit answers, which come as text/plain.
const (
	accountLimitText = "API requests per minute"
	updateLimitText  = "ticket update requests per minute"
)

// throttled handles a 429. The account's limit pauses the account bucket,
// the Update Ticket endpoint's limit the update bucket, each until its
// Retry-After (or a backoff when none is given); it returns that bucket.
// Any other 429 to a ticket update is Zendesk's limit of updates of that
// one ticket: the ticket alone is held, and throttled returns nil.
//
// Requests already in flight when a pause began do not lengthen a backoff
// that names no wait: a burst of 429s to concurrent requests is one
// throttle, not many.
func (d *Destination) throttled(resp *http.Response, data []byte, ticket int64) *connectors.Bucket {
	now := d.now()
	wait := connectors.RetryAfterHeader(resp.Header, now)
	text := strings.TrimSpace(string(data))
	var bucket *connectors.Bucket
	switch {
	case strings.Contains(text, accountLimitText):
		bucket = d.account
	case strings.Contains(text, updateLimitText):
		bucket = d.updates
	case ticket != 0 && strings.Contains(strings.ToLower(text), "this ticket"):
	case ticket != 0 && resp.Header.Get("X-Rate-Limit-Remaining") != "0":
	default:
		bucket = d.account
	}
	if bucket != nil {
		if wait > 0 || bucket.PausedUntil().IsZero() {
			bucket.Throttled(wait)
		}
		return bucket
	}
	if wait <= 0 {
		wait = d.cfg.ThrottleBackoff
	}
	wait = min(wait, connectors.MaxRetryAfter)
	d.mu.Lock()
	if until := now.Add(wait); until.After(d.holds[ticket]) {
		d.holds[ticket] = until
	}
	d.mu.Unlock()
	return nil
}

// hold returns how long a ticket is still held after a 429 of its own.
func (d *Destination) hold(ticket int64) time.Duration {
	if ticket == 0 {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	until, ok := d.holds[ticket]
	if !ok {
		return 0
	}
	wait := until.Sub(d.now())
	if wait <= 0 {
		delete(d.holds, ticket)
		return 0
	}
	return wait
}

// call sends one request with a JSON body (nil for none) and returns the
// answer with its body read. The error is the transport's.
func (d *Destination) call(ctx context.Context, method, path string, body any, header http.Header) (*http.Response, []byte, error) {
	req, err := connectors.NewJSONRequest(ctx, method, d.base+path, body)
	if err != nil {
		return nil, nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	return resp, connectors.ReadBody(resp, 4<<20), nil
}

// failure classifies the outcome of do for r that was not a success.
func (d *Destination) failure(what string, r request, resp *http.Response, data []byte, err error) error {
	if err != nil {
		if h, ok := err.(*heldError); ok {
			return connectors.RetryAfter(h.wait, fmt.Errorf("%s: %w", what, h))
		}
		return transportError(what, err, r.idempotent)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		if wait := d.hold(r.ticket); wait > 0 {
			return connectors.RetryAfter(wait, fmt.Errorf("%s: zendesk limits the updates of this ticket (429): %s", what, connectors.Snippet(data)))
		}
		wait := d.account.PausedUntil().Sub(d.now())
		if strings.Contains(string(data), updateLimitText) {
			wait = d.updates.PausedUntil().Sub(d.now())
		}
		return connectors.RetryAfter(max(wait, 0), fmt.Errorf("%s: zendesk rate limit (429): %s", what, connectors.Snippet(data)))
	}
	return d.classify(what, resp, data, r.idempotent)
}
