package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/surveysync/surveysync/store"
)

const (
	sqlDeliveryCounts = `SELECT sync, state, uncertain, n FROM delivery_counts WHERE n <> 0`
	sqlSyncStatuses   = `SELECT sync, last_success, last_error, last_error_at FROM sync_status`
	// The oldest pending delivery is the older of the one due first and
	// the oldest retrying one: fresh deliveries are due when planned, and
	// no delivery is due before it was planned. Deliveries in open claims
	// stay 'pending' in their table but are sending: both leave them out.
	sqlFirstDue = `SELECT planned_at FROM deliveries
WHERE state IN ('pending', 'sending') AND state = 'pending' AND sync = ?1` + sqlNotInFlight + `
ORDER BY next_at LIMIT 1`
	sqlOldestRetrying = `SELECT planned_at FROM deliveries
WHERE state = 'pending' AND next_at <> planned_at AND sync = ?1` + sqlNotInFlight + `
ORDER BY planned_at LIMIT 1`
	// sqlNotInFlight leaves out the deliveries of sync ?1 in open claims.
	sqlNotInFlight = `
    AND id NOT IN (SELECT j.value FROM claims c, json_each(c.ids) j WHERE c.sync = ?1)`
	sqlDeliveredSince = `SELECT COALESCE(sum(n), 0) FROM delivered_log WHERE sync = ?1 AND settled_at >= ?2`
	sqlSourceStats    = `SELECT source, responses, last_ingest FROM source_stats`
	sqlSourceCursors  = `SELECT source, value FROM source_state WHERE name = 'cursor'`
	sqlRejectCounts   = `SELECT source, count(*) FROM rejects WHERE replayed_at = 0 GROUP BY source`
)

// Stats summarises the ledger from one read snapshot. Counts come from
// counters kept by triggers and from partial indexes, so its cost does not
// grow with the backlog or the history. See store.Store.
func (s *Store) Stats(ctx context.Context, since time.Time) (*store.Stats, error) {
	st := &store.Stats{}
	err := s.inRead(ctx, func(r *readTx) error {
		var err error
		if st.Syncs, err = readSyncStats(r, since); err != nil {
			return fmt.Errorf("syncs: %w", err)
		}
		if st.Sources, err = readSourceStats(r); err != nil {
			return fmt.Errorf("sources: %w", err)
		}
		if st.Pauses, err = readPauses(r); err != nil {
			return fmt.Errorf("pauses: %w", err)
		}
		if st.Leases, err = readLeases(r, s.now()); err != nil {
			return fmt.Errorf("leases: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}

// readSyncStats reads every sync's counts and status.
func readSyncStats(r *readTx, since time.Time) ([]store.SyncStats, error) {
	bySync := map[string]*store.SyncStats{}
	get := func(sync string) *store.SyncStats {
		ss := bySync[sync]
		if ss == nil {
			ss = &store.SyncStats{Sync: sync}
			bySync[sync] = ss
		}
		return ss
	}

	rows, err := r.query(sqlDeliveryCounts)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var sync string
		var state store.State
		var uncertain bool
		var n int64
		if err := rows.Scan(&sync, &state, &uncertain, &n); err != nil {
			rows.Close()
			return nil, err
		}
		ss := get(sync)
		switch state {
		case store.Pending:
			ss.Pending += n
		case store.Sending:
			ss.Sending += n
		case store.Delivered:
			ss.Delivered += n
		case store.Dead:
			ss.Dead += n
		}
		if uncertain && (state == store.Pending || state == store.Sending) {
			ss.Uncertain += n
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}

	rows, err = r.query(sqlSyncStatuses)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var sync, lastError string
		var lastSuccess, lastErrorAt int64
		if err := rows.Scan(&sync, &lastSuccess, &lastError, &lastErrorAt); err != nil {
			rows.Close()
			return nil, err
		}
		ss := get(sync)
		ss.LastSuccess, ss.LastError, ss.LastErrorAt = fromMicros(lastSuccess), lastError, fromMicros(lastErrorAt)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}

	out := make([]store.SyncStats, 0, len(bySync))
	for _, ss := range bySync {
		if ss.Pending > 0 {
			var firstDue, retrying int64
			if err := r.queryRow(sqlFirstDue, []any{ss.Sync}, &firstDue); err != nil {
				return nil, fmt.Errorf("oldest pending of %s: %w", ss.Sync, err)
			}
			err := r.queryRow(sqlOldestRetrying, []any{ss.Sync}, &retrying)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				retrying = firstDue
			case err != nil:
				return nil, fmt.Errorf("oldest pending of %s: %w", ss.Sync, err)
			}
			ss.OldestPending = fromMicros(min(firstDue, retrying))
		}
		if since.IsZero() {
			ss.DeliveredSince = ss.Delivered
		} else if ss.Delivered > 0 {
			err := r.queryRow(sqlDeliveredSince, []any{ss.Sync, toMicros(since)}, &ss.DeliveredSince)
			if err != nil {
				return nil, fmt.Errorf("delivered since of %s: %w", ss.Sync, err)
			}
		}
		out = append(out, *ss)
	}
	slices.SortFunc(out, func(a, b store.SyncStats) int { return strings.Compare(a.Sync, b.Sync) })
	return out, nil
}

// readSourceStats reads every source's counts, cursor and rejects.
func readSourceStats(r *readTx) ([]store.SourceStats, error) {
	bySource := map[string]*store.SourceStats{}
	get := func(source string) *store.SourceStats {
		ss := bySource[source]
		if ss == nil {
			ss = &store.SourceStats{Source: source}
			bySource[source] = ss
		}
		return ss
	}
	queries := []struct {
		query string
		scan  func(rows *sql.Rows) error
	}{
		{sqlSourceStats, func(rows *sql.Rows) error {
			var source string
			var n, last int64
			if err := rows.Scan(&source, &n, &last); err != nil {
				return err
			}
			ss := get(source)
			ss.Responses, ss.LastIngest = n, fromMicros(last)
			return nil
		}},
		{sqlSourceCursors, func(rows *sql.Rows) error {
			var source, value string
			if err := rows.Scan(&source, &value); err != nil {
				return err
			}
			get(source).Cursor = value
			return nil
		}},
		{sqlRejectCounts, func(rows *sql.Rows) error {
			var source string
			var n int64
			if err := rows.Scan(&source, &n); err != nil {
				return err
			}
			get(source).Rejected = n
			return nil
		}},
	}
	for _, q := range queries {
		rows, err := r.query(q.query)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			if err := q.scan(rows); err != nil {
				rows.Close()
				return nil, err
			}
		}
		if err := closeRows(rows); err != nil {
			return nil, err
		}
	}
	out := make([]store.SourceStats, 0, len(bySource))
	for _, ss := range bySource {
		out = append(out, *ss)
	}
	slices.SortFunc(out, func(a, b store.SourceStats) int { return strings.Compare(a.Source, b.Source) })
	return out, nil
}

// closeRows closes rows and reports an iteration error.
func closeRows(rows interface {
	Close() error
	Err() error
}) error {
	if err := rows.Close(); err != nil {
		return err
	}
	return rows.Err()
}
