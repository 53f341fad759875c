// Package sqlite is the embedded ledger: store.Store on SQLite, through the
// pure-Go modernc.org/sqlite (driver name "sqlite", and its C API in
// modernc.org/sqlite/lib), so the daemon stays one static binary.
//
// # Connections and settings
//
// Open keeps these connections to one database file:
//
//   - one writer, used through SQLite's C API rather than database/sql
//     (rawWriter, see rawConn: database/sql cost several microseconds of
//     conversions, copies and locks per statement and per column read,
//     about as much as SQLite's own work). Writers queue on a mutex:
//     SQLite runs one write transaction at a time anyway, and queueing in
//     Go rather than in SQLite's busy handler avoids read-to-write lock
//     upgrades, which the busy handler cannot resolve and which surface as
//     "database is locked". Its transactions BEGIN IMMEDIATE: they take
//     the write lock at BEGIN, so a second process (a backfill beside the
//     daemon) waits in the busy handler instead of failing halfway. Its
//     fixed queries are prepared at open, so a broken query fails Open.
//   - a small read pool (Options.ReadConns, 4 by default) through
//     database/sql with query_only, for Stats, Lookup, DeadLetters,
//     Rejects, Leases, Pauses, SourceState and the score runs. In WAL mode
//     readers never block the writer nor wait for it.
//   - for each scan (ScanResponses, ScanBatches) connections of its own
//     through the C API, with mmap (a pread per page costs a third of a
//     scan), closed when the scan ends so the map does not stay resident.
//   - a database/sql connection for migrations at open and PRAGMA optimize
//     at close.
//
// Every per-connection setting is set on each connection as it opens
// (in the DSN for database/sql, by PRAGMA for the others), because a PRAGMA
// reaches only the connection it ran on:
//
//   - journal_mode=WAL: readers and the writer work at once, and a commit
//     appends to the log instead of rewriting pages in place.
//   - synchronous=FULL (Options.Synchronous; NORMAL allowed): with FULL a
//     commit is synced before Ingest returns, so a webhook acknowledged
//     after Ingest survives power loss. NORMAL survives kill -9 but may
//     lose the newest commits on power loss. (On the engine's
//     ingest-to-settle benchmark NORMAL saves only 1–2 µs a response: the
//     group commit already shares each sync among ~100 responses.)
//   - busy_timeout (Options.BusyTimeout, 10 s by default): how long a
//     connection waits for a lock another process holds.
//   - foreign_keys=1, temp_store=MEMORY, a 16 MiB page cache for the writer
//     and 4 MiB per reader, and journal_size_limit so a checkpointed WAL
//     shrinks back to 64 MiB. Larger pages (16 and 64 KiB) and a larger
//     wal_autocheckpoint were measured and gave nothing.
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
//     delivered, dead), delivery version, attempts, uncertain, stale
//     (content changed while an attempt may have applied the old one),
//     next_at, claimed_at (when the latest attempt was claimed),
//     settled_at, the last error and its class, the destination's ref and
//     the redeliver tag. Partial indexes hold only the rows of the states
//     they serve: deliveries still to be made by (sync, state, next_at),
//     which Claim reads; dead ones by (sync, settled_at); and the few
//     pending ones whose due time differs from their planning time
//     (retries) for the oldest-pending figure. A backlog of a million
//     pending deliveries therefore costs Claim a range scan of its limit,
//     and the delivered history is not indexed at all.
//   - claims: what is in flight, one row per claimed batch (sync, lease
//     token, claim time, the ids not settled yet). Claimed deliveries stay
//     pending in their table, so a claim writes one row rather than
//     rewriting every delivery it takes; Settle removes settled ids from
//     their claim, and the claim once it is empty. A claim of another
//     token (its holder lost the lease) or older than the claimer's
//     StaleAfter is taken back by the next Claim of its sync: its
//     deliveries count the attempt and become uncertain, due as they
//     were. Stats and Lookup count deliveries in claims as sending; the
//     delivery_state view shows every delivery in that state, for the
//     sqlite3 shell. Deliveries a binary from before claims marked
//     'sending' under its token (claim_token, unwritten since schema 4)
//     are left so by the migration, as that binary may still be running on
//     the file, and are taken back like a claim of another token.
//   - delivery_counts: per (sync, state, uncertain) counts, and
//     delivered_log: per (sync, settle time) the number delivered, both
//     changed in the same transaction as the rows they count, so Stats
//     never counts rows.
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
// Ingest inserts a batch's planned deliveries with a few multi-row
// statements, Claim picks a batch with one query and records it as one
// claims row, and Settle applies a whole batch of
// outcomes with one UPDATE … FROM json_each per kind of outcome. Statements
// do not watch the caller's context (they are short); it is checked before
// commit and still rolls the transaction back. Most of what remains is
// SQLite's own B-tree work and the WAL writes of each commit.
//
// ScanBatches cuts its window into slices of time read by two goroutines
// while the caller works on the pages already read; pages' memory is
// reused. A million stored responses take about 0.4 s to read that way.
package sqlite
