package sqlite

import (
	"context"
	"fmt"
	"math"
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
// to), in submission order, a page at a time. While fn works on one page
// a goroutine reads the next into memory of its own; two pages' memory is
// reused for the whole scan, so the payloads of a page are valid only
// until fn returns. See store.Store.
func (s *Store) ScanBatches(ctx context.Context, source string, from, to time.Time, fn func([]survey.Response) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("scan responses of %s: %w", source, err)
	}
	sc, err := s.newScan(source, from, to)
	if err != nil {
		return fmt.Errorf("scan responses of %s: %w", source, err)
	}
	free := make(chan *responsePage, 2)
	free <- &responsePage{}
	free <- &responsePage{}
	full := make(chan *responsePage)
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer sc.close()
		defer close(full)
		for {
			var p *responsePage
			select {
			case p = <-free:
			case <-stop:
				readErr <- nil
				return
			}
			if err := sc.fill(p); err != nil {
				readErr <- err
				return
			}
			select {
			case full <- p:
			case <-stop:
				readErr <- nil
				return
			}
			if p.last {
				readErr <- nil
				return
			}
		}
	}()
	finish := func(err error) error {
		close(stop)
		for range full { // let the reader see stop and close its connection
		}
		if rerr := <-readErr; err == nil && rerr != nil {
			err = fmt.Errorf("scan responses of %s: %w", source, rerr)
		}
		return err
	}
	for p := range full {
		if len(p.responses) > 0 {
			if err := fn(p.responses); err != nil {
				return finish(err)
			}
		}
		if err := ctx.Err(); err != nil {
			return finish(fmt.Errorf("scan responses of %s: %w", source, err))
		}
		free <- p
	}
	return finish(nil)
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
	conn, err := openRaw(s.path, s.busyTimeout)
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
