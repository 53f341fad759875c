package connectors

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/surveysync/surveysync/config"
	"golang.org/x/oauth2"
)

// Clients builds the HTTP clients of every connector and owns the quota
// buckets they share. There is one per process.
type Clients struct {
	logger  *slog.Logger
	metrics *Metrics
	// resolver, when set, resolves names for the clients built afterwards.
	resolver *net.Resolver
	// proxy, when set, replaces the environment's proxy choice; for tests.
	proxy func(*http.Request) (*url.URL, error)

	mu      sync.Mutex
	buckets map[string]*Bucket
	// transports share connection pools, one per dial policy, so that a
	// connection made under one policy is never reused under another.
	transports map[string]*http.Transport
}

// NewClients returns a client builder. metrics may be nil.
func NewClients(logger *slog.Logger, metrics *Metrics) *Clients {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Clients{logger: logger, metrics: metrics, buckets: map[string]*Bucket{}, transports: map[string]*http.Transport{}}
}

// SetResolver makes the clients built afterwards resolve names with r
// instead of the system's resolver: for tests, which resolve names without
// a network, and for deployments that must ask a particular DNS server.
// The addresses r returns are checked like any others before a connection
// is made. Call it before the connectors are built.
func (c *Clients) SetResolver(r *net.Resolver) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resolver = r
	clear(c.transports)
}

// transport returns the shared transport of a dial policy, building it on
// first use. Its dialer refuses internal addresses the policy does not
// allow (see DialRefusedError).
func (c *Clients) transport(p dialPolicy) http.RoundTripper {
	key := p.key()
	c.mu.Lock()
	defer c.mu.Unlock()
	if tr, ok := c.transports[key]; ok {
		return tr
	}
	g := newDialGuard(p, c.resolver)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	tr.ResponseHeaderTimeout = 0
	tr.DialContext = g.dialContext
	if c.proxy != nil {
		tr.Proxy = c.proxy
	}
	if tr.Proxy != nil {
		tr.Proxy = g.proxy(tr.Proxy)
	}
	c.transports[key] = tr
	return tr
}

// Bucket returns the bucket named key, creating it with n requests per
// interval and the given burst on first use. Every caller that names the
// same key shares one bucket, which is how one credential's quota is shared
// by every sync, score job and backfill in the process.
func (c *Clients) Bucket(key string, n int, per time.Duration, burst int) *Bucket {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.buckets[key]; ok {
		return b
	}
	b := NewBucket(key, n, per, burst)
	c.buckets[key] = b
	return b
}

// QuotaBucket returns the bucket named key for an API that allows n requests
// in any window of length per (a per-minute or per-ten-seconds quota). It
// starts with a burst of n/6 requests, so that short exchanges (a tab
// created, its header written, the first rows appended) do not wait, and
// refills at (n − burst) per window, so that no window of that length —
// however it is placed — ever sees more than n requests.
func (c *Clients) QuotaBucket(key string, n int, per time.Duration) *Bucket {
	if n <= 0 {
		return c.Bucket(key, 0, 0, 1)
	}
	burst := max(1, n/6)
	return c.Bucket(key, max(n-burst, 1), per, burst)
}

// Buckets returns every bucket, for status pages.
func (c *Clients) Buckets() []*Bucket {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Bucket, 0, len(c.buckets))
	for _, b := range c.buckets {
		out = append(out, b)
	}
	return out
}

