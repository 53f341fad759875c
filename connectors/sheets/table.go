package sheets

import (
	"context"
	"errors"
	"fmt"

	sheetsapi "google.golang.org/api/sheets/v4"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// WriteTable writes a summary table into its tab from A1, creating the tab
// if it is missing, and clears what an earlier, larger table left below
// and to the right of it. Every request sets or clears fixed ranges, so
// writing a table twice leaves the same tab as writing it once. The tab
// belongs to the table: its other values are cleared.
func (d *Destination) WriteTable(ctx context.Context, t connectors.Table) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t.Tab == "" {
		return connectors.Permanent(errors.New("summary table: no tab named"))
	}
	width := len(t.Header)
	for _, row := range t.Rows {
		width = max(width, len(row))
	}
	height := len(t.Rows) + 1
	if width == 0 {
		return connectors.Permanent(fmt.Errorf("summary table for tab %q: no columns", t.Tab))
	}
	st, err := d.tableTab(ctx, t.Tab, int64(height), int64(width))
	if err != nil {
		return err
	}
	enc := encoder{dates: mapping.DateMode(d.cfg.Dates), longText: mapping.LongTextMode(d.cfg.LongText)}
	values := make([][]any, height)
	values[0] = make([]any, width)
	for c := range values[0] {
		values[0][c] = ""
		if c < len(t.Header) {
			values[0][c] = t.Header[c]
		}
	}
	dateCols := map[int]survey.Kind{}
	for r, row := range t.Rows {
		out := make([]any, width)
		for c := range out {
			v := survey.Null
			if c < len(row) {
				v = row[c]
			}
			if v.Kind == survey.KindDate || v.Kind == survey.KindDateTime {
				dateCols[c] = v.Kind
			}
			if out[c], err = enc.value(v, false, true); err != nil {
				return connectors.Permanent(fmt.Errorf("summary table for tab %q, row %d column %d: %w", t.Tab, r+2, c+1, err))
			}
		}
		values[r+1] = out
	}
	rng := cellRange(st.title, 0, 1, width-1, height)
	if _, err := d.svc.Spreadsheets.Values.Update(d.id, rng, &sheetsapi.ValueRange{Values: values}).
		ValueInputOption(inputRaw).Context(connectors.Idempotent(ctx)).Do(); err != nil {
		return d.classify(err, callIdempotent, fmt.Sprintf("writing the summary table to tab %q", st.title))
	}
	var clear []string
	if int64(height) < st.rows {
		clear = append(clear, cellRange(st.title, 0, height+1, int(st.cols)-1, int(st.rows)))
	}
	if int64(width) < st.cols {
		clear = append(clear, cellRange(st.title, width, 1, int(st.cols)-1, height))
	}
	if len(clear) > 0 {
		if _, err := d.svc.Spreadsheets.Values.BatchClear(d.id, &sheetsapi.BatchClearValuesRequest{Ranges: clear}).
			Context(connectors.Idempotent(ctx)).Do(); err != nil {
			return d.classify(err, callIdempotent, fmt.Sprintf("clearing below the summary table in tab %q", st.title))
		}
	}
	if enc.dates == mapping.DatesSerial {
		var reqs []*sheetsapi.Request
		var cols []int
		for c, k := range dateCols {
			if !st.formatted[c] {
				reqs = append(reqs, dateFormatRequest(st.id, c, mapping.ColumnSpec{Kind: k}))
				cols = append(cols, c)
			}
		}
		if len(reqs) > 0 {
			d.applyFormats(ctx, st, reqs, cols)
		}
	}
	return nil
}

// tableTab finds or creates the tab of a summary table and grows it to
// hold rows × cols. Table tabs are found by title, read fresh each time:
// tables are written seldom.
func (d *Destination) tableTab(ctx context.Context, title string, rows, cols int64) (*tabState, error) {
	if err := d.loadBook(ctx); err != nil {
		return nil, err
	}
	st := d.stateFor("\x00table\x00" + title)
	if m, ok := d.book.byTitle(title); ok {
		st.follow(m)
	} else {
		m, err := d.addTab(ctx, title, max(newTabRows, rows), max(newTabCols, cols))
		if err != nil {
			return nil, err
		}
		st.follow(m)
	}
	if err := d.growGrid(ctx, st, rows, cols); err != nil {
		return nil, err
	}
	return st, nil
}
