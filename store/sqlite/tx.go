package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// writeTx is a write transaction on the writer connection, with the
// store's prepared statements bound to it on first use.
type writeTx struct {
	ctx   context.Context
	tx    *sql.Tx
	s     *Store
	bound map[*sql.Stmt]*sql.Stmt
}

// stmt returns the prepared statement p bound to the transaction.
func (w *writeTx) stmt(p *sql.Stmt) *sql.Stmt {
	if b, ok := w.bound[p]; ok {
		return b
	}
	if w.bound == nil {
		w.bound = make(map[*sql.Stmt]*sql.Stmt, 8)
	}
	b := w.tx.StmtContext(w.ctx, p)
	w.bound[p] = b
	return b
}

// exec runs a prepared statement in the transaction.
func (w *writeTx) exec(p *sql.Stmt, args ...any) (sql.Result, error) {
	return w.stmt(p).ExecContext(w.ctx, args...)
}

// query runs a prepared query in the transaction.
func (w *writeTx) query(p *sql.Stmt, args ...any) (*sql.Rows, error) {
	return w.stmt(p).QueryContext(w.ctx, args...)
}

// queryRow runs a prepared single-row query in the transaction.
func (w *writeTx) queryRow(p *sql.Stmt, args ...any) *sql.Row {
	return w.stmt(p).QueryRowContext(w.ctx, args...)
}

// inWrite runs fn in one immediate write transaction and commits it, or
// rolls it back when fn fails.
func (s *Store) inWrite(ctx context.Context, fn func(w *writeTx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning write: %w", err)
	}
	w := &writeTx{ctx: ctx, tx: tx, s: s}
	if err := fn(w); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			s.log.Warn("ledger rollback failed", "err", rbErr)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// inRead runs fn in one read transaction on the read pool, so that what it
// reads is one consistent snapshot.
func (s *Store) inRead(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("beginning read: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}
