package sqlite

import (
	"database/sql"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// olderClaimedAt is when the older binary of these tests claimed a.
var olderClaimedAt = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// olderLedger makes a ledger at schema 3, the last before claims, as a
// binary from before claims left it: a was claimed (attempt 1) under token
// 7 and is sending; b waits. It returns the file's path and a connection
// of the older binary, open on it.
func olderLedger(t *testing.T) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	if err := prepareFiles(path, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, Options{BusyTimeout: time.Second, Synchronous: SyncFull}, false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	migrations, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if err := applyMigrations(t.Context(), db, migrations[:3], time.Now, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO responses (id, source, key, hash, submitted_at, received_at, updated_at, payload) VALUES
            (1, 'hook', 'a', 'h', 0, 0, 0, '{}'), (2, 'hook', 'b', 'h', 0, 0, 0, '{}')`,
		`INSERT INTO deliveries (id, sync, response_id, state, attempts, next_at, planned_at, claim_token, claimed_at) VALUES
            (1, 'sheet', 1, 'sending', 1, 0, 0, 7, ` + strconv.FormatInt(toMicros(olderClaimedAt), 10) + `),
            (2, 'sheet', 2, 'pending', 0, 0, 0, 0, 0)`,
		`INSERT INTO delivery_counts (sync, state, uncertain, n) VALUES ('sheet', 'sending', 0, 1), ('sheet', 'pending', 0, 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path, db
}

// openAt opens the ledger at path with a clock reading now, migrating it.
func openAt(t *testing.T, path string, now time.Time) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// claimAll claims every due delivery of sheet under a new lease.
func claimAll(t *testing.T, s *Store) []store.Delivery {
	t.Helper()
	lease, err := s.AcquireLease(t.Context(), "sheet", "new", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(t.Context(), store.ClaimRequest{Sync: "sheet", Lease: lease, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestSendingRowsOfAnOlderBinary upgrades a ledger whose deliveries were
// left sending by a binary from before claims (schema 3): the next holder
// must take them back as uncertain, at the attempt count and previous
// attempt time they had, and the counts must stay right.
func TestSendingRowsOfAnOlderBinary(t *testing.T) {
	t.Parallel()
	path, db := olderLedger(t)
	db.Close()
	s := openAt(t, path, olderClaimedAt.Add(time.Hour))
	if err := checkCounters(t, s); err != nil {
		t.Fatalf("after the migration: %v", err)
	}
	ds := claimAll(t, s)
	if len(ds) != 2 {
		t.Fatalf("claimed %d deliveries, want a and b", len(ds))
	}
	a, b := ds[0], ds[1]
	if a.Response.Key != "a" || !a.Uncertain || a.Attempts != 2 || !a.PreviousAttemptAt.Equal(olderClaimedAt) {
		t.Errorf("a = %s uncertain %v attempts %d previous %v; want uncertain, attempt 2, previous %v",
			a.Response.Key, a.Uncertain, a.Attempts, a.PreviousAttemptAt, olderClaimedAt)
	}
	if b.Response.Key != "b" || b.Uncertain || b.Attempts != 1 {
		t.Errorf("b = %s uncertain %v attempts %d; want certain, attempt 1", b.Response.Key, b.Uncertain, b.Attempts)
	}
	if err := checkCounters(t, s); err != nil {
		t.Fatalf("after the claim: %v", err)
	}
}

// TestOlderBinaryRunningThroughMigration migrates a ledger while a binary
// from before claims still runs on it (a newer `surveysync status` from
// cron beside the daemon not restarted yet after an upgrade). That binary
// knows nothing of claims: what it has in flight must stay in flight for
// it, or its next claim sends it again as if never sent, and what it marks
// sending after the migration must still be taken back, as uncertain, once
// it is gone.
func TestOlderBinaryRunningThroughMigration(t *testing.T) {
	t.Parallel()
	path, older := olderLedger(t)
	s := openAt(t, path, olderClaimedAt.Add(time.Hour))

	// The older binary's claim query (schema 3) must not see a as due.
	rows, err := older.Query(`SELECT d.id FROM deliveries d
WHERE d.state IN ('pending', 'sending') AND d.state = 'pending' AND d.sync = 'sheet' AND d.next_at <= ?1
ORDER BY d.next_at, d.id`, toMicros(olderClaimedAt.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	var due []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		due = append(due, id)
	}
	if err := closeRows(rows); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(due, []int64{2}) {
		t.Errorf("the older binary finds deliveries %v due, want only b (2): a is in flight under its token", due)
	}

	// It claims b as it used to, and dies with a and b in flight.
	bClaimedAt := olderClaimedAt.Add(time.Minute)
	for _, q := range []string{
		`UPDATE deliveries SET state = 'sending', attempts = attempts + 1, claim_token = 7, claimed_at = ` +
			strconv.FormatInt(toMicros(bClaimedAt), 10) + `, uncertain = (state = 'sending' OR uncertain = 1) WHERE id = 2`,
		`UPDATE delivery_counts SET n = n - 1 WHERE sync = 'sheet' AND state = 'pending' AND uncertain = 0`,
		`UPDATE delivery_counts SET n = n + 1 WHERE sync = 'sheet' AND state = 'sending' AND uncertain = 0`,
	} {
		if _, err := older.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	older.Close()
	if err := checkCounters(t, s); err != nil {
		t.Fatalf("after the older binary's claim: %v", err)
	}

	// b's content changes while the older binary has it in flight: the
	// old content may arrive, so b is to be delivered again after it.
	update := store.Incoming{
		Response: survey.Response{Source: "hook", Key: "b", Payload: []byte(`{"note":"changed"}`)},
		Syncs:    []string{"sheet"}, Policy: store.UpdateRedeliver,
	}
	if res, err := s.Ingest(t.Context(), []store.Incoming{update}, nil); err != nil || res[0].Planned != 1 {
		t.Fatalf("update of b in flight = %+v, %v; want 1 redelivery planned", res, err)
	}

	lease, err := s.AcquireLease(t.Context(), "sheet", "new", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := s.Claim(t.Context(), store.ClaimRequest{Sync: "sheet", Lease: lease, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("claimed %d deliveries, want a and b back from the older binary", len(ds))
	}
	for i, want := range []time.Time{olderClaimedAt, bClaimedAt} {
		d := ds[i]
		if !d.Uncertain || d.Attempts != 2 || !d.PreviousAttemptAt.Equal(want) {
			t.Errorf("%s: uncertain %v attempts %d previous %v; want uncertain, attempt 2, previous %v",
				d.Response.Key, d.Uncertain, d.Attempts, d.PreviousAttemptAt, want)
		}
	}
	if err := checkCounters(t, s); err != nil {
		t.Fatalf("after the claim: %v", err)
	}
	// Reconciled as applied: delivered, and b again with its new content.
	var outcomes []store.Outcome
	for _, d := range ds {
		outcomes = append(outcomes, store.Outcome{ID: d.ID, State: store.Delivered})
	}
	if err := s.Settle(t.Context(), lease, outcomes); err != nil {
		t.Fatal(err)
	}
	again, err := s.Claim(t.Context(), store.ClaimRequest{Sync: "sheet", Lease: lease, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].Response.Key != "b" || again[0].Version != 2 || string(again[0].Response.Payload) != `{"note":"changed"}` {
		t.Errorf("claimed %+v after settling, want b's redelivery (version 2) with the changed content", again)
	}
	if err := checkCounters(t, s); err != nil {
		t.Fatalf("after the redelivery: %v", err)
	}
}
