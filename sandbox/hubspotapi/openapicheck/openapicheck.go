// Package openapicheck validates requests to the HubSpot emulator against
// HubSpot's published OpenAPI documents. It lives apart from the emulator so
// that the daemon's binary does not carry an OpenAPI toolkit it never uses;
// tests plug it into hubspotapi.Options.Validator.
package openapicheck

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

// LoadValidator reads every *.json OpenAPI document in dir, such as the
// contacts, notes, tickets and companies v3 specs.
func LoadValidator(dir string) (*Validator, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("openapicheck: list specs: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("openapicheck: no *.json OpenAPI documents in %s: %w", dir, os.ErrNotExist)
	}
	slices.Sort(files)
	v := &Validator{}
	for _, f := range files {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(f)
		if err != nil {
			return nil, fmt.Errorf("openapicheck: load spec %s: %w", f, err)
		}
		// HubSpot's documents carry examples that do not match their own
		// schemas ("example": null on required fields); they are not checked.
		if err := doc.Validate(loader.Context, openapi3.DisableExamplesValidation()); err != nil {
			return nil, fmt.Errorf("openapicheck: spec %s is invalid: %w", f, err)
		}
		// Match paths on any host: the emulator is not api.hubapi.com.
		doc.Servers = nil
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("openapicheck: route spec %s: %w", f, err)
		}
		v.specs = append(v.specs, spec{name: filepath.Base(f), doc: doc, router: router})
	}
	return v, nil
}

// Route finds the operation of r in any of the specs.
func (v *Validator) Route(r *http.Request) (*spec, *routers.Route, map[string]string, bool) {
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
	sp, route, params, found := v.Route(probe)
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
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		err = errors.New(multi.Error())
	}
	return sp.name, err
}
