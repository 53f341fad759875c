package sqlite

import (
	"context"
	"fmt"
	"strconv"

	"github.com/surveysync/surveysync/store"
)

// Settle applies outcomes a group at a time: outcomes that change their
// deliveries the same way (all delivered at one time, say) become one
// UPDATE … FROM json_each, whose ?2 is a JSON object from delivery id to
// the destination's ref. json_each hands out an object's keys and values
// as they are, with no per-row JSON parsing.
const (
	// sqlSettling reads what Settle needs to know of the deliveries named by
	// the outcomes, in one statement.
	sqlSettling = `SELECT id, sync, state, uncertain, stale FROM deliveries
WHERE id IN (SELECT value FROM json_each(?1))`

	// Every settle statement records ?1, when the attempt was claimed, as
	// the previous attempt's time of the delivery's next claim.
	sqlSettleFrom = `
FROM json_each(?2) AS j
WHERE deliveries.id = CAST(j.key AS INTEGER) AND deliveries.state = 'pending'`

	sqlSettleDelivered = `UPDATE deliveries
SET state = 'delivered', attempts = attempts + 1, claimed_at = ?1, settled_at = ?3, uncertain = 0, class = '', last_error = '', ref = j.value` + sqlSettleFrom

	// sqlSettleRedeliver re-opens, as a redelivery, a delivery whose content
	// changed while it was in flight (stale), once the old content arrived.
	sqlSettleRedeliver = `UPDATE deliveries
SET version = version + 1, attempts = 0, claimed_at = ?1, next_at = ?3, planned_at = ?3, settled_at = 0,
    stale = 0, uncertain = 0, class = '', last_error = '', ref = j.value` + sqlSettleFrom

	sqlSettleDead = `UPDATE deliveries
SET state = 'dead', attempts = attempts + 1, claimed_at = ?1, stale = 0, settled_at = ?3, class = ?4, last_error = ?5,
    ref = CASE WHEN j.value <> '' THEN j.value ELSE ref END` + sqlSettleFrom

	// sqlSettleRetry returns deliveries to pending after a counted attempt.
	// A delivery is never due before it was planned, which the
	// deliveries_retrying index relies on.
	sqlSettleRetry = `UPDATE deliveries
SET attempts = attempts + 1, claimed_at = ?1, next_at = max(?3, planned_at), uncertain = ?4, stale = ?5, class = ?6, last_error = ?7,
    ref = CASE WHEN j.value <> '' THEN j.value ELSE ref END` + sqlSettleFrom

	// sqlSettleRelease returns deliveries to pending without counting the
	// attempt.
	sqlSettleRelease = `UPDATE deliveries
SET claimed_at = ?1, next_at = max(?3, planned_at), uncertain = ?4, stale = ?5,
    class = CASE WHEN ?6 <> '' THEN ?6 ELSE class END,
    last_error = CASE WHEN ?7 <> '' THEN ?7 ELSE last_error END` + sqlSettleFrom

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
}

// settleKind is how an outcome changes its delivery.
type settleKind uint8

const (
	settleDelivered settleKind = iota
	settleRedeliver
	settleDead
	settleRetry
	settleRelease
)

// settleGroup is what outcomes settled by one statement share.
type settleGroup struct {
	kind             settleKind
	claimedAt        int64
	at, nextAt       int64
	uncertain, stale bool
	class, err       string
}