// ClientOptions describe one connector's HTTP client.
type ClientOptions struct {
	// Name is the destination or source name, for metrics and logs.
	Name string
	// Timeout bounds each attempt, from sending to the last byte of the
	// answer's headers and body. Default 60s.
	Timeout time.Duration
	// Bucket, when set, paces every attempt and is paused by every 429.
	Bucket *Bucket
	// BucketFor picks the bucket per request (for example reads and writes
	// of one credential); it overrides Bucket when it returns non-nil.
	BucketFor func(*http.Request) *Bucket
	// TokenSource, when set, adds OAuth2 bearer tokens.
	TokenSource oauth2.TokenSource
	// Header is added to every request (for example a static Authorization).
	Header http.Header
	// RetryMax is how many times a request is retried inside one delivery
	// attempt, for the cases where that is safe; default 3. The engine's
	// own durable retries cover everything else.
	RetryMax int
	// AllowHosts are the hosts the configuration names (endpoints, token
	// URLs; see URLHosts), with or without a port. The client may connect
	// to an IP address written among them even when it is internal, and to
	// loopback when one of them is localhost. A name allows nothing: the
	// addresses it resolves to are checked like any other.
	AllowHosts []string
	// AllowPrivate lets the client connect to internal addresses reached
	// through names (allow_private_network), for an on-premises API. Cloud
	// metadata addresses stay refused.
	AllowPrivate bool
}

// New returns an HTTP client: OAuth2 (when configured) over a retrying
// transport that re-sends a request only when that cannot duplicate an
// effect, over the quota bucket and metrics, over a connection pool shared
// by the clients with the same network allowances, whose dialer refuses
// internal addresses that o does not allow (see DialRefusedError).
func (c *Clients) New(o ClientOptions) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.RetryMax == 0 {
		o.RetryMax = 3
	}
	if o.RetryMax < 0 {
		o.RetryMax = 0
	}
	paced := &pacedTransport{base: c.transport(newDialPolicy(o.AllowHosts, o.AllowPrivate)), opts: o, metrics: c.metrics}
	rc := retryablehttp.NewClient()
	// The attempt timeout lives in the paced transport, so that time spent
	// waiting for the quota bucket never counts against it: a request held
	// back by a throttle has not been sent and must not time out as if it
	// had (which would make an append look ambiguous).
	rc.HTTPClient = &http.Client{Transport: paced, CheckRedirect: noRedirects}
	rc.RetryMax = o.RetryMax
	rc.RetryWaitMin = 100 * time.Millisecond
	rc.RetryWaitMax = 5 * time.Second
	rc.CheckRetry = CheckRetry
	rc.Backoff = backoff
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.Logger = nil
	var rt http.RoundTripper = safeMethods{&retryablehttp.RoundTripper{Client: rc}}
	if len(o.Header) > 0 {
		rt = &headerTransport{base: rt, header: o.Header}
	}
	if o.TokenSource != nil {
		rt = &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, redactedTokens{o.TokenSource}), Base: rt}
	}
	return &http.Client{Transport: rt, CheckRedirect: noRedirects}
}

// noRedirects hands a redirect answer to the connector instead of following
// it. Followed, a 301 or 302 turns a POST into a GET whose 200 looks like a
// delivery, and the credentials this client adds to every request it sends
// would go wherever the Location header points. A redirect means the
// configured endpoint is wrong, which the connector reports.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

type idempotentKey struct{}

// Idempotent marks a request context as safe to re-send after an unknown
// outcome: an upsert, a PUT that sets fields, a create carrying an
// idempotency key. Requests not marked (and not GET or HEAD) are never
// re-sent by the client after they may have reached the server.
func Idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

func isIdempotent(ctx context.Context, resp *http.Response) bool {
	if v, _ := ctx.Value(idempotentKey{}).(bool); v {
		return true
	}
	if resp != nil && resp.Request != nil {
		m := resp.Request.Method
		return m == http.MethodGet || m == http.MethodHead
	}
	return false
}

type safeReadKey struct{}

// SafeRead marks a request context as a read (GET-like, even when sent as
// POST, such as a search), which may always be retried.
func SafeRead(ctx context.Context) context.Context {
	return context.WithValue(Idempotent(ctx), safeReadKey{}, true)
}

