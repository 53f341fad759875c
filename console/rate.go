package console

import (
	"sync"
	"time"
)

// minRateSpan is the shortest span a rate is computed over; before it the
// page says the rate is being measured.
const minRateSpan = 30 * time.Second

// rateMeter measures each source's ingest rate from the ledger's response
// counts, sampled whenever the overview is read (the page reloads itself, so
// samples keep coming while anyone looks). The rate is the growth of the
// count between the oldest and the newest sample within the window.
type rateMeter struct {
	window time.Duration

	mu      sync.Mutex
	samples map[string][]rateSample
}

type rateSample struct {
	at time.Time
	n  int64
}

// rate is one source's measured rate.
type rate struct {
	// PerMinute is responses stored per minute.
	PerMinute float64
	// Over is the span measured.
	Over time.Duration
	// Known is false until two samples minRateSpan apart exist.
	Known bool
}

func newRateMeter(window time.Duration) *rateMeter {
	return &rateMeter{window: window, samples: map[string][]rateSample{}}
}

// observe records the counts seen at now and returns each source's rate.
func (m *rateMeter) observe(now time.Time, counts map[string]int64) map[string]rate {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]rate, len(counts))
	for src, n := range counts {
		s := m.samples[src]
		// A count that went down means another ledger or a purge: start over.
		if len(s) > 0 && n < s[len(s)-1].n {
			s = nil
		}
		// Samples closer than a second apart add nothing.
		if len(s) > 0 && now.Sub(s[len(s)-1].at) < time.Second {
			s[len(s)-1] = rateSample{at: now, n: n}
		} else {
			s = append(s, rateSample{at: now, n: n})
		}
		cut := 0
		for cut < len(s)-1 && now.Sub(s[cut].at) > m.window {
			cut++
		}
		s = append(s[:0:0], s[cut:]...)
		m.samples[src] = s
		first, last := s[0], s[len(s)-1]
		span := last.at.Sub(first.at)
		if span < minRateSpan {
			out[src] = rate{}
			continue
		}
		out[src] = rate{PerMinute: float64(last.n-first.n) / span.Minutes(), Over: span, Known: true}
	}
	for src := range m.samples {
		if _, ok := counts[src]; !ok {
			delete(m.samples, src)
		}
	}
	return out
}
