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

// payloadChunk is the size of the buffers a claim reads payloads into:
// one allocation for a hundred or so payloads, and no copying as a claim
// grows.
const payloadChunk = 64 << 10

const (
	sqlCheckLease = `SELECT 1 FROM leases WHERE name = ?1 AND holder = ?2 AND token = ?3 AND expires_at > ?4`

	// sqlClaimableDue picks due pending deliveries with their responses,
	// oldest due first, straight off deliveries_active in its order. (The
	// IN term, the index's own condition, lets SQLite see that the partial
	// index applies.)
	sqlClaimableDue = sqlClaimableWhere + sqlClaimableOrder

	// sqlClaimableDueExcept is sqlClaimableDue leaving out the deliveries
	// the claimer has in flight already, ?4 (a JSON array of ids).
	sqlClaimableDueExcept = sqlClaimableWhere + `
    AND d.id NOT IN (SELECT value FROM json_each(?4))` + sqlClaimableOrder

	sqlClaimableWhere = `SELECT d.id, d.uncertain, d.version, d.attempts, d.claimed_at,
    r.source, r.key, r.submitted_at, r.payload, r.version
FROM deliveries d
JOIN responses r ON r.id = d.response_id
WHERE d.state IN ('pending', 'sending') AND d.state = 'pending' AND d.sync = ?1 AND d.next_at <= ?2`
	sqlClaimableOrder = `
ORDER BY d.next_at, d.id LIMIT ?3`
)

// Claim takes up to req.Limit due deliveries of req.Sync under req.Lease,
// recording them as one claim, and returns them, oldest due first. It
// fails with store.ErrLeaseLost, claiming nothing, when the lease is no
// longer held. See store.Store.
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
		// Claims nobody will settle are taken back first: their
		// deliveries come back as uncertain pending ones, due as they
		// were, so this claim may take them again in their turn. So are
		// deliveries an older binary left sending.
		if err := w.takeBackSending(req.Sync); err != nil {
			return err
		}
		open, err := w.claims(sqlClaimsOfSync, req.Sync)
		if err != nil {
			return err
		}
		stale := toMicros(now.Add(-staleAfter))
		var inFlight []int64
		for _, c := range open {
			if c.token != req.Lease.Token || c.claimedAt <= stale {
				if err := w.takeBack(c); err != nil {
					return err
				}
				continue
			}
			inFlight = append(inFlight, c.ids...)
		}
		query, args := sqlClaimableDue, []any{req.Sync, nowUS, req.Limit}
		if len(inFlight) > 0 {
			query, args = sqlClaimableDueExcept, append(args, int64sJSON(inFlight))
		}
		rows, err := w.query(query, args...)
		if err != nil {
			return fmt.Errorf("claiming: %w", err)
		}
		ids := make([]int64, 0, req.Limit)
		// The batch's payloads are read into a few shared buffers, and a
		// source name repeated from the row before is not allocated again.
		var payloads []byte
		var source string
		for rows.Next() {
			d := store.Delivery{Sync: req.Sync}
			var submitted, claimedAt int64
			if err := rows.Scan(&d.ID, &d.Uncertain, &d.Version, &d.Attempts, &claimedAt); err != nil {
				rows.Close()
				return fmt.Errorf("claiming: %w", err)
			}
			if !rows.st.textIs(5, source) {
				source = rows.st.text(5)
			}
			d.Response.Source = source
			d.Response.Key = rows.st.text(6)
			submitted = rows.st.int64(7)
			if n := rows.st.bytesLen(8); cap(payloads)-len(payloads) < n {
				payloads = make([]byte, 0, max(payloadChunk, n))
			}
			start := len(payloads)
			payloads = rows.st.appendBytes(payloads, 8)
			d.Response.Payload = payloads[start:len(payloads):len(payloads)]
			d.ResponseVersion = int(rows.st.int64(9))
			d.Attempts++ // this one
			if claimedAt > 0 {
				d.PreviousAttemptAt = fromMicros(claimedAt)
			}
			d.Response.SubmittedAt = fromMicros(submitted)
			d.Key = survey.DeliveryKey(d.Sync, d.Response.Source, d.Response.Key, d.Version)
			w.move(req.Sync, store.Pending, d.Uncertain, store.Sending, d.Uncertain)
			out = append(out, d)
			ids = append(ids, d.ID)
		}
		if err := closeRows(rows); err != nil {
			return fmt.Errorf("claiming: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := w.exec(sqlInsertClaim, req.Sync, req.Lease.Token, nowUS, int64sJSON(ids)); err != nil {
			return fmt.Errorf("recording the claim: %w", err)
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
