package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// defaultStaleAfter is ClaimRequest.StaleAfter's default.
const defaultStaleAfter = 10 * time.Minute

const (
	sqlCheckLease = `SELECT 1 FROM leases WHERE name = ?1 AND holder = ?2 AND token = ?3 AND expires_at > ?4`

	// sqlClaimable picks, oldest due first, deliveries left sending under
	// another token or stale under this one and due pending ones, with
	// their responses. Each branch is limited on its own range of
	// deliveries_active, so nothing ever sorts more than twice the limit,
	// however long the backlog. (The IN term, the index's own condition,
	// lets SQLite see that the partial index applies.)
	sqlClaimable = `SELECT d.id, d.state, d.uncertain, d.version, d.attempts, d.claimed_at,
    r.source, r.key, r.submitted_at, r.payload, r.version
FROM (
    SELECT id, next_at FROM (
        SELECT id, next_at FROM deliveries
        WHERE state IN ('pending', 'sending') AND state = 'sending' AND sync = ?1 AND (claim_token <> ?2 OR claimed_at <= ?3)
        ORDER BY next_at, id LIMIT ?5)
    UNION ALL
    SELECT id, next_at FROM (
        SELECT id, next_at FROM deliveries
        WHERE state IN ('pending', 'sending') AND state = 'pending' AND sync = ?1 AND next_at <= ?4
        ORDER BY next_at, id LIMIT ?5)
    ORDER BY next_at, id LIMIT ?5
) AS pick
JOIN deliveries d ON d.id = pick.id
JOIN responses r ON r.id = d.response_id
ORDER BY pick.next_at, pick.id`

	// sqlAnyReclaimable finds whether any delivery of the sync was left
	// sending under another token or is stale under this one.
	sqlAnyReclaimable = `SELECT 1 FROM deliveries
WHERE state IN ('pending', 'sending') AND state = 'sending' AND sync = ?1 AND (claim_token <> ?2 OR claimed_at <= ?3)
LIMIT 1`

	// sqlClaimableDue is sqlClaimable when nothing is left to reclaim (the
	// usual case): due pending deliveries straight off the index, in its
	// order, with no union to sort.
	sqlClaimableDue = `SELECT d.id, d.state, d.uncertain, d.version, d.attempts, d.claimed_at,
    r.source, r.key, r.submitted_at, r.payload, r.version
FROM deliveries d
JOIN responses r ON r.id = d.response_id
WHERE d.state IN ('pending', 'sending') AND d.state = 'pending' AND d.sync = ?1 AND d.next_at <= ?4
ORDER BY d.next_at, d.id LIMIT ?5`

	// sqlMarkSending marks the picked deliveries as sent under the token;
	// those that were sending already become uncertain.
	sqlMarkSending = `UPDATE deliveries
SET state = 'sending', attempts = attempts + 1, claim_token = ?1, claimed_at = ?2,
    uncertain = (state = 'sending' OR uncertain = 1)
WHERE id IN (SELECT value FROM json_each(?3))`
)

// Claim marks up to req.Limit deliveries of req.Sync as sending under
// req.Lease and returns them, oldest due first. It fails with
// store.ErrLeaseLost, claiming nothing, when the lease is no longer held.
// See store.Store.
func (s *Store) Claim(ctx context.Context, req store.ClaimRequest) ([]store.Delivery, error) {
	switch {
	case req.Sync == "":
		return nil, errors.New("claim: no sync")
	case req.Limit <= 0:
		return nil, fmt.Errorf("claim %s: limit %d must be positive", req.Sync, req.Limit)
	}
	now := req.Now
	if now.IsZero() {
		now = s.now()
	}
	staleAfter := req.StaleAfter
	if staleAfter <= 0 {
		staleAfter = defaultStaleAfter
	}
	nowUS := toMicros(now)

	var out []store.Delivery
	err := s.inWrite(ctx, func(w *writeTx) error {
		if err := w.checkLease(req.Lease); err != nil {
			return err
		}
		stale := toMicros(now.Add(-staleAfter))
		query := sqlClaimable
		var one int
		switch err := w.queryRow(sqlAnyReclaimable, []any{req.Sync, req.Lease.Token, stale}, &one); {
		case errors.Is(err, sql.ErrNoRows):
			query = sqlClaimableDue
		case err != nil:
			return fmt.Errorf("claiming: %w", err)
		}
		rows, err := w.query(query, req.Sync, req.Lease.Token, stale, nowUS, req.Limit)
		if err != nil {
			return fmt.Errorf("claiming: %w", err)
		}
		ids := make([]int64, 0, req.Limit)
		for rows.Next() {
			d := store.Delivery{Sync: req.Sync}
			var (
				state     store.State
				submitted int64
				payload   []byte
				claimedAt sql.NullInt64
			)
			if err := rows.Scan(&d.ID, &state, &d.Uncertain, &d.Version, &d.Attempts, &claimedAt,
				&d.Response.Source, &d.Response.Key, &submitted, &payload, &d.ResponseVersion); err != nil {
				rows.Close()
				return fmt.Errorf("claiming: %w", err)
			}
			wasUncertain := d.Uncertain
			d.Attempts++
			d.Uncertain = wasUncertain || state == store.Sending
			if claimedAt.Valid && claimedAt.Int64 > 0 {
				d.PreviousAttemptAt = fromMicros(claimedAt.Int64)
			}
			d.Response.SubmittedAt = fromMicros(submitted)
			d.Response.Payload = payload
			d.Key = survey.DeliveryKey(d.Sync, d.Response.Source, d.Response.Key, d.Version)
			w.move(req.Sync, state, wasUncertain, store.Sending, d.Uncertain)
			out = append(out, d)
			ids = append(ids, d.ID)
		}
		if err := closeRows(rows); err != nil {
			return fmt.Errorf("claiming: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := w.exec(sqlMarkSending, req.Lease.Token, nowUS, int64sJSON(ids)); err != nil {
			return fmt.Errorf("marking claimed deliveries: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", req.Sync, err)
	}
	return out, nil
}

// checkLease fails with store.ErrLeaseLost unless lease is the unexpired
// current holding of its name.
func (w *writeTx) checkLease(lease store.Lease) error {
	var one int
	err := w.queryRow(sqlCheckLease, []any{lease.Name, lease.Holder, lease.Token, toMicros(w.s.now())}, &one)
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("lease %s (token %d, holder %s): %w", lease.Name, lease.Token, lease.Holder, store.ErrLeaseLost)
	}
	return fmt.Errorf("checking lease %s: %w", lease.Name, err)
}