// settleBatch is the deliveries of one group: a JSON object from id to ref,
// being built.
type settleBatch struct {
	refs []byte
	n    int
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
		// Only deliveries in this token's open claims are settled: any
		// other (settled already, taken back by another holder, never
		// claimed) is left alone.
		open, err := w.claims(sqlClaimsOfToken, lease.Token)
		if err != nil {
			return err
		}
		claimOf := make(map[int64]*openClaim, len(outcomes))
		for _, c := range open {
			for _, id := range c.ids {
				claimOf[id] = c
			}
		}
		found, err := w.settling(outcomes, claimOf)
		if err != nil {
			return err
		}
		var order []settleGroup // first-seen order, so statements run in a stable order
		groups := map[settleGroup]*settleBatch{}
		status := map[string]*syncStatus{}
		settled := map[*openClaim]map[int64]bool{}
		for _, o := range outcomes {
			d, ok := found[o.ID]
			if !ok || d.state != store.Pending {
				continue
			}
			delete(found, o.ID) // a second outcome for it finds it settled
			c := claimOf[o.ID]
			if settled[c] == nil {
				settled[c] = make(map[int64]bool, len(c.ids))
			}
			settled[c][o.ID] = true
			at := toMicros(o.At)
			if at == 0 {
				at = now
			}
			g, state, uncertain := settleGroupOf(o, d, at)
			g.claimedAt = c.claimedAt
			w.move(d.sync, store.Sending, d.uncertain, state, uncertain)
			if g.kind == settleDelivered {
				w.logDelivered(d.sync, at, 1)
			}
			b := groups[g]
			if b == nil {
				b = &settleBatch{refs: []byte{'{'}}
				groups[g] = b
				order = append(order, g)
			}
			b.add(o.ID, o.Ref)

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
		for _, g := range order {
			if err := w.settleGroup(g, groups[g]); err != nil {
				return err
			}
		}
		for _, c := range open {
			if ids := settled[c]; ids != nil {
				if err := w.release(c, ids); err != nil {
					return err
				}
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

// settling reads the deliveries the outcomes name that are in claims.
func (w *writeTx) settling(outcomes []store.Outcome, claimOf map[int64]*openClaim) (map[int64]settling, error) {
	ids := make([]int64, 0, len(outcomes))
	for _, o := range outcomes {
		if claimOf[o.ID] != nil {
			ids = append(ids, o.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := w.query(sqlSettling, int64sJSON(ids))
	if err != nil {
		return nil, fmt.Errorf("reading deliveries: %w", err)
	}
	found := make(map[int64]settling, len(outcomes))
	var sync string // the same for most rows: read once
	for rows.Next() {
		st := rows.st
		if !st.textIs(1, sync) {
			sync = st.text(1)
		}
		found[st.int64(0)] = settling{sync: sync, state: st.state(2), uncertain: st.int64(3) != 0, stale: st.int64(4) != 0}
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("reading deliveries: %w", err)
	}
	return found, nil
}

// settleGroupOf says how outcome o changes delivery d, and which state and
// uncertainty it leaves d in.
func settleGroupOf(o store.Outcome, d settling, at int64) (g settleGroup, state store.State, uncertain bool) {
	nextAt := toMicros(o.NextAt)
	if nextAt == 0 {
		nextAt = at
	}
	switch {
	case o.State == store.Delivered && d.stale:
		// The content changed while this attempt was in flight: the old
		// content arrived, so deliver the new one as a redelivery.
		return settleGroup{kind: settleRedeliver, at: at}, store.Pending, false
	case o.State == store.Delivered:
		return settleGroup{kind: settleDelivered, at: at}, store.Delivered, false
	case o.State == store.Dead:
		return settleGroup{kind: settleDead, at: at, class: o.Class, err: o.Error}, store.Dead, d.uncertain
	case o.Release:
		// Not attempted: it stays as uncertain, and as stale, as it was.
		uncertain = d.uncertain || o.Uncertain
		return settleGroup{kind: settleRelease, nextAt: nextAt, uncertain: uncertain, stale: d.stale, class: o.Class, err: o.Error},
			store.Pending, uncertain
	default:
		// A certain failure clears stale: the next attempt sends the latest
		// content anyway.
		return settleGroup{kind: settleRetry, nextAt: nextAt, uncertain: o.Uncertain, stale: d.stale && o.Uncertain, class: o.Class, err: o.Error},
			store.Pending, o.Uncertain
	}
}

// add adds a delivery and its ref to the batch.
func (b *settleBatch) add(id int64, ref string) {
	if b.n > 0 {
		b.refs = append(b.refs, ',')
	}
	b.refs = append(b.refs, '"')
	b.refs = strconv.AppendInt(b.refs, id, 10)
	b.refs = append(b.refs, '"', ':')
	b.refs = appendJSONString(b.refs, ref)
	b.n++
}

// settleGroup runs one group's statement.
func (w *writeTx) settleGroup(g settleGroup, b *settleBatch) error {
	refs := string(append(b.refs, '}'))
	var query string
	var args []any
	switch g.kind {
	case settleDelivered:
		query, args = sqlSettleDelivered, []any{g.claimedAt, refs, g.at}
	case settleRedeliver:
		query, args = sqlSettleRedeliver, []any{g.claimedAt, refs, g.at}
	case settleDead:
		query, args = sqlSettleDead, []any{g.claimedAt, refs, g.at, g.class, g.err}
	case settleRetry:
		query, args = sqlSettleRetry, []any{g.claimedAt, refs, g.nextAt, boolInt(g.uncertain), boolInt(g.stale), g.class, g.err}
	case settleRelease:
		query, args = sqlSettleRelease, []any{g.claimedAt, refs, g.nextAt, boolInt(g.uncertain), boolInt(g.stale), g.class, g.err}
	}
	res, err := w.exec(query, args...)
	if err != nil {
		return fmt.Errorf("recording outcomes: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != int64(b.n) {
		return fmt.Errorf("recording outcomes: changed %d deliveries (%v), want %d", n, err, b.n)
	}
	return nil
}
