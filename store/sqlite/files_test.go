package sqlite

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// TestFileModes checks the data directory and every database file under
// the common umask 0022. It changes the process umask, so it must not run
// in parallel.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)

	dir := filepath.Join(t.TempDir(), "data", "ledger")
	path := filepath.Join(dir, "surveysync.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A write makes sure the WAL and its index exist.
	r := survey.Response{Source: "hook", Key: "a", Payload: []byte(`{}`)}
	if _, err := s.Ingest(t.Context(), []store.Incoming{{Response: r, Syncs: []string{"sheet"}}}, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{
		dir:           0o700,
		path:          0o600,
		path + "-wal": 0o600,
		path + "-shm": 0o600,
	}
	for p, mode := range want {
		info, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if got := info.Mode().Perm(); got != mode {
			t.Errorf("%s mode %v, want %v", filepath.Base(p), got, mode)
		}
	}
}

// TestExistingFileIsNarrowed checks that a database file left readable by
// others is narrowed to 0600 on open.
func TestExistingFileIsNarrowed(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ledger.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path, Options{Now: func() time.Time { return time.Unix(1e9, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mode %v, want 0600", got)
	}
}
