package engine

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/store"
)

// Metrics are the engine's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	ingestedTotal   *prometheus.CounterVec
	rejectedTotal   *prometheus.CounterVec
	deliveriesTotal *prometheus.CounterVec
}

// NewMetrics registers the engine's counters with reg, and a collector that
// reads pending, dead and paused figures from the store at scrape time.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		ingestedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surveysync_responses_ingested_total",
			Help: "Responses handed over by sources, by source and outcome (inserted, duplicate, updated, ignored, filtered).",
		}, []string{"source", "outcome"}),
		rejectedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surveysync_payloads_rejected_total",
			Help: "Payloads a source could not turn into responses, kept as rejected dead letters, by source.",
		}, []string{"source"}),
		deliveriesTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surveysync_delivery_attempts_total",
			Help: "Settled delivery attempts by sync and result (delivered, retry, dead, paused).",
		}, []string{"sync", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.ingestedTotal, m.rejectedTotal, m.deliveriesTotal)
	}
	return m
}

func (m *Metrics) ingested(source string, r connectors.IngestReport) {
	if m == nil {
		return
	}
	add := func(outcome string, n int) {
		if n > 0 {
			m.ingestedTotal.WithLabelValues(source, outcome).Add(float64(n))
		}
	}
	add("inserted", r.Inserted)
	add("duplicate", r.Duplicates)
	add("updated", r.Updated)
	add("ignored", r.Ignored)
	add("filtered", r.Filtered)
}

func (m *Metrics) rejected(source string, n int) {
	if m == nil {
		return
	}
	m.rejectedTotal.WithLabelValues(source).Add(float64(n))
}

func (m *Metrics) delivery(sync, result string) {
	if m == nil {
		return
	}
	m.deliveriesTotal.WithLabelValues(sync, result).Inc()
}

// ledgerCollector reports the ledger's current figures at scrape time, read
// from the store (cached briefly so frequent scrapes stay cheap).
type ledgerCollector struct {
	st    func() store.Store
	dests func() []string

	pending, dead, uncertain, delivered, paused *prometheus.Desc

	mu     sync.Mutex
	cached *store.Stats
	at     time.Time
}

func newLedgerCollector(st func() store.Store, dests func() []string) *ledgerCollector {
	return &ledgerCollector{
		st:        st,
		dests:     dests,
		pending:   prometheus.NewDesc("surveysync_deliveries_pending", "Deliveries waiting to be sent (including retries), by sync.", []string{"sync"}, nil),
		dead:      prometheus.NewDesc("surveysync_deliveries_dead", "Dead-lettered deliveries, by sync.", []string{"sync"}, nil),
		uncertain: prometheus.NewDesc("surveysync_deliveries_uncertain", "Deliveries whose last attempt may have been applied and will be reconciled, by sync.", []string{"sync"}, nil),
		delivered: prometheus.NewDesc("surveysync_deliveries_delivered", "Deliveries made, by sync.", []string{"sync"}, nil),
		paused:    prometheus.NewDesc("surveysync_destination_paused", "1 when a destination is paused, by destination.", []string{"destination"}, nil),
	}
}

func (c *ledgerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.dead
	ch <- c.uncertain
	ch <- c.delivered
	ch <- c.paused
}

func (c *ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.st()
	if st == nil {
		return
	}
	c.mu.Lock()
	stats := c.cached
	if stats == nil || time.Since(c.at) > 2*time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s, err := st.Stats(ctx, time.Now().Add(-24*time.Hour))
		cancel()
		if err == nil {
			c.cached, c.at, stats = s, time.Now(), s
		}
	}
	c.mu.Unlock()
	if stats == nil {
		return
	}
	for _, s := range stats.Syncs {
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(s.Pending+s.Sending), s.Sync)
		ch <- prometheus.MustNewConstMetric(c.dead, prometheus.GaugeValue, float64(s.Dead), s.Sync)
		ch <- prometheus.MustNewConstMetric(c.uncertain, prometheus.GaugeValue, float64(s.Uncertain), s.Sync)
		ch <- prometheus.MustNewConstMetric(c.delivered, prometheus.GaugeValue, float64(s.Delivered), s.Sync)
	}
	paused := map[string]bool{}
	for _, p := range stats.Pauses {
		paused[p.Destination] = true
	}
	for _, d := range c.dests() {
		v := 0.0
		if paused[d] {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, v, d)
	}
}
