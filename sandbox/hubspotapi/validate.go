package hubspotapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Validator checks requests against HubSpot's published OpenAPI documents.
// It is safe for concurrent use and can be shared by several servers.
type Validator struct {
	specs []spec
}

type spec struct {
	name   string
	doc    *openapi3.T
	router routers.Router
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

// LoadValidator reads every *.json OpenAPI document in dir, such as the
// contacts, notes, tickets and companies v3 specs.
func LoadValidator(dir string) (*Validator, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("hubspotapi: list specs: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("hubspotapi: no *.json OpenAPI documents in %s: %w", dir, os.ErrNotExist)
	}
	slices.Sort(files)
	v := &Validator{}
	for _, f := range files {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(f)
		if err != nil {
			return nil, fmt.Errorf("hubspotapi: load spec %s: %w", f, err)
		}
		// HubSpot's documents carry examples that do not match their own
		// schemas ("example": null on required fields); they are not checked.
		if err := doc.Validate(loader.Context, openapi3.DisableExamplesValidation()); err != nil {
			return nil, fmt.Errorf("hubspotapi: spec %s is invalid: %w", f, err)
		}
		// Match paths on any host: the emulator is not api.hubapi.com.
		doc.Servers = nil
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("hubspotapi: route spec %s: %w", f, err)
		}
		v.specs = append(v.specs, spec{name: filepath.Base(f), doc: doc, router: router})
	}
	return v, nil
}

// route finds the operation of r in any of the specs.
func (v *Validator) route(r *http.Request) (*spec, *routers.Route, map[string]string, bool) {
	for i := range v.specs {
		route, params, err := v.specs[i].router.FindRoute(r)
		if err == nil {
			return &v.specs[i], route, params, true
		}
	}
	return nil, nil, nil, false
}

// Check validates r, whose body has been read into body, against the
// operation it matches. It returns the spec's name and nil when the request
// is valid, and "" and nil when no spec describes the request.
func (v *Validator) Check(ctx context.Context, r *http.Request, body []byte) (string, error) {
	probe := r.Clone(ctx)
	probe.Body = io.NopCloser(bytes.NewReader(body))
	sp, route, params, found := v.route(probe)
	if !found {
		return "", nil
	}
	err := openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{
		Request:    probe,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
			MultiError:          true,
			SkipSettingDefaults: true,
		},
	})
	return sp.name, err
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
		var multi openapi3.MultiError
		if errors.As(err, &multi) {
			msg = multi.Error()
		}
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
