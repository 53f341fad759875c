package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	lib "modernc.org/sqlite/lib"

	"github.com/surveysync/surveysync/store"
)

// rawWriter is the ledger's write connection, used through SQLite's C API
// (see rawConn). SQLite runs one write transaction at a time anyway; the
// mutex queues writers in Go, as a database/sql pool of one connection
// did, which avoids read-to-write lock upgrades that busy_timeout cannot
// resolve.
type rawWriter struct {
	mu sync.Mutex
	// busyTimeout bounds how long begin waits for the write lock.
	busyTimeout time.Duration
	conn        *rawConn
	// stmts are the fixed queries, prepared when the store opens, by SQL.
	stmts map[string]*rawStmt
}

// writerPragmas are the writer's connection settings (see the package
// documentation).
func writerPragmas(opts Options) []string {
	return []string{
		"PRAGMA journal_mode = WAL",
		"PRAGMA synchronous = " + string(opts.Synchronous),
		"PRAGMA foreign_keys = 1",
		"PRAGMA temp_store = MEMORY",
		"PRAGMA cache_size = -16384",
		"PRAGMA journal_size_limit = 67108864",
	}
}

// openWriter opens the write connection and prepares queries on it, so a
// broken query fails Open rather than a later call.
func openWriter(path string, opts Options, queries []string) (*rawWriter, error) {
	conn, err := openRaw(path, writerBusyStep, writerPragmas(opts))
	if err != nil {
		return nil, err
	}
	w := &rawWriter{conn: conn, busyTimeout: opts.BusyTimeout, stmts: make(map[string]*rawStmt, len(queries))}
	for _, q := range queries {
		st, err := conn.prepare(q)
		if err != nil {
			w.close()
			return nil, err
		}
		w.stmts[q] = st
	}
	return w, nil
}

// close finalizes the statements and closes the connection.
func (w *rawWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.stmts {
		st.close()
	}
	w.stmts = nil
	if w.conn != nil {
		w.conn.close()
		w.conn = nil
	}
}

// writerBusyStep is the writer's own busy_timeout: while another process
// holds the write lock, begin tries again after each step until its
// context ends or Options.BusyTimeout passes.
const writerBusyStep = 50 * time.Millisecond

// begin starts an immediate write transaction: the write lock is taken at
// BEGIN, so a second process (a backfill beside the daemon) makes this one
// wait instead of failing halfway. The wait ends with ctx, or with
// SQLITE_BUSY after timeout. The caller holds mu.
func (w *rawWriter) begin(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := w.run(sqlBegin)
		if err == nil || !isBusy(err) {
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("waiting for the write lock: %w", ctxErr)
		}
		if time.Now().After(deadline) {
			return err
		}
	}
}

// commit commits the transaction; rollback rolls it back unless SQLite
// already did.
func (w *rawWriter) commit() error { return w.run(sqlCommit) }

func (w *rawWriter) rollback() error {
	if lib.Xsqlite3_get_autocommit(w.conn.tls, w.conn.db) != 0 {
		return nil // no transaction is open
	}
	return w.run(sqlRollback)
}

// The transaction statements, prepared at open with the other queries.
const (
	sqlBegin    = "BEGIN IMMEDIATE"
	sqlCommit   = "COMMIT"
	sqlRollback = "ROLLBACK"
)

// run runs one of the writer's prepared statements that takes no
// arguments and returns no rows.
func (w *rawWriter) run(query string) error {
	st, ok := w.stmts[query]
	if !ok {
		return w.conn.exec(query)
	}
	defer st.resetAndClear()
	for {
		more, err := st.step()
		if err != nil || !more {
			return err
		}
	}
}

// rawResult is what an exec changed.
type rawResult struct {
	changes, lastID int64
}

var _ sql.Result = rawResult{}

// LastInsertId returns the rowid of the last row inserted on the
// connection.
func (r rawResult) LastInsertId() (int64, error) { return r.lastID, nil }

// RowsAffected returns how many rows the statement changed.
func (r rawResult) RowsAffected() (int64, error) { return r.changes, nil }

// writeTx is a write transaction on the writer connection.
type writeTx struct {
	w *rawWriter
	s *Store
	// adhoc are statements prepared for this transaction alone (queries
	// built at run time), finalized when it ends.
	adhoc map[string]*rawStmt
	// counts are the changes to delivery_counts, and delivered those to
	// delivered_log, saved at commit.
	counts    map[countKey]int64
	delivered map[logKey]int64
}

