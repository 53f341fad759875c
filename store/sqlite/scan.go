package sqlite

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/surveysync/surveysync/survey"
)

// sqlScanResponses reads one page of a scan: the responses after
// (?2, ?3) in submission order, through responses_by_submission.
const sqlScanResponses = `SELECT id, key, submitted_at, payload FROM responses
WHERE source = ?1 AND (submitted_at, id) > (?2, ?3) AND submitted_at < ?4
ORDER BY submitted_at, id LIMIT ?5`

// scanPage is how many responses a scan reads per query (tests set
// Store.scanPage lower). Each page is its own short read, so a slow fn
// never pins an old snapshot of the database (which would keep the WAL
// from being checkpointed); a page of a few thousand rows takes about a
// millisecond to read.
const scanPage = 4096

// ScanResponses calls fn for each response of source submitted in [from,
// to), in submission order, holding at most one page of responses in
// memory. fn may keep the responses it is given. Responses whose source
// gave no submission time sort first and are included only when from is
// zero. See store.Store.
func (s *Store) ScanResponses(ctx context.Context, source string, from, to time.Time, fn func(*survey.Response) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("scan responses of %s: %w", source, err)
	}
	sc, err := s.newScan(source, from, to)
	if err != nil {
		return fmt.Errorf("scan responses of %s: %w", source, err)
	}
	defer sc.close()
	var scratch responsePage
	for {
		if err := sc.fill(&scratch); err != nil {
			return fmt.Errorf("scan responses of %s: %w", source, err)
		}
		// A fresh page each time: fn may keep the responses.
		page := scratch.clone()
		for i := range page {
			if err := fn(&page[i]); err != nil {
				return err
			}
		}
		if scratch.last {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scan responses of %s: %w", source, err)
		}
	}
}

// ScanBatches calls fn with the responses of source submitted in [from,
// to), a page at a time, in no particular order. See store.Store.
//
// The window is cut into slices of time (see scanSlices) that two reader
// goroutines, each with a connection of its own, read page by page while
// fn works on the pages already read: reading a page costs about as much
// as a score job's work on it, so on two cores the three overlap. Four
// pages' memory is reused for the whole scan, so the payloads of a page
// are valid only until fn returns.
func (s *Store) ScanBatches(ctx context.Context, source string, from, to time.Time, fn func([]survey.Response) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("scan responses of %s: %w", source, err)
	}
	slices, err := s.scanSlices(source, from, to)
	if err != nil {
		return fmt.Errorf("scan responses of %s: %w", source, err)
	}
	if len(slices) == 0 {
		return nil
	}
	todo := make(chan timeSlice, len(slices))
	for _, sl := range slices {
		todo <- sl
	}
	close(todo)
	readers := min(scanReaders, len(slices))
	free := make(chan *responsePage, 2*readers)
	for range 2 * readers {
		free <- &responsePage{}
	}
	full := make(chan *responsePage)
	stop := make(chan struct{})
	halt := sync.OnceFunc(func() { close(stop) })
	errs := make(chan error, readers)
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.readSlices(source, todo, free, full, stop)
			if err != nil {
				halt()
			}
			errs <- err
		}()
	}
	go func() {
		wg.Wait()
		close(full)
	}()
	var err2 error
	for p := range full {
		if err2 == nil && len(p.responses) > 0 {
			err2 = fn(p.responses)
		}
		if err2 == nil {
			if err := ctx.Err(); err != nil {
				err2 = fmt.Errorf("scan responses of %s: %w", source, err)
			}
		}
		if err2 != nil {
			halt() // the readers stop; the pages in flight are drained
		}
		free <- p
	}
	for range readers {
		if err := <-errs; err != nil && err2 == nil {
			err2 = fmt.Errorf("scan responses of %s: %w", source, err)
		}
	}
	return err2
}

// scanReaders is how many goroutines read a ScanBatches scan.
const scanReaders = 2

