package sheets

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"github.com/surveysync/surveysync/connectors"
)

// call is what kind of request failed, which decides what an unknown
// outcome means.
type call int

const (
	// callRead changes nothing: safe to repeat.
	callRead call = iota
	// callIdempotent is a write that may be repeated (values.update,
	// values.batchUpdate, values.batchClear, a number format).
	callIdempotent
	// callAppend is values.append: repeating it could duplicate rows.
	callAppend
	// callStructure is a batchUpdate that changes the tabs (addSheet,
	// appendDimension); its effect is read back before the next use.
	callStructure
)

// errParseRange marks Google's "Unable to parse range": the tab title in
// the range no longer exists (renamed or deleted).
var errParseRange = errors.New("unable to parse range")

// apiError returns err as a *googleapi.Error, if it is one.
func apiError(err error) (*googleapi.Error, bool) {
	var g *googleapi.Error
	if errors.As(err, &g) {
		return g, true
	}
	return nil, false
}

// isParseRange reports whether err is Google's answer to a range whose
// sheet does not exist.
func isParseRange(err error) bool {
	if errors.Is(err, errParseRange) {
		return true
	}
	g, ok := apiError(err)
	return ok && g.Code == http.StatusBadRequest && strings.Contains(g.Message, "Unable to parse range")
}

// googleMessage is the message of a Google error without the client's
// decoration.
func googleMessage(g *googleapi.Error) string {
	msg := strings.TrimSpace(g.Message)
	if msg == "" {
		msg = http.StatusText(g.Code)
	}
	return fmt.Sprintf("%d %s", g.Code, msg)
}

// classify turns a failed request into an error class: what the engine
// does next depends on it. what names the request for the message.
func (d *Destination) classify(err error, kind call, what string) error {
	if err == nil {
		return nil
	}
	g, ok := apiError(err)
	if !ok {
		return d.classifyTransport(err, kind, what)
	}
	msg := googleMessage(g)
	switch code := g.Code; {
	case code == http.StatusTooManyRequests:
		return connectors.RetryAfter(d.throttleWait(kind, g), fmt.Errorf("%s: throttled by Google (%s); the credential's quota waits", what, msg))
	case code == http.StatusUnauthorized:
		return connectors.Pausedf("%s: Google rejected the credentials (%s); the key or the authorisation was revoked or has expired: create a new key or authorise again, and update credentials", what, msg)
	case code == http.StatusForbidden:
		return connectors.Paused(d.forbidden(what, msg))
	case code == http.StatusNotFound:
		return connectors.Pausedf("%s: spreadsheet %s was not found (%s); check spreadsheet in the destination's settings%s", what, d.id, msg, d.shareHint())
	case code == http.StatusBadRequest && strings.Contains(g.Message, "Unable to parse range"):
		// Retried as it is; callers that can follow the tab by id do so
		// first (isParseRange).
		return connectors.Transient(fmt.Errorf("%s: %w (%s)", what, errParseRange, msg))
	case code == http.StatusBadRequest && strings.Contains(g.Message, "limit of") && strings.Contains(g.Message, "cells"):
		return connectors.Pausedf("%s: the workbook is full (%s); delete unused tabs, rows or columns, or point this destination at a new spreadsheet", what, msg)
	case code == http.StatusRequestTimeout || code >= 500:
		err := fmt.Errorf("%s: %s", what, msg)
		if kind == callAppend {
			return connectors.Ambiguous(fmt.Errorf("%w; the rows may have been added, so the key column is read before anything is sent again", err))
		}
		return connectors.Transient(err)
	default:
		return connectors.Permanent(fmt.Errorf("%s: Google refused it: %s", what, msg))
	}
}

// classifyTransport classifies a request that got no answer.
func (d *Destination) classifyTransport(err error, kind call, what string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
		// The token endpoint refused: nothing was sent to Sheets.
		return connectors.Pausedf("%s: Google refused to issue an access token (%s); the key was deleted or the authorisation revoked: create a new key or authorise again, and update credentials",
			what, tokenRefusal(re))
	}
	err = fmt.Errorf("%s: %w", what, err)
	switch {
	case connectors.NotSent(err) || re != nil:
		return connectors.Transient(err)
	case kind == callAppend:
		return connectors.Ambiguous(fmt.Errorf("%w; the rows may have been added, so the key column is read before anything is sent again", err))
	default:
		return connectors.Transient(err)
	}
}

// throttleWait is how long the quota bucket that was throttled waits, or
// the Retry-After Google sent.
func (d *Destination) throttleWait(kind call, g *googleapi.Error) time.Duration {
	b := d.writes
	if kind == callRead {
		b = d.reads
	}
	if until := b.PausedUntil(); !until.IsZero() {
		if w := time.Until(until); w > 0 {
			return w
		}
	}
	return connectors.RetryAfterHeader(g.Header, time.Now())
}

// forbidden explains a 403: usually the spreadsheet is not shared with the
// credential, or a protected range.
func (d *Destination) forbidden(what, msg string) error {
	if strings.Contains(strings.ToLower(msg), "protected") {
		return fmt.Errorf("%s: the tab or range is protected (%s); give the credential edit rights on the protected range or remove the protection", what, msg)
	}
	if d.who.email != "" {
		return fmt.Errorf("%s: %s may not edit spreadsheet %s (%s); share the spreadsheet with %s as an Editor", what, d.who.email, d.id, msg, d.who.email)
	}
	return fmt.Errorf("%s: the credential may not edit spreadsheet %s (%s); share it with the account that was authorised, or authorise again with the spreadsheets or drive.file scope", what, d.id, msg)
}

func (d *Destination) shareHint() string {
	if d.who.email != "" {
		return " and that it is shared with " + d.who.email
	}
	return ""
}

// pauseParseRange turns a range error that persisted after following the
// tab by id into a pause.
func pauseParseRange(tab string, err error) error {
	return connectors.Pausedf("tab %q cannot be addressed (%v); it was renamed or deleted while being written: check the spreadsheet's tabs", tab, err)
}

// tokenRefusal is the error code and description of a token endpoint's
// refusal, such as "invalid_grant: Token has been expired or revoked.".
func tokenRefusal(re *oauth2.RetrieveError) string {
	code, desc := re.ErrorCode, re.ErrorDescription
	if code == "" {
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(re.Body, &body) == nil {
			code, desc = body.Error, body.Description
		}
	}
	if code == "" {
		return fmt.Sprintf("HTTP %d", re.Response.StatusCode)
	}
	if desc == "" {
		return code
	}
	return code + ": " + desc
}
