package sqlite

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// TestContention runs 16 goroutines on two stores sharing one file (the
// daemon and a backfill beside it), mixing reads and writes while the WAL
// is checkpointed with TRUNCATE. No SQLITE_BUSY ("database is locked") may
// reach a caller.
func TestContention(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	var stores []*Store
	for range 2 {
		s, err := Open(t.Context(), path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}

	const (
		writersPerStore = 4
		readersPerStore = 4
		rounds          = 15
	)
	var (
		wg      sync.WaitGroup
		writers sync.WaitGroup
		mu      sync.Mutex
		errs    []error
	)
	report := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for si, s := range stores {
		for w := range writersPerStore {
			writers.Add(1)
			wg.Go(func() {
				defer writers.Done()
				for i := range rounds {
					batch := make([]store.Incoming, 5)
					for j := range batch {
						k := fmt.Sprintf("s%d-w%d-%d-%d", si, w, i, j)
						batch[j] = store.Incoming{
							Response: survey.Response{Source: "hook", Key: k, SubmittedAt: time.Unix(int64(i), 0), Payload: []byte(`{"k":"` + k + `"}`)},
							Syncs:    []string{"sheet", "crm"},
						}
					}
					state := []store.SourceState{{Source: "hook", Name: "cursor", Value: fmt.Sprint(i)}}
					if _, err := s.Ingest(t.Context(), batch, state); err != nil {
						report(fmt.Errorf("store %d writer %d: ingest: %w", si, w, err))
						return
					}
					if err := s.SetPause(t.Context(), fmt.Sprintf("dest-%d", w), "probe"); err != nil {
						report(fmt.Errorf("store %d writer %d: pause: %w", si, w, err))
						return
					}
				}
			})
		}
		for r := range readersPerStore {
			wg.Go(func() {
				for i := range rounds {
					var err error
					switch i % 3 {
					case 0:
						_, err = s.Stats(t.Context(), time.Time{})
					case 1:
						_, err = s.Lookup(t.Context(), "hook", []string{"s0-w0-0-0", "s1-w1-1-1"})
					case 2:
						err = s.ScanResponses(t.Context(), "hook", time.Time{}, time.Time{}, func(*survey.Response) error { return nil })
					}
					if err != nil {
						report(fmt.Errorf("store %d reader %d: %w", si, r, err))
						return
					}
				}
			})
		}
	}
	writing := make(chan struct{})
	go func() { writers.Wait(); close(writing) }()
	wg.Go(func() {
		// Checkpoint with TRUNCATE again and again while the writers run,
		// at least five times.
		for n := 0; ; n++ {
			if n >= 5 {
				select {
				case <-writing:
					return
				default:
				}
			}
			var busy, logFrames, checkpointed int
			err := stores[0].maint.QueryRowContext(t.Context(), "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &checkpointed)
			if err != nil {
				report(fmt.Errorf("checkpoint: %w", err))
				return
			}
		}
	})
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if len(errs) > 0 {
		return
	}
	st, err := stores[1].Stats(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := int64(len(stores) * writersPerStore * rounds * 5)
	for _, ss := range st.Syncs {
		if ss.Pending != want {
			t.Errorf("%s pending = %d, want %d", ss.Sync, ss.Pending, want)
		}
	}
	if err := checkCounters(t, stores[0]); err != nil {
		t.Error(err)
	}
}

// checkCounters compares the trigger-maintained counts with a recount.
func checkCounters(t *testing.T, s *Store) error {
	t.Helper()
	rows, err := s.read.QueryContext(t.Context(), `
SELECT c.sync, c.state, c.uncertain, c.n, (SELECT count(*) FROM delivery_state d
    WHERE d.sync = c.sync AND d.state = c.state AND d.uncertain = c.uncertain)
FROM delivery_counts c`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var errs []error
	for rows.Next() {
		var sync, state string
		var uncertain, n, actual int64
		if err := rows.Scan(&sync, &state, &uncertain, &n, &actual); err != nil {
			return err
		}
		if n != actual {
			errs = append(errs, fmt.Errorf("%s %s uncertain=%d: counter %d, rows %d", sync, state, uncertain, n, actual))
		}
	}
	var uncounted int64
	if err := s.read.QueryRowContext(t.Context(), `SELECT count(*) FROM delivery_state d WHERE NOT EXISTS (
    SELECT 1 FROM delivery_counts c WHERE c.sync = d.sync AND c.state = d.state AND c.uncertain = d.uncertain)`).Scan(&uncounted); err != nil {
		return err
	}
	if uncounted > 0 {
		errs = append(errs, fmt.Errorf("%d deliveries have no counter", uncounted))
	}
	// delivered_log counts the delivered deliveries by sync and settle time.
	var mislogged int64
	if err := s.read.QueryRowContext(t.Context(), `SELECT
    (SELECT count(*) FROM (
        SELECT sync, settled_at, count(*) AS n FROM deliveries WHERE state = 'delivered' GROUP BY sync, settled_at
        EXCEPT SELECT sync, settled_at, n FROM delivered_log))
  + (SELECT count(*) FROM (
        SELECT sync, settled_at, n FROM delivered_log
        EXCEPT SELECT sync, settled_at, count(*) FROM deliveries WHERE state = 'delivered' GROUP BY sync, settled_at))`).Scan(&mislogged); err != nil {
		return err
	}
	if mislogged > 0 {
		errs = append(errs, fmt.Errorf("delivered_log disagrees with the deliveries in %d rows", mislogged))
	}
	return errors.Join(append(errs, rows.Err())...)
}
