package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/surveysync/surveysync/store"
)

// keepScoreRuns is how many runs of each score job the ledger keeps.
const keepScoreRuns = 500

const (
	sqlInsertScoreRun = `INSERT INTO score_runs (job, scheduled_for, ran_at, results) VALUES (?1, ?2, ?3, ?4)`
	sqlPruneScoreRuns = `DELETE FROM score_runs WHERE id IN (
    SELECT id FROM score_runs WHERE job = ?1 ORDER BY ran_at DESC, id DESC LIMIT -1 OFFSET ?2)`
	sqlScoreRuns = `SELECT scheduled_for, ran_at, results FROM score_runs
WHERE job = ?1 ORDER BY ran_at DESC, id DESC LIMIT ?2`
)

// LastScoreRun returns a job's newest run, or a ScoreRun with only Job set
// when it never ran. See store.Store.
func (s *Store) LastScoreRun(ctx context.Context, job string) (store.ScoreRun, error) {
	runs, err := s.ScoreRuns(ctx, job, 1)
	if err != nil {
		return store.ScoreRun{}, err
	}
	if len(runs) == 0 {
		return store.ScoreRun{Job: job}, nil
	}
	return runs[0], nil
}

// RecordScoreRun stores a run and keeps only the newest 500 of its job. A
// zero RanAt is recorded as now. See store.Store.
func (s *Store) RecordScoreRun(ctx context.Context, run store.ScoreRun) error {
	if run.Job == "" {
		return errors.New("record score run: no job")
	}
	ranAt := toMicros(run.RanAt)
	if ranAt == 0 {
		ranAt = toMicros(s.now())
	}
	results := run.Results
	if results == nil {
		results = []byte{}
	}
	err := s.inWrite(ctx, func(w *writeTx) error {
		if _, err := w.exec(sqlInsertScoreRun, run.Job, toMicros(run.ScheduledFor), ranAt, results); err != nil {
			return err
		}
		_, err := w.exec(sqlPruneScoreRuns, run.Job, keepScoreRuns)
		return err
	})
	if err != nil {
		return fmt.Errorf("record score run of %s: %w", run.Job, err)
	}
	return nil
}

// ScoreRuns returns a job's runs, newest first; a zero limit means 100.
// See store.Store.
func (s *Store) ScoreRuns(ctx context.Context, job string, limit int) ([]store.ScoreRun, error) {
	if limit <= 0 {
		limit = defaultListLimit
	}
	var out []store.ScoreRun
	err := s.inRead(ctx, func(r *readTx) error {
		rows, err := r.query(sqlScoreRuns, job, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			run := store.ScoreRun{Job: job}
			var scheduled, ranAt int64
			if err := rows.Scan(&scheduled, &ranAt, &run.Results); err != nil {
				return err
			}
			run.ScheduledFor, run.RanAt = fromMicros(scheduled), fromMicros(ranAt)
			out = append(out, run)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list score runs of %s: %w", job, err)
	}
	return out, nil
}
