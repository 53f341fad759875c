package connectors_test

import (
	"testing"
	"time"

	"github.com/surveysync/surveysync/connectors"
)

// TestDoubts checks the record of non-idempotent requests with an unknown
// outcome: sent ones are unknown since their send time, known ones are
// dropped, and a key this process never sent dates from its start.
func TestDoubts(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	d := connectors.NewDoubts(start)
	sent := start.Add(time.Minute)
	d.Sent("k1", sent)
	if !d.Unknown("k1") || !d.Since("k1").Equal(sent) {
		t.Errorf("k1: unknown %v since %s, want true since %s", d.Unknown("k1"), d.Since("k1"), sent)
	}
	d.Known("k1")
	if d.Unknown("k1") || !d.Since("k1").Equal(start) {
		t.Errorf("k1 after Known: unknown %v since %s, want false since the start", d.Unknown("k1"), d.Since("k1"))
	}
	if d.Unknown("other") || !d.Since("other").Equal(start) {
		t.Errorf("a key never sent: unknown %v since %s, want false since the start", d.Unknown("other"), d.Since("other"))
	}
}
