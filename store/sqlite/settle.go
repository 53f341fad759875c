package sqlite

import (
	"context"
	"fmt"

	"github.com/surveysync/surveysync/store"
)

const (
	// sqlSettling reads what Settle needs to know of the deliveries named by
	// the outcomes, in one statement.
	sqlSettling = `SELECT id, sync, state, uncertain, stale, claim_token FROM deliveries
WHERE id IN (SELECT value FROM json_each(?1))`

	sqlSettleDelivered = `UPDATE deliveries
SET state = 'delivered', settled_at = ?3, uncertain = 0, class = '', last_error = '', ref = ?4
WHERE id = ?1 AND state = 'sending' AND claim_token = ?2`

	// sqlSettleRedeliver re-opens, as a redelivery, a delivery whose content
	// changed while it was in flight (stale), once the old content arrived.
	sqlSettleRedeliver = `UPDATE deliveries
SET state = 'pending', version = version + 1, attempts = 0, next_at = ?3, planned_at = ?3, settled_at = 0,
    stale = 0, uncertain = 0, class = '', last_error = '', ref = ?4
WHERE id = ?1 AND state = 'sending' AND claim_token = ?2`

	sqlSettleDead = `UPDATE deliveries
SET state = 'dead', stale = 0, settled_at = ?3, class = ?4, last_error = ?5,
    ref = CASE WHEN ?6 <> '' THEN ?6 ELSE ref END
WHERE id = ?1 AND state = 'sending' AND claim_token = ?2`

	// sqlSettleRetry returns a delivery to pending after a counted attempt.
	sqlSettleRetry = `UPDATE deliveries
SET state = 'pending', next_at = ?3, uncertain = ?4, stale = ?5, class = ?6, last_error = ?7,
    ref = CASE WHEN ?8 <> '' THEN ?8 ELSE ref END
WHERE id = ?1 AND state = 'sending' AND claim_token = ?2`

	// sqlSettleRelease returns a delivery to pending without counting the
	// attempt.
	sqlSettleRelease = `UPDATE deliveries
SET state = 'pending', next_at = ?3, attempts = max(attempts - 1, 0), uncertain = ?4,
    class = CASE WHEN ?5 <> '' THEN ?5 ELSE class END,
    last_error = CASE WHEN ?6 <> '' THEN ?6 ELSE last_error END
WHERE id = ?1 AND state = 'sending' AND claim_token = ?2`

	sqlSyncStatus = `INSERT INTO sync_status (sync, last_success, last_error, last_error_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (sync) DO UPDATE SET
    last_success = max(last_success, excluded.last_success),
    last_error = CASE WHEN excluded.last_error_at > 0 AND excluded.last_error_at >= last_error_at
        THEN excluded.last_error ELSE last_error END,
    last_error_at = max(last_error_at, excluded.last_error_at)`
)

// settling is a delivery named by an outcome, as Settle found it.
type settling struct {
	sync      string
	state     store.State
	uncertain bool
	stale     bool
	token     int64
}

// syncStatus is what one Settle learned about a sync.
type syncStatus struct {
	lastSuccess int64
	lastError   string
	lastErrorAt int64
}