// CheckRetry is the retry policy of every client: retry a throttle (429:
// the request was not applied), a request that never left (connection
// refused, DNS failure), and a server error or lost answer only for
// requests marked idempotent. A non-idempotent write whose outcome is
// unknown is returned to the connector, which reconciles before anything is
// re-sent. It never retries once the context is done, nor a connection the
// network-safety guard refused: that one was not sent either, but only a
// change of configuration lets it through.
func CheckRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	var refused *DialRefusedError
	if errors.As(err, &refused) {
		return false, nil
	}
	if err != nil {
		if NotSent(err) {
			return true, nil
		}
		return isIdempotent(ctx, resp), nil
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return true, nil
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return isIdempotent(ctx, resp), nil
	}
	return false, nil
}

// NotSent reports whether a transport error happened before the request
// could reach the server: dialling failed or was refused by the
// network-safety guard, the name did not resolve, or TLS did not come up.
// Such a request is safe to send again.
func NotSent(err error) bool {
	var refused *DialRefusedError
	if errors.As(err, &refused) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	// The server's certificate was refused, or the server does not speak
	// TLS: the handshake failed before any request byte was written.
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return true
	}
	var record tls.RecordHeaderError
	if errors.As(err, &record) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "tls: handshake") || strings.Contains(msg, "TLS handshake timeout")
}

func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		// The bucket was paused by the throttle; its Wait does the waiting,
		// shared by every request of the bucket.
		return 0
	}
	return Backoff(attempt+1, minWait, maxWait, nil) / 2
}

// RetryAfterHeader parses a Retry-After header (seconds or an HTTP date),
// capped at MaxRetryAfter; 0 when absent, unparseable or past.
func RetryAfterHeader(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		switch {
		case !(s > 0): // negative, zero or NaN
			return 0
		case s >= MaxRetryAfter.Seconds():
			// Also keeps huge values from overflowing the conversion.
			return MaxRetryAfter
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, MaxRetryAfter)
		}
	}
	return 0
}

// pacedTransport waits for the quota bucket before every attempt, pauses it
// on 429, and records metrics.
type pacedTransport struct {
	base    http.RoundTripper
	opts    ClientOptions
	metrics *Metrics
}

func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	b := t.opts.Bucket
	if t.opts.BucketFor != nil {
		if pb := t.opts.BucketFor(req); pb != nil {
			b = pb
		}
	}
	if b != nil {
		if err := b.Wait(req.Context()); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.opts.Timeout)
	start := time.Now()
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	t.metrics.observe(t.opts.Name, resp, err, time.Since(start))
	if err != nil {
		cancel()
	} else {
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	}
	if err == nil && b != nil {
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			b.Throttled(RetryAfterHeader(resp.Header, time.Now()))
		case resp.StatusCode < 400:
			b.OK()
		}
	}
	return resp, err
}

// cancelBody releases an attempt's timeout when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// safeMethods marks GET and HEAD requests idempotent before the retry
// layer sees them: its retry policy gets no request when an attempt fails
// without an answer, only the request's context.
type safeMethods struct{ base http.RoundTripper }

func (t safeMethods) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		req = req.WithContext(Idempotent(req.Context()))
	}
	return t.base.RoundTrip(req)
}

type headerTransport struct {
	base   http.RoundTripper
	header http.Header
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	for k, vs := range t.header {
		r.Header[k] = vs
	}
	return t.base.RoundTrip(r)
}

// ReadBody reads at most limit bytes of an answer's body and closes it.
func ReadBody(resp *http.Response, limit int64) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return b
}

// Snippet shortens an answer body for an error message.
func Snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		n := 300
		for n > 0 && !utf8.RuneStart(s[n]) {
			n-- // do not cut a character in two
		}
		s = s[:n] + "…"
	}
	return s
}

// redactedTokens adds every access token it hands out (and any new refresh
// token) to the redactor, so that a token echoed in an error or a log line
// is masked like the configured secrets.
type redactedTokens struct{ src oauth2.TokenSource }

func (r redactedTokens) Token() (*oauth2.Token, error) {
	tok, err := r.src.Token()
	if tok != nil {
		config.RememberSecret(tok.AccessToken)
		config.RememberSecret(tok.RefreshToken)
	}
	return tok, err
}
