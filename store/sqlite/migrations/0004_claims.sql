-- 0004: claims record what is in flight, a row per claimed batch.
--
-- A claim used to mark each claimed delivery 'sending' under the claim's
-- token: a row rewrite and two index changes per delivery, taken back at
-- settle, which cost a fifth of a response's trip through the ledger. Now a
-- claim writes one row here naming the deliveries it took, which stay
-- 'pending' in their table; settling removes them from the claim (and the
-- claim once it is empty). A claim left behind by a holder that died, or
-- older than the claimer's stale limit, is taken back by the next claim:
-- its deliveries count the attempt and become uncertain, as 'sending' ones
-- used to. delivery_counts still counts in-flight deliveries as 'sending'.
CREATE TABLE claims (
    id         INTEGER PRIMARY KEY,
    sync       TEXT    NOT NULL,
    token      INTEGER NOT NULL,
    claimed_at INTEGER NOT NULL,
    -- The ids of the claimed deliveries not settled yet, as a JSON array.
    ids        TEXT    NOT NULL
);

-- Deliveries left 'sending' by an older binary stay as they are: that
-- binary may still be running on this file (a newer command migrated it
-- beside the daemon), and knows nothing of claims; turned pending, they
-- would look due to it and be sent again as if never sent. Claim takes
-- them back, as uncertain, like a claim of another token.

-- delivery_state shows each delivery in the state Stats counts it in, for
-- people reading the ledger with the sqlite3 shell (and for tests).
CREATE VIEW delivery_state AS
SELECT d.id, d.sync, d.response_id, d.uncertain, d.redeliver_tag,
    CASE WHEN d.state = 'pending' AND EXISTS (
        SELECT 1 FROM claims c, json_each(c.ids) j WHERE c.sync = d.sync AND j.value = d.id)
    THEN 'sending' ELSE d.state END AS state
FROM deliveries d;