// stmt returns query's statement: the one prepared at open, or one
// prepared for this transaction.
func (t *writeTx) stmt(query string) (*rawStmt, error) {
	if st, ok := t.w.stmts[query]; ok {
		return st, nil
	}
	if st, ok := t.adhoc[query]; ok {
		return st, nil
	}
	st, err := t.w.conn.prepare(query)
	if err != nil {
		return nil, err
	}
	if t.adhoc == nil {
		t.adhoc = map[string]*rawStmt{}
	}
	t.adhoc[query] = st
	return st, nil
}

// end finalizes the transaction's own statements.
func (t *writeTx) end() {
	for _, st := range t.adhoc {
		st.close()
	}
	t.adhoc = nil
}

// exec runs a statement in the transaction.
func (t *writeTx) exec(query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	// Reset first too: a statement whose rows a failed caller left open
	// in an earlier transaction would refuse new arguments.
	st.resetAndClear()
	defer st.resetAndClear()
	if err := st.bindArgs(args); err != nil {
		return nil, err
	}
	for {
		more, err := st.step()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
	}
	c := t.w.conn
	return rawResult{
		changes: lib.Xsqlite3_changes64(c.tls, c.db),
		lastID:  lib.Xsqlite3_last_insert_rowid(c.tls, c.db),
	}, nil
}

// query runs a query in the transaction. The rows must be closed before
// the same query runs again.
func (t *writeTx) query(query string, args ...any) (*rawRows, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	st.resetAndClear() // as in exec
	if err := st.bindArgs(args); err != nil {
		st.resetAndClear()
		return nil, err
	}
	return &rawRows{st: st}, nil
}

// queryRow runs a single-row query in the transaction and scans its row
// into dest; it returns sql.ErrNoRows when there is none.
func (t *writeTx) queryRow(query string, args []any, dest ...any) error {
	rows, err := t.query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	return rows.Scan(dest...)
}

// rawRows iterates over the rows of a query of a write transaction, like
// sql.Rows.
type rawRows struct {
	st     *rawStmt
	err    error
	closed bool
}

// Next advances to the next row and reports whether there is one.
func (r *rawRows) Next() bool {
	if r.closed || r.err != nil {
		return false
	}
	more, err := r.st.step()
	if err != nil {
		r.err = err
	}
	if !more {
		r.Close()
	}
	return more
}

// Err returns the error that ended the iteration, if any.
func (r *rawRows) Err() error { return r.err }

// Close ends the query.
func (r *rawRows) Close() error {
	if !r.closed {
		r.closed = true
		r.st.resetAndClear()
	}
	return nil
}

// Scan copies the columns of the current row into dest: *int64, *int,
// *bool, *float64, *string, *store.State, *[]byte or *json.RawMessage (nil
// for NULL and empty blobs), *sql.NullString or *sql.NullInt64.
func (r *rawRows) Scan(dest ...any) error {
	if r.closed {
		return errors.New("scan after the rows were closed")
	}
	st := r.st
	for i, d := range dest {
		switch v := d.(type) {
		case *int64:
			*v = st.int64(i)
		case *int:
			*v = int(st.int64(i))
		case *bool:
			*v = st.int64(i) != 0
		case *float64:
			*v = st.float64(i)
		case *string:
			*v = st.text(i)
		case *store.State:
			*v = store.State(st.text(i))
		case *[]byte:
			*v = st.blob(i)
		case *json.RawMessage:
			*v = st.blob(i)
		case *sql.NullString:
			if st.columnType(i) == lib.SQLITE_NULL {
				*v = sql.NullString{}
			} else {
				*v = sql.NullString{String: st.text(i), Valid: true}
			}
		case *sql.NullInt64:
			if st.columnType(i) == lib.SQLITE_NULL {
				*v = sql.NullInt64{}
			} else {
				*v = sql.NullInt64{Int64: st.int64(i), Valid: true}
			}
		default:
			return fmt.Errorf("scanning column %d: unsupported destination %T", i, d)
		}
	}
	return nil
}

// blob returns column i (from 0) of the current row as new bytes; nil for
// NULL and for an empty blob, as database/sql scans them.
func (s *rawStmt) blob(i int) []byte {
	if s.columnType(i) == lib.SQLITE_NULL {
		return nil
	}
	if b := s.appendBytes(nil, i); len(b) > 0 {
		return b
	}
	return nil
}
