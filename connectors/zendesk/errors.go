package zendesk

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/surveysync/surveysync/connectors"
)

// apiError is Zendesk's JSON error body.
type apiError struct {
	Error       any                 `json:"error"`
	Description string              `json:"description"`
	Details     map[string][]detail `json:"details"`
}

// detail is one entry of a RecordInvalid error's details.
type detail struct {
	Error       string `json:"error"`
	Description string `json:"description"`
	FieldKey    string `json:"field_key"`
}

// errorText turns an error answer into a message an ops person can act on:
// Zendesk's error name, its description and, for RecordInvalid, every field
// it names with what is wrong with it. Bodies that are not JSON (Zendesk
// answers some errors in text/plain) are quoted.
func errorText(data []byte) string {
	var e apiError
	if err := json.Unmarshal(data, &e); err != nil || e.Error == nil {
		return connectors.Snippet(data)
	}
	name := ""
	switch v := e.Error.(type) {
	case string:
		name = v
	case map[string]any:
		// Some endpoints nest it: {"error": {"title": ..., "message": ...}}.
		t, _ := v["title"].(string)
		m, _ := v["message"].(string)
		name = strings.TrimSpace(t + ": " + m)
	}
	parts := []string{name}
	if e.Description != "" {
		parts = append(parts, e.Description)
	}
	for _, field := range slices.Sorted(maps.Keys(e.Details)) {
		for _, det := range e.Details[field] {
			where := "field " + field
			if det.FieldKey != "" {
				where = "custom field " + det.FieldKey
			} else if field == "base" {
				where = "ticket"
			}
			parts = append(parts, fmt.Sprintf("%s: %s", where, strings.TrimSpace(det.Error+" "+det.Description)))
		}
	}
	return strings.Join(parts, "; ")
}

// classify turns a failed answer into an error class. what names the
// request; idempotent says whether it may be sent again after a server
// error.
func (d *Destination) classify(what string, resp *http.Response, data []byte, idempotent bool) error {
	code := resp.StatusCode
	text := errorText(data)
	switch {
	case code == http.StatusTooManyRequests:
		wait := connectors.RetryAfterHeader(resp.Header, d.now())
		if wait <= 0 {
			wait = d.account.PausedUntil().Sub(d.now())
		}
		return connectors.RetryAfter(max(wait, 0), fmt.Errorf("%s: zendesk rate limit (429): %s", what, text))
	case code == http.StatusUnauthorized:
		return connectors.Pausedf("zendesk rejected the credentials (401): %s; check email and token, or oauth_token", text)
	case code == http.StatusForbidden:
		return connectors.Pausedf("zendesk refused access (403) to %s: %s; the agent needs permission to edit tickets", what, text)
	case code == http.StatusNotFound && strings.Contains(text, "InvalidEndpoint"):
		return connectors.Pausedf("zendesk has no such endpoint for %s (404) at %s; check subdomain and endpoint", what, d.base)
	case code == http.StatusConflict:
		return connectors.Transient(fmt.Errorf("%s: zendesk reported a conflicting update (409): %s", what, text))
	case code == http.StatusRequestTimeout || code >= 500:
		err := fmt.Errorf("%s: zendesk answered %d: %s", what, code, text)
		if idempotent || code == http.StatusRequestTimeout {
			return connectors.Transient(err)
		}
		return connectors.Ambiguous(err)
	}
	return connectors.Permanent(fmt.Errorf("%s: zendesk rejected it (%d): %s", what, code, text))
}
