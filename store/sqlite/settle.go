package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/surveysync/surveysync/store"
)

const (
	// sqlSettling reads what Settle needs to know of the deliveries named by
	// the outcomes, in one statement.
	sqlSettling = `SELECT id, sync, state, uncertain, stale, claim_token FROM deliveries
WHERE id IN (SELECT value FROM json_each(?1))`

	// sqlSettle applies a whole batch of outcomes in one statement. Each
	// element of ?2 is [id, state, next_at, planned_at, settled_at,
	// uncertain, stale, version increment, attempts rule, class, error,
	// ref]; a null keeps the column as it is. The attempts rule is 0 to
	// keep the count, 1 to reset it (a redelivery) and 2 to take back the
	// claim's attempt (a release). A delivery is never due before it was
	// planned, which the deliveries_retrying index relies on.
	sqlSettle = `UPDATE deliveries SET
    state = j.value ->> 1,
    next_at = max(coalesce(j.value ->> 2, next_at), planned_at),
    planned_at = coalesce(j.value ->> 3, planned_at),
    settled_at = coalesce(j.value ->> 4, settled_at),
    uncertain = j.value ->> 5,
    stale = j.value ->> 6,
    version = version + (j.value ->> 7),
    attempts = CASE j.value ->> 8 WHEN 1 THEN 0 WHEN 2 THEN max(attempts - 1, 0) ELSE attempts END,
    class = coalesce(j.value ->> 9, class),
    last_error = coalesce(j.value ->> 10, last_error),
    ref = coalesce(j.value ->> 11, ref)
FROM json_each(?2) AS j
WHERE deliveries.id = j.value ->> 0 AND deliveries.state = 'sending' AND deliveries.claim_token = ?1`

	sqlSyncStatus = `INSERT INTO sync_status (sync, last_success, last_error, last_error_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (sync) DO UPDATE SET
    last_success = max(last_success, excluded.last_success),
    last_error = CASE WHEN excluded.last_error_at > 0 AND excluded.last_error_at >= last_error_at
        THEN excluded.last_error ELSE last_error END,
    last_error_at = max(last_error_at, excluded.last_error_at)`
)

// The attempts rules of sqlSettle.
const (
	keepAttempts  = 0
	resetAttempts = 1
	takeAttempt   = 2
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
		changes := make([][]any, 0, len(outcomes))
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
			change, state, uncertain := settleChange(o, d, at)
			changes = append(changes, change)
			w.move(d.sync, store.Sending, d.uncertain, state, uncertain)

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
		if len(changes) == 0 {
			return nil
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(changes); err != nil {
			return fmt.Errorf("encoding outcomes: %w", err)
		}
		res, err := w.exec(sqlSettle, lease.Token, buf.String())
		if err != nil {
			return fmt.Errorf("recording outcomes: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(len(changes)) {
			return fmt.Errorf("recording outcomes: changed %d deliveries (%v), want %d", n, err, len(changes))
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

// settleChange turns an outcome for delivery d into one element of
// sqlSettle's batch, and says which state and uncertainty it leaves d in.
func settleChange(o store.Outcome, d *settling, at int64) (change []any, state store.State, uncertain bool) {
	// nullable keeps a column when s is empty.
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	nextAt := toMicros(o.NextAt)
	if nextAt == 0 {
		nextAt = at
	}
	switch {
	case o.State == store.Delivered && d.stale:
		// The content changed while this attempt was in flight: the old
		// content arrived, so deliver the new one as a redelivery.
		return []any{o.ID, store.Pending, at, at, 0, 0, 0, 1, resetAttempts, "", "", o.Ref}, store.Pending, false
	case o.State == store.Delivered:
		return []any{o.ID, store.Delivered, nil, nil, at, 0, 0, 0, keepAttempts, "", "", o.Ref}, store.Delivered, false
	case o.State == store.Dead:
		return []any{o.ID, store.Dead, nil, nil, at, boolInt(d.uncertain), 0, 0, keepAttempts, o.Class, o.Error, nullable(o.Ref)},
			store.Dead, d.uncertain
	case o.Release:
		// Not attempted: it stays as uncertain as it was, and stale too.
		uncertain = d.uncertain || o.Uncertain
		return []any{o.ID, store.Pending, nextAt, nil, nil, boolInt(uncertain), boolInt(d.stale), 0, takeAttempt,
			nullable(o.Class), nullable(o.Error), nil}, store.Pending, uncertain
	default:
		// A certain failure clears stale: the next attempt sends the latest
		// content anyway.
		return []any{o.ID, store.Pending, nextAt, nil, nil, boolInt(o.Uncertain), boolInt(d.stale && o.Uncertain), 0, keepAttempts,
			o.Class, o.Error, nullable(o.Ref)}, store.Pending, o.Uncertain
	}
}
