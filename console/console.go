package console

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/engine"
)

// Prefix is the path the console is mounted at.
const Prefix = "/console/"

// Options configure a Console. The zero value is ready to use.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Refresh is how often the overview and scores pages reload themselves;
	// 0 means 15s, a negative value turns reloading off.
	Refresh time.Duration
	// DeadLetterLimit bounds the dead letters listed; 0 means 200.
	DeadLetterLimit int
	// RateWindow is the window ingest rates are measured over; 0 means 10
	// minutes.
	RateWindow time.Duration
}

// The defaults of Options.
const (
	defaultRefresh         = 15 * time.Second
	defaultDeadLetterLimit = 200
	defaultRateWindow      = 10 * time.Minute
	// readTimeout bounds the ledger reads of one page.
	readTimeout = 10 * time.Second
)

// Console is the ops console's HTTP handler.
type Console struct {
	e     *engine.Engine
	opts  Options
	now   func() time.Time
	rates *rateMeter
	mux   *http.ServeMux
	csrf  *http.CrossOriginProtection
}

// New returns the console of e. It does not read e's plan: every request
// reads the plan that is current then, so New may be called while the
// engine is being built or reloaded, and a reload that changes the console
// settings takes effect at once.
func New(e *engine.Engine, opts Options) (*Console, error) {
	if e == nil {
		return nil, errors.New("console: no engine")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Refresh == 0 {
		opts.Refresh = defaultRefresh
	}
	if opts.DeadLetterLimit <= 0 {
		opts.DeadLetterLimit = defaultDeadLetterLimit
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = defaultRateWindow
	}
	c := &Console{
		e:     e,
		opts:  opts,
		now:   opts.Now,
		rates: newRateMeter(opts.RateWindow),
		mux:   http.NewServeMux(),
		csrf:  http.NewCrossOriginProtection(),
	}
	c.mux.HandleFunc("GET /console/{$}", c.overview)
	c.mux.HandleFunc("GET /console/dead-letters", c.deadLetters)
	c.mux.HandleFunc("POST /console/dead-letters/replay", c.replay)
	c.mux.HandleFunc("/console/dead-letters/replay", postOnly)
	c.mux.HandleFunc("GET /console/scores", c.scores)
	c.mux.HandleFunc("GET /console/status.json", c.statusJSON)
	c.mux.HandleFunc("POST /console/login", c.login)
	c.mux.HandleFunc("/console/login", postOnly)
	c.mux.HandleFunc("/console/", c.notFound)
	return c, nil
}

// Check reports whether cfg may serve the console. When the console is
// enabled, a listener that is not bound to loopback needs console.token, and
// a configured token must be readable and at least 16 characters long. The
// daemon must call it before it starts listening and refuse to start when it
// fails.
func Check(cfg *config.Config) error {
	_, err := access(cfg)
	return err
}

// CheckSettings is Check for validate, which runs on machines that may not
// hold the secrets: a token whose reference cannot be resolved here is left
// to the secret check, which warns about it; a missing token where one is
// required, or a resolvable one that is too short, is still an error.
func CheckSettings(cfg *config.Config) error {
	if !cfg.ConsoleEnabled() || !cfg.Console.Token.IsSet() {
		return Check(cfg)
	}
	if _, err := cfg.Console.Token.Resolve(); err != nil {
		return nil
	}
	return Check(cfg)
}

// minTokenLen is the shortest token accepted.
const minTokenLen = 16

// access resolves the console token of cfg ("" when none is set) and checks
// that cfg may serve the console.
func access(cfg *config.Config) (string, error) {
	if !cfg.ConsoleEnabled() {
		return "", nil
	}
	if !cfg.Console.Token.IsSet() {
		if !cfg.LoopbackListen() {
			return "", errors.New("console: listen " + cfg.Listen + " is not a loopback address, so console.token is required (set it, bind to 127.0.0.1, or set console.enabled: false)")
		}
		return "", nil
	}
	tok, err := cfg.Console.Token.Resolve()
	if err != nil {
		return "", errors.New("console.token: " + config.Redact(err.Error()))
	}
	if len(tok) < minTokenLen {
		return "", errors.New("console.token: the token is shorter than 16 characters; use a long random value")
	}
	return tok, nil
}

// request is what one request works with: the current plan's settings and
// the access decided for it.
type request struct {
	plan  *engine.Plan
	cfg   *config.Config
	token string // the configured token, "" when none
	// authorized reports that the request may read: no token is configured
	// or it presented the token (header, query or cookie).
	authorized bool
	nonce      string
}

// writeEnabled reports whether replay is allowed at all.
func (rq *request) writeEnabled() bool { return rq.cfg.Console.Write && rq.token != "" }

type requestKey struct{}

func (c *Console) req(r *http.Request) *request {
	rq, _ := r.Context().Value(requestKey{}).(*request)
	return rq
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	nonce := newNonce()
	setSecurityHeaders(w, nonce)
	plan := c.e.Plan()
	rq := &request{plan: plan, cfg: plan.Config, nonce: nonce}
	tok, err := access(plan.Config)
	if err != nil {
		c.fail(w, r, rq, http.StatusServiceUnavailable, "The console is refusing requests", err.Error())
		return
	}
	rq.token = tok
	if tok == "" {
		// Without a token the console trusts loopback alone, so it must
		// really be reached over loopback, by a loopback name: a page on
		// another site that rebinds its own name to 127.0.0.1 gets nothing.
		if !loopbackConn(r) {
			c.fail(w, r, rq, http.StatusServiceUnavailable, "The console is refusing requests", "This connection did not come over loopback and console.token is not set.")
			return
		}
		if !loopbackHost(r.Host) {
			c.fail(w, r, rq, http.StatusForbidden, "Unexpected host name", "Without console.token the console answers only to loopback names such as 127.0.0.1 or localhost; open it by one of those, or set a token.")
			return
		}
	}
	rq.authorized = tok == "" || presentedSession(r, tok)
	r = r.WithContext(context.WithValue(r.Context(), requestKey{}, rq))

	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if q := r.URL.Query(); q.Has("token") {
			c.exchangeQueryToken(w, r, rq, q.Get("token"))
			return
		}
		if !rq.authorized {
			c.unauthorized(w, r, rq, "")
			return
		}
	}
	// POST handlers check their own credentials: replay must answer 403
	// when writing is off before it asks for a token.
	c.mux.ServeHTTP(w, r)
}

// loopbackConn reports whether r came over a loopback connection (true
// when the server does not say, as with a handler called directly).
func loopbackConn(r *http.Request) bool {
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return true
	}
	tcp, ok := addr.(*net.TCPAddr)
	return !ok || tcp.IP.IsLoopback()
}

// loopbackHost reports whether a Host header names loopback.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// postOnly answers 405 to anything but a POST.
func postOnly(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", http.MethodPost)
	http.Error(w, "use POST", http.StatusMethodNotAllowed)
}

// readContext bounds the ledger reads of one page.
func readContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), readTimeout)
}
