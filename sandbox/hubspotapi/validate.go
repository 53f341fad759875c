package hubspotapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
)

// RequestChecker validates a request whose body was read into body, such
// as openapicheck.Validator against HubSpot's OpenAPI documents. It returns
// the name of the spec that describes the request ("" when none does) and
// the problem, if any.
type RequestChecker interface {
	Check(ctx context.Context, r *http.Request, body []byte) (spec string, err error)
}

// Violation is a request that did not match its OpenAPI operation.
type Violation struct {
	// Seq is the request's sequence number in the log.
	Seq int64
	// Method and Path identify the request.
	Method, Path string
	// Spec names the spec file the request was checked against.
	Spec string
	// Message says what was wrong.
	Message string
}

// Violations returns the requests that failed OpenAPI validation.
func (s *Server) Violations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

// validate checks requests against the specs when a Validator is set.
func (s *Server) validate(next http.Handler) http.Handler {
	v := s.opts.Validator
	if v == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readBody(w, r)
		if !ok {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		name, err := v.Check(r.Context(), r, body)
		if err == nil {
			next.ServeHTTP(w, r)
			return
		}
		msg := err.Error()
		s.mu.Lock()
		viol := Violation{Seq: s.seqOf(r), Method: r.Method, Path: r.URL.Path, Spec: name, Message: msg}
		s.violations = append(s.violations, viol)
		noteLocked(r, func(e *Entry) { e.Violation = msg })
		s.mu.Unlock()
		if s.opts.ValidateReportOnly {
			next.ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusBadRequest, categoryValidation,
			"Request does not match the HubSpot OpenAPI spec "+name+": "+msg)
	})
}
