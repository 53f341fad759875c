package hubspot

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/surveysync/surveysync/connectors"
)

// apiError is HubSpot's error body, and one failed input of a batch
// (StandardError).
type apiError struct {
	Status      string              `json:"status"`
	Message     string              `json:"message"`
	Category    string              `json:"category"`
	SubCategory string              `json:"subCategory"`
	Context     map[string][]string `json:"context"`
	Errors      []errorDetail       `json:"errors"`
	// ErrorType and PolicyName are set on rate-limit 429s.
	ErrorType  string `json:"errorType"`
	PolicyName string `json:"policyName"`
}

// errorDetail is one entry of an error's errors list.
type errorDetail struct {
	Message string              `json:"message"`
	Code    string              `json:"code"`
	In      string              `json:"in"`
	Context map[string][]string `json:"context"`
}

// Rate-limit policies named in 429 bodies.
const (
	policyDaily       = "DAILY"
	policyTenSecondly = "TEN_SECONDLY_ROLLING"
)

// decodeError reads an error body; a body that is not HubSpot's JSON gives
// an error whose message is the body's text.
func decodeError(data []byte) apiError {
	var e apiError
	if err := json.Unmarshal(data, &e); err != nil || (e.Message == "" && e.Category == "") {
		return apiError{Message: connectors.Snippet(data)}
	}
	return e
}

// text is the error as an ops person reads it: HubSpot's message and its
// category.
func (e apiError) text() string {
	msg := strings.TrimSpace(e.Message)
	if msg == "" {
		msg = "no message"
	}
	if e.Category != "" {
		return msg + " (" + e.Category + ")"
	}
	return msg
}

// classify turns a failed answer to a request into an error class. what
// names the request for the message. idempotent says whether the request
// may be re-sent after a server error.
func (d *Destination) classify(what string, resp *http.Response, data []byte, idempotent bool) error {
	e := decodeError(data)
	code := resp.StatusCode
	switch {
	case code == http.StatusTooManyRequests:
		return d.throttled(what, resp, e)
	case code == http.StatusUnauthorized:
		return connectors.Pausedf("hubspot rejected the credentials (%d): %s; check the private-app token or the OAuth grant", code, e.text())
	case code == http.StatusForbidden:
		return connectors.Pausedf("hubspot refused access (%d): %s; the token needs the crm.objects.contacts.read and crm.objects.contacts.write scopes", code, e.text())
	case code == http.StatusNotFound && strings.Contains(e.Message, "route"):
		return connectors.Pausedf("hubspot has no %s at %s (%d): %s; check endpoint", what, d.base, code, e.text())
	case code == http.StatusRequestTimeout || code >= 500:
		err := fmt.Errorf("%s: hubspot answered %d: %s", what, code, e.text())
		if idempotent || code == http.StatusRequestTimeout {
			return connectors.Transient(err)
		}
		return connectors.Ambiguous(err)
	}
	return connectors.Permanent(fmt.Errorf("%s: hubspot rejected it (%d): %s", what, code, e.text()))
}

// throttled handles a 429 that the client's retries could not get past.
// The daily limit pauses the destination until midnight in the account's
// time zone; the ten-second limit is a wait like any throttle.
func (d *Destination) throttled(what string, resp *http.Response, e apiError) error {
	now := d.now()
	if e.PolicyName == policyDaily {
		until := d.markDaily(now)
		return d.dailyError(until)
	}
	wait := connectors.RetryAfterHeader(resp.Header, now)
	if wait <= 0 {
		wait = d.bucket.PausedUntil().Sub(now)
	}
	return connectors.RetryAfter(max(wait, 0), fmt.Errorf("%s: hubspot rate limit (429 %s): %s", what, cmpOr(e.PolicyName, "TOO_MANY_REQUESTS"), e.text()))
}

// markDaily records that the daily limit is spent until the next midnight
// in the account's zone, pauses the shared bucket, and returns that time.
func (d *Destination) markDaily(now time.Time) time.Time {
	t := now.In(d.zone)
	until := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, d.zone)
	d.mu.Lock()
	if until.After(d.dailyUntil) {
		d.dailyUntil = until
	}
	until = d.dailyUntil
	d.mu.Unlock()
	d.bucket.Throttled(until.Sub(now))
	return until
}

// dailyError is the pause reason while the daily limit is spent; it is the
// same text on every call, so that probing does not re-announce the pause.
func (d *Destination) dailyError(until time.Time) error {
	return connectors.Pausedf("hubspot's daily API limit is used up (429 DAILY); deliveries resume after %s %s",
		until.Format("2006-01-02 15:04"), d.zone)
}

// dailyPause returns the pause error while the daily limit is spent.
func (d *Destination) dailyPause() error {
	d.mu.Lock()
	until := d.dailyUntil
	d.mu.Unlock()
	if d.now().Before(until) {
		return d.dailyError(until)
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
