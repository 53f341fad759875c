package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/surveysync/surveysync/store"
)

const (
	sqlInsertResponse = `INSERT INTO responses (source, key, hash, version, submitted_at, received_at, updated_at, payload, source_updated_at)
VALUES (?1, ?2, ?3, 1, ?4, ?5, ?5, ?6, ?7)
ON CONFLICT (source, key) DO NOTHING`

	sqlFindResponse = `SELECT id, hash, version, source_updated_at FROM responses WHERE source = ?1 AND key = ?2`

	sqlUpdateResponse = `UPDATE responses
SET hash = ?2, version = version + 1, submitted_at = ?3, updated_at = ?4, payload = ?5, source_updated_at = ?6
WHERE id = ?1`

	sqlInsertDelivery = `INSERT INTO deliveries (sync, response_id, state, next_at, planned_at, redeliver_tag)
VALUES (?1, ?2, 'pending', ?3, ?3, ?4)
ON CONFLICT (response_id, sync) DO NOTHING`

	sqlResponseDeliveries = `SELECT id, sync, state, uncertain, redeliver_tag, settled_at FROM deliveries WHERE response_id = ?1`

	// sqlReopenDelivery turns a delivered delivery into a redelivery: a new
	// delivery version, so a new delivery key, due now.
	sqlReopenDelivery = `UPDATE deliveries
SET state = 'pending', version = version + 1, attempts = 0, uncertain = 0, stale = 0,
    next_at = ?2, planned_at = ?2, settled_at = 0, class = '', last_error = '', ref = '',
    redeliver_tag = ?3
WHERE id = ?1`

	sqlMarkStale = `UPDATE deliveries SET stale = 1 WHERE id = ?1`

	sqlTagDelivery = `UPDATE deliveries SET redeliver_tag = ?2 WHERE id = ?1`

	sqlCountSource = `INSERT INTO source_stats (source, responses, last_ingest) VALUES (?1, ?2, ?3)
ON CONFLICT (source) DO UPDATE SET responses = responses + excluded.responses,
    last_ingest = max(last_ingest, excluded.last_ingest)`

	sqlLinkSyncSource = `INSERT INTO sync_sources (sync, source) VALUES (?1, ?2) ON CONFLICT DO NOTHING`

	sqlSaveSourceState = `INSERT INTO source_state (source, name, value, updated_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (source, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`
)

