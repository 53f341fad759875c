// Package httpreq is the generic HTTP destination: each response (or batch
// of responses) becomes one templated request to a configured base URL.
//
// Delivery is exactly-once in effect when the mapping sends an idempotency
// key (the delivery key is stable across attempts and restarts) and the API
// honours it, or when the request is idempotent by nature (a PUT that sets
// fields). Otherwise it is at-least-once: a request whose outcome is unknown
// is sent again after a backoff, since a generic API offers no way to check.
package httpreq

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
)

//go:embed sample.yaml
var sample string

func init() {
	connectors.RegisterDestination(connectors.DestinationSpec{
		Type:    "http",
		Summary: "Any HTTP API: a templated request per response or per batch, with an optional idempotency key.",
		Sample:  sample,
		Config:  func() connectors.Config { return DefaultConfig() },
		Accepts: []mapping.Kind{mapping.Requests},
		New: func(name string, cfg connectors.Config, deps connectors.Deps) (connectors.Destination, error) {
			return New(name, cfg.(*Config), deps)
		},
	})
}

// Destination is a generic HTTP destination.
type Destination struct {
	name   string
	cfg    *Config
	base   *url.URL
	client *http.Client
	now    func() time.Time
}

var (
	_ connectors.Destination = (*Destination)(nil)
	_ connectors.Limits      = (*Destination)(nil)
)

// New builds the destination; it resolves the secrets.
func New(name string, cfg *Config, deps connectors.Deps) (*Destination, error) {
	base, err := url.Parse(strings.TrimSuffix(cfg.Endpoint, "/"))
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	h := http.Header{}
	for k, v := range cfg.Headers {
		h.Set(k, v)
	}
	if err := cfg.Auth.Apply(h); err != nil {
		return nil, err
	}
	var bucket *connectors.Bucket
	if cfg.RateLimit.Requests > 0 {
		bucket = deps.Clients.Bucket("http:"+name, cfg.RateLimit.Requests, cfg.RateLimit.Per, 1)
	} else {
		bucket = deps.Clients.Bucket("http:"+name, 0, 0, 1)
	}
	bucket.SetThrottleBackoff(cfg.ThrottleBackoff, 0)
	client := deps.Clients.New(connectors.ClientOptions{
		Name: name, Timeout: cfg.Timeout, Bucket: bucket, Header: h,
		AllowHosts: connectors.URLHosts(cfg.Endpoint), AllowPrivate: cfg.AllowPrivateNetwork,
	})
	return &Destination{name: name, cfg: cfg, base: base, client: client, now: deps.Clock()}, nil
}

// MaxBatch sends a batch mapping's items in one request, and claims a few
// items per in-flight slot for one-request-per-response mappings.
func (d *Destination) MaxBatch(m *mapping.Mapping) int {
	if n := m.BatchMax(); n > 1 {
		return n
	}
	return d.cfg.Concurrency * 8
}

// Close releases idle connections.
func (d *Destination) Close() error {
	d.client.CloseIdleConnections()
	return nil
}

// Deliver sends the batch: one request for a batch mapping, else one request
// per item with up to Concurrency in flight.
func (d *Destination) Deliver(ctx context.Context, b *connectors.Batch) []connectors.Result {
	results := make([]connectors.Result, len(b.Items))
	if b.Mapping.BatchMax() > 1 {
		reqs := make([]*mapping.Request, len(b.Items))
		for i, it := range b.Items {
			reqs[i] = it.Request
		}
		req, err := b.Mapping.RenderBatch(reqs)
		if err != nil {
			for i := range results {
				results[i].Err = connectors.Render(err)
			}
			return results
		}
		ref, err := d.send(ctx, req)
		for i := range results {
			results[i] = connectors.Result{Err: err, Ref: ref}
		}
		return results
	}
	sem := make(chan struct{}, d.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, it := range b.Items {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ref, err := d.send(ctx, it.Request)
			results[i] = connectors.Result{Err: err, Ref: ref}
		}()
	}
	wg.Wait()
	return results
}

// send performs one request and classifies its outcome.
func (d *Destination) send(ctx context.Context, r *mapping.Request) (string, error) {
	// r.Path is escaped already (the mapping path-escapes every value it
	// puts there): it is sent as it is, after the endpoint's own path.
	u := *d.base
	raw := d.base.EscapedPath() + r.Path
	path, err := url.PathUnescape(raw)
	if err != nil {
		return "", connectors.Render(fmt.Errorf("path %q: %w", r.Path, err))
	}
	u.Path, u.RawPath = path, raw
	if len(r.Query) > 0 {
		u.RawQuery = r.Query.Encode()
	}
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = connectors.EncodeJSON(r.Body); err != nil {
			return "", connectors.Render(fmt.Errorf("encoding the body: %w", err))
		}
	}
	idempotent := d.cfg.Idempotent || r.IdempotencyKey != ""
	if idempotent {
		ctx = connectors.Idempotent(ctx)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return "", connectors.Permanent(fmt.Errorf("building the request: %w", err))
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if r.IdempotencyKey != "" {
		req.Header.Set(d.cfg.IdempotencyHeader, r.IdempotencyKey)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		switch {
		case connectors.NotSent(err):
			return "", connectors.Transient(fmt.Errorf("%s %s: %w", r.Method, u.Path, err))
		case idempotent:
			return "", connectors.Transient(fmt.Errorf("%s %s: no answer: %w", r.Method, u.Path, err))
		default:
			return "", connectors.Ambiguous(fmt.Errorf("%s %s: no answer, the request may have been applied: %w", r.Method, u.Path, err))
		}
	}
	data := connectors.ReadBody(resp, 1<<20)
	code := resp.StatusCode
	switch {
	case inClasses(code, d.cfg.Status.Success):
		return d.capture(data), nil
	case code == http.StatusTooManyRequests:
		return "", connectors.RetryAfter(connectors.RetryAfterHeader(resp.Header, d.now()), fmt.Errorf("%s %s: 429 too many requests", r.Method, u.Path))
	case inClasses(code, d.cfg.Status.Retry):
		err := fmt.Errorf("%s %s: %d %s", r.Method, u.Path, code, connectors.Snippet(data))
		if ra := connectors.RetryAfterHeader(resp.Header, d.now()); ra > 0 {
			return "", connectors.RetryAfter(ra, err)
		}
		if idempotent || code == http.StatusRequestTimeout {
			return "", connectors.Transient(err)
		}
		return "", connectors.Ambiguous(err)
	default:
		return "", connectors.Permanent(fmt.Errorf("%s %s: %d %s", r.Method, u.Path, code, connectors.Snippet(data)))
	}
}

// capture extracts the configured fields from a JSON answer.
func (d *Destination) capture(data []byte) string {
	if len(d.cfg.Capture) == 0 || len(data) == 0 {
		return ""
	}
	// Numbers stay json.Number, so that an id above 2^53 keeps its digits.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return ""
	}
	var parts []string
	for _, p := range d.cfg.Capture {
		cur := v
		for _, k := range strings.Split(p, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = m[k]
		}
		if cur != nil {
			b, _ := json.Marshal(cur)
			parts = append(parts, p+"="+strings.Trim(string(b), `"`))
		}
	}
	return strings.Join(parts, " ")
}