// Settle records the outcomes of claimed deliveries in one transaction,
// only while lease is still held. Outcomes for deliveries not sending under
// the lease's token (settled already, or claimed by another) change
// nothing. See store.Store.
func (s *Store) Settle(ctx context.Context, lease store.Lease, outcomes []store.Outcome) error {
	for i, o := range outcomes {
		if err := validateOutcome(o); err != nil {
			return fmt.Errorf("settle: outcome %d (delivery %d): %w", i, o.ID, err)
		}
	}
	now := toMicros(s.now())
	err := s.inWrite(ctx, func(w *writeTx) error {
		if err := w.checkLease(lease); err != nil {
			return err
		}
		if len(outcomes) == 0 {
			return nil
		}
		found, err := w.settling(outcomes)
		if err != nil {
			return err
		}
		status := map[string]*syncStatus{}
		for _, o := range outcomes {
			d, ok := found[o.ID]
			if !ok || d.state != store.Sending || d.token != lease.Token {
				continue
			}
			delete(found, o.ID) // a second outcome for it finds it settled
			at := toMicros(o.At)
			if at == 0 {
				at = now
			}
			if err := w.settleOne(lease.Token, o, d, at); err != nil {
				return fmt.Errorf("delivery %d: %w", o.ID, err)
			}
			st := status[d.sync]
			if st == nil {
				st = &syncStatus{}
				status[d.sync] = st
			}
			switch {
			case o.State == store.Delivered:
				st.lastSuccess = max(st.lastSuccess, at)
			case !o.Release && o.Error != "" && at >= st.lastErrorAt:
				st.lastError, st.lastErrorAt = o.Error, at
			}
		}
		for sync, st := range status {
			if _, err := w.exec(sqlSyncStatus, sync, st.lastSuccess, st.lastError, st.lastErrorAt); err != nil {
				return fmt.Errorf("recording status of %s: %w", sync, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	return nil
}

// validateOutcome rejects outcomes that name no valid result.
func validateOutcome(o store.Outcome) error {
	switch o.State {
	case store.Delivered, store.Dead:
		if o.Release {
			return fmt.Errorf("release needs state %s, not %s", store.Pending, o.State)
		}
	case store.Pending:
	default:
		return fmt.Errorf("cannot settle to state %q", o.State)
	}
	return nil
}

// settling reads the deliveries the outcomes name.
func (w *writeTx) settling(outcomes []store.Outcome) (map[int64]*settling, error) {
	ids := make([]int64, len(outcomes))
	for i, o := range outcomes {
		ids[i] = o.ID
	}
	rows, err := w.query(sqlSettling, int64sJSON(ids))
	if err != nil {
		return nil, fmt.Errorf("reading deliveries: %w", err)
	}
	found := make(map[int64]*settling, len(outcomes))
	for rows.Next() {
		var id int64
		d := &settling{}
		if err := rows.Scan(&id, &d.sync, &d.state, &d.uncertain, &d.stale, &d.token); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading deliveries: %w", err)
		}
		found[id] = d
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("reading deliveries: %w", err)
	}
	return found, nil
}

// settleOne applies one outcome to a delivery sending under token.
func (w *writeTx) settleOne(token int64, o store.Outcome, d *settling, at int64) error {
	nextAt := toMicros(o.NextAt)
	if nextAt == 0 {
		nextAt = at
	}
	var (
		query     string
		args      []any
		state     store.State
		uncertain bool
	)
	switch {
	case o.State == store.Delivered && d.stale:
		// The old content may have arrived; deliver the new one too.
		query, args, state = sqlSettleRedeliver, []any{o.ID, token, at, o.Ref}, store.Pending
	case o.State == store.Delivered:
		query, args, state = sqlSettleDelivered, []any{o.ID, token, at, o.Ref}, store.Delivered
	case o.State == store.Dead:
		query, args, state, uncertain = sqlSettleDead, []any{o.ID, token, at, o.Class, o.Error, o.Ref}, store.Dead, d.uncertain
	case o.Release:
		// Not attempted: it stays as uncertain as it was.
		uncertain = d.uncertain || o.Uncertain
		query, args, state = sqlSettleRelease, []any{o.ID, token, nextAt, boolInt(uncertain), o.Class, o.Error}, store.Pending
	default:
		// A certain failure clears stale: the next attempt sends the
		// latest content anyway.
		uncertain = o.Uncertain
		query, args, state = sqlSettleRetry, []any{o.ID, token, nextAt, boolInt(uncertain), boolInt(d.stale && uncertain), o.Class, o.Error, o.Ref}, store.Pending
	}
	res, err := w.exec(query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("settling changed %d rows (%v), want 1", n, err)
	}
	w.move(d.sync, store.Sending, d.uncertain, state, uncertain)
	return nil
}