// Ingest stores a batch of responses, plans their deliveries and saves
// source state in one transaction. See store.Store.
func (s *Store) Ingest(ctx context.Context, batch []store.Incoming, state []store.SourceState) ([]store.IngestResult, error) {
	if err := validateIngest(batch, state); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	// Hashing is CPU work that needs no lock: do it before taking the
	// writer.
	hashes := make([]string, len(batch))
	for i := range batch {
		hashes[i] = batch[i].Response.Hash()
	}
	at := toMicros(s.now())
	results := make([]store.IngestResult, len(batch))
	var links map[[2]string]bool
	err := s.inWrite(ctx, func(w *writeTx) error {
		in := ingester{w: w, at: at, inserted: map[string]int64{}, links: map[[2]string]bool{}}
		links = in.links
		for i := range batch {
			r, err := in.one(&batch[i], hashes[i])
			if err != nil {
				return fmt.Errorf("response %d (%s/%s): %w", i, batch[i].Response.Source, batch[i].Response.Key, err)
			}
			results[i] = r
		}
		return in.finish(state)
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	s.rememberLinks(links)
	return results, nil
}

// knownLink reports whether sync_sources is known to hold (sync, source).
func (s *Store) knownLink(link [2]string) bool {
	s.linksMu.Lock()
	defer s.linksMu.Unlock()
	return s.links[link]
}

// rememberLinks notes links committed to sync_sources, so later ingests
// skip the statement.
func (s *Store) rememberLinks(links map[[2]string]bool) {
	if len(links) == 0 {
		return
	}
	s.linksMu.Lock()
	defer s.linksMu.Unlock()
	if s.links == nil {
		s.links = map[[2]string]bool{}
	}
	for l := range links {
		s.links[l] = true
	}
}

// validateIngest rejects what the ledger cannot store.
func validateIngest(batch []store.Incoming, state []store.SourceState) error {
	for i := range batch {
		r := &batch[i].Response
		switch {
		case r.Source == "":
			return fmt.Errorf("response %d has no source", i)
		case r.Key == "":
			return fmt.Errorf("response %d of %s has no key", i, r.Source)
		}
		switch batch[i].Policy {
		case "", store.UpdateLatest, store.UpdateRedeliver, store.UpdateIgnore:
		default:
			return fmt.Errorf("response %d (%s/%s): unknown update policy %q", i, r.Source, r.Key, batch[i].Policy)
		}
		for _, sync := range batch[i].Syncs {
			if sync == "" {
				return fmt.Errorf("response %d (%s/%s): empty sync name", i, r.Source, r.Key)
			}
		}
	}
	for _, st := range state {
		if st.Source == "" || st.Name == "" {
			return fmt.Errorf("source state needs a source and a name (got %q, %q)", st.Source, st.Name)
		}
	}
	return nil
}

// ingester ingests one batch inside its write transaction.
type ingester struct {
	w  *writeTx
	at int64
	// inserted counts new responses per source, for source_stats.
	inserted map[string]int64
	// links are the (sync, source) pairs seen that sync_sources may lack.
	links map[[2]string]bool
	// planned are the deliveries of new responses not inserted yet, by
	// sync, in first-seen order.
	planned []*plannedBatch
}

// plannedBatch is new deliveries to one sync.
type plannedBatch struct {
	sync        string
	responseIDs []int64
	tags        []string
}

// planChunks are the sizes of the multi-row INSERTs that plan new
// deliveries, largest first: a batch's deliveries to one sync are inserted
// in as few statements of these sizes as add up to it. Binding rows as
// parameters costs less than passing them as JSON for json_each to parse.
var planChunks = []int{64, 16, 4, 1}

// sqlInsertDeliveriesOf returns the INSERT of n new deliveries to one
// sync: ?1 is the sync, ?2 the planning time, then a response id and a
// redeliver tag per delivery.
func sqlInsertDeliveriesOf(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO deliveries (sync, response_id, state, next_at, planned_at, redeliver_tag) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "(?1, ?%d, 'pending', ?2, ?2, ?%d)", 3+2*i, 4+2*i)
	}
	b.WriteString(" ON CONFLICT (response_id, sync) DO NOTHING")
	return b.String()
}

// sqlInsertDeliveriesBySize holds sqlInsertDeliveriesOf of each plan chunk.
var sqlInsertDeliveriesBySize = func() map[int]string {
	m := make(map[int]string, len(planChunks))
	for _, n := range planChunks {
		m[n] = sqlInsertDeliveriesOf(n)
	}
	return m
}()

// planNew adds a delivery of a new response to sync.
func (in *ingester) planNew(sync string, responseID int64, tag string) {
	var b *plannedBatch
	for _, p := range in.planned {
		if p.sync == sync {
			b = p
			break
		}
	}
	if b == nil {
		b = &plannedBatch{sync: sync}
		in.planned = append(in.planned, b)
	}
	b.responseIDs = append(b.responseIDs, responseID)
	b.tags = append(b.tags, tag)
}

// existingDelivery is a delivery row of a response already stored.
type existingDelivery struct {
	id        int64
	state     store.State
	uncertain bool
	tag       string
	settledAt int64
}

