package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// connSettings are the per-connection settings the ledger relies on.
type connSettings struct {
	JournalMode string
	Synchronous int
	BusyTimeout int
	ForeignKeys int
	QueryOnly   int
}

// readSettings reads the settings of one connection.
func readSettings(t *testing.T, conn *sql.Conn) connSettings {
	t.Helper()
	var s connSettings
	for _, p := range []struct {
		pragma string
		dst    any
	}{
		{"journal_mode", &s.JournalMode},
		{"synchronous", &s.Synchronous},
		{"busy_timeout", &s.BusyTimeout},
		{"foreign_keys", &s.ForeignKeys},
		{"query_only", &s.QueryOnly},
	} {
		if err := conn.QueryRowContext(t.Context(), "PRAGMA "+p.pragma).Scan(p.dst); err != nil {
			t.Fatalf("PRAGMA %s: %v", p.pragma, err)
		}
	}
	s.JournalMode = strings.ToLower(s.JournalMode)
	return s
}

// TestPragmasOnEveryConnection checks every connection of both pools, held
// at once so that each is a different connection.
func TestPragmasOnEveryConnection(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		opts        Options
		synchronous int
	}{
		{"default is FULL", Options{ReadConns: 3}, 2},
		{"NORMAL when asked", Options{ReadConns: 3, Synchronous: SyncNormal}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			check := func(pool string, db *sql.DB, n int, want connSettings) {
				conns := make([]*sql.Conn, n)
				for i := range conns {
					c, err := db.Conn(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					conns[i] = c
				}
				for i, c := range conns {
					got := readSettings(t, c)
					if got.BusyTimeout < 5000 {
						t.Errorf("%s connection %d: busy_timeout %d, want at least 5000", pool, i, got.BusyTimeout)
					}
					got.BusyTimeout = 0
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%s connection %d (-want +got):\n%s", pool, i, diff)
					}
				}
				for _, c := range conns {
					c.Close()
				}
			}
			check("maintenance", s.maint, 1, connSettings{JournalMode: "wal", Synchronous: tc.synchronous, ForeignKeys: 1})
			err = s.inWrite(t.Context(), func(w *writeTx) error {
				var got connSettings
				for _, p := range []struct {
					pragma string
					dst    any
				}{
					{"journal_mode", &got.JournalMode},
					{"synchronous", &got.Synchronous},
					{"busy_timeout", &got.BusyTimeout},
					{"foreign_keys", &got.ForeignKeys},
					{"query_only", &got.QueryOnly},
				} {
					if err := w.queryRow("PRAGMA "+p.pragma, nil, p.dst); err != nil {
						return err
					}
				}
				// The writer waits in steps, checking its context between
				// them (see TestWriteLockWaitEndsWithContext).
				if want := int(writerBusyStep.Milliseconds()); got.BusyTimeout != want {
					t.Errorf("writer: busy_timeout %d, want %d", got.BusyTimeout, want)
				}
				got.BusyTimeout = 0
				got.JournalMode = strings.ToLower(got.JournalMode)
				if diff := cmp.Diff(connSettings{JournalMode: "wal", Synchronous: tc.synchronous, ForeignKeys: 1}, got); diff != "" {
					t.Errorf("writer (-want +got):\n%s", diff)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			check("reader", s.read, 3, connSettings{JournalMode: "wal", Synchronous: tc.synchronous, ForeignKeys: 1, QueryOnly: 1})
		})
	}
}

// TestWritesBeginImmediate checks that a write transaction takes the write
// lock at BEGIN, so that writers queue in the busy handler instead of
// failing when a read transaction would upgrade to a write.
func TestWritesBeginImmediate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Hold a ledger write transaction open while another connection tries
	// to take the write lock.
	inTx, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.inWrite(context.Background(), func(*writeTx) error {
			close(inTx)
			<-release
			return errors.New("rolled back on purpose")
		})
	}()
	<-inTx
	defer func() {
		close(release)
		<-done
	}()

	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.ExecContext(t.Context(), "BEGIN IMMEDIATE")
	if err == nil {
		conn.ExecContext(context.Background(), "ROLLBACK")
		t.Fatal("another connection took the write lock while a ledger write transaction was open: writes do not BEGIN IMMEDIATE")
	}
	if !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "busy") {
		t.Fatalf("BEGIN IMMEDIATE on another connection: %v, want SQLITE_BUSY", err)
	}
	// Readers are not blocked by the writer.
	if _, err := s.Stats(t.Context(), s.now()); err != nil {
		t.Errorf("Stats during a write transaction: %v", err)
	}
}

// TestWriteLockWaitEndsWithContext checks that a write waiting for the
// write lock another process holds ends when its context does, and that a
// write waits for the lock rather than failing while it is held briefly.
func TestWriteLockWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lock := func() {
		t.Helper()
		if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
	}
	incoming := []store.Incoming{{Response: survey.Response{Source: "hook", Key: "a", Payload: []byte(`{}`)}, Syncs: []string{"sheet"}}}

	lock()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Ingest(ctx, incoming, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Ingest while another process holds the write lock = %v, want the context's error", err)
	}

	// Released while the write waits: the write goes through.
	release := time.AfterFunc(100*time.Millisecond, func() { conn.ExecContext(context.Background(), "ROLLBACK") })
	defer release.Stop()
	if _, err := s.Ingest(t.Context(), incoming, nil); err != nil {
		t.Errorf("Ingest after the lock was released: %v", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	t.Parallel()
	for _, opts := range []Options{
		{Synchronous: "OFF"},
		{ReadConns: -1},
		{BusyTimeout: 1},
	} {
		_, err := Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"), opts)
		if err == nil {
			t.Errorf("Open with %+v succeeded, want an error", opts)
		}
	}
	if _, err := Open(t.Context(), "", Options{}); err == nil {
		t.Error("Open with an empty path succeeded")
	}
}
