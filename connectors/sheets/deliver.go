package sheets

import (
	"context"
	"errors"
	"fmt"
	"time"

	sheetsapi "google.golang.org/api/sheets/v4"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// unknownSend remembers, for a delivery, the append with an unknown outcome
// that carried it.
type unknownSend struct {
	tab string
	// from is the first row a key read must cover to find the rows if they
	// were added (0: the whole column).
	from int
	// at is when the append was sent; Google may still apply it until
	// ReconcileAfter has passed.
	at time.Time
}

// reconcileMargin is how many rows above the expected landing row a partial
// key read starts, so that rows people deleted above in the meantime do not
// hide the appended ones.
const reconcileMargin = 1000

// errNotSent is the reason of items a batch did not get to send.
var errNotSent = errors.New("not sent: an earlier request of this batch failed")

// Deliver appends the batch's rows to the sync's tab. See the package
// documentation for how it stays exactly once.
func (d *Destination) Deliver(ctx context.Context, b *connectors.Batch) []connectors.Result {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := &batchRun{d: d, ctx: ctx, b: b, res: make([]connectors.Result, len(b.Items)), done: make([]bool, len(b.Items))}
	r.spec = b.Mapping.Sheet()
	if r.spec == nil {
		r.failRest(connectors.Permanent(fmt.Errorf("mapping %s renders requests, not sheet rows", b.Mapping.File())))
		return r.res
	}
	for i, it := range b.Items {
		if it.Row == nil {
			r.settle(i, "", connectors.Render(fmt.Errorf("response %s was not rendered as a sheet row", it.ResponseKey)))
		}
	}
	r.run()
	return r.res
}

// batchRun is one Deliver call.
type batchRun struct {
	d    *Destination
	ctx  context.Context
	b    *connectors.Batch
	spec *mapping.SheetSpec
	enc  encoder
	opts sheetOptions
	st   *tabState
	lay  layout
	res  []connectors.Result
	done []bool
	// updates are redelivered items found in the tab, with their rows.
	updates []found
	// keys is the key column from row 2, when read in this batch and no
	// append has been sent since (keysRead).
	keys     []any
	keysRead bool
}

// found is an item and the row that holds its key.
type found struct {
	item int
	row  int
}

func (r *batchRun) settle(i int, ref string, err error) {
	r.res[i] = connectors.Result{Ref: ref, Err: err}
	r.done[i] = true
}

// failRest settles every item not settled yet with err.
func (r *batchRun) failRest(err error) {
	for i := range r.res {
		if !r.done[i] {
			r.settle(i, "", err)
		}
	}
}

func (r *batchRun) run() {
	d := r.d
	r.opts = d.options(r.spec)
	r.enc = newEncoder(r.spec, r.opts)
	st, lay, err := d.prepare(r.ctx, r.spec, r.opts, true)
	if err != nil {
		r.failRest(err)
		return
	}
	r.st, r.lay = st, lay
	if !st.gapsChecked && r.appends() {
		col, err := d.checkGaps(r.ctx, st, lay.key)
		if err != nil {
			r.failRest(err)
			return
		}
		r.keys, r.keysRead = col, true
	}
	if r.needsRead() {
		if err := r.reconcile(); err != nil {
			r.failRest(err)
			return
		}
	}
	r.updateInPlace()
	r.appendRest()
	r.formatDates()
}

// appends reports whether the batch has rows that may be appended: first
// deliveries not settled yet.
func (r *batchRun) appends() bool {
	for i, it := range r.b.Items {
		if !r.done[i] && it.Version <= 1 {
			return true
		}
	}
	return false
}

// needsRead reports whether the key column must be read before anything
// is sent: an earlier attempt may have been applied, a redelivery must
// find its row, or an append of this process has an unknown outcome.
func (r *batchRun) needsRead() bool {
	if r.st.fence {
		return true
	}
	for i, it := range r.b.Items {
		if !r.done[i] && (it.Uncertain || it.Version > 1) {
			return true
		}
	}
	return false
}

// readFrom is the first row the key read must cover: the whole column after
// a restart or for a redelivery, else from a little above where the
// uncertain appends of this process would have landed.
func (r *batchRun) readFrom() int {
	from := -1
	consider := func(f int) {
		if f < 2 {
			f = 2
		}
		if from < 0 || f < from {
			from = f
		}
	}
	if r.st.fence {
		consider(r.st.fenceFrom)
	}
	for i, it := range r.b.Items {
		if r.done[i] {
			continue
		}
		switch {
		case it.Version > 1:
			consider(2)
		case it.Uncertain:
			u, ok := r.d.unknown[it.DeliveryID]
			if ok && u.tab == r.spec.Tab {
				consider(u.from)
			} else {
				consider(2)
			}
		}
	}
	if from < 0 {
		from = 2
	}
	return from
}

// reconcile reads the key column and settles the items found there:
// delivered for a first delivery, an update in place for a redelivery.
func (r *batchRun) reconcile() error {
	items := make([]int, 0, len(r.b.Items))
	for i := range r.b.Items {
		if !r.done[i] {
			items = append(items, i)
		}
	}
	return r.settleFound(items, r.readFrom())
}

// settleFound reads the key column from row from and settles the given
// items whose keys are there. An uncertain item not found while its append
// may still be applied is left ambiguous, to be checked again later.
func (r *batchRun) settleFound(items []int, from int) error {
	d := r.d
	var index map[string][]int
	if r.keysRead {
		index = indexKeys(r.keys[min(from-2, len(r.keys)):], from)
	} else {
		var err error
		if index, err = d.readKeys(r.ctx, r.st, r.lay.key, from); err != nil {
			return err
		}
	}
	r.st.fence = false
	now := d.now()
	dups, firstDup := 0, ""
	defer func() {
		if dups > 0 {
			d.log.Warn("keys are in the tab more than once; the first row of each is used, and surveysync never deletes rows: remove the extra ones by hand",
				"tab", r.st.title, "keys", dups, "first", firstDup)
		}
	}()
	for _, i := range items {
		it := r.b.Items[i]
		rows := index[it.Row.Key]
		if len(rows) > 1 {
			if dups == 0 {
				firstDup = fmt.Sprintf("%s (rows %v)", it.Row.Key, rows)
			}
			dups++
		}
		if len(rows) == 0 {
			// Google may still apply an append after the client gave up on
			// it: an uncertain attempt is only concluded lost once
			// reconcile_after has passed since it was sent, whether this
			// process sent it or one before a restart did.
			sentAt := time.Time{}
			if u, ok := d.unknown[it.DeliveryID]; ok {
				sentAt = u.at
			} else if it.Uncertain {
				sentAt = it.PreviousAttemptAt
			}
			if !sentAt.IsZero() && now.Before(sentAt.Add(d.cfg.ReconcileAfter)) {
				r.settle(i, "", connectors.Ambiguous(fmt.Errorf("key %q is not in tab %q yet, but the append sent at %s may still be applied; checking again later",
					it.Row.Key, r.st.title, sentAt.UTC().Format(time.RFC3339))))
			}
			continue
		}
		delete(d.unknown, it.DeliveryID)
		if it.Version > 1 {
			r.updates = append(r.updates, found{item: i, row: rows[0]})
			continue
		}
		r.settle(i, r.ref(rows[0]), nil)
	}
	return nil
}

// readKeys reads the key column from row from to its end: one read. It
// returns the rows (1-based) holding each key.
func (d *Destination) readKeys(ctx context.Context, st *tabState, keyCol, from int) (map[string][]int, error) {
	col, err := d.keyColumn(ctx, st, keyCol, from)
	if err != nil {
		return nil, err
	}
	return indexKeys(col, from), nil
}

// indexKeys returns the rows (1-based) holding each key of a key column
// read from row from.
func indexKeys(col []any, from int) map[string][]int {
	index := map[string][]int{}
	for i, v := range col {
		if k := cellText(v); k != "" {
			index[k] = append(index[k], from+i)
		}
	}
	return index
}

// ref names the cells of a row, as the delivery's reference.
func (r *batchRun) ref(row int) string {
	return cellRange(r.st.title, r.lay.first, row, r.lay.last, row)
}

// encoded is a row ready to send.
type encoded struct {
	item int
	vals []any
	size int
}

// encode aligns and encodes the rows of items; items that cannot be
// written are settled as dead letters.
func (r *batchRun) encode(items []int, clear bool) []encoded {
	out := make([]encoded, 0, len(items))
	for _, i := range items {
		vals, err := r.lay.rowValues(r.b.Items[i].Row, r.spec, r.enc, clear)
		if err != nil {
			r.settle(i, "", connectors.Permanent(fmt.Errorf("response %s cannot be written to tab %q: %w", r.b.Items[i].ResponseKey, r.st.title, err)))
			continue
		}
		out = append(out, encoded{item: i, vals: vals, size: rowSize(vals)})
	}
	return out
}

// chunks cuts rows into requests bounded by batch_rows and batch_bytes.
func (r *batchRun) chunks(rows []encoded) [][]encoded {
	sizes := make([]int, len(rows))
	for i, e := range rows {
		sizes[i] = e.size
	}
	var out [][]encoded
	for _, c := range splitBySize(sizes, r.d.cfg.BatchRows, int(r.d.cfg.BatchBytes)) {
		out = append(out, rows[c[0]:c[1]])
	}
	return out
}

// updateInPlace rewrites the rows of redelivered items with
// values.batchUpdate, which is idempotent.
func (r *batchRun) updateInPlace() {
	if len(r.updates) == 0 {
		return
	}
	rowOf := map[int]int{}
	items := make([]int, len(r.updates))
	for k, f := range r.updates {
		items[k] = f.item
		rowOf[f.item] = f.row
	}
	for _, chunk := range r.chunks(r.encode(items, true)) {
		data := make([]*sheetsapi.ValueRange, len(chunk))
		for k, e := range chunk {
			data[k] = &sheetsapi.ValueRange{Range: r.ref(rowOf[e.item]), Values: [][]any{e.vals}}
		}
		req := &sheetsapi.BatchUpdateValuesRequest{ValueInputOption: r.enc.inputOption(), Data: data}
		_, err := r.d.svc.Spreadsheets.Values.BatchUpdate(r.d.id, req).Context(connectors.Idempotent(r.ctx)).Do()
		err = r.d.classify(err, callIdempotent, fmt.Sprintf("updating %d rows of tab %q in place", len(chunk), r.st.title))
		for _, e := range chunk {
			if err != nil {
				r.settle(e.item, "", err)
			} else {
				r.settle(e.item, r.ref(rowOf[e.item]), nil)
			}
		}
	}
}

// appendRest appends the rows of the items not settled yet.
func (r *batchRun) appendRest() {
	var items []int
	for i := range r.b.Items {
		if !r.done[i] {
			items = append(items, i)
		}
	}
	if len(items) == 0 {
		return
	}
	for _, chunk := range r.chunks(r.encode(items, false)) {
		if err := r.ctx.Err(); err != nil {
			r.failRest(connectors.Transient(fmt.Errorf("%w: %w", errNotSent, err)))
			return
		}
		if err := r.d.budget(r.st, len(chunk)); err != nil {
			r.failRest(err)
			return
		}
		if stop := r.appendChunk(chunk); stop {
			return
		}
	}
}

// appendChunk sends one append and settles its items. It reports whether
// the rest of the batch must not be sent.
func (r *batchRun) appendChunk(chunk []encoded) (stop bool) {
	d, st := r.d, r.st
	values := make([][]any, len(chunk))
	for k, e := range chunk {
		values[k] = e.vals
	}
	what := fmt.Sprintf("appending %d rows to tab %q", len(chunk), st.title)
	var resp *sheetsapi.AppendValuesResponse
	var sentAt time.Time
	var err error
	// The key column read before is stale once an append is sent.
	r.keysRead, r.keys = false, nil
	for attempt := 0; ; attempt++ {
		sentAt = d.now()
		anchor := quoteTitle(st.title) + "!" + columnName(r.lay.first) + "1"
		resp, err = d.svc.Spreadsheets.Values.Append(d.id, anchor, &sheetsapi.ValueRange{Values: values}).
			ValueInputOption(r.enc.inputOption()).InsertDataOption("INSERT_ROWS").
			Context(r.ctx).Do()
		err = d.classify(err, callAppend, what)
		if !isParseRange(err) {
			break
		}
		// A 400 is never applied: the tab was renamed after the header was
		// read. Follow it by id and send again, once, if it is the same tab.
		id := st.id
		if attempt > 0 {
			err = pauseParseRange(st.title, err)
			break
		}
		if lerr := d.locate(r.ctx, st, r.spec, false); lerr != nil {
			err = lerr
			break
		}
		if !st.known || st.id != id {
			err = connectors.Transient(fmt.Errorf("%s: the tab changed while the batch was prepared; its header is read again", what))
			break
		}
	}
	if err == nil {
		r.appended(chunk, resp)
		return false
	}
	class, _ := connectors.Classify(err)
	switch class {
	case connectors.ClassAmbiguous:
		r.unknownOutcome(chunk, sentAt, err)
		r.failRest(connectors.Transient(errNotSent))
		return true
	case connectors.ClassPermanent:
		for _, e := range chunk {
			r.settle(e.item, "", err)
		}
		return false
	default:
		r.failRest(err)
		return true
	}
}

// appended settles the items of a successful append from the range Google
// reports it wrote.
func (r *batchRun) appended(chunk []encoded, resp *sheetsapi.AppendValuesResponse) {
	d, st := r.d, r.st
	d.grew(st, len(chunk))
	var g gridRange
	var err error
	if resp == nil || resp.Updates == nil {
		err = errors.New("no updates in the answer")
	} else {
		g, err = parseRange(resp.Updates.UpdatedRange)
	}
	switch {
	case err != nil:
		d.log.Warn("append succeeded but its updated range is unreadable; rows are settled without a reference", "tab", st.title, "err", err)
		st.lastEnd = 0
	case g.startCol != r.lay.first || g.endRow-g.startRow+1 != len(chunk):
		d.log.Error("append landed elsewhere than expected; check the tab", "tab", st.title, "updated_range", resp.Updates.UpdatedRange,
			"want_column", columnName(r.lay.first), "rows", len(chunk))
		st.lastEnd = g.endRow
		st.gapsChecked = false
	case st.lastEnd > 0 && g.startRow <= st.lastEnd:
		// Google found the table ending above the rows written before:
		// rows were deleted, or an empty row appeared. The rows are in the
		// tab, once; the next batch checks the tab for empty rows first.
		d.log.Warn("append landed above the last row written before: rows were deleted or a row was emptied; the tab is checked for empty rows before the next append", "tab", st.title,
			"updated_range", resp.Updates.UpdatedRange, "previous_last_row", st.lastEnd)
		st.lastEnd = 0
		st.gapsChecked = false
	default:
		st.lastEnd = g.endRow
	}
	for k, e := range chunk {
		delete(d.unknown, r.b.Items[e.item].DeliveryID)
		ref := ""
		if err == nil {
			ref = r.ref(g.startRow + k)
		}
		r.settle(e.item, ref, nil)
	}
}

// unknownOutcome handles an append that may or may not have been applied.
// It remembers where its rows would be, fences the tab so that no append
// is sent before a key read, and reads the key column at once: rows found
// are delivered; the others stay uncertain and are checked again later,
// never re-sent blindly.
func (r *batchRun) unknownOutcome(chunk []encoded, sentAt time.Time, err error) {
	d, st := r.d, r.st
	from := 0
	if st.lastEnd > 0 {
		from = max(2, st.lastEnd+1-reconcileMargin)
	}
	for _, e := range chunk {
		d.unknown[r.b.Items[e.item].DeliveryID] = unknownSend{tab: r.spec.Tab, from: from, at: sentAt}
	}
	// fenceFrom 0 means the whole column, which covers every other start.
	if st.fence {
		st.fenceFrom = min(st.fenceFrom, from)
	} else {
		st.fenceFrom = from
	}
	st.fence = true
	st.lastEnd = 0
	items := make([]int, len(chunk))
	for k, e := range chunk {
		items[k] = e.item
	}
	if r.ctx.Err() == nil {
		if rerr := r.settleFound(items, max(from, 2)); rerr != nil {
			d.log.Debug("reading the key column after an unknown outcome failed; the next batch reads it first", "tab", st.title, "err", rerr)
		}
	}
	for _, i := range items {
		if !r.done[i] {
			r.settle(i, "", err)
		}
	}
}

// formatDates gives date columns a date number format, once per column and
// process, when dates are written as serial numbers. It is cosmetic: a
// failure never fails the batch.
func (r *batchRun) formatDates() {
	// Formats go after the rows, and wait while the write quota is
	// throttled: they must never hold a delivery back.
	if r.opts.dates != mapping.DatesSerial || !r.d.writes.PausedUntil().IsZero() || r.ctx.Err() != nil {
		return
	}
	var reqs []*sheetsapi.Request
	var cols []int
	for i, c := range r.spec.Columns {
		col := r.lay.cols[i]
		if (c.Kind == survey.KindDate || c.Kind == survey.KindDateTime) && !r.st.formatted[col] {
			reqs = append(reqs, dateFormatRequest(r.st.id, col, c))
			cols = append(cols, col)
		}
	}
	if len(reqs) == 0 {
		return
	}
	r.d.applyFormats(r.ctx, r.st, reqs, cols)
}
