package sqlite

import (
	"context"
	"fmt"

	"github.com/surveysync/surveysync/store"
)

const (
	sqlInsertReject    = `INSERT INTO rejects (source, ref, reason, payload, at) VALUES (?1, ?2, ?3, ?4, ?5)`
	sqlMarkRejects     = `UPDATE rejects SET replayed_at = max(?1, 1) WHERE replayed_at = 0 AND id IN (SELECT value FROM json_each(?2))`
	sqlRejectsAll      = `SELECT id, source, ref, reason, payload, at FROM rejects WHERE replayed_at = 0 ORDER BY id LIMIT ?1`
	sqlRejectsOfSource = `SELECT id, source, ref, reason, payload, at FROM rejects WHERE replayed_at = 0 AND source = ?2 ORDER BY id LIMIT ?1`
)

// Reject records payloads a source could not turn into responses. A zero
// At is recorded as now. See store.Store.
func (s *Store) Reject(ctx context.Context, rejects []store.Rejected) error {
	for i, r := range rejects {
		if r.Source == "" {
			return fmt.Errorf("reject: rejected payload %d has no source", i)
		}
	}
	if len(rejects) == 0 {
		return nil
	}
	now := toMicros(s.now())
	err := s.inWrite(ctx, func(w *writeTx) error {
		for _, r := range rejects {
			at := toMicros(r.At)
			if at == 0 {
				at = now
			}
			payload := r.Payload
			if payload == nil {
				payload = []byte{}
			}
			if _, err := w.exec(sqlInsertReject, r.Source, r.Ref, r.Reason, payload, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reject: %w", err)
	}
	return nil
}

// Rejects lists rejected payloads not yet replayed, oldest first; an empty
// source means every source and a zero limit means 100. See store.Store.
func (s *Store) Rejects(ctx context.Context, source string, limit int) ([]store.Rejected, error) {
	if limit <= 0 {
		limit = defaultListLimit
	}
	query, args := sqlRejectsAll, []any{limit}
	if source != "" {
		query, args = sqlRejectsOfSource, []any{limit, source}
	}
	var out []store.Rejected
	err := s.inRead(ctx, func(r *readTx) error {
		rows, err := r.query(query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var rej store.Rejected
			var at int64
			if err := rows.Scan(&rej.ID, &rej.Source, &rej.Ref, &rej.Reason, &rej.Payload, &at); err != nil {
				return err
			}
			rej.At = fromMicros(at)
			out = append(out, rej)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list rejects: %w", err)
	}
	return out, nil
}

// MarkRejectsReplayed marks rejected payloads as replayed, so Rejects no
// longer lists them. See store.Store.
func (s *Store) MarkRejectsReplayed(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.inWrite(ctx, func(w *writeTx) error {
		_, err := w.exec(sqlMarkRejects, toMicros(s.now()), int64sJSON(ids))
		return err
	})
	if err != nil {
		return fmt.Errorf("mark rejects replayed: %w", err)
	}
	return nil
}
