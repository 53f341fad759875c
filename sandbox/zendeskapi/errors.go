package zendeskapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// apiError is Zendesk's JSON error body.
type apiError struct {
	Error       string              `json:"error"`
	Description string              `json:"description,omitempty"`
	Details     map[string][]detail `json:"details,omitempty"`
}

// detail is one entry of a RecordInvalid error's details.
type detail struct {
	Error       string `json:"error,omitempty"`
	Description string `json:"description"`
	// FieldKey names the custom field a detail is about.
	FieldKey string `json:"field_key,omitempty"`
}

// reply is an answer computed under the server lock and written after it
// is released (writing notes the status, which takes the lock).
type reply struct {
	status int
	header http.Header
	body   []byte
	text   bool // text/plain instead of JSON
}

func (rp reply) write(w http.ResponseWriter) {
	for k, v := range rp.header {
		w.Header()[k] = v
	}
	if rp.text {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(rp.status)
	_, _ = w.Write(rp.body)
}

// jsonReply answers status with v as JSON.
func jsonReply(status int, v any) reply {
	body, err := json.Marshal(v)
	if err != nil {
		return textReply(http.StatusInternalServerError, "zendeskapi: encode response: "+err.Error())
	}
	return reply{status: status, body: body}
}

// textReply answers status with a text/plain body.
func textReply(status int, text string) reply {
	return reply{status: status, body: []byte(text), text: true}
}

// errorReply answers status with Zendesk's error body.
func errorReply(status int, name, description string) reply {
	return jsonReply(status, apiError{Error: name, Description: description})
}

// notFound answers a request for a record that does not exist.
func notFound() reply {
	return errorReply(http.StatusNotFound, "RecordNotFound", "Not found")
}

// invalid answers 422 RecordInvalid with details keyed by field.
func invalid(details map[string][]detail) reply {
	return jsonReply(http.StatusUnprocessableEntity, apiError{
		Error:       "RecordInvalid",
		Description: "Record validation errors",
		Details:     details,
	})
}

// badJSON answers a body that is not the JSON the endpoint expects.
func badJSON(err error) reply {
	return errorReply(http.StatusBadRequest, "InvalidJSON", "Server could not parse JSON: "+err.Error())
}

// tooMany answers a rate-limited request with a text/plain body and
// Retry-After in whole seconds.
func tooMany(text string, wait time.Duration) reply {
	rp := textReply(http.StatusTooManyRequests, text)
	rp.header = http.Header{"Retry-After": {strconv.Itoa(retrySeconds(wait))}}
	return rp
}

// retrySeconds rounds d up to whole seconds, at least 1.
func retrySeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(1, s)
}
