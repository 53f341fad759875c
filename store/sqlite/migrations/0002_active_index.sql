-- 0002: cheaper claim and settle.
--
-- A delivery used to move between three partial indexes on its way: due
-- (pending), in flight (sending) and delivered; each move was a B-tree
-- delete and insert in two different indexes, on the ingest, claim and
-- settle paths. Now one index holds the deliveries still to be made,
-- pending and sending, by state: a claim moves the entry within it, and
-- settling removes it. Claim reads the due pending ones in order and the
-- sending ones (few: what is in flight) by state.
DROP INDEX deliveries_due;
DROP INDEX deliveries_in_flight;
CREATE INDEX deliveries_active ON deliveries (sync, state, next_at) WHERE state IN ('pending', 'sending');

-- The delivered index only served "delivered since" in Stats. delivered_log
-- counts delivered deliveries by the time they were settled instead: one
-- row per sync and settle time (a settle writes a whole batch at one time),
-- changed in the same transaction as the deliveries it counts.
DROP INDEX deliveries_delivered;
CREATE TABLE delivered_log (
    sync       TEXT    NOT NULL,
    settled_at INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (sync, settled_at)
) WITHOUT ROWID;
INSERT INTO delivered_log (sync, settled_at, n)
SELECT sync, settled_at, count(*) FROM deliveries WHERE state = 'delivered' GROUP BY sync, settled_at;