// readSlices reads the slices from todo into pages taken from free and
// hands them to full, until todo is empty or stop is closed.
func (s *Store) readSlices(source string, todo <-chan timeSlice, free chan *responsePage, full chan<- *responsePage, stop <-chan struct{}) error {
	var sc *responseScan
	defer func() {
		if sc != nil {
			sc.close()
		}
	}()
	for sl := range todo {
		if sc == nil {
			var err error
			if sc, err = s.newScan(source, time.Time{}, time.Time{}); err != nil {
				return err
			}
		}
		if err := sc.restart(sl.from, sl.to); err != nil {
			return err
		}
		for {
			var p *responsePage
			select {
			case p = <-free:
			case <-stop:
				return nil
			}
			if err := sc.fill(p); err != nil {
				free <- p
				return err
			}
			last := p.last // p is the consumer's once handed over
			select {
			case full <- p:
			case <-stop:
				free <- p
				return nil
			}
			if last {
				break
			}
		}
	}
	return nil
}

// timeSlice is a part of a scan's window: submission times in [from, to)
// as stored (microseconds).
type timeSlice struct {
	from, to int64
}

// scanSliceCount is how many slices of time a scan's window is cut into,
// so that the readers share the work even when responses are not spread
// evenly over time.
const scanSliceCount = 16

const (
	sqlScanFirst = `SELECT min(submitted_at) FROM responses WHERE source = ?1 AND submitted_at >= ?2 AND submitted_at < ?3`
	sqlScanLast  = `SELECT max(submitted_at) FROM responses WHERE source = ?1 AND submitted_at >= ?2 AND submitted_at < ?3`
)

// scanSlices cuts the window into slices of time between the first and
// the last submission in it (two index lookups). Responses stored without
// a submission time (0) get a slice of their own.
func (s *Store) scanSlices(source string, from, to time.Time) ([]timeSlice, error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = toMicros(from)
	}
	if !to.IsZero() {
		hi = toMicros(to)
	}
	conn, err := openScanConn(s.path, s.busyTimeout)
	if err != nil {
		return nil, err
	}
	defer conn.close()
	bound := func(query string, lo, hi int64) (int64, bool, error) {
		st, err := conn.prepare(query)
		if err != nil {
			return 0, false, err
		}
		defer st.close()
		for _, err := range []error{st.bindText(1, source), st.bindInt64(2, lo), st.bindInt64(3, hi)} {
			if err != nil {
				return 0, false, err
			}
		}
		if _, err := st.step(); err != nil {
			return 0, false, err
		}
		if st.isNull(0) {
			return 0, false, nil
		}
		return st.int64(0), true, nil
	}
	var out []timeSlice
	if lo <= 0 && hi > 0 {
		// Undated responses, stored as 0, sort first; slicing the time
		// from 0 to now would put every other response in the last slice.
		out = append(out, timeSlice{0, 1})
		if lo == 0 {
			lo = 1
		} else {
			out = append(out, timeSlice{lo, 0})
			lo = 1
		}
	}
	first, ok, err := bound(sqlScanFirst, lo, hi)
	if err != nil || !ok {
		return out, err
	}
	last, _, err := bound(sqlScanLast, lo, hi)
	if err != nil {
		return out, err
	}
	step := (last - first) / scanSliceCount
	if step < 1 {
		step = 1
	}
	for at := first; at <= last; at += step {
		end := at + step
		if end > last || end < at {
			end = last + 1
		}
		out = append(out, timeSlice{at, end})
		if end > last {
			break
		}
	}
	return out, nil
}

// responsePage is one page of a scan. Its memory is reused by the next
// fill.
type responsePage struct {
	responses []survey.Response
	// payloads holds the payloads of responses, one after the other.
	payloads []byte
	// last reports that the scan has no page after this one.
	last bool
}

