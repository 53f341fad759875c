package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// defaultStaleAfter is ClaimRequest.StaleAfter's default.
const defaultStaleAfter = 10 * time.Minute

const (
	sqlCheckLease = `SELECT 1 FROM leases WHERE name = ?1 AND holder = ?2 AND token = ?3 AND expires_at > ?4`

	// sqlClaim takes, oldest due first, deliveries left sending under
	// another token or stale under this one (which become uncertain) and due
	// pending ones. Each branch is limited on its own partial index, so
	// neither ever sorts more than the limit, however long the backlog.
	sqlClaim = `UPDATE deliveries
SET state = 'sending', attempts = attempts + 1, claim_token = ?1, claimed_at = ?2,
    uncertain = (state = 'sending' OR uncertain = 1)
WHERE id IN (
    SELECT id FROM (
        SELECT id, next_at FROM (
            SELECT id, next_at FROM deliveries
            WHERE state = 'sending' AND sync = ?3 AND (claim_token <> ?1 OR claimed_at <= ?4)
            ORDER BY next_at, id LIMIT ?5)
        UNION ALL
        SELECT id, next_at FROM (
            SELECT id, next_at FROM deliveries
            WHERE state = 'pending' AND sync = ?3 AND next_at <= ?2
            ORDER BY next_at, id LIMIT ?5)
        ORDER BY next_at, id LIMIT ?5))
RETURNING id, response_id, version, attempts, uncertain, next_at`

	sqlClaimedResponses = `SELECT id, source, key, submitted_at, payload, version
FROM responses WHERE id IN (SELECT value FROM json_each(?1))`
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

	type claimed struct {
		d          store.Delivery
		responseID int64
		nextAt     int64
	}
	var out []claimed
	err := s.inWrite(ctx, func(w *writeTx) error {
		if err := w.checkLease(req.Lease); err != nil {
			return err
		}
		rows, err := w.query(sqlClaim, req.Lease.Token, nowUS, req.Sync, toMicros(now.Add(-staleAfter)), req.Limit)
		if err != nil {
			return fmt.Errorf("claiming: %w", err)
		}
		for rows.Next() {
			c := claimed{d: store.Delivery{Sync: req.Sync}}
			if err := rows.Scan(&c.d.ID, &c.responseID, &c.d.Version, &c.d.Attempts, &c.d.Uncertain, &c.nextAt); err != nil {
				rows.Close()
				return fmt.Errorf("claiming: %w", err)
			}
			out = append(out, c)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("claiming: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claiming: %w", err)
		}
		if len(out) == 0 {
			return nil
		}

		ids := make([]int64, len(out))
		for i := range out {
			ids[i] = out[i].responseID
		}
		responses := make(map[int64]*store.Delivery, len(out))
		for i := range out {
			responses[out[i].responseID] = &out[i].d
		}
		rows, err = w.query(sqlClaimedResponses, int64sJSON(ids))
		if err != nil {
			return fmt.Errorf("reading claimed responses: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id, submitted int64
				r             survey.Response
				version       int
				payload       []byte
			)
			if err := rows.Scan(&id, &r.Source, &r.Key, &submitted, &payload, &version); err != nil {
				return fmt.Errorf("reading claimed responses: %w", err)
			}
			r.SubmittedAt = fromMicros(submitted)
			r.Payload = payload
			if d, ok := responses[id]; ok {
				d.Response = r
				d.ResponseVersion = version
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", req.Sync, err)
	}
	slices.SortFunc(out, func(a, b claimed) int {
		if a.nextAt != b.nextAt {
			return cmp.Compare(a.nextAt, b.nextAt)
		}
		return cmp.Compare(a.d.ID, b.d.ID)
	})
	deliveries := make([]store.Delivery, len(out))
	for i := range out {
		d := out[i].d
		d.Key = survey.DeliveryKey(d.Sync, d.Response.Source, d.Response.Key, d.Version)
		deliveries[i] = d
	}
	return deliveries, nil
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