// one ingests one response.
func (in *ingester) one(inc *store.Incoming, hash string) (store.IngestResult, error) {
	w, r := in.w, &inc.Response
	payload := []byte(r.Payload)
	if payload == nil {
		payload = []byte{}
	}
	if _, ok := in.inserted[r.Source]; !ok {
		in.inserted[r.Source] = 0
	}
	for _, sync := range inc.Syncs {
		if link := [2]string{sync, r.Source}; !in.links[link] && !w.s.knownLink(link) {
			in.links[link] = true
		}
	}

	inserted, err := w.exec(sqlInsertResponse, r.Source, r.Key, hash, toMicros(r.SubmittedAt), in.at, payload, sourceTime(r.UpdatedAt))
	if err != nil {
		return store.IngestResult{}, fmt.Errorf("inserting response: %w", err)
	}
	if n, _ := inserted.RowsAffected(); n == 1 {
		id, err := inserted.LastInsertId()
		if err != nil {
			return store.IngestResult{}, fmt.Errorf("inserting response: %w", err)
		}
		in.inserted[r.Source]++
		planned := 0
		for i, sync := range inc.Syncs {
			if !slices.Contains(inc.Syncs[:i], sync) {
				in.planNew(sync, id, inc.RedeliverTag)
				planned++
			}
		}
		return store.IngestResult{Outcome: store.Inserted, Version: 1, Planned: planned}, nil
	}
	// A response stored before, maybe earlier in this batch: its
	// deliveries must be in the table before they are read.
	if err := in.insertPlanned(); err != nil {
		return store.IngestResult{}, err
	}

	var id, storedTime int64
	var storedHash string
	res := store.IngestResult{Outcome: store.Duplicate}
	if err := w.queryRow(sqlFindResponse, []any{r.Source, r.Key}, &id, &storedHash, &res.Version, &storedTime); err != nil {
		return res, fmt.Errorf("reading stored response: %w", err)
	}
	policy := inc.Policy
	if policy == "" {
		policy = store.UpdateLatest
	}
	incomingTime := sourceTime(r.UpdatedAt)
	switch {
	case storedHash == hash:
	case policy == store.UpdateIgnore:
		res.Outcome = store.Ignored
	case incomingTime != 0 && storedTime != 0 && incomingTime < storedTime:
		// An older version arriving after a newer one: keep the newer.
		res.Outcome = store.Stale
	default:
		res.Outcome = store.Updated
		if _, err := w.exec(sqlUpdateResponse, id, hash, toMicros(r.SubmittedAt), in.at, payload, max(incomingTime, storedTime)); err != nil {
			return res, fmt.Errorf("updating response: %w", err)
		}
		res.Version++
	}
	if len(inc.Syncs) == 0 {
		return res, nil
	}
	res.Planned, err = in.replan(id, inc, res.Outcome == store.Updated && policy == store.UpdateRedeliver)
	return res, err
}

// sourceTime is a source's updated time as stored: microseconds, 0 for none.
func sourceTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return toMicros(t)
}

// insertPlanned inserts the deliveries planned for new responses.
func (in *ingester) insertPlanned() error {
	args := make([]any, 0, 2+2*planChunks[0])
	for _, b := range in.planned {
		ids, tags := b.responseIDs, b.tags
		for len(ids) > 0 {
			n := planChunks[len(planChunks)-1]
			for _, c := range planChunks {
				if c <= len(ids) {
					n = c
					break
				}
			}
			args = append(args[:0], b.sync, in.at)
			for i := range n {
				args = append(args, ids[i], tags[i])
			}
			res, err := in.w.exec(sqlInsertDeliveriesBySize[n], args...)
			if err != nil {
				return fmt.Errorf("planning deliveries to %s: %w", b.sync, err)
			}
			if got, _ := res.RowsAffected(); got != int64(n) {
				return fmt.Errorf("planning deliveries to %s: inserted %d, want %d", b.sync, got, n)
			}
			for range n {
				in.w.move(b.sync, "", false, store.Pending, false)
			}
			ids, tags = ids[n:], tags[n:]
		}
	}
	in.planned = in.planned[:0]
	return nil
}