// clone returns the page's responses in memory of their own.
func (p *responsePage) clone() []survey.Response {
	out := make([]survey.Response, len(p.responses))
	copy(out, p.responses)
	payloads := make([]byte, len(p.payloads))
	copy(payloads, p.payloads)
	at := 0
	for i := range out {
		if n := len(out[i].Payload); n > 0 {
			out[i].Payload = payloads[at : at+n : at+n]
			at += n
		}
	}
	return out
}

// responseScan reads the responses of one source a page at a time.
type responseScan struct {
	source string
	conn   *rawConn
	stmt   *rawStmt
	// lastAt and lastID are where the next page starts (after them).
	lastAt, lastID int64
	// limit is the page size.
	limit int
	// keys gathers the keys of a page; ends and at are per row.
	keys []byte
	ends [][2]int
	at   []int64
}

// newScan opens a raw connection and prepares the page query.
func (s *Store) newScan(source string, from, to time.Time) (*responseScan, error) {
	conn, err := openScanConn(s.path, s.busyTimeout)
	if err != nil {
		return nil, err
	}
	stmt, err := conn.prepare(sqlScanResponses)
	if err != nil {
		conn.close()
		return nil, err
	}
	limit := scanPage
	if s.scanPage > 0 {
		limit = s.scanPage
	}
	sc := &responseScan{source: source, conn: conn, stmt: stmt, lastAt: math.MinInt64, limit: limit}
	if !from.IsZero() {
		sc.lastAt = toMicros(from)
	}
	end := int64(math.MaxInt64)
	if !to.IsZero() {
		end = toMicros(to)
	}
	for _, err := range []error{stmt.bindText(1, source), stmt.bindInt64(4, end), stmt.bindInt64(5, int64(limit))} {
		if err != nil {
			sc.close()
			return nil, err
		}
	}
	return sc, nil
}

// restart points the scan at a new window of stored times [from, to).
func (sc *responseScan) restart(from, to int64) error {
	// The page query starts after (lastAt, lastID), and ids are positive.
	sc.lastAt, sc.lastID = from, 0
	return sc.stmt.bindInt64(4, to)
}

// close releases the scan's statement and connection.
func (sc *responseScan) close() {
	sc.stmt.close()
	sc.conn.close()
}

// fill reads the next page into p, reusing p's memory. Each page is one
// run of the statement, in a read transaction of its own.
func (sc *responseScan) fill(p *responsePage) error {
	st := sc.stmt
	if err := st.bindInt64(2, sc.lastAt); err != nil {
		return err
	}
	if err := st.bindInt64(3, sc.lastID); err != nil {
		return err
	}
	defer st.reset()
	sc.keys, sc.ends, sc.at = sc.keys[:0], sc.ends[:0], sc.at[:0]
	p.payloads = p.payloads[:0]
	for {
		more, err := st.step()
		if err != nil {
			return err
		}
		if !more {
			break
		}
		sc.lastID = st.int64(0)
		sc.keys = st.appendBytes(sc.keys, 1)
		sc.lastAt = st.int64(2)
		p.payloads = st.appendBytes(p.payloads, 3)
		sc.ends = append(sc.ends, [2]int{len(sc.keys), len(p.payloads)})
		sc.at = append(sc.at, sc.lastAt)
	}
	n := len(sc.ends)
	p.last = n < sc.limit
	if cap(p.responses) < n {
		p.responses = make([]survey.Response, n)
	}
	p.responses = p.responses[:n]
	keys := string(sc.keys) // keys may be kept: one string per page
	k, at := 0, 0
	for i, e := range sc.ends {
		r := &p.responses[i]
		r.Source, r.Key, r.SubmittedAt, r.Payload = sc.source, keys[k:e[0]], fromMicros(sc.at[i]), nil
		if e[1] > at {
			r.Payload = p.payloads[at:e[1]:e[1]]
		}
		k, at = e[0], e[1]
	}
	return nil
}
