package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds the schema migrations, named NNNN_what.sql and
// applied in order, each in its own transaction.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations and checks that their
// versions run 1, 2, 3… without gaps.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	var out []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version < 1 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version and an underscore", base)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", base, err)
		}
		out = append(out, migration{version: version, name: strings.TrimSuffix(base, ".sql"), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return out, nil
}

// migrate brings the schema up to date. Each migration runs in its own
// immediate transaction that re-reads the current version first, so two
// processes opening the same file at once apply each migration once.
func migrate(ctx context.Context, db *sql.DB, now func() time.Time, log *slog.Logger) error {
	migrations, err := loadMigrations(migrationFiles)
	if err != nil {
		return err
	}
	return applyMigrations(ctx, db, migrations, now, log)
}

// applyMigrations applies the migrations the database does not have yet.
func applyMigrations(ctx context.Context, db *sql.DB, migrations []migration, now func() time.Time, log *slog.Logger) error {
	const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
)`
	if _, err := db.ExecContext(ctx, createTable); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	latest := len(migrations)
	for _, m := range migrations {
		applied, err := applyMigration(ctx, db, m, latest, now)
		if err != nil {
			return err
		}
		if applied {
			log.Info("ledger schema migrated", "version", m.version, "migration", m.name)
		}
	}
	// A database with no migration pending is still checked for being
	// newer than this binary.
	_, err := applyMigration(ctx, db, migration{version: latest}, latest, now)
	return err
}

// applyMigration applies m unless the database already has it, and reports
// whether it did.
func applyMigration(ctx context.Context, db *sql.DB, m migration, latest int, now func() time.Time) (applied bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrating schema: %w", err)
	}
	defer func() {
		if !applied {
			tx.Rollback()
		}
	}()
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return false, fmt.Errorf("reading schema version: %w", err)
	}
	if current > latest {
		return false, fmt.Errorf("database schema version %d is newer than this binary's %d: upgrade surveysync", current, latest)
	}
	if current >= m.version {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("applying migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, toMicros(now())); err != nil {
		return false, fmt.Errorf("recording migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("committing migration %s: %w", m.name, err)
	}
	return true, nil
}
