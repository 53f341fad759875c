package console

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRateMeter(t *testing.T) {
	t.Parallel()
	m := newRateMeter(10 * time.Minute)
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	steps := []struct {
		at     time.Duration
		counts map[string]int64
		want   map[string]rate
	}{
		{0, map[string]int64{"a": 100, "b": 0}, map[string]rate{"a": {}, "b": {}}},
		{15 * time.Second, map[string]int64{"a": 130, "b": 0}, map[string]rate{"a": {}, "b": {}}},
		{time.Minute, map[string]int64{"a": 160, "b": 0}, map[string]rate{"a": {PerMinute: 60, Over: time.Minute, Known: true}, "b": {Over: time.Minute, Known: true}}},
		// Eleven minutes in, the first samples have left the window.
		{11 * time.Minute, map[string]int64{"a": 160, "b": 500}, map[string]rate{"a": {PerMinute: 0, Over: 10 * time.Minute, Known: true}, "b": {PerMinute: 50, Over: 10 * time.Minute, Known: true}}},
		// A count that goes down starts the measurement again; a source
		// that is gone is forgotten.
		{12 * time.Minute, map[string]int64{"a": 10}, map[string]rate{"a": {}}},
	}
	for _, s := range steps {
		got := m.observe(t0.Add(s.at), s.counts)
		if diff := cmp.Diff(s.want, got, cmp.AllowUnexported(rate{})); diff != "" {
			t.Errorf("at %s (-want +got):\n%s", s.at, diff)
		}
	}
	if _, ok := m.samples["b"]; ok {
		t.Errorf("samples of a source that is gone are kept")
	}
}
