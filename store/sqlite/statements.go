package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// statements are the writer's prepared statements. Preparing once keeps
// SQL parsing out of the per-row cost of ingest, claim and settle.
type statements struct {
	all []*sql.Stmt

	insertResponse  *sql.Stmt
	findResponse    *sql.Stmt
	updateResponse  *sql.Stmt
	insertDelivery  *sql.Stmt
	responseDeliv   *sql.Stmt
	reopenDelivery  *sql.Stmt
	markStale       *sql.Stmt
	tagDelivery     *sql.Stmt
	countSource     *sql.Stmt
	linkSyncSource  *sql.Stmt
	saveSourceState *sql.Stmt

	checkLease *sql.Stmt
	claim      *sql.Stmt
	claimed    *sql.Stmt

	settleDelivered *sql.Stmt
	settleDead      *sql.Stmt
	settleRetry     *sql.Stmt
	settleRelease   *sql.Stmt
	syncStatus      *sql.Stmt
}

// prepareStatements prepares every statement on the writer.
func prepareStatements(ctx context.Context, db *sql.DB) (*statements, error) {
	q := &statements{}
	list := []struct {
		dst   **sql.Stmt
		query string
	}{
		{&q.insertResponse, sqlInsertResponse},
		{&q.findResponse, sqlFindResponse},
		{&q.updateResponse, sqlUpdateResponse},
		{&q.insertDelivery, sqlInsertDelivery},
		{&q.responseDeliv, sqlResponseDeliveries},
		{&q.reopenDelivery, sqlReopenDelivery},
		{&q.markStale, sqlMarkStale},
		{&q.tagDelivery, sqlTagDelivery},
		{&q.countSource, sqlCountSource},
		{&q.linkSyncSource, sqlLinkSyncSource},
		{&q.saveSourceState, sqlSaveSourceState},
		{&q.checkLease, sqlCheckLease},
		{&q.claim, sqlClaim},
		{&q.claimed, sqlClaimedResponses},
		{&q.settleDelivered, sqlSettleDelivered},
		{&q.settleDead, sqlSettleDead},
		{&q.settleRetry, sqlSettleRetry},
		{&q.settleRelease, sqlSettleRelease},
		{&q.syncStatus, sqlSyncStatus},
	}
	for _, s := range list {
		stmt, err := db.PrepareContext(ctx, s.query)
		if err != nil {
			q.close()
			return nil, fmt.Errorf("preparing %q: %w", firstLine(s.query), err)
		}
		*s.dst = stmt
		q.all = append(q.all, stmt)
	}
	return q, nil
}

// close closes every prepared statement.
func (q *statements) close() error {
	var errs []error
	for _, s := range q.all {
		errs = append(errs, s.Close())
	}
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
