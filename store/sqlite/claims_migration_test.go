package sqlite

import (
	"database/sql"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/surveysync/surveysync/store"
)

// TestSendingRowsBecomeClaims upgrades a ledger whose deliveries were left
// sending by a binary from before claims (schema 3): the next holder must
// take them back as uncertain, at the attempt count and previous attempt
// time they had, and the counts must stay right.
func TestSendingRowsBecomeClaims(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	if err := prepareFiles(path, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, Options{BusyTimeout: time.Second, Synchronous: SyncFull}, false))
	if err != nil {
		t.Fatal(err)
	}
	migrations, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if err := applyMigrations(t.Context(), db, migrations[:3], time.Now, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	claimedAt := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO responses (id, source, key, hash, submitted_at, received_at, updated_at, payload) VALUES
            (1, 'hook', 'a', 'h', 0, 0, 0, '{}'), (2, 'hook', 'b', 'h', 0, 0, 0, '{}')`,
		// a was claimed (attempt 1) under token 7 by the old binary; b waits.
		`INSERT INTO deliveries (sync, response_id, state, attempts, next_at, planned_at, claim_token, claimed_at) VALUES
            ('sheet', 1, 'sending', 1, 0, 0, 7, ` + strconv.FormatInt(toMicros(claimedAt), 10) + `),
            ('sheet', 2, 'pending', 0, 0, 0, 0, 0)`,
		`INSERT INTO delivery_counts (sync, state, uncertain, n) VALUES ('sheet', 'sending', 0, 1), ('sheet', 'pending', 0, 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(t.Context(), path, Options{Now: func() time.Time { return claimedAt.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := checkCounters(t, s); err != nil {
		t.Fatalf("after the migration: %v", err)
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
		t.Fatalf("claimed %d deliveries, want a and b", len(ds))
	}
	a, b := ds[0], ds[1]
	if a.Response.Key != "a" || !a.Uncertain || a.Attempts != 2 || !a.PreviousAttemptAt.Equal(claimedAt) {
		t.Errorf("a = %s uncertain %v attempts %d previous %v; want uncertain, attempt 2, previous %v",
			a.Response.Key, a.Uncertain, a.Attempts, a.PreviousAttemptAt, claimedAt)
	}
	if b.Response.Key != "b" || b.Uncertain || b.Attempts != 1 {
		t.Errorf("b = %s uncertain %v attempts %d; want certain, attempt 1", b.Response.Key, b.Uncertain, b.Attempts)
	}
	if err := checkCounters(t, s); err != nil {
		t.Fatalf("after the claim: %v", err)
	}
}
