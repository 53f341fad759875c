package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/surveysync/surveysync/store"
)

const (
	sqlSourceState = `SELECT value FROM source_state WHERE source = ?1 AND name = ?2`
	sqlLookup      = `SELECT r.hash, r.version, d.sync, d.state, d.redeliver_tag
FROM responses r LEFT JOIN delivery_state d ON d.response_id = r.id
WHERE r.source = ?1 AND r.key = ?2`
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
