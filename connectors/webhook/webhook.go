// Package webhook is the source fed by survey tools that POST each response
// to the daemon: Typeform, Delighted, respond.io's HTTP Request step and
// anything else that can sign its body or send a token header.
//
// A request is answered 2xx only after its responses are committed to the
// ledger, so a sender that gets no 2xx retries and nothing is lost; a
// request that fails authentication is answered 401 before anything is
// stored.
package webhook

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

//go:embed sample.yaml
var sample string

func init() {
	connectors.RegisterSource(connectors.SourceSpec{
		Type:    "webhook",
		Summary: "Responses POSTed to the daemon's listener, authenticated by HMAC signature or token.",
		Sample:  sample,
		Config:  func() connectors.Config { return DefaultConfig() },
		New: func(name string, cfg connectors.Config, deps connectors.Deps) (connectors.Source, error) {
			return New(name, cfg.(*Config), deps)
		},
	})
}

// DefaultMaxBody is the default request body limit, 1 MiB.
const DefaultMaxBody = 1 << 20

// Config configures a webhook source.
type Config struct {
	// Path is where the webhook is served on the daemon's listener, such as
	// /hooks/typeform.
	Path string `yaml:"path"`
	// Auth says how requests are authenticated.
	Auth Auth `yaml:"auth"`
	// MaxBody is the largest accepted body in bytes; larger bodies get 413.
	// Default 1 MiB.
	MaxBody int64 `yaml:"max_body"`

	connectors.ResponseConfig `yaml:",inline"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config { return &Config{MaxBody: DefaultMaxBody} }

// Validate checks the configuration without I/O.
func (c *Config) Validate() error {
	var errs []error
	if !strings.HasPrefix(c.Path, "/") {
		errs = append(errs, fmt.Errorf("path: %q must start with /, such as /hooks/typeform", c.Path))
	}
	for _, reserved := range []string{"/healthz", "/readyz", "/metrics", "/console"} {
		if c.Path == reserved || strings.HasPrefix(c.Path, reserved+"/") {
			errs = append(errs, fmt.Errorf("path: %s is used by the daemon itself", reserved))
		}
	}
	if c.MaxBody <= 0 {
		errs = append(errs, errors.New("max_body: must be a positive number of bytes"))
	}
	if err := c.Auth.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.ResponseConfig.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Source is a webhook source.
type Source struct {
	name   string
	cfg    *Config
	verify *verifier
	x      *connectors.Extractor
	log    *slog.Logger
	now    func() time.Time
}

var (
	_ connectors.HTTPSource   = (*Source)(nil)
	_ connectors.PolicySource = (*Source)(nil)
)

// New builds a webhook source; it resolves the secrets.
func New(name string, cfg *Config, deps connectors.Deps) (*Source, error) {
	v, err := newVerifier(&cfg.Auth)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", name, err)
	}
	x, err := cfg.Extractor()
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", name, err)
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{name: name, cfg: cfg, verify: v, x: x, log: log, now: deps.Clock()}, nil
}

// Route returns the path the webhook is served on.
func (s *Source) Route() string { return s.cfg.Path }

// UpdatePolicy returns how updates of stored responses are treated.
func (s *Source) UpdatePolicy() store.UpdatePolicy { return s.cfg.UpdatePolicy() }

// Run waits: a webhook is fed by the listener, not by a loop.
func (s *Source) Run(ctx context.Context, _ connectors.Sink) error {
	<-ctx.Done()
	return nil
}

// Close does nothing; the listener belongs to the daemon.
func (s *Source) Close() error { return nil }

// answer is the JSON body of every reply.
type answer struct {
	Status     string `json:"status"`
	Accepted   int    `json:"accepted,omitempty"`
	Duplicates int    `json:"duplicates,omitempty"`
	Ignored    int    `json:"ignored,omitempty"`
	Rejected   int    `json:"rejected,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

func reply(w http.ResponseWriter, status int, a answer) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}

