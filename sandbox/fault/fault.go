// Package fault injects the failures that real APIs produce into the sandbox
// emulators: 429 bursts, 5xx answers, latency, and the two cases that make
// delivery hard, a request that is applied and then answered by a reset
// connection or by no answer at all.
package fault

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config says which faults to inject and how often. Rates are probabilities
// between 0 and 1, drawn independently for each request that Only selects.
type Config struct {
	// Rate429 answers this share of requests with 429 before applying them.
	Rate429 float64
	// RetryAfter, when positive, is sent as the Retry-After header of
	// injected 429s.
	RetryAfter time.Duration
	// Rate5xx answers this share of requests with 500 or 503 before applying
	// them.
	Rate5xx float64
	// Latency delays every selected request by this long before it is handled.
	Latency time.Duration
	// ApplyThenReset applies this share of requests and then resets the
	// connection instead of answering.
	ApplyThenReset float64
	// ApplyThenTimeout applies this share of requests and then holds the
	// connection without answering until the client gives up (or Hold passes).
	ApplyThenTimeout float64
	// Hold bounds how long an apply-then-timeout request is held; 0 means 2 minutes.
	Hold time.Duration
	// Seed makes the random draws repeatable; 0 picks a random seed.
	Seed uint64
}

// Writers are the emulator's own ways of answering an injected error, so
// that each fault looks exactly like the real API's.
type Writers struct {
	// TooMany writes a 429 answer; retryAfter is 0 when none should be sent.
	TooMany func(w http.ResponseWriter, retryAfter time.Duration)
	// ServerError writes a 5xx answer with the given status.
	ServerError func(w http.ResponseWriter, status int)
}

// Only selects the requests faults apply to; nil selects every request.
type Only func(*http.Request) bool

// Stats counts what the injector did.
type Stats struct {
	Requests         int64
	Injected429      int64
	Injected5xx      int64
	AppliedThenReset int64
	AppliedThenHeld  int64
}

// Injector decides, request by request, which fault to inject. It is safe for
// concurrent use and can be reconfigured while serving.
type Injector struct {
	mu         sync.Mutex
	cfg        Config
	rnd        *rand.Rand
	stormUntil time.Time
	stormAfter time.Duration
	now        func() time.Time
	stats      Stats
}

// New returns an injector with cfg.
func New(cfg Config) *Injector {
	in := &Injector{now: time.Now}
	in.Set(cfg)
	return in
}

// Set replaces the configuration.
func (in *Injector) Set(cfg Config) {
	in.mu.Lock()
	defer in.mu.Unlock()
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	in.cfg = cfg
	in.rnd = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Config returns the current configuration.
func (in *Injector) Config() Config {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cfg
}

// Storm answers every selected request with 429 for d, sending retryAfter
// as Retry-After when it is positive.
func (in *Injector) Storm(d, retryAfter time.Duration) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.stormUntil = in.now().Add(d)
	in.stormAfter = retryAfter
}

// Stats returns a copy of the counters.
func (in *Injector) Stats() Stats {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.stats
}

type decision int

const (
	pass decision = iota
	tooMany
	serverError
	applyReset
	applyHold
)

func (in *Injector) decide() (decision, time.Duration, time.Duration, int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.stats.Requests++
	c := in.cfg
	if in.now().Before(in.stormUntil) {
		in.stats.Injected429++
		return tooMany, in.stormAfter, c.Latency, 0
	}
	r := in.rnd.Float64()
	switch {
	case r < c.Rate429:
		in.stats.Injected429++
		return tooMany, c.RetryAfter, c.Latency, 0
	case r < c.Rate429+c.Rate5xx:
		in.stats.Injected5xx++
		status := http.StatusInternalServerError
		if in.rnd.IntN(2) == 0 {
			status = http.StatusServiceUnavailable
		}
		return serverError, 0, c.Latency, status
	case r < c.Rate429+c.Rate5xx+c.ApplyThenReset:
		in.stats.AppliedThenReset++
		return applyReset, 0, c.Latency, 0
	case r < c.Rate429+c.Rate5xx+c.ApplyThenReset+c.ApplyThenTimeout:
		in.stats.AppliedThenHeld++
		hold := c.Hold
		if hold <= 0 {
			hold = 2 * time.Minute
		}
		return applyHold, hold, c.Latency, 0
	}
	return pass, 0, c.Latency, 0
}

// Wrap returns h with faults injected into the requests only selects.
func (in *Injector) Wrap(h http.Handler, only Only, wr Writers) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if only != nil && !only(r) {
			h.ServeHTTP(w, r)
			return
		}
		d, arg, latency, status := in.decide()
		if latency > 0 {
			select {
			case <-time.After(latency):
			case <-r.Context().Done():
				return
			}
		}
		switch d {
		case tooMany:
			wr.TooMany(w, arg)
		case serverError:
			wr.ServerError(w, status)
		case applyReset:
			h.ServeHTTP(&discard{header: http.Header{}}, r)
			reset(w)
		case applyHold:
			h.ServeHTTP(&discard{header: http.Header{}}, r)
			select {
			case <-time.After(arg):
			case <-r.Context().Done():
			}
			reset(w)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// reset closes the client connection abruptly (TCP RST) without answering.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// discard is a ResponseWriter that drops the answer of an applied request.
type discard struct {
	header http.Header
	body   bytes.Buffer
}

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(p []byte) (int, error) { return d.body.Write(p) }
func (d *discard) WriteHeader(int)             {}

// Parse reads a fault specification as given on the command line, a comma
// separated list such as "429=0.1,retry-after=2s,5xx=0.05,latency=20ms,
// reset=0.1,timeout=0.1,hold=30s,seed=7". An empty string means no faults.
func Parse(spec string) (Config, error) {
	var c Config
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return c, nil
	}
	for _, part := range strings.Split(spec, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return c, fmt.Errorf("fault %q: want name=value", part)
		}
		var err error
		switch name {
		case "429":
			c.Rate429, err = parseRate(val)
		case "5xx":
			c.Rate5xx, err = parseRate(val)
		case "reset":
			c.ApplyThenReset, err = parseRate(val)
		case "timeout":
			c.ApplyThenTimeout, err = parseRate(val)
		case "retry-after":
			c.RetryAfter, err = time.ParseDuration(val)
		case "latency":
			c.Latency, err = time.ParseDuration(val)
		case "hold":
			c.Hold, err = time.ParseDuration(val)
		case "seed":
			c.Seed, err = strconv.ParseUint(val, 10, 64)
		default:
			return c, fmt.Errorf("unknown fault %q (known: 429, retry-after, 5xx, latency, reset, timeout, hold, seed)", name)
		}
		if err != nil {
			return c, fmt.Errorf("fault %s: %w", name, err)
		}
	}
	if sum := c.Rate429 + c.Rate5xx + c.ApplyThenReset + c.ApplyThenTimeout; sum > 1 {
		return c, fmt.Errorf("fault rates add up to %.2f, more than 1", sum)
	}
	return c, nil
}

func parseRate(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, err
	}
	if pct {
		f /= 100
	}
	if f < 0 || f > 1 {
		return 0, fmt.Errorf("rate %v is not between 0 and 1", f)
	}
	return f, nil
}
