package sqlite

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Synchronous is the SQLite synchronous setting of the ledger connections.
type Synchronous string

// The synchronous settings the ledger allows.
const (
	// SyncFull makes every commit durable across power loss: SQLite syncs
	// the WAL at each commit. The default.
	SyncFull Synchronous = "FULL"
	// SyncNormal keeps commits across application crashes (kill -9) but a
	// power loss may roll back the newest ones. It saves an fsync per
	// commit.
	SyncNormal Synchronous = "NORMAL"
)

// Options configure a Store. The zero value is ready to use.
type Options struct {
	// Now is the clock for leases and for ingest, claim and settle times
	// that callers leave zero. Nil means time.Now.
	Now func() time.Time
	// Synchronous is the durability of commits; empty means SyncFull.
	Synchronous Synchronous
	// BusyTimeout is how long a connection waits for a lock held by another
	// connection or process before failing; 0 means 10 seconds.
	BusyTimeout time.Duration
	// ReadConns is the size of the read-only connection pool; 0 means 4.
	ReadConns int
	// Logger receives store events; nil discards them.
	Logger *slog.Logger
}

// The defaults of Options.
const (
	defaultBusyTimeout = 10 * time.Second
	defaultReadConns   = 4
)

// withDefaults validates o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	switch Synchronous(strings.ToUpper(string(o.Synchronous))) {
	case "":
		o.Synchronous = SyncFull
	case SyncFull:
		o.Synchronous = SyncFull
	case SyncNormal:
		o.Synchronous = SyncNormal
	default:
		return o, fmt.Errorf("synchronous %q is not supported (want FULL or NORMAL)", o.Synchronous)
	}
	switch {
	case o.BusyTimeout == 0:
		o.BusyTimeout = defaultBusyTimeout
	case o.BusyTimeout < time.Millisecond:
		return o, fmt.Errorf("busy timeout %s is too short (want at least 1ms)", o.BusyTimeout)
	}
	switch {
	case o.ReadConns == 0:
		o.ReadConns = defaultReadConns
	case o.ReadConns < 0:
		return o, fmt.Errorf("read connections %d must not be negative", o.ReadConns)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
