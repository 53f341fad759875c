-- 0001: the ledger's first schema.
--
-- Times are INTEGER microseconds since the Unix epoch, 0 meaning "never" (the
-- zero time.Time). Delivery states are spelled out as text so that an ops
-- person reading the file with the sqlite3 shell understands it.

-- responses holds every response a source handed over, at its latest stored
-- content. version counts content changes; hash tells a resend of the same
-- content from an update.
CREATE TABLE responses (
    id           INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    hash         TEXT    NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    submitted_at INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    payload      BLOB    NOT NULL,
    UNIQUE (source, key)
);

-- Scans in submission order (scores, backfill); the rowid is the implicit
-- last column, which orders ties.
CREATE INDEX responses_by_submission ON responses (source, submitted_at);

-- deliveries is the outbox: one row per (response, sync). version is the
-- delivery version (a redelivery increments it, which changes the delivery
-- key); stale marks a delivery whose content changed while an attempt may
-- have applied the old content, so a successful settle re-opens it.
CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY,
    sync          TEXT    NOT NULL,
    response_id   INTEGER NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL DEFAULT 1,
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'dead')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    uncertain     INTEGER NOT NULL DEFAULT 0 CHECK (uncertain IN (0, 1)),
    stale         INTEGER NOT NULL DEFAULT 0 CHECK (stale IN (0, 1)),
    next_at       INTEGER NOT NULL,
    claim_token   INTEGER NOT NULL DEFAULT 0,
    claimed_at    INTEGER NOT NULL DEFAULT 0,
    settled_at    INTEGER NOT NULL DEFAULT 0,
    class         TEXT    NOT NULL DEFAULT '',
    last_error    TEXT    NOT NULL DEFAULT '',
    ref           TEXT    NOT NULL DEFAULT '',
    redeliver_tag TEXT    NOT NULL DEFAULT '',
    planned_at    INTEGER NOT NULL,
    -- Leading with response_id serves planning and Lookup as well as the
    -- foreign key's cascade.
    UNIQUE (response_id, sync)
);

-- Partial indexes: a row sits in exactly the ones of its state, so each stays
-- as small as the set it serves, however long the delivered history grows.
CREATE INDEX deliveries_due ON deliveries (sync, next_at) WHERE state = 'pending';
-- Pending deliveries whose due time differs from their planning time
-- (retries, releases) are few; with the due index they give the oldest
-- pending delivery without indexing every fresh one twice. Settle keeps
-- next_at >= planned_at.
CREATE INDEX deliveries_retrying ON deliveries (sync, planned_at) WHERE state = 'pending' AND next_at <> planned_at;
CREATE INDEX deliveries_in_flight ON deliveries (sync, claim_token) WHERE state = 'sending';
CREATE INDEX deliveries_delivered ON deliveries (sync, settled_at) WHERE state = 'delivered';
CREATE INDEX deliveries_dead ON deliveries (sync, settled_at) WHERE state = 'dead';

-- delivery_counts keeps per-sync counts by state (and uncertainty) so that
-- Stats never counts rows. Every statement that inserts a delivery or
-- changes its state or uncertainty adds its changes here in the same
-- transaction. (Triggers would do the same at several microseconds per row
-- on the ingest, claim and settle paths.)
CREATE TABLE delivery_counts (
    sync      TEXT    NOT NULL,
    state     TEXT    NOT NULL,
    uncertain INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (sync, state, uncertain)
) WITHOUT ROWID;

-- sync_status is updated on settle so that Stats reads the last success and
-- the last error without scanning history.
CREATE TABLE sync_status (
    sync          TEXT    PRIMARY KEY,
    last_success  INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT    NOT NULL DEFAULT '',
    last_error_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- sync_sources records which sources a sync has planned deliveries from, so a
-- replay by response key finds the responses through UNIQUE (source, key).
CREATE TABLE sync_sources (
    sync   TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (sync, source)
) WITHOUT ROWID;

-- source_stats counts responses per source and when the source last handed
-- something over.
CREATE TABLE source_stats (
    source      TEXT    PRIMARY KEY,
    responses   INTEGER NOT NULL DEFAULT 0,
    last_ingest INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- source_state holds cursors and the hashes of files read, saved in the
-- ingest transaction that consumed them.
CREATE TABLE source_state (
    source     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (source, name)
) WITHOUT ROWID;

-- leases: one row per lease name, kept after release so that tokens only
-- grow. An empty holder means released.
CREATE TABLE leases (
    name        TEXT    PRIMARY KEY,
    holder      TEXT    NOT NULL,
    token       INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE pauses (
    destination TEXT    PRIMARY KEY,
    reason      TEXT    NOT NULL,
    since       INTEGER NOT NULL
) WITHOUT ROWID;

-- rejects holds payloads a source could not turn into responses; replayed_at
-- is set once they have been replayed.
CREATE TABLE rejects (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    ref         TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    at          INTEGER NOT NULL,
    replayed_at INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX rejects_open ON rejects (source) WHERE replayed_at = 0;

-- score_runs keeps the newest runs of each score job with their results.
CREATE TABLE score_runs (
    id            INTEGER PRIMARY KEY,
    job           TEXT    NOT NULL,
    scheduled_for INTEGER NOT NULL,
    ran_at        INTEGER NOT NULL,
    results       BLOB    NOT NULL
);

CREATE INDEX score_runs_by_job ON score_runs (job, ran_at);
