package connectors

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the HTTP metrics of every connector, by destination or source
// name. A nil *Metrics records nothing.
type Metrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	throttled *prometheus.CounterVec
}

// NewMetrics registers the connector metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surveysync_http_requests_total",
			Help: "HTTP requests sent by connectors, by connector name and status code (\"error\" when no answer came).",
		}, []string{"name", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "surveysync_http_request_duration_seconds",
			Help:    "Time from sending a request to its answer's headers, by connector name.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"name"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surveysync_http_throttled_total",
			Help: "429 answers received, by connector name.",
		}, []string{"name"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.throttled)
	}
	return m
}

func (m *Metrics) observe(name string, resp *http.Response, err error, d time.Duration) {
	if m == nil {
		return
	}
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			m.throttled.WithLabelValues(name).Inc()
		}
	}
	m.requests.WithLabelValues(name, code).Inc()
	m.latency.WithLabelValues(name).Observe(d.Seconds())
}