// Handler returns the HTTP handler that ingests through sink.
func (s *Source) Handler(sink connectors.Sink) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			reply(w, http.StatusMethodNotAllowed, answer{Status: "error", Reason: "use POST"})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				reply(w, http.StatusRequestEntityTooLarge, answer{Status: "error", Reason: fmt.Sprintf("body larger than %d bytes", s.cfg.MaxBody)})
				return
			}
			reply(w, http.StatusBadRequest, answer{Status: "error", Reason: "could not read the body"})
			return
		}
		if err := s.verify.verify(r.Header, body); err != nil {
			s.log.Warn("webhook request refused", "reason", err.Error(), "remote", r.RemoteAddr)
			reply(w, http.StatusUnauthorized, answer{Status: "error", Reason: err.Error()})
			return
		}
		status, a := s.ingest(r.Context(), sink, body)
		reply(w, status, a)
	})
}

// ingest turns a verified body into responses and commits them.
func (s *Source) ingest(ctx context.Context, sink connectors.Sink, body []byte) (int, answer) {
	payloads, err := splitPayloads(body)
	if err != nil {
		return http.StatusBadRequest, answer{Status: "error", Reason: "malformed JSON: " + err.Error()}
	}
	now := s.now()
	var (
		responses []survey.Response
		rejects   []store.Rejected
		ignored   int
	)
	for i, p := range payloads {
		r, err := s.x.Extract(s.name, p.fields, p.raw, now)
		switch {
		case errors.Is(err, connectors.ErrNotAccepted):
			ignored++
		case err != nil:
			ref := s.cfg.Path
			if len(payloads) > 1 {
				ref = fmt.Sprintf("%s[%d]", s.cfg.Path, i)
			}
			raw := p.raw
			if raw == nil {
				raw, _ = json.Marshal(p.fields)
			}
			rejects = append(rejects, store.Rejected{Source: s.name, Ref: ref, Reason: err.Error(), Payload: raw, At: now})
		default:
			responses = append(responses, r)
		}
	}
	if len(rejects) > 0 {
		// Recorded durably before answering, so they can be replayed.
		if err := sink.Reject(ctx, rejects); err != nil {
			s.log.Error("recording rejected webhook payloads failed", "err", err)
			return http.StatusServiceUnavailable, answer{Status: "error", Reason: "could not store the request; retry later"}
		}
		s.log.Warn("webhook payload rejected", "count", len(rejects), "reason", rejects[0].Reason)
	}
	var rep connectors.IngestReport
	if len(responses) > 0 {
		rep, err = sink.Ingest(ctx, responses, nil)
		if err != nil {
			s.log.Error("ingesting webhook failed", "err", err)
			return http.StatusServiceUnavailable, answer{Status: "error", Reason: "could not store the request; retry later"}
		}
	}
	a := answer{
		Status:     "ok",
		Accepted:   rep.Inserted + rep.Updated,
		Duplicates: rep.Duplicates + rep.Ignored,
		Ignored:    ignored,
		Rejected:   len(rejects),
	}
	if len(rejects) > 0 {
		// The payload is stored as a dead letter with its reason; answering
		// 2xx stops the sender from retrying what cannot succeed until the
		// configuration is fixed and the rejects are replayed.
		a.Status = "rejected"
		a.Reason = rejects[0].Reason
		return http.StatusAccepted, a
	}
	return http.StatusOK, a
}

type payload struct {
	fields map[string]any
	raw    []byte // the original bytes when the body is one object
}

// splitPayloads decodes a body holding one JSON object or an array of them.
func splitPayloads(body []byte) ([]payload, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("the body is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON value")
	}
	switch t := v.(type) {
	case map[string]any:
		return []payload{{fields: t, raw: trimmed}}, nil
	case []any:
		out := make([]payload, 0, len(t))
		for i, e := range t {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("element %d of the array is not an object", i)
			}
			out = append(out, payload{fields: m})
		}
		return out, nil
	default:
		return nil, errors.New("expected a JSON object or an array of objects")
	}
}

// RouteConfig returns the configured path, so the engine can refuse two
// sources on one path before anything runs.
func (c *Config) RouteConfig() string { return c.Path }
