package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/surveysync/surveysync/store"
)

// TestScoreRunsKeepTheNewest checks that each job keeps its newest runs
// only, so a job on a one-minute schedule does not grow the ledger forever.
func TestScoreRunsKeepTheNewest(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"), Options{Synchronous: SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range keepScoreRuns + 5 {
		at := start.Add(time.Duration(i) * time.Minute)
		if err := s.RecordScoreRun(t.Context(), store.ScoreRun{Job: "every-minute", ScheduledFor: at, RanAt: at, Results: []byte(`[]`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordScoreRun(t.Context(), store.ScoreRun{Job: "weekly", ScheduledFor: start, RanAt: start}); err != nil {
		t.Fatal(err)
	}
	runs, err := s.ScoreRuns(t.Context(), "every-minute", 2*keepScoreRuns)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != keepScoreRuns {
		t.Fatalf("kept %d runs, want %d", len(runs), keepScoreRuns)
	}
	if oldest, want := runs[len(runs)-1].RanAt, start.Add(5*time.Minute); !oldest.Equal(want) {
		t.Errorf("oldest kept run at %s, want %s", oldest, want)
	}
	if weekly, err := s.LastScoreRun(t.Context(), "weekly"); err != nil || !weekly.RanAt.Equal(start) {
		t.Errorf("weekly run = %+v, %v; want it kept", weekly, err)
	}
}
