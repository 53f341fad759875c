package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/surveysync/surveysync/store"
)

// defaultListLimit bounds list reads whose caller gave no limit.
const defaultListLimit = 100

const (
	sqlDeadLetterColumns = `SELECT d.id, d.sync, r.source, r.key, d.attempts, d.class, d.last_error, d.settled_at, r.payload
FROM deliveries d JOIN responses r ON r.id = d.response_id`
	sqlDeadLetters = sqlDeadLetterColumns + `
WHERE d.state = 'dead' ORDER BY d.settled_at DESC, d.id DESC LIMIT ?1`
	sqlDeadLettersOfSync = sqlDeadLetterColumns + `
WHERE d.state = 'dead' AND d.sync = ?2 ORDER BY d.settled_at DESC, d.id DESC LIMIT ?1`
)

// DeadLetters lists dead deliveries, newest first, with their responses'
// payloads. A zero limit means 100. See store.Store.
func (s *Store) DeadLetters(ctx context.Context, f store.DeadFilter) ([]store.DeadLetter, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	query, args := sqlDeadLetters, []any{limit}
	if f.Sync != "" {
		query, args = sqlDeadLettersOfSync, []any{limit, f.Sync}
	}
	var out []store.DeadLetter
	err := s.inRead(ctx, func(r *readTx) error {
		rows, err := r.query(query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d store.DeadLetter
			var at int64
			if err := rows.Scan(&d.ID, &d.Sync, &d.Source, &d.Key, &d.Attempts, &d.Class, &d.Reason, &at, &d.Payload); err != nil {
				return err
			}
			d.At = fromMicros(at)
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return out, nil
}

const (
	sqlReplayDead = `UPDATE deliveries
SET state = 'pending', next_at = ?1, planned_at = ?1, attempts = 0, settled_at = 0, class = '', last_error = ''
WHERE state = 'dead'`

	sqlReplayDelivered = `UPDATE deliveries
SET state = 'pending', version = version + 1, attempts = 0, uncertain = 0, stale = 0,
    next_at = ?1, planned_at = ?1, settled_at = 0, class = '', last_error = '', ref = ''
WHERE state = 'delivered'`

	sqlDeliveredOfResponses = `SELECT settled_at FROM deliveries
WHERE state = 'delivered' AND sync = ?1 AND response_id IN (SELECT value FROM json_each(?2))`

	sqlResponsesOfSync = `SELECT r.id FROM sync_sources ss JOIN responses r ON r.source = ss.source AND r.key = ?2
WHERE ss.sync = ?1`
)

// Replay re-opens dead deliveries (as they were) and, for the given keys,
// delivered ones (as redeliveries). An empty Sync means every sync, and is
// allowed only without Keys. See store.Store.
func (s *Store) Replay(ctx context.Context, req store.ReplayRequest) (int, error) {
	switch {
	case !req.Dead && !req.Delivered:
		return 0, errors.New("replay: choose dead or delivered deliveries")
	case req.Delivered && len(req.Keys) == 0:
		return 0, errors.New("replay: re-opening delivered deliveries needs response keys")
	case req.Sync == "" && len(req.Keys) > 0:
		return 0, errors.New("replay: replaying by key needs a sync")
	}
	now := toMicros(s.now())
	total := 0
	err := s.inWrite(ctx, func(w *writeTx) error {
		// run re-opens deliveries from one state; each comes back as
		// pending, and uncertain only if it was dead and uncertain.
		run := func(from store.State, query string, args ...any) error {
			rows, err := w.query(query+` RETURNING sync, uncertain`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var sync string
				var uncertain bool
				if err := rows.Scan(&sync, &uncertain); err != nil {
					rows.Close()
					return err
				}
				w.move(sync, from, uncertain && from == store.Dead, store.Pending, uncertain)
				total++
			}
			return closeRows(rows)
		}
		if len(req.Keys) == 0 {
			if req.Sync == "" {
				return run(store.Dead, sqlReplayDead, now)
			}
			return run(store.Dead, sqlReplayDead+` AND sync = ?2`, now, req.Sync)
		}
		var ids []int64
		for _, key := range req.Keys {
			rows, err := w.query(sqlResponsesOfSync, req.Sync, key)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			if err := closeRows(rows); err != nil {
				return err
			}
		}
		if len(ids) == 0 {
			return nil
		}
		const bySyncAndResponses = ` AND sync = ?2 AND response_id IN (SELECT value FROM json_each(?3))`
		if req.Dead {
			if err := run(store.Dead, sqlReplayDead+bySyncAndResponses, now, req.Sync, int64sJSON(ids)); err != nil {
				return err
			}
		}
		if req.Delivered {
			// Their settle times, for delivered_log, before they are re-opened.
			rows, err := w.query(sqlDeliveredOfResponses, req.Sync, int64sJSON(ids))
			if err != nil {
				return err
			}
			for rows.Next() {
				var at int64
				if err := rows.Scan(&at); err != nil {
					rows.Close()
					return err
				}
				w.logDelivered(req.Sync, at, -1)
			}
			if err := closeRows(rows); err != nil {
				return err
			}
			return run(store.Delivered, sqlReplayDelivered+bySyncAndResponses, now, req.Sync, int64sJSON(ids))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("replay: %w", err)
	}
	return total, nil
}
