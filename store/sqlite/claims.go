package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/surveysync/surveysync/store"
)

// A claim is one row of the claims table: the deliveries of one sync that
// one Claim took under a lease token and that are not settled yet. The
// deliveries themselves stay 'pending' in their table while they are in
// flight; delivery_counts and the delivery_state view count them as
// 'sending'. One row per batch instead of a rewrite of every claimed
// delivery is what makes claiming cheap.
const (
	sqlClaimsOfSync  = `SELECT id, sync, token, claimed_at, ids FROM claims WHERE sync = ?1`
	sqlClaimsOfToken = `SELECT id, sync, token, claimed_at, ids FROM claims WHERE token = ?1`
	sqlInsertClaim   = `INSERT INTO claims (sync, token, claimed_at, ids) VALUES (?1, ?2, ?3, ?4)`
	sqlDeleteClaim   = `DELETE FROM claims WHERE id = ?1`
	sqlShrinkClaim   = `UPDATE claims SET ids = ?2 WHERE id = ?1`

	// sqlTakenBack reads the deliveries of a claim being taken back.
	sqlTakenBack = `SELECT id, uncertain FROM deliveries
WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'pending'`
	// sqlTakeBack counts the attempt of a claim nobody settled and makes
	// its deliveries uncertain: they may have been applied.
	sqlTakeBack = `UPDATE deliveries SET attempts = attempts + 1, uncertain = 1, claimed_at = ?2
WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'pending'`

	// sqlLeftSending reads the deliveries of a sync that a binary from
	// before claims marked 'sending' under its token. (It may have run on
	// the file after the migration to claims.)
	sqlLeftSending = `SELECT id, uncertain FROM deliveries
WHERE state IN ('pending', 'sending') AND state = 'sending' AND sync = ?1`
	// sqlTakeBackSending returns them to pending as uncertain. Their
	// attempt was counted when they were marked, and claimed_at is when.
	sqlTakeBackSending = `UPDATE deliveries SET state = 'pending', uncertain = 1
WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'sending'`

	// sqlInFlight tells whether a delivery is in an open claim of its sync.
	sqlInFlight = `SELECT 1 FROM claims c, json_each(c.ids) j WHERE c.sync = ?1 AND j.value = ?2 LIMIT 1`
)

// openClaim is a row of claims.
type openClaim struct {
	id        int64
	sync      string
	token     int64
	claimedAt int64
	ids       []int64
}

// claims reads the open claims that query (sqlClaimsOfSync or
// sqlClaimsOfToken) selects by arg.
func (w *writeTx) claims(query string, arg any) ([]*openClaim, error) {
	rows, err := w.query(query, arg)
	if err != nil {
		return nil, fmt.Errorf("reading claims: %w", err)
	}
	var out []*openClaim
	for rows.Next() {
		c := &openClaim{}
		var ids string
		if err := rows.Scan(&c.id, &c.sync, &c.token, &c.claimedAt, &ids); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading claims: %w", err)
		}
		if c.ids, err = parseInt64sJSON(ids); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading claim %d: %w", c.id, err)
		}
		out = append(out, c)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("reading claims: %w", err)
	}
	return out, nil
}

// takeBack ends a claim whose holder will not settle it (its lease was
// lost, or it is older than the claimer's stale limit): its deliveries
// count the attempt and become uncertain pending ones, due as they were,
// and the claim is deleted.
func (w *writeTx) takeBack(c *openClaim) error {
	ids := int64sJSON(c.ids)
	rows, err := w.query(sqlTakenBack, ids)
	if err != nil {
		return fmt.Errorf("taking back claim %d: %w", c.id, err)
	}
	for rows.Next() {
		var id int64
		var uncertain bool
		if err := rows.Scan(&id, &uncertain); err != nil {
			rows.Close()
			return fmt.Errorf("taking back claim %d: %w", c.id, err)
		}
		w.move(c.sync, store.Sending, uncertain, store.Pending, true)
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("taking back claim %d: %w", c.id, err)
	}
	if _, err := w.exec(sqlTakeBack, ids, c.claimedAt); err != nil {
		return fmt.Errorf("taking back claim %d: %w", c.id, err)
	}
	if _, err := w.exec(sqlDeleteClaim, c.id); err != nil {
		return fmt.Errorf("taking back claim %d: %w", c.id, err)
	}
	return nil
}

// takeBackSending takes back the deliveries of sync that a binary from
// before claims left 'sending', as takeBack does a claim: they become
// uncertain pending ones, due as they were. Nothing has written 'sending'
// since, so they are never the claimer's own (its token is newer).
func (w *writeTx) takeBackSending(sync string) error {
	rows, err := w.query(sqlLeftSending, sync)
	if err != nil {
		return fmt.Errorf("taking back deliveries left sending: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		var uncertain bool
		if err := rows.Scan(&id, &uncertain); err != nil {
			rows.Close()
			return fmt.Errorf("taking back deliveries left sending: %w", err)
		}
		w.move(sync, store.Sending, uncertain, store.Pending, true)
		ids = append(ids, id)
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("taking back deliveries left sending: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := w.exec(sqlTakeBackSending, int64sJSON(ids)); err != nil {
		return fmt.Errorf("taking back deliveries left sending: %w", err)
	}
	return nil
}

// release removes settled deliveries from their claim, and the claim once
// nothing in it is left unsettled.
func (w *writeTx) release(c *openClaim, settled map[int64]bool) error {
	left := slices.DeleteFunc(slices.Clone(c.ids), func(id int64) bool { return settled[id] })
	var err error
	if len(left) == 0 {
		_, err = w.exec(sqlDeleteClaim, c.id)
	} else if len(left) < len(c.ids) {
		_, err = w.exec(sqlShrinkClaim, c.id, int64sJSON(left))
	}
	if err != nil {
		return fmt.Errorf("updating claim %d: %w", c.id, err)
	}
	return nil
}

// inFlight reports whether delivery id of sync is in an open claim.
func (w *writeTx) inFlight(sync string, id int64) (bool, error) {
	var one int
	switch err := w.queryRow(sqlInFlight, []any{sync, id}, &one); {
	case err == nil:
		return true, nil
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	default:
		return false, fmt.Errorf("reading claims: %w", err)
	}
}
