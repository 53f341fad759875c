package zendesk

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
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

// createRequest is the request that creates j's ticket. Its
// Idempotency-Key (the mapping's, or the delivery key) makes it safe to
// send again after a lost answer.
func createRequest(j *job) request {
	key := j.idempotencyKey
	if key == "" {
		key = j.it.DeliveryKey
	}
	return request{method: http.MethodPost, path: "/tickets.json", body: map[string]any{"ticket": j.ticket},
		header: http.Header{"Idempotency-Key": {key}}, idempotent: true}
}

// updateRequest is the request that updates j's ticket. A comment carries
// the delivery key in a marker line, and an update that adds one is sent
// once; one that only sets fields may be sent again.
func updateRequest(j *job) request {
	ticket := maps.Clone(j.ticket)
	if j.comment {
		markComment(ticket, j.it.DeliveryKey)
	}
	path := ticketPrefix + strconv.FormatInt(j.ticketID, 10) + ".json"
	return request{method: http.MethodPut, path: path, body: map[string]any{"ticket": ticket}, ticket: j.ticketID, idempotent: !j.comment}
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
	r := createRequest(j)
	key := r.header.Get("Idempotency-Key")
	resp, data, err := d.do(ctx, r)
	if err != nil {
		return connectors.Result{Err: d.failure(what, r, resp, data, err)}
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
	return connectors.Result{Err: d.failure(what, r, resp, data, nil)}
}

// findByExternalID returns the id of the ticket with external_id, or 0.
func (d *Destination) findByExternalID(ctx context.Context, externalID string) (int64, error) {
	r := request{method: http.MethodGet, path: "/tickets.json?external_id=" + url.QueryEscape(externalID), idempotent: true}
	resp, data, err := d.do(ctx, r)
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, d.failure("looking up a ticket by external_id", r, resp, data, err)
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
		// Held after a 429 of its own: nothing is sent or read.
		return connectors.Result{Err: connectors.RetryAfter(wait, fmt.Errorf("%s: %w", what, &heldError{ticket: j.ticketID, wait: wait}))}
	}
	key := j.it.DeliveryKey
	if j.comment {
		if j.it.Uncertain || d.doubts.Unknown(key) {
			if wait := d.doubts.Since(key).Add(d.cfg.ReconcileAfter).Sub(d.now()); wait > 0 {
				return connectors.Result{Err: connectors.Ambiguous(fmt.Errorf("%s: an earlier attempt may have added the comment; looking for it in %s", what, wait.Round(time.Millisecond)))}
			}
			id, found, err := d.findComment(ctx, j.ticketID, key)
			if err != nil {
				return connectors.Result{Err: connectors.Ambiguous(fmt.Errorf("%s: an earlier attempt may have added the comment, and reading the comments failed: %w", what, err))}
			}
			d.doubts.Known(key)
			j.resolved = true
			if found {
				return connectors.Result{Ref: fmt.Sprintf("ticket:%d comment:%d", j.ticketID, id)}
			}
		}
		d.doubts.Sent(key, d.now())
	}
	r := updateRequest(j)
	resp, data, err := d.do(ctx, r)
	switch {
	case err != nil:
		err = d.failure(what, r, resp, data, err)
		if c, _ := connectors.Classify(err); c != connectors.ClassAmbiguous {
			d.doubts.Known(key)
		}
		return connectors.Result{Err: err}
	case resp.StatusCode == http.StatusOK:
		d.doubts.Known(key)
		return connectors.Result{Ref: fmt.Sprintf("ticket:%d", j.ticketID)}
	case resp.StatusCode == http.StatusNotFound && !strings.Contains(string(data), "InvalidEndpoint"):
		d.doubts.Known(key)
		return connectors.Result{Err: connectors.Permanent(fmt.Errorf("%s: zendesk has no ticket %d (404)", what, j.ticketID))}
	}
	err = d.failure(what, r, resp, data, nil)
	if c, _ := connectors.Classify(err); c != connectors.ClassAmbiguous {
		d.doubts.Known(key)
	}
	return connectors.Result{Err: err}
}

// findComment looks for the comment carrying key among a ticket's comments,
// newest first.
func (d *Destination) findComment(ctx context.Context, ticket int64, key string) (int64, bool, error) {
	marker := commentMarker(key)
	next := fmt.Sprintf("/tickets/%d/comments.json?sort_order=desc&per_page=100", ticket)
	for next != "" {
		r := request{method: http.MethodGet, path: next, idempotent: true}
		resp, data, err := d.do(ctx, r)
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, false, d.failure(fmt.Sprintf("reading the comments of ticket %d", ticket), r, resp, data, err)
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
			if endsWithMarker(c.Body, marker) || endsWithMarker(c.PlainBody, marker) || endsWithMarker(c.HTMLBody, marker) {
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

// endsWithMarker reports whether a comment ends with the marker line,
// ignoring closing HTML tags after it. Only the last line counts: survey
// text above it that imitates a marker is not the comment's key.
func endsWithMarker(text, marker string) bool {
	i := strings.LastIndex(text, marker)
	if i < 0 {
		return false
	}
	return trailer.MatchString(text[i+len(marker):])
}

// trailer is what may follow the marker: spaces and closing tags.
var trailer = regexp.MustCompile(`^(?:\s|</[a-zA-Z]+>)*$`)
