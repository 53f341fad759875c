package hubspotapi

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
)

// Error categories the emulator answers with.
const (
	categoryValidation = "VALIDATION_ERROR"
	categoryConflict   = "CONFLICT"
	categoryNotFound   = "OBJECT_NOT_FOUND"
	categoryAuth       = "INVALID_AUTHENTICATION"
	categoryRateLimit  = "RATE_LIMITS"
)

// apiError is HubSpot's error body. Batch endpoints use the same shape
// (StandardError) for each failed input.
type apiError struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId,omitempty"`
	Category      string              `json:"category"`
	SubCategory   string              `json:"subCategory,omitempty"`
	Context       map[string][]string `json:"context,omitempty"`
	Errors        []errorDetail       `json:"errors,omitempty"`
	Links         map[string]string   `json:"links,omitempty"`
}

// errorDetail is one entry of an error's errors array.
type errorDetail struct {
	Message string              `json:"message"`
	Code    string              `json:"code,omitempty"`
	In      string              `json:"in,omitempty"`
	Context map[string][]string `json:"context,omitempty"`
}

// rateLimitError is the body of a rate-limit 429, which differs from the
// other errors (errorType and policyName instead of category).
type rateLimitError struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	ErrorType     string `json:"errorType"`
	CorrelationID string `json:"correlationId"`
	PolicyName    string `json:"policyName"`
	RequestID     string `json:"requestId"`
}

// newID returns a random version 4 UUID, the format of HubSpot's
// correlation ids.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "hubspotapi: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError answers with HubSpot's error body.
func writeError(w http.ResponseWriter, status int, category, message string, details ...errorDetail) {
	writeJSON(w, status, apiError{
		Status:        "error",
		Message:       message,
		CorrelationID: newID(),
		Category:      category,
		Errors:        details,
	})
}

// writeRateLimited answers a request refused by the rate-limit policy.
func writeRateLimited(w http.ResponseWriter, policy, message string) {
	writeJSON(w, http.StatusTooManyRequests, rateLimitError{
		Status:        "error",
		Message:       message,
		ErrorType:     "RATE_LIMIT",
		CorrelationID: newID(),
		PolicyName:    policy,
		RequestID:     newID(),
	})
}
