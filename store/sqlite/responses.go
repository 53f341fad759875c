package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

const (
	sqlSourceState = `SELECT value FROM source_state WHERE source = ?1 AND name = ?2`
	sqlLookup      = `SELECT r.hash, r.version, d.sync, d.state, d.redeliver_tag
FROM responses r LEFT JOIN deliveries d ON d.response_id = r.id
WHERE r.source = ?1 AND r.key = ?2`
	sqlScanResponses = `SELECT id, key, submitted_at, payload FROM responses
WHERE source = ?1 AND (submitted_at, id) > (?2, ?3) AND submitted_at < ?4
ORDER BY submitted_at, id LIMIT ?5`
)

// SourceState returns the value saved under name for source. See
// store.Store.
func (s *Store) SourceState(ctx context.Context, source, name string) (string, bool, error) {
	var value string
	err := s.inRead(ctx, func(r *readTx) error {
		return r.queryRow(sqlSourceState, []any{source, name}, &value)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s state %s: %w", source, name, err)
	}
	return value, true, nil
}

// Lookup returns what the ledger knows of keys of source. See store.Store.
func (s *Store) Lookup(ctx context.Context, source string, keys []string) (map[string]store.ResponseState, error) {
	out := make(map[string]store.ResponseState, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	err := s.inRead(ctx, func(r *readTx) error {
		for _, key := range keys {
			if _, done := out[key]; done {
				continue
			}
			rows, err := r.query(sqlLookup, source, key)
			if err != nil {
				return err
			}
			for rows.Next() {
				var rs store.ResponseState
				var sync, state, tag sql.NullString
				if err := rows.Scan(&rs.Hash, &rs.Version, &sync, &state, &tag); err != nil {
					rows.Close()
					return err
				}
				if prev, ok := out[key]; ok {
					rs.Deliveries, rs.RedeliverTags = prev.Deliveries, prev.RedeliverTags
				} else {
					rs.Deliveries = map[string]store.State{}
				}
				if sync.Valid {
					rs.Deliveries[sync.String] = store.State(state.String)
					if tag.String != "" {
						if rs.RedeliverTags == nil {
							rs.RedeliverTags = map[string]string{}
						}
						rs.RedeliverTags[sync.String] = tag.String
					}
				}
				out[key] = rs
			}
			if err := closeRows(rows); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lookup %s: %w", source, err)
	}
	return out, nil
}

// scanPage is how many responses ScanResponses reads per query. Each page
// is its own short read, so a slow fn never pins an old snapshot of the
// database (which would keep the WAL from being checkpointed).
const scanPage = 256

// ScanResponses calls fn for each response of source submitted in [from,
// to), in submission order, holding at most one page of responses in
// memory. Responses whose source gave no submission time sort first and
// are included only when from is zero. See store.Store.
func (s *Store) ScanResponses(ctx context.Context, source string, from, to time.Time, fn func(*survey.Response) error) error {
	lastAt, lastID := int64(math.MinInt64), int64(0)
	if !from.IsZero() {
		lastAt = toMicros(from)
	}
	end := int64(math.MaxInt64)
	if !to.IsZero() {
		end = toMicros(to)
	}
	for {
		// A fresh page each time: fn may keep the responses it is given.
		page := make([]survey.Response, 0, scanPage)
		err := s.inRead(ctx, func(r *readTx) error {
			rows, err := r.query(sqlScanResponses, source, lastAt, lastID, end, scanPage)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var resp survey.Response
				var submitted int64
				var payload []byte
				if err := rows.Scan(&lastID, &resp.Key, &submitted, &payload); err != nil {
					return err
				}
				lastAt = submitted
				resp.Source, resp.SubmittedAt, resp.Payload = source, fromMicros(submitted), payload
				page = append(page, resp)
			}
			return rows.Err()
		})
		if err != nil {
			return fmt.Errorf("scan responses of %s: %w", source, err)
		}
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scan responses of %s: %w", source, err)
		}
	}
}
