package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/surveysync/surveysync/store"
)

const (
	// sqlSettleDelivered marks a delivery delivered, or re-opens it as a
	// redelivery when its content changed while it was in flight.
	sqlSettleDelivered = `UPDATE deliveries
SET state = CASE stale WHEN 1 THEN 'pending' ELSE 'delivered' END,
    version = version + stale,
    attempts = CASE stale WHEN 1 THEN 0 ELSE attempts END,
    next_at = CASE stale WHEN 1 THEN ?3 ELSE next_at END,
    planned_at = CASE stale WHEN 1 THEN ?3 ELSE planned_at END,
    settled_at = CASE stale WHEN 1 THEN 0 ELSE ?3 END,
    stale = 0, uncertain = 0, class = '', last_error = '', ref = ?4
WHERE id = ?1 AND state = 'sending' AND claim_token = ?2
RETURNING sync`

	sqlSettleDead = `UPDATE deliveries
SET state = 'dead', stale = 0, settled_at = ?3, class = ?4, last_error = ?5,
    ref = CASE WHEN ?6 <> '' THEN ?6 ELSE ref END
WHERE id = ?1 AND state = 'sending' AND claim_token = ?2
RETURNING sync`

	// sqlSettleRetry returns a delivery to pending after a counted
	// attempt. A certain failure also clears stale: the next attempt sends
	// the latest content anyway.
	sqlSettleRetry = `UPDATE deliveries
SET state = 'pending', next_at = ?3, uncertain = ?4, stale = stale * ?4, class = ?5, last_error = ?6,
    ref = CASE WHEN ?7 <> '' THEN ?7 ELSE ref END
WHERE id = ?1 AND state = 'sending' AND claim_token = ?2
RETURNING sync`

	// sqlSettleRelease returns a delivery to pending without counting the
	// attempt; it stays uncertain if it was.
	sqlSettleRelease = `UPDATE deliveries
SET state = 'pending', next_at = ?3, attempts = max(attempts - 1, 0), uncertain = max(uncertain, ?4),
    class = CASE WHEN ?5 <> '' THEN ?5 ELSE class END,
    last_error = CASE WHEN ?6 <> '' THEN ?6 ELSE last_error END
WHERE id = ?1 AND state = 'sending' AND claim_token = ?2
RETURNING sync`

	sqlSyncStatus = `INSERT INTO sync_status (sync, last_success, last_error, last_error_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (sync) DO UPDATE SET
    last_success = max(last_success, excluded.last_success),
    last_error = CASE WHEN excluded.last_error_at > 0 AND excluded.last_error_at >= last_error_at
        THEN excluded.last_error ELSE last_error END,
    last_error_at = max(last_error_at, excluded.last_error_at)`
)

// syncStatus is what one Settle learned about a sync.
type syncStatus struct {
	lastSuccess int64
	lastError   string
	lastErrorAt int64
}

// Settle records the outcomes of claimed deliveries in one transaction,
// only while lease is still held. See store.Store.
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
		status := map[string]*syncStatus{}
		for _, o := range outcomes {
			sync, err := w.settleOne(lease.Token, o, now)
			if errors.Is(err, sql.ErrNoRows) {
				// Not sending under this token (settled already, or
				// never claimed by it): nothing to record.
				continue
			}
			if err != nil {
				return fmt.Errorf("delivery %d: %w", o.ID, err)
			}
			st := status[sync]
			if st == nil {
				st = &syncStatus{}
				status[sync] = st
			}
			at := toMicros(o.At)
			if at == 0 {
				at = now
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

// settleOne applies one outcome and returns the delivery's sync, or
// sql.ErrNoRows when the delivery is not sending under token.
func (w *writeTx) settleOne(token int64, o store.Outcome, now int64) (string, error) {
	at := toMicros(o.At)
	if at == 0 {
		at = now
	}
	nextAt := toMicros(o.NextAt)
	if nextAt == 0 {
		nextAt = at
	}
	var query string
	var args []any
	switch {
	case o.State == store.Delivered:
		query, args = sqlSettleDelivered, []any{o.ID, token, at, o.Ref}
	case o.State == store.Dead:
		query, args = sqlSettleDead, []any{o.ID, token, at, o.Class, o.Error, o.Ref}
	case o.Release:
		query, args = sqlSettleRelease, []any{o.ID, token, nextAt, boolInt(o.Uncertain), o.Class, o.Error}
	default:
		query, args = sqlSettleRetry, []any{o.ID, token, nextAt, boolInt(o.Uncertain), o.Class, o.Error, o.Ref}
	}
	var sync string
	err := w.queryRow(query, args, &sync)
	return sync, err
}
