package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/surveysync/surveysync/store"
)

// boundTx is a transaction whose statements come from a stmtCache, bound
// to the transaction on first use.
type boundTx struct {
	ctx   context.Context
	tx    *sql.Tx
	cache *stmtCache
	bound map[string]*sql.Stmt
}

// stmt returns query's statement bound to the transaction: the one
// prepared at open, or one prepared for this transaction alone. (Preparing
// on the pool here could wait for the connection this transaction holds.)
func (b *boundTx) stmt(query string) (*sql.Stmt, error) {
	if s, ok := b.bound[query]; ok {
		return s, nil
	}
	var s *sql.Stmt
	if p, ok := b.cache.get(query); ok {
		s = b.tx.StmtContext(b.ctx, p)
	} else {
		var err error
		if s, err = b.tx.PrepareContext(b.ctx, query); err != nil {
			return nil, err
		}
	}
	if b.bound == nil {
		b.bound = make(map[string]*sql.Stmt, 8)
	}
	b.bound[query] = s
	return s, nil
}

// exec runs a statement in the transaction.
func (b *boundTx) exec(query string, args ...any) (sql.Result, error) {
	s, err := b.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(b.ctx, args...)
}

// query runs a query in the transaction.
func (b *boundTx) query(query string, args ...any) (*sql.Rows, error) {
	s, err := b.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(b.ctx, args...)
}

// queryRow runs a single-row query in the transaction and scans its row
// into dest; it returns sql.ErrNoRows when there is none.
func (b *boundTx) queryRow(query string, args []any, dest ...any) error {
	s, err := b.stmt(query)
	if err != nil {
		return err
	}
	return s.QueryRowContext(b.ctx, args...).Scan(dest...)
}

// countKey is one row of delivery_counts.
type countKey struct {
	sync      string
	state     store.State
	uncertain bool
}

// logKey is one row of delivered_log.
type logKey struct {
	sync      string
	settledAt int64
}

// sqlAddDelivered adds to one row of delivered_log; sqlDropDelivered
// removes it once it counts nothing.
const (
	sqlAddDelivered = `INSERT INTO delivered_log (sync, settled_at, n) VALUES (?1, ?2, ?3)
ON CONFLICT (sync, settled_at) DO UPDATE SET n = n + excluded.n`
	sqlDropDelivered = `DELETE FROM delivered_log WHERE sync = ?1 AND settled_at = ?2 AND n <= 0`
)

// logDelivered records that n deliveries of sync became delivered at
// settledAt, or, with a negative n, stopped being delivered.
func (w *writeTx) logDelivered(sync string, settledAt, n int64) {
	if w.delivered == nil {
		w.delivered = make(map[logKey]int64, 2)
	}
	w.delivered[logKey{sync, settledAt}] += n
}

// sqlAddCount adds to one delivery count.
const sqlAddCount = `INSERT INTO delivery_counts (sync, state, uncertain, n) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (sync, state, uncertain) DO UPDATE SET n = n + excluded.n`

// move records that a delivery of sync went from one state to another; an
// empty from records a new delivery.
func (w *writeTx) move(sync string, from store.State, fromUncertain bool, to store.State, toUncertain bool) {
	if from == to && fromUncertain == toUncertain {
		return
	}
	if w.counts == nil {
		w.counts = make(map[countKey]int64, 4)
	}
	if from != "" {
		w.counts[countKey{sync, from, fromUncertain}]--
	}
	w.counts[countKey{sync, to, toUncertain}]++
}

// saveCounts adds the recorded moves to delivery_counts.
func (w *writeTx) saveCounts() error {
	for k, n := range w.counts {
		if n == 0 {
			continue
		}
		if _, err := w.exec(sqlAddCount, k.sync, string(k.state), boolInt(k.uncertain), n); err != nil {
			return fmt.Errorf("counting deliveries of %s: %w", k.sync, err)
		}
	}
	for k, n := range w.delivered {
		if n == 0 {
			continue
		}
		if _, err := w.exec(sqlAddDelivered, k.sync, k.settledAt, n); err != nil {
			return fmt.Errorf("logging deliveries of %s: %w", k.sync, err)
		}
		if n < 0 {
			if _, err := w.exec(sqlDropDelivered, k.sync, k.settledAt); err != nil {
				return fmt.Errorf("logging deliveries of %s: %w", k.sync, err)
			}
		}
	}
	return nil
}

// readTx is a read transaction on the read pool.
type readTx struct {
	boundTx
}

// inWrite runs fn in one immediate write transaction on the writer and
// commits it, or rolls it back when fn fails. The context ends a wait for
// the write lock held by another process and is checked before commit
// (statements do not watch it: they are short); cancelling it still rolls
// the transaction back.
func (s *Store) inWrite(ctx context.Context, fn func(w *writeTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.writer.mu.Lock()
	defer s.writer.mu.Unlock()
	if s.writer.conn == nil {
		return errors.New("ledger is closed")
	}
	if err := s.writer.begin(ctx, s.writer.busyTimeout); err != nil {
		return fmt.Errorf("beginning write: %w", err)
	}
	w := &writeTx{w: s.writer, s: s}
	defer w.end()
	err := fn(w)
	if err == nil {
		err = w.saveCounts()
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		if rbErr := s.writer.rollback(); rbErr != nil {
			s.log.Warn("ledger rollback failed", "err", rbErr)
		}
		return err
	}
	if err := s.writer.commit(); err != nil {
		if rbErr := s.writer.rollback(); rbErr != nil {
			s.log.Warn("ledger rollback failed", "err", rbErr)
		}
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// inRead runs fn in one read transaction on the read pool, so that what it
// reads is one consistent snapshot.
func (s *Store) inRead(ctx context.Context, fn func(r *readTx) error) error {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("beginning read: %w", err)
	}
	defer tx.Rollback()
	return fn(&readTx{boundTx: boundTx{ctx: ctx, tx: tx, cache: s.readStmts}})
}
