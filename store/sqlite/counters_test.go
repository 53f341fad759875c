package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// TestCountersMatchRows drives deliveries through every transition and
// checks that the counts Stats reads agree with the rows.
func TestCountersMatchRows(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"), Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var batch []store.Incoming
	for i := range 40 {
		r := survey.Response{Source: "hook", Key: fmt.Sprint(i), Payload: []byte(fmt.Sprintf(`{"i":%d}`, i))}
		batch = append(batch, store.Incoming{Response: r, Syncs: []string{"sheet", "crm"}})
	}
	_, err = s.Ingest(ctx, batch, nil)
	must(err)

	lease, err := s.AcquireLease(ctx, "sheet", "w1", time.Minute)
	must(err)
	ds, err := s.Claim(ctx, store.ClaimRequest{Sync: "sheet", Lease: lease, Limit: 30, Now: now})
	must(err)
	var outcomes []store.Outcome
	for i, d := range ds {
		o := store.Outcome{ID: d.ID, At: now}
		switch i % 5 {
		case 0:
			o.State = store.Delivered
		case 1:
			o.State = store.Dead
			o.Error = "400"
		case 2:
			o.State, o.Uncertain = store.Pending, true
		case 3:
			o.State, o.Release = store.Pending, true
		case 4:
			continue // left sending
		}
		outcomes = append(outcomes, o)
	}
	must(s.Settle(ctx, lease, outcomes))
	now = now.Add(2 * time.Minute)
	next, err := s.AcquireLease(ctx, "sheet", "w2", time.Minute)
	must(err)
	_, err = s.Claim(ctx, store.ClaimRequest{Sync: "sheet", Lease: next, Limit: 10, Now: now}) // takes over the sending ones
	must(err)
	_, err = s.Replay(ctx, store.ReplayRequest{Sync: "sheet", Dead: true})
	must(err)
	_, err = s.Replay(ctx, store.ReplayRequest{Sync: "sheet", Delivered: true, Keys: []string{"0", "5"}})
	must(err)
	for i := range batch {
		batch[i].Redeliver = true
	}
	_, err = s.Ingest(ctx, batch, nil)
	must(err)
	must(checkCounters(t, s))
}
