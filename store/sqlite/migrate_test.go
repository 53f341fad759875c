package sqlite

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestMigrationsAreIdempotent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	first, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A second store on the same file (a backfill beside the daemon) and a
	// reopen after close both find the schema current.
	second, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatalf("second open: %v", err)
	}
	second.Close()
	first.Close()
	third, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer third.Close()
	migrations, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	var rows, latest int
	if err := third.read.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&rows, &latest); err != nil {
		t.Fatal(err)
	}
	if rows != len(migrations) || latest != len(migrations) {
		t.Errorf("schema_migrations has %d rows up to version %d, want %d", rows, latest, len(migrations))
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.maint.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(t.Context(), path, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: err = %v, want a refusal naming the newer version", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	file := func(body string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(body)} }
	cases := []struct {
		name    string
		fsys    fstest.MapFS
		want    []string
		wantErr string
	}{
		{"in order", fstest.MapFS{"migrations/0002_b.sql": file("B"), "migrations/0001_a.sql": file("A")}, []string{"0001_a", "0002_b"}, ""},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": file("A"), "migrations/0003_c.sql": file("C")}, nil, "expected version 2"},
		{"bad name", fstest.MapFS{"migrations/first.sql": file("A")}, nil, "positive version"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := loadMigrations(tc.fsys)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, m := range got {
				names = append(names, m.name)
			}
			if strings.Join(names, ",") != strings.Join(tc.want, ",") {
				t.Errorf("migrations %v, want %v", names, tc.want)
			}
		})
	}
}

// TestFailedMigrationChangesNothing applies a migration that fails halfway:
// its transaction rolls back, so the schema stays at the last good version.
func TestFailedMigrationChangesNothing(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	migrations, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	broken := migration{version: len(migrations) + 1, name: "broken", sql: `CREATE TABLE extra (x); INSERT INTO no_such_table VALUES (1);`}
	err = applyMigrations(t.Context(), s.maint, append(migrations, broken), time.Now, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("broken migration applied")
	}
	var n int
	if err := s.maint.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'extra'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	var version int
	if err := s.maint.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if n != 0 || version != len(migrations) {
		t.Errorf("after a failed migration: table extra exists %v, version %d; want neither changed", n == 1, version)
	}
}
