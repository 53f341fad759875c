package zendesk

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/surveysync/surveysync/connectors"
)

// ticketAnswer is the part of a ticket answer the destination reads.
type ticketAnswer struct {
	Ticket struct {
		ID int64 `json:"id"`
	} `json:"ticket"`
}

// create creates one ticket. The Idempotency-Key makes the request safe to
// repeat, so the client may re-send it after a lost answer; a response whose
// earlier attempt is in doubt is first looked for by its external_id.
func (d *Destination) create(ctx context.Context, j *job) connectors.Result {
	what := "ticket for response " + j.it.ResponseKey
	if j.it.Uncertain && j.externalID != "" {
		id, err := d.findByExternalID(ctx, j.externalID)
		if err != nil {
			return connectors.Result{Err: connectors.Ambiguous(fmt.Errorf("%s: looking for the ticket of an earlier attempt: %w", what, err))}
		}
		if id != 0 {
			return connectors.Result{Ref: "ticket:" + strconv.FormatInt(id, 10)}
		}
	}
	key := j.idempotencyKey
	if key == "" {
		key = j.it.DeliveryKey
	}
	header := http.Header{"Idempotency-Key": {key}}
	resp, data, err := d.call(connectors.Idempotent(ctx), d.api, http.MethodPost, "/tickets.json", map[string]any{"ticket": j.ticket}, header)
	if err != nil {
		return connectors.Result{Err: transportError(what, err, true)}
	}
	switch resp.StatusCode {
	case http.StatusCreated, http.StatusOK:
		var ans ticketAnswer
		_ = json.Unmarshal(data, &ans)
		return connectors.Result{Ref: "ticket:" + strconv.FormatInt(ans.Ticket.ID, 10)}
	case http.StatusBadRequest:
		if strings.Contains(string(data), "IdempotentRequestError") {
			return connectors.Result{Err: connectors.Permanent(fmt.Errorf("%s: zendesk already created a ticket with idempotency key %s from a different request (the mapping or the response changed within two hours); not creating a second one", what, key))}
		}
	}
	return connectors.Result{Err: d.classify(what, resp, data, true)}
}

// findByExternalID returns the id of the ticket with external_id, or 0.
func (d *Destination) findByExternalID(ctx context.Context, externalID string) (int64, error) {
	resp, data, err := d.call(ctx, d.api, http.MethodGet, "/tickets.json?external_id="+url.QueryEscape(externalID), nil, nil)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, d.classify("looking up a ticket by external_id", resp, data, true)
	}
	var page struct {
		Tickets []struct {
			ID         int64  `json:"id"`
			ExternalID string `json:"external_id"`
		} `json:"tickets"`
	}
	if err := json.Unmarshal(data, &page); err != nil {
		return 0, fmt.Errorf("looking up a ticket by external_id: unreadable answer: %w", err)
	}
	for _, t := range page.Tickets {
		if strings.EqualFold(t.ExternalID, externalID) {
			return t.ID, nil
		}
	}
	return 0, nil
}

// update sends one ticket update. An update with a comment is looked for
// among the ticket's comments first when an earlier attempt may have added
// it, and is never re-sent by the client.
func (d *Destination) update(ctx context.Context, j *job) connectors.Result {
	what := fmt.Sprintf("update of ticket %d for response %s", j.ticketID, j.it.ResponseKey)
	if wait := d.hold(j.ticketID); wait > 0 {
		return connectors.Result{Err: connectors.RetryAfter(wait, fmt.Errorf("%s: zendesk limits the updates of this ticket; next try in %s", what, wait.Round(time.Second)))}
	}
	key := j.it.DeliveryKey
	ticket := maps.Clone(j.ticket)
	if j.comment {
		if j.it.Uncertain || d.commentUnknown(key) {
			if wait := d.unknownSince(key).Add(d.cfg.ReconcileAfter).Sub(d.now()); wait > 0 {
				return connectors.Result{Err: connectors.Ambiguous(fmt.Errorf("%s: an earlier attempt may have added the comment; looking for it in %s", what, wait.Round(time.Millisecond)))}
			}
			id, found, err := d.findComment(ctx, j.ticketID, key)
			if err != nil {
				return connectors.Result{Err: connectors.Ambiguous(fmt.Errorf("%s: an earlier attempt may have added the comment, and reading the comments failed: %w", what, err))}
			}
			d.forgetComment(key)
			j.resolved = true
			if found {
				return connectors.Result{Ref: fmt.Sprintf("ticket:%d comment:%d", j.ticketID, id)}
			}
		}
		markComment(ticket, key)
	}
	if err := d.account.Wait(ctx); err != nil {
		return connectors.Result{Err: connectors.Transient(fmt.Errorf("%s: %w", what, err))}
	}
	if err := d.updates.Wait(ctx); err != nil {
		return connectors.Result{Err: connectors.Transient(fmt.Errorf("%s: %w", what, err))}
	}
	path := ticketPrefix + strconv.FormatInt(j.ticketID, 10) + ".json"
	if j.comment {
		d.rememberComment(key, d.now())
	}
	resp, data, err := d.call(ctx, d.direct, http.MethodPut, path, map[string]any{"ticket": ticket}, nil)
	if err != nil {
		err = transportError(what, err, !j.comment)
		if c, _ := connectors.Classify(err); c != connectors.ClassAmbiguous {
			d.forgetComment(key)
		}
		return connectors.Result{Err: err}
	}
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		d.account.OK()
		d.updates.OK()
		d.forgetComment(key)
		return connectors.Result{Ref: fmt.Sprintf("ticket:%d", j.ticketID)}
	case code == http.StatusTooManyRequests:
		d.forgetComment(key)
		return connectors.Result{Err: d.throttled(what, j.ticketID, resp, data)}
	case code == http.StatusNotFound && !strings.Contains(string(data), "InvalidEndpoint"):
		d.forgetComment(key)
		return connectors.Result{Err: connectors.Permanent(fmt.Errorf("%s: zendesk has no ticket %d (404)", what, j.ticketID))}
	}
	err = d.classify(what, resp, data, !j.comment)
	if c, _ := connectors.Classify(err); c != connectors.ClassAmbiguous {
		d.forgetComment(key)
	}
	return connectors.Result{Err: err}
}