// plan creates a pending delivery of a response to sync unless it has one,
// and returns how many it created.
func (in *ingester) plan(responseID int64, sync, tag string) (int, error) {
	res, err := in.w.exec(sqlInsertDelivery, sync, responseID, in.at, tag)
	if err != nil {
		return 0, fmt.Errorf("planning delivery to %s: %w", sync, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("planning delivery to %s: %w", sync, err)
	}
	for range n {
		in.w.move(sync, "", false, store.Pending, false)
	}
	return int(n), nil
}

// replan applies an ingest of a response already stored to its deliveries:
// a sync newly listed gets a delivery; a redelivery (requested, or caused
// by changed content under UpdateRedeliver) re-opens deliveries already
// made, and marks stale those whose attempt may have applied old content.
func (in *ingester) replan(responseID int64, inc *store.Incoming, contentRedeliver bool) (int, error) {
	w := in.w
	rows, err := w.query(sqlResponseDeliveries, responseID)
	if err != nil {
		return 0, fmt.Errorf("reading deliveries: %w", err)
	}
	existing := map[string]existingDelivery{}
	for rows.Next() {
		var d existingDelivery
		var sync string
		if err := rows.Scan(&d.id, &sync, &d.state, &d.uncertain, &d.tag, &d.settledAt); err != nil {
			rows.Close()
			return 0, fmt.Errorf("reading deliveries: %w", err)
		}
		existing[sync] = d
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("reading deliveries: %w", err)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("reading deliveries: %w", err)
	}

	planned := 0
	for _, sync := range inc.Syncs {
		d, ok := existing[sync]
		if !ok {
			n, err := in.plan(responseID, sync, inc.RedeliverTag)
			if err != nil {
				return planned, err
			}
			planned += n
			existing[sync] = existingDelivery{state: store.Pending, tag: inc.RedeliverTag, id: -1}
			continue
		}
		if d.id < 0 {
			continue // listed twice; planned above
		}
		requested := inc.Redeliver && (inc.RedeliverTag == "" || d.tag != inc.RedeliverTag)
		tag := d.tag
		if inc.Redeliver {
			tag = inc.RedeliverTag
		}
		switch {
		case d.state == store.Delivered && (requested || contentRedeliver):
			if _, err := w.exec(sqlReopenDelivery, d.id, in.at, tag); err != nil {
				return planned, fmt.Errorf("re-opening delivery to %s: %w", sync, err)
			}
			w.move(sync, store.Delivered, d.uncertain, store.Pending, false)
			w.logDelivered(sync, d.settledAt, -1)
			planned++
		case contentRedeliver && (d.state == store.Pending || d.state == store.Sending):
			// In flight (in a claim, or left sending by an older binary),
			// or sent before with an unknown outcome, the old content may
			// be applied: deliver again once settled.
			applied := d.uncertain || d.state == store.Sending
			if !applied {
				if applied, err = w.inFlight(sync, d.id); err != nil {
					return planned, err
				}
			}
			if applied {
				if _, err := w.exec(sqlMarkStale, d.id); err != nil {
					return planned, fmt.Errorf("marking delivery to %s for redelivery: %w", sync, err)
				}
				planned++
			}
		}
		if requested && d.state != store.Delivered && d.state != store.Dead && tag != d.tag {
			// Not made yet: the coming delivery is this run's delivery.
			if _, err := w.exec(sqlTagDelivery, d.id, tag); err != nil {
				return planned, fmt.Errorf("tagging delivery to %s: %w", sync, err)
			}
		}
		existing[sync] = existingDelivery{id: -1}
	}
	return planned, nil
}

// finish saves the per-batch bookkeeping and the source state.
func (in *ingester) finish(state []store.SourceState) error {
	w := in.w
	if err := in.insertPlanned(); err != nil {
		return err
	}
	for source, n := range in.inserted {
		if _, err := w.exec(sqlCountSource, source, n, in.at); err != nil {
			return fmt.Errorf("counting responses of %s: %w", source, err)
		}
	}
	for link := range in.links {
		if _, err := w.exec(sqlLinkSyncSource, link[0], link[1]); err != nil {
			return fmt.Errorf("linking sync %s to source %s: %w", link[0], link[1], err)
		}
	}
	for _, st := range state {
		if _, err := w.exec(sqlSaveSourceState, st.Source, st.Name, st.Value, in.at); err != nil {
			return fmt.Errorf("saving %s state %s: %w", st.Source, st.Name, err)
		}
	}
	return nil
}
