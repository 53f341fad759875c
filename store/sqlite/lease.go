package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/surveysync/surveysync/store"
)

const (
	sqlLeaseHolder = `SELECT holder, expires_at FROM leases WHERE name = ?1`

	// sqlTakeLease gives the lease to a holder under the next token of one
	// sequence over all lease names (rows are never deleted, so MAX only
	// grows).
	sqlTakeLease = `INSERT INTO leases (name, holder, token, acquired_at, expires_at)
VALUES (?1, ?2, (SELECT COALESCE(MAX(token), 0) + 1 FROM leases), ?3, ?4)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token,
    acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
RETURNING token`

	sqlRenewLease = `UPDATE leases SET expires_at = ?4 WHERE name = ?1 AND holder = ?2 AND token = ?3`

	sqlReleaseLease = `UPDATE leases SET holder = '', expires_at = 0 WHERE name = ?1 AND holder = ?2 AND token = ?3`

	sqlLeases = `SELECT name, holder, token, expires_at FROM leases
WHERE holder <> '' AND expires_at > ?1 ORDER BY name`
)

// AcquireLease takes the named lease for holder for ttl. Tokens come from
// one sequence over all lease names, so a token also orders acquisitions
// of different leases. See store.Store.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (store.Lease, error) {
	switch {
	case name == "":
		return store.Lease{}, errors.New("acquire lease: no name")
	case holder == "":
		return store.Lease{}, fmt.Errorf("acquire lease %s: no holder", name)
	case ttl <= 0:
		return store.Lease{}, fmt.Errorf("acquire lease %s: ttl %s must be positive", name, ttl)
	}
	now := s.now()
	lease := store.Lease{Name: name, Holder: holder, ExpiresAt: fromMicros(toMicros(now.Add(ttl)))}
	err := s.inWrite(ctx, func(w *writeTx) error {
		var current string
		var expires int64
		err := w.queryRow(sqlLeaseHolder, []any{name}, &current, &expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case current != "" && current != holder && expires > toMicros(now):
			return fmt.Errorf("%w: %s until %s", store.ErrLeaseHeld, current, fromMicros(expires).Format(time.RFC3339))
		}
		return w.queryRow(sqlTakeLease, []any{name, holder, toMicros(now), toMicros(lease.ExpiresAt)}, &lease.Token)
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return lease, nil
}

// RenewLease extends a held lease by ttl from now. A lease that expired but
// was not taken over (its token is still current) is renewed too: nobody
// else can have worked under it. See store.Store.
func (s *Store) RenewLease(ctx context.Context, lease store.Lease, ttl time.Duration) (store.Lease, error) {
	if ttl <= 0 {
		return store.Lease{}, fmt.Errorf("renew lease %s: ttl %s must be positive", lease.Name, ttl)
	}
	renewed := lease
	renewed.ExpiresAt = fromMicros(toMicros(s.now().Add(ttl)))
	err := s.inWrite(ctx, func(w *writeTx) error {
		res, err := w.exec(sqlRenewLease, lease.Name, lease.Holder, lease.Token, toMicros(renewed.ExpiresAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("token %d of %s: %w", lease.Token, lease.Holder, store.ErrLeaseLost)
		}
		return nil
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("renew lease %s: %w", lease.Name, err)
	}
	return renewed, nil
}

// ReleaseLease gives a lease up. Releasing a lease that was already lost
// changes nothing and is not an error. See store.Store.
func (s *Store) ReleaseLease(ctx context.Context, lease store.Lease) error {
	err := s.inWrite(ctx, func(w *writeTx) error {
		_, err := w.exec(sqlReleaseLease, lease.Name, lease.Holder, lease.Token)
		return err
	})
	if err != nil {
		return fmt.Errorf("release lease %s: %w", lease.Name, err)
	}
	return nil
}

// Leases lists the unexpired leases by name. See store.Store.
func (s *Store) Leases(ctx context.Context) ([]store.Lease, error) {
	var out []store.Lease
	err := s.inRead(ctx, func(r *readTx) error {
		var err error
		out, err = readLeases(r, s.now())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list leases: %w", err)
	}
	return out, nil
}

// readLeases reads the leases unexpired at now.
func readLeases(r *readTx, now time.Time) ([]store.Lease, error) {
	rows, err := r.query(sqlLeases, toMicros(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Lease
	for rows.Next() {
		var l store.Lease
		var expires int64
		if err := rows.Scan(&l.Name, &l.Holder, &l.Token, &expires); err != nil {
			return nil, err
		}
		l.ExpiresAt = fromMicros(expires)
		out = append(out, l)
	}
	return out, rows.Err()
}
