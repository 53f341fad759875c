package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/store"
)

// runtime is one plan with its connectors built: what Reload swaps.
type runtime struct {
	e           *Engine
	plan        *Plan
	st          store.Store
	holder      string
	metrics     *Metrics
	log         *slog.Logger
	now         func() time.Time
	sources     map[string]connectors.Source
	sinks       map[string]*sourceSink
	dests       map[string]*destRuntime
	dispatchers []*dispatcher
	scheduler   *scheduler

	soft, hard   context.CancelFunc
	wgSources    sync.WaitGroup
	wgDispatch   sync.WaitGroup
	closeOnce    sync.Once
	startedParts Parts
}

// build constructs every connector of plan. On failure it closes what it
// built and returns an error naming the connector.
func (e *Engine) build(plan *Plan) (_ *runtime, err error) {
	rt := &runtime{
		e:       e,
		plan:    plan,
		st:      e.st,
		holder:  e.holder,
		metrics: e.metrics,
		log:     e.log,
		now:     e.now,
		sources: map[string]connectors.Source{},
		sinks:   map[string]*sourceSink{},
		dests:   map[string]*destRuntime{},
	}
	defer func() {
		if err != nil {
			rt.closeConnectors()
		}
	}()
	deps := func(kind, name string) connectors.Deps {
		return connectors.Deps{Logger: e.log.With(kind, name), Clients: e.clients, Now: e.now, Dir: plan.Config.Dir()}
	}
	for _, sp := range plan.Sources {
		src, err := sp.Spec.New(sp.Name, sp.Config, deps("source", sp.Name))
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", sp.Name, err)
		}
		rt.sources[sp.Name] = src
		policy := store.UpdateLatest
		if ps, ok := src.(connectors.PolicySource); ok {
			policy = ps.UpdatePolicy()
		}
		rt.sinks[sp.Name] = &sourceSink{
			name: sp.Name, policy: policy, syncs: sp.Syncs,
			committer: e.committer, st: e.st, metrics: e.metrics,
			log: e.log.With("source", sp.Name), notify: rt.notifyDispatchers,
		}
	}
	groups := map[string]*dispatcher{}
	for _, dp := range plan.Destinations {
		d, err := NewDestination(plan, dp, e.clients, e.log, e.now)
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", dp.Name, err)
		}
		dr := &destRuntime{plan: dp, dest: d}
		rt.dests[dp.Name] = dr
		key := "destination:" + dp.Name
		if qk, ok := d.(connectors.QuotaKeyer); ok && qk.QuotaKey() != "" {
			key = "quota:" + qk.QuotaKey()
		}
		g, ok := groups[key]
		if !ok {
			g = &dispatcher{rt: rt, leaseName: key, wake: make(chan struct{}, 1), log: e.log.With("lease", key)}
			groups[key] = g
			rt.dispatchers = append(rt.dispatchers, g)
		}
		g.dests = append(g.dests, dr)
	}
	rt.scheduler = newScheduler(rt)
	return rt, nil
}

func (rt *runtime) notifyDispatchers() {
	for _, d := range rt.dispatchers {
		d.notify()
	}
}

// start runs sources, dispatchers and schedules.
func (rt *runtime) start() {
	parts := rt.e.opts.Parts
	rt.startedParts = parts
	soft, cancelSoft := context.WithCancel(context.Background())
	hard, cancelHard := context.WithCancel(context.Background())
	rt.soft, rt.hard = cancelSoft, cancelHard
	if !parts.NoSources {
		for name, src := range rt.sources {
			if _, isHTTP := src.(connectors.HTTPSource); isHTTP {
				continue
			}
			rt.wgSources.Add(1)
			go rt.runSource(soft, name, src)
		}
	}
	if !parts.NoDispatch {
		for _, d := range rt.dispatchers {
			rt.wgDispatch.Add(1)
			go func() {
				defer rt.wgDispatch.Done()
				d.run(soft, hard)
			}()
		}
	}
	if !parts.NoScores {
		rt.scheduler.start(soft)
	}
}

// runSource runs a source loop, restarting it with backoff after a failure.
func (rt *runtime) runSource(ctx context.Context, name string, src connectors.Source) {
	defer rt.wgSources.Done()
	failures := 0
	for ctx.Err() == nil {
		err := src.Run(ctx, rt.sinks[name])
		if ctx.Err() != nil {
			return
		}
		failures++
		wait := connectors.Backoff(failures, time.Second, time.Minute, nil)
		rt.log.Error("source stopped; restarting", "source", name, "err", err, "in", wait.Round(time.Second).String())
		sleep(ctx, wait)
	}
}

// stop ends sources and dispatchers: no new work at once, in-flight
// deliveries get grace to finish, then they are cut off.
func (rt *runtime) stop(grace time.Duration) {
	if rt.soft == nil {
		return
	}
	rt.soft()
	rt.scheduler.stop()
	done := make(chan struct{})
	go func() {
		rt.wgSources.Wait()
		rt.wgDispatch.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
		rt.log.Warn("in-flight deliveries did not finish within the grace period; cutting them off (they are reconciled on the next start)")
		rt.hard()
		<-done
	}
	rt.hard()
	rt.closeConnectors()
}

func (rt *runtime) closeConnectors() {
	rt.closeOnce.Do(func() {
		for name, s := range rt.sources {
			if err := s.Close(); err != nil {
				rt.log.Warn("closing source failed", "source", name, "err", err)
			}
		}
		for name, d := range rt.dests {
			if err := d.dest.Close(); err != nil {
				rt.log.Warn("closing destination failed", "destination", name, "err", err)
			}
		}
	})
}

// handler builds the HTTP routes of this runtime.
func (rt *runtime) handler() http.Handler {
	mux := http.NewServeMux()
	for name, src := range rt.sources {
		if hs, ok := src.(connectors.HTTPSource); ok {
			mux.Handle(hs.Route(), hs.Handler(rt.sinks[name]))
		}
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !rt.e.Ready() {
			http.Error(w, "not running", http.StatusServiceUnavailable)
			return
		}
		if _, err := rt.st.Leases(ctx); err != nil {
			http.Error(w, "ledger unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(rt.e.registry, promhttp.HandlerOpts{}))
	if rt.e.opts.Console != nil && rt.plan.Config.ConsoleEnabled() {
		h := rt.e.opts.Console(rt.e)
		mux.Handle("/console/", h)
		mux.Handle("/{$}", http.RedirectHandler("/console/", http.StatusFound))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "reason": "no webhook or page at " + r.URL.Path})
			return
		}
		mux.ServeHTTP(w, r)
	})
}
