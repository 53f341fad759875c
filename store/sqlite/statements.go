package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// stmtCache holds statements prepared when the store opens, by their SQL.
// Preparing once keeps SQL parsing out of the per-call cost, and a broken
// query fails Open rather than a later call. It is read-only after open.
type stmtCache struct {
	m map[string]*sql.Stmt
}

// newStmtCache prepares queries on db.
func newStmtCache(ctx context.Context, db *sql.DB, queries []string) (*stmtCache, error) {
	c := &stmtCache{m: make(map[string]*sql.Stmt, len(queries))}
	for _, q := range queries {
		stmt, err := db.PrepareContext(ctx, q)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("preparing %q: %w", firstLine(q), err)
		}
		c.m[q] = stmt
	}
	return c, nil
}

// get returns the prepared statement of query, if it was prepared at open.
func (c *stmtCache) get(query string) (*sql.Stmt, bool) {
	s, ok := c.m[query]
	return s, ok
}

// close closes every prepared statement.
func (c *stmtCache) close() error {
	var errs []error
	for _, s := range c.m {
		errs = append(errs, s.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}

// firstLine shortens a query for an error message.
func firstLine(query string) string {
	for i, r := range query {
		if r == '\n' {
			return query[:i]
		}
	}
	return query
}

// writerQueries are prepared on the writer when the store opens.
var writerQueries = append([]string{
	sqlBegin, sqlCommit, sqlRollback,
	sqlInsertResponse, sqlFindResponse, sqlUpdateResponse, sqlInsertDelivery, sqlResponseDeliveries,
	sqlReopenDelivery, sqlMarkStale, sqlTagDelivery, sqlCountSource, sqlLinkSyncSource, sqlSaveSourceState,
	sqlCheckLease, sqlClaimableDue, sqlClaimableDueExcept, sqlClaimsOfSync, sqlClaimsOfToken, sqlInsertClaim,
	sqlDeleteClaim, sqlShrinkClaim, sqlTakenBack, sqlTakeBack, sqlLeftSending, sqlTakeBackSending, sqlInFlight,
	sqlDeliveredOfResponses, sqlSettling, sqlSettleDelivered, sqlSettleRedeliver, sqlSettleDead, sqlSettleRetry, sqlSettleRelease, sqlSyncStatus,
	sqlLeaseHolder, sqlTakeLease, sqlRenewLease, sqlReleaseLease, sqlAddCount, sqlAddDelivered, sqlDropDelivered,
	sqlSetPause, sqlClearPause, sqlInsertReject, sqlMarkRejects, sqlInsertScoreRun, sqlPruneScoreRuns,
}, plannedDeliveriesQueries()...)

// plannedDeliveriesQueries lists the multi-row INSERTs of new deliveries.
func plannedDeliveriesQueries() []string {
	out := make([]string, 0, len(planChunks))
	for _, n := range planChunks {
		out = append(out, sqlInsertDeliveriesBySize[n])
	}
	return out
}

// readerQueries are prepared on the read pool when the store opens (on one
// connection; database/sql prepares them on the others as they are used).
var readerQueries = []string{
	sqlDeliveryCounts, sqlSyncStatuses, sqlFirstDue, sqlOldestRetrying, sqlDeliveredSince,
	sqlSourceStats, sqlSourceCursors, sqlRejectCounts, sqlPauses, sqlLeases,
	sqlSourceState, sqlLookup, sqlDeadLetters, sqlDeadLettersOfSync,
	sqlRejectsAll, sqlRejectsOfSource, sqlScoreRuns,
}
