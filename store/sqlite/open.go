package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	// The pure-Go SQLite driver, registered as "sqlite".
	_ "modernc.org/sqlite"

	"github.com/surveysync/surveysync/store"
)

var _ store.Store = (*Store)(nil)

// Store is the SQLite ledger. It is safe for concurrent use: writes go
// through one connection (used through the C API, see rawConn), reads
// through a small read-only database/sql pool, and long scans through
// connections of their own.
type Store struct {
	path string
	// maint is a database/sql connection (a pool of one) for migrations
	// at open and maintenance at close; every write between goes through
	// writer.
	maint     *sql.DB
	writer    *rawWriter
	read      *sql.DB
	readStmts *stmtCache
	now       func() time.Time
	log       *slog.Logger
	// busyTimeout is the busy timeout of raw scan connections.
	busyTimeout time.Duration
	// scanPage overrides the page size of ScanResponses in tests.
	scanPage int

	// links are the (sync, source) pairs known to be in sync_sources.
	linksMu sync.Mutex
	links   map[[2]string]bool
}

// The file modes of the ledger: only the daemon's user may read responses.
const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// Open opens the ledger at path, creating its directory (0700) and database
// file (0600) when missing, and migrates the schema to this binary's
// version. It refuses a database written by a newer version.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	if path == "" {
		return nil, errors.New("open ledger: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	if err := prepareFiles(abs, opts.Logger); err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", abs, err)
	}

	s := &Store{path: abs, now: opts.Now, log: opts.Logger, busyTimeout: opts.BusyTimeout}
	s.maint, err = sql.Open("sqlite", dsn(abs, opts, false))
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", abs, err)
	}
	s.maint.SetMaxOpenConns(1)
	s.maint.SetMaxIdleConns(1)
	s.maint.SetConnMaxLifetime(0)
	s.maint.SetConnMaxIdleTime(0)

	if err := migrate(ctx, s.maint, s.now, s.log); err != nil {
		s.maint.Close()
		return nil, fmt.Errorf("open ledger %s: %w", abs, err)
	}
	if err := restrictSidecars(abs); err != nil {
		s.maint.Close()
		return nil, fmt.Errorf("open ledger %s: %w", abs, err)
	}

	s.read, err = sql.Open("sqlite", dsn(abs, opts, true))
	if err != nil {
		s.maint.Close()
		return nil, fmt.Errorf("open ledger %s: %w", abs, err)
	}
	s.read.SetMaxOpenConns(opts.ReadConns)
	s.read.SetMaxIdleConns(opts.ReadConns)
	s.read.SetConnMaxIdleTime(5 * time.Minute)

	s.writer, err = openWriter(abs, opts, writerQueries)
	if err != nil {
		s.read.Close()
		s.maint.Close()
		return nil, fmt.Errorf("open ledger %s: %w", abs, err)
	}
	s.readStmts, err = newStmtCache(ctx, s.read, readerQueries)
	if err != nil {
		s.writer.close()
		s.read.Close()
		s.maint.Close()
		return nil, fmt.Errorf("open ledger %s: %w", abs, err)
	}
	s.log.Debug("ledger opened", "path", abs, "synchronous", string(opts.Synchronous))
	return s, nil
}

// Close closes the ledger's connections. SQLite checkpoints the WAL into
// the database when the last connection closes.
func (s *Store) Close() error {
	var errs []error
	errs = append(errs, s.readStmts.close())
	s.writer.close()
	if _, err := s.maint.Exec("PRAGMA optimize"); err != nil {
		s.log.Debug("ledger optimize failed", "err", err)
	}
	errs = append(errs, s.read.Close(), s.maint.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close ledger: %w", err)
	}
	return nil
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// dsn builds the connection string. Every per-connection setting is in it,
// so that each connection the pool opens gets them, not just the first.
func dsn(path string, opts Options, readOnly bool) string {
	q := url.Values{}
	add := func(pragma string) { q.Add("_pragma", pragma) }
	add("busy_timeout(" + strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10) + ")")
	add("journal_mode(WAL)")
	add("synchronous(" + string(opts.Synchronous) + ")")
	add("foreign_keys(1)")
	add("temp_store(MEMORY)")
	if readOnly {
		add("cache_size(-4096)")
		add("query_only(1)")
		q.Set("_txlock", "deferred")
	} else {
		add("cache_size(-16384)")
		add("journal_size_limit(67108864)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + escapeURIPath(path) + "?" + q.Encode()
}

// escapeURIPath escapes the characters that end or change the path part of
// an SQLite URI filename.
func escapeURIPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(p))
}

// prepareFiles creates the directory and the database file with owner-only
// modes before SQLite opens them, so nothing is ever world-readable, and
// narrows an existing database file to 0600.
func prepareFiles(path string, log *slog.Logger) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return fmt.Errorf("creating directory: %w", err)
		}
		if err := os.Chmod(dir, dirMode); err != nil {
			return fmt.Errorf("creating directory: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("checking directory: %w", err)
	}
	// O_EXCL: an existing file is never opened here, because closing any
	// descriptor of a database file drops the POSIX locks this process's
	// SQLite connections hold on it.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return fmt.Errorf("creating database file: %w", err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("creating database file: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("checking database file: %w", err)
	}
	if info.Mode().Perm() != fileMode {
		log.Info("narrowing ledger file permissions", "path", path, "was", info.Mode().Perm().String())
		if err := os.Chmod(path, fileMode); err != nil {
			return fmt.Errorf("narrowing database file permissions: %w", err)
		}
	}
	return nil
}

// restrictSidecars narrows the -wal and -shm files to 0600. SQLite creates
// them with the database file's mode, so this is a safeguard for files left
// by an older run or another tool.
func restrictSidecars(path string) error {
	for _, suffix := range []string{"-wal", "-shm"} {
		info, err := os.Stat(path + suffix)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("checking %s file: %w", suffix, err)
		}
		if info.Mode().Perm() != fileMode {
			if err := os.Chmod(path+suffix, fileMode); err != nil {
				return fmt.Errorf("narrowing %s file permissions: %w", suffix, err)
			}
		}
	}
	return nil
}
