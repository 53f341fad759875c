package engine

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/store"
)

// DefaultShutdownGrace is how long in-flight work may take to finish after
// a stop is requested before it is cut off (and reconciled on the next run).
const DefaultShutdownGrace = 30 * time.Second

// Options configure an Engine.
type Options struct {
	// Logger receives the engine's logs; nil discards them.
	Logger *slog.Logger
	// Registry receives the metrics; nil creates a private one.
	Registry *prometheus.Registry
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Store is the ledger; nil opens the one the configuration names.
	Store store.Store
	// Listener, when set, is used instead of listening on the configured
	// address (tests pass a loopback listener on a free port).
	Listener net.Listener
	// ShutdownGrace bounds the time in-flight work gets after a stop;
	// default 30s.
	ShutdownGrace time.Duration
	// Parts selects what runs; the zero value runs everything.
	Parts Parts
	// Console, when set, builds the handler mounted at /console/.
	Console func(e *Engine) http.Handler
	// ReadHeaderTimeout and ReadTimeout bound how long a client may take to
	// send a request's header and its whole request, so that slow senders
	// cannot hold connections open; defaults 10s and 30s.
	ReadHeaderTimeout, ReadTimeout time.Duration
}

// Parts selects the parts of the engine that run.
type Parts struct {
	// NoHTTP serves no listener (a backfill needs none).
	NoHTTP bool
	// NoSources runs no source loops (webhooks still need NoHTTP unset).
	NoSources bool
	// NoDispatch delivers nothing.
	NoDispatch bool
	// NoScores runs no score schedules.
	NoScores bool
}

// Engine is a running surveysync: sources, ledger, dispatchers, listener.
type Engine struct {
	opts      Options
	log       *slog.Logger
	st        store.Store
	ownStore  bool
	clients   *connectors.Clients
	metrics   *Metrics
	registry  *prometheus.Registry
	committer *committer
	holder    string
	now       func() time.Time

	mu sync.Mutex
	rt *runtime
	// handler is the current HTTP handler, swapped on reload.
	handler http.Handler
	ready   bool
}

// New builds an engine for plan. It opens the store unless one is given;
// connectors are built when Run starts.
func New(ctx context.Context, plan *Plan, opts Options) (*Engine, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = DefaultShutdownGrace
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	e := &Engine{
		opts:     opts,
		log:      opts.Logger,
		registry: opts.Registry,
		now:      opts.Now,
		holder:   holderID(),
	}
	e.st = opts.Store
	if e.st == nil {
		st, err := OpenStore(ctx, plan.Config, opts.Logger, opts.Now)
		if err != nil {
			return nil, err
		}
		e.st, e.ownStore = st, true
	}
	e.metrics = NewMetrics(e.registry)
	e.clients = connectors.NewClients(opts.Logger, connectors.NewMetrics(e.registry))
	e.registry.MustRegister(newLedgerCollector(func() store.Store { return e.st }, func() []string {
		e.mu.Lock()
		defer e.mu.Unlock()
		var out []string
		if e.rt != nil {
			for _, d := range e.rt.plan.Destinations {
				out = append(out, d.Name)
			}
		}
		return out
	}))
	e.committer = newCommitter(e.st)
	rt, err := e.build(plan)
	if err != nil {
		e.committer.close()
		if e.ownStore {
			e.st.Close()
		}
		return nil, err
	}
	e.rt = rt
	e.handler = rt.handler()
	return e, nil
}

// Store returns the engine's ledger.
func (e *Engine) Store() store.Store { return e.st }

// Plan returns the plan the engine currently runs.
func (e *Engine) Plan() *Plan {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rt.plan
}

// Clients returns the HTTP client builder, with the shared quota buckets.
func (e *Engine) Clients() *connectors.Clients { return e.clients }

// Registry returns the metrics registry.
func (e *Engine) Registry() *prometheus.Registry { return e.registry }

// Holder returns the engine's lease holder id.
func (e *Engine) Holder() string { return e.holder }

// ServeHTTP serves the current runtime's handler.
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	h := e.handler
	e.mu.Unlock()
	h.ServeHTTP(w, r)
}

// Run runs the engine until ctx ends, then stops gracefully: the listener
// stops taking requests and finishes those in progress, sources stop,
// dispatchers finish or abandon their batches within the grace period
// (abandoned ones are reconciled on the next start). It closes the engine.
func (e *Engine) Run(ctx context.Context) error {
	defer e.Close()
	var srv *http.Server
	serveErr := make(chan error, 1)
	if !e.opts.Parts.NoHTTP {
		ln := e.opts.Listener
		if ln == nil {
			var err error
			ln, err = net.Listen("tcp", e.Plan().Config.Listen)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", e.Plan().Config.Listen, err)
			}
		}
		srv = &http.Server{
			Handler:           e,
			ReadHeaderTimeout: cmp.Or(e.opts.ReadHeaderTimeout, 10*time.Second),
			ReadTimeout:       cmp.Or(e.opts.ReadTimeout, 30*time.Second),
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelWarn),
		}
		go func() { serveErr <- srv.Serve(ln) }()
		e.log.Info("listening", "addr", ln.Addr().String())
	}
	e.mu.Lock()
	rt := e.rt
	e.ready = true
	e.mu.Unlock()
	rt.start()
	e.log.Info("surveysync running", "sources", len(rt.plan.Sources), "destinations", len(rt.plan.Destinations), "syncs", len(rt.plan.Syncs))

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("listener stopped: %w", err)
	}
	e.log.Info("stopping", "grace", e.opts.ShutdownGrace.String())
	e.mu.Lock()
	e.ready = false
	e.mu.Unlock()
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), e.opts.ShutdownGrace)
		if serr := srv.Shutdown(sctx); serr != nil {
			e.log.Warn("listener did not stop cleanly", "err", serr)
		}
		cancel()
	}
	e.mu.Lock()
	rt = e.rt
	e.mu.Unlock()
	rt.stop(e.opts.ShutdownGrace)
	e.log.Info("stopped")
	return err
}

// Reload replaces the running plan with plan. The new connectors are built
// first; if that fails the old plan keeps running and the error is returned.
func (e *Engine) Reload(plan *Plan) error {
	rt, err := e.build(plan)
	if err != nil {
		return err
	}
	e.mu.Lock()
	old := e.rt
	running := e.ready
	e.mu.Unlock()
	if running {
		old.stop(e.opts.ShutdownGrace)
	}
	// The handler is built outside the lock: building the console may ask
	// the engine for its plan.
	e.mu.Lock()
	e.rt = rt
	e.mu.Unlock()
	h := rt.handler()
	e.mu.Lock()
	e.handler = h
	e.mu.Unlock()
	if running {
		rt.start()
	}
	e.log.Info("configuration reloaded", "syncs", len(plan.Syncs))
	return nil
}

// Close releases the store and the ingest committer.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.committer != nil {
		e.committer.close()
		e.committer = nil
	}
	if e.rt != nil {
		e.rt.closeConnectors()
	}
	if e.ownStore && e.st != nil {
		err := e.st.Close()
		e.st = nil
		return err
	}
	return nil
}

// Ready reports whether the engine is running.
func (e *Engine) Ready() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ready
}

func holderID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// errNoSync is returned for a sync name that is not configured.
var errNoSync = errors.New("no such sync")