// Texts of Zendesk's rate-limit answers, which come as text/plain.
const (
	accountLimitText = "API requests per minute"
	updateLimitText  = "ticket update requests per minute"
)

// throttled handles a 429 to a ticket update. The account's limit pauses
// the account bucket, the Update Ticket endpoint's limit the update bucket,
// each until its Retry-After; any other 429 to an update is Zendesk's limit
// of updates to this one ticket, which holds only this ticket.
func (d *Destination) throttled(what string, ticket int64, resp *http.Response, data []byte) error {
	now := d.now()
	wait := connectors.RetryAfterHeader(resp.Header, now)
	text := strings.TrimSpace(string(data))
	var bucket *connectors.Bucket
	switch {
	case strings.Contains(text, accountLimitText):
		bucket = d.account
	case strings.Contains(text, updateLimitText):
		bucket = d.updates
	case strings.Contains(strings.ToLower(text), "this ticket"):
	case resp.Header.Get("X-Rate-Limit-Remaining") == "0":
		bucket = d.account
	}
	if bucket != nil {
		wait = bucket.Throttled(wait)
		return connectors.RetryAfter(wait, fmt.Errorf("%s: zendesk rate limit (429): %s", what, connectors.Snippet(data)))
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
	return connectors.RetryAfter(wait, fmt.Errorf("%s: zendesk limits the updates of this ticket (429): %s", what, connectors.Snippet(data)))
}

// hold returns how long a ticket is still held after a 429 of its own.
func (d *Destination) hold(ticket int64) time.Duration {
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

// findComment looks for the comment carrying key among a ticket's comments,
// newest first.
func (d *Destination) findComment(ctx context.Context, ticket int64, key string) (int64, bool, error) {
	marker := commentMarker(key)
	next := fmt.Sprintf("/tickets/%d/comments.json?sort_order=desc&per_page=100", ticket)
	for next != "" {
		resp, data, err := d.call(ctx, d.api, http.MethodGet, next, nil, nil)
		if err != nil {
			return 0, false, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, false, d.classify(fmt.Sprintf("reading the comments of ticket %d", ticket), resp, data, true)
		}
		var page struct {
			Comments []struct {
				ID        int64  `json:"id"`
				Body      string `json:"body"`
				HTMLBody  string `json:"html_body"`
				PlainBody string `json:"plain_body"`
			} `json:"comments"`
			NextPage *string `json:"next_page"`
		}
		if err := json.Unmarshal(data, &page); err != nil {
			return 0, false, fmt.Errorf("reading the comments of ticket %d: unreadable answer: %w", ticket, err)
		}
		for _, c := range page.Comments {
			if strings.Contains(c.Body, marker) || strings.Contains(c.PlainBody, marker) || strings.Contains(c.HTMLBody, marker) {
				return c.ID, true, nil
			}
		}
		next = ""
		if page.NextPage != nil && *page.NextPage != "" {
			// next_page is an absolute URL; follow it on the configured
			// endpoint, so that response data can never pick the host.
			u, err := url.Parse(*page.NextPage)
			if err != nil {
				return 0, false, fmt.Errorf("reading the comments of ticket %d: next_page %q: %w", ticket, *page.NextPage, err)
			}
			next = apiPath(u.Path) + ".json?" + u.RawQuery
		}
	}
	return 0, false, nil
}

// rememberComment records that an update with a comment is about to be sent.
func (d *Destination) rememberComment(key string, at time.Time) {
	d.mu.Lock()
	d.unknown[key] = at
	d.mu.Unlock()
}

// forgetComment drops the record once the update's fate is known.
func (d *Destination) forgetComment(key string) {
	d.mu.Lock()
	delete(d.unknown, key)
	d.mu.Unlock()
}

// commentUnknown reports whether an update of this process with a comment
// had an unknown outcome.
func (d *Destination) commentUnknown(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.unknown[key]
	return ok
}

// unknownSince returns when the update with an unknown outcome was sent;
// for an attempt of an earlier process, when this one started, which is
// later than that attempt.
func (d *Destination) unknownSince(key string) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if at, ok := d.unknown[key]; ok {
		return at
	}
	return d.started
}
