// Package sqlite is the embedded ledger: store.Store on SQLite, through the
// pure-Go driver modernc.org/sqlite (driver name "sqlite"), so the daemon
// stays one static binary.
//
// # Connections and settings
//
// Open keeps two pools on one database file:
//
//   - one writer connection (MaxOpenConns 1). SQLite runs one write
//     transaction at a time anyway; queueing writers in Go rather than in
//     SQLite's busy handler avoids read-to-write lock upgrades, which the
//     busy handler cannot resolve and which surface as "database is locked".
//     Its transactions BEGIN IMMEDIATE (_txlock=immediate): they take the
//     write lock at BEGIN, so a second process (a backfill beside the
//     daemon) waits in the busy handler instead of failing halfway.
//   - a small read pool (Options.ReadConns, 4 by default) with query_only,
//     for Stats, Lookup, ScanResponses, DeadLetters, Rejects, Leases,
//     Pauses, SourceState and the score runs. In WAL mode readers never
//     block the writer nor wait for it.
//
// Every per-connection setting is in the DSN (_pragma=...), because a
// PRAGMA run with Exec reaches only the one pooled connection it ran on:
//
//   - journal_mode=WAL: readers and the writer work at once, and a commit
//     appends to the log instead of rewriting pages in place.
//   - synchronous=FULL (Options.Synchronous; NORMAL allowed): with FULL a
//     commit is synced before Ingest returns, so a webhook acknowledged
//     after Ingest survives power loss. NORMAL survives kill -9 but may
//     lose the newest commits on power loss.
//   - busy_timeout (Options.BusyTimeout, 10 s by default): how long a
//     connection waits for a lock another process holds.
//   - foreign_keys=1, temp_store=MEMORY, a 16 MiB page cache for the writer
//     and 4 MiB per reader, and journal_size_limit so a checkpointed WAL
//     shrinks back to 64 MiB.
//
// # Files
//
// The directory is created 0700 when missing and the database file is
// created 0600 before SQLite opens it; SQLite gives the -wal and -shm files
// the database file's mode, and Open narrows any of the three that is wider
// (left by another tool) to 0600. Responses hold personal data: nobody but
// the daemon's user may read them.
//
// # Schema
//
// Migrations are embedded (migrations/NNNN_what.sql), recorded in
// schema_migrations and applied in order, each in its own transaction.
// Open refuses a database whose schema is newer than the binary. Times are
// INTEGER microseconds since the Unix epoch, 0 meaning none.
//
//   - responses: one row per (source, key) at its latest content, with its
//     hash and content version; indexed by (source, submitted_at) for scans.
//   - deliveries: the outbox, one row per (response, sync): state (pending,
//     sending, delivered, dead), delivery version, attempts, uncertain,
//     stale (content changed while an attempt may have applied the old
//     one), next_at, claim_token and claimed_at, settled_at, the last error
//     and its class, the destination's ref and the redeliver tag. Partial
//     indexes serve each state's queries and hold only that state's rows:
//     due pending deliveries by (sync, next_at) for Claim, in-flight ones by
//     (sync, claim_token), delivered and dead ones by (sync, settled_at),
//     and the few pending ones whose due time differs from their planning
//     time (retries) for the oldest-pending figure. A backlog of a million
//     pending deliveries therefore costs Claim a range scan of its limit,
//     and the delivered history never slows Claim down.
//   - delivery_counts: per (sync, state, uncertain) counts, changed in the
//     same transaction as the rows they count, so Stats never counts rows.
//   - sync_status: per sync, the last success and the last error, updated
//     by Settle. sync_sources: which sources a sync plans from, so replay
//     by response key can use UNIQUE (source, key).
//   - source_stats (responses per source, last ingest), source_state
//     (cursors and file hashes, saved in the ingest transaction), leases
//     (one row per name, never deleted, so fencing tokens only grow across
//     all names), pauses, rejects, and score_runs (the newest 500 of each
//     job).
//
// # Cost
//
// Statements are prepared once per pool. Ingest inserts a batch's planned
// deliveries with one statement, Claim picks and marks a batch with two,
// and Settle applies a whole batch of outcomes with one UPDATE … FROM
// json_each. Write statements run with a context that the driver does not
// watch (a watcher costs a goroutine per statement); the caller's context
// is checked before commit and still rolls the transaction back.
package sqlite
