package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/surveysync/surveysync/store"
)

const (
	sqlClearPause = `DELETE FROM pauses WHERE destination = ?1`
	sqlSetPause   = `INSERT INTO pauses (destination, reason, since) VALUES (?1, ?2, ?3)
ON CONFLICT (destination) DO UPDATE SET reason = excluded.reason`
	sqlPauses = `SELECT destination, reason, since FROM pauses ORDER BY destination`
)

// SetPause pauses destination with reason, or clears its pause when reason
// is empty. A paused destination keeps the time it was first paused when
// its reason changes. See store.Store.
func (s *Store) SetPause(ctx context.Context, destination, reason string) error {
	if destination == "" {
		return errors.New("set pause: no destination")
	}
	err := s.inWrite(ctx, func(w *writeTx) error {
		if reason == "" {
			_, err := w.exec(sqlClearPause, destination)
			return err
		}
		_, err := w.exec(sqlSetPause, destination, reason, toMicros(s.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("set pause of %s: %w", destination, err)
	}
	return nil
}

// Pauses lists paused destinations by name. See store.Store.
func (s *Store) Pauses(ctx context.Context) ([]store.Pause, error) {
	var out []store.Pause
	err := s.inRead(ctx, func(r *readTx) error {
		var err error
		out, err = readPauses(r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list pauses: %w", err)
	}
	return out, nil
}

// readPauses reads every pause.
func readPauses(r *readTx) ([]store.Pause, error) {
	rows, err := r.query(sqlPauses)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Pause
	for rows.Next() {
		var p store.Pause
		var since int64
		if err := rows.Scan(&p.Destination, &p.Reason, &since); err != nil {
			return nil, err
		}
		p.Since = fromMicros(since)
		out = append(out, p)
	}
	return out, rows.Err()
}
