package sheets

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	sheetsapi "google.golang.org/api/sheets/v4"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
)

// New tabs get Google's default grid, widened to the header when needed.
const (
	newTabRows = 1000
	newTabCols = 26
)

// metaEvery is how many batches pass between two reads of every tab's grid
// size for the cell budget. Between reads, the budget counts the rows this
// process appends and the size of the tab it writes, read with every batch.
const metaEvery = 20

// sheetMeta is one tab as spreadsheets.get describes it.
type sheetMeta struct {
	id    int64
	title string
	rows  int64
	cols  int64
}

// workbook is what is known of the spreadsheet's tabs.
type workbook struct {
	loaded bool
	sheets []sheetMeta
	// cells holds each tab's grid cells (rows × columns), for the budget.
	cells map[int64]int64
	// batches counts batches since the last full read.
	batches int
	// warned is set once the cell warning was logged.
	warned bool
}

// total returns the workbook's grid cells.
func (w *workbook) total() int64 {
	var n int64
	for _, c := range w.cells {
		n += c
	}
	return n
}

// tabState is what this process knows of the tab a mapping writes to.
type tabState struct {
	// name is the mapping's tab name.
	name string
	// known is set once the tab's sheetId is known; from then on the tab is
	// followed by id, whatever its title.
	known bool
	id    int64
	title string
	rows  int64
	cols  int64
	// lastEnd is the last row written by the latest append whose outcome
	// is known (0: unknown). The next append lands right below it unless
	// people edited the tab, so a reconcile can start reading near there.
	lastEnd int
	// gapsChecked is set once the tab has been found free of empty rows
	// above its data (see checkGaps), until an append suggests otherwise
	// or the tab is followed elsewhere.
	gapsChecked bool
	// fence is set after an append with an unknown outcome until the key
	// column has been read: no append is sent before that read.
	fence     bool
	fenceFrom int
	// formatted holds the columns given a date format by this process.
	formatted map[int]bool
}

// stateFor returns the state of a mapping's tab.
func (d *Destination) stateFor(tab string) *tabState {
	st := d.tabs[tab]
	if st == nil {
		st = &tabState{name: tab, title: tab, formatted: map[int]bool{}}
		d.tabs[tab] = st
	}
	return st
}

// loadBook reads every tab's id, title and grid size: one read.
func (d *Destination) loadBook(ctx context.Context) error {
	ss, err := d.svc.Spreadsheets.Get(d.id).
		Fields("sheets.properties(sheetId,title,gridProperties(rowCount,columnCount))").
		Context(ctx).Do()
	if err != nil {
		return d.classify(err, callRead, "reading the spreadsheet's tabs")
	}
	d.book.loaded = true
	d.book.batches = 0
	d.book.sheets = d.book.sheets[:0]
	d.book.cells = map[int64]int64{}
	for _, sh := range ss.Sheets {
		p := sh.Properties
		if p == nil {
			continue
		}
		m := sheetMeta{id: p.SheetId, title: p.Title}
		if g := p.GridProperties; g != nil {
			m.rows, m.cols = g.RowCount, g.ColumnCount
		}
		d.book.sheets = append(d.book.sheets, m)
		d.book.cells[m.id] = m.rows * m.cols
	}
	return nil
}

// byID finds a tab by sheetId.
func (w *workbook) byID(id int64) (sheetMeta, bool) {
	for _, s := range w.sheets {
		if s.id == id {
			return s, true
		}
	}
	return sheetMeta{}, false
}

// byTitle finds a tab by title: exactly, else without regard to case (Sheets
// refuses two titles that differ only in case).
func (w *workbook) byTitle(title string) (sheetMeta, bool) {
	for _, s := range w.sheets {
		if s.title == title {
			return s, true
		}
	}
	for _, s := range w.sheets {
		if strings.EqualFold(s.title, title) {
			return s, true
		}
	}
	return sheetMeta{}, false
}

func (w *workbook) titles() string {
	q := make([]string, len(w.sheets))
	for i, s := range w.sheets {
		q[i] = strconv.Quote(s.title)
	}
	return strings.Join(q, ", ")
}

// follow points st at m. What was learnt about another tab is dropped.
func (st *tabState) follow(m sheetMeta) {
	if st.known && st.id != m.id {
		st.lastEnd = 0
		st.gapsChecked = false
		st.formatted = map[int]bool{}
	}
	st.known, st.id, st.title, st.rows, st.cols = true, m.id, m.title, m.rows, m.cols
}

// locate finds the tab of st in a fresh read of the workbook: by pinned id,
// else by the id known in this process, else by title, else by headers.
// create reports whether a tab that is not there may be created; without
// it (probes) such a tab leaves st unknown and locate returns nil.
func (d *Destination) locate(ctx context.Context, st *tabState, spec *mapping.SheetSpec, create bool) error {
	if err := d.loadBook(ctx); err != nil {
		return err
	}
	b := &d.book
	if pin := d.cfg.SheetID; pin != nil {
		m, ok := b.byID(*pin)
		if !ok {
			return connectors.Pausedf("sheet_id %d is not a tab of spreadsheet %s (its tabs are %s); set sheet_id to the number after gid= in the tab's URL, or remove it to use the mapping's tab name %q",
				*pin, d.id, b.titles(), spec.Tab)
		}
		d.noteRename(st, m)
		st.follow(m)
		return nil
	}
	if st.known {
		if m, ok := b.byID(st.id); ok {
			d.noteRename(st, m)
			st.follow(m)
			return nil
		}
	}
	if m, ok := b.byTitle(spec.Tab); ok {
		st.follow(m)
		return nil
	}
	// The title is gone: renamed while the daemon was down, or deleted.
	// A single tab holding the key and every mapped header is taken to be
	// the renamed tab.
	found, err := d.findByHeaders(ctx, spec)
	if err != nil {
		return err
	}
	switch {
	case len(found) == 1:
		d.log.Warn("tab not found by name; following the one tab whose header row holds the mapping's headers", "tab", spec.Tab, "now", found[0].title, "sheet_id", found[0].id)
		st.follow(found[0])
		return nil
	case len(found) > 1:
		names := make([]string, len(found))
		for i, f := range found {
			names[i] = fmt.Sprintf("%q (id %d)", f.title, f.id)
		}
		return connectors.Pausedf("tab %q is not in spreadsheet %s and several tabs hold its headers: %s; rename the right one to %q or set sheet_id", spec.Tab, d.id, strings.Join(names, ", "), spec.Tab)
	case st.known:
		return connectors.Pausedf("tab %q (id %d) was deleted from spreadsheet %s, and no tab holds the mapping's headers; restore the tab from the version history, or create a tab named %q", st.title, st.id, d.id, spec.Tab)
	case !create:
		return nil
	}
	return d.createTab(ctx, st, spec)
}

// noteRename logs a tab that was renamed since it was last seen.
func (d *Destination) noteRename(st *tabState, m sheetMeta) {
	if st.known && st.title != m.title {
		d.log.Info("tab renamed; following it by sheetId", "from", st.title, "to", m.title, "sheet_id", m.id)
	}
}

// findByHeaders returns the tabs whose first row holds the key header and
// every mapped header: one read of every tab's first row.
func (d *Destination) findByHeaders(ctx context.Context, spec *mapping.SheetSpec) ([]sheetMeta, error) {
	b := &d.book
	if len(b.sheets) == 0 {
		return nil, nil
	}
	ranges := make([]string, len(b.sheets))
	for i, s := range b.sheets {
		ranges[i] = quoteTitle(s.title) + "!1:1"
	}
	resp, err := d.svc.Spreadsheets.Values.BatchGet(d.id).Ranges(ranges...).Context(ctx).Do()
	if err != nil {
		return nil, d.classify(err, callRead, "reading the header rows of every tab")
	}
	var out []sheetMeta
	for i, vr := range resp.ValueRanges {
		if i >= len(b.sheets) || len(vr.Values) == 0 {
			continue
		}
		have := map[string]bool{}
		for _, v := range vr.Values[0] {
			have[normHeader(cellText(v))] = true
		}
		all := have[normHeader(spec.KeyHeader)]
		for _, h := range spec.Headers {
			all = all && have[normHeader(h)]
		}
		if all {
			out = append(out, b.sheets[i])
		}
	}
	return out, nil
}

// createTab adds the mapping's tab exactly as wide as its header row, which
// the caller writes: every empty column would count against the workbook's
// 10,000,000-cell limit on every row (appends grow the grid as needed).
func (d *Destination) createTab(ctx context.Context, st *tabState, spec *mapping.SheetSpec) error {
	m, err := d.addTab(ctx, spec.Tab, newTabRows, int64(max(len(spec.Headers), 1)))
	if err != nil {
		return err
	}
	st.follow(m)
	return nil
}

// addTab adds a tab with a frozen first row.
func (d *Destination) addTab(ctx context.Context, title string, rows, cols int64) (sheetMeta, error) {
	req := &sheetsapi.BatchUpdateSpreadsheetRequest{Requests: []*sheetsapi.Request{{
		AddSheet: &sheetsapi.AddSheetRequest{Properties: &sheetsapi.SheetProperties{
			Title:          title,
			GridProperties: &sheetsapi.GridProperties{RowCount: rows, ColumnCount: cols, FrozenRowCount: 1},
		}},
	}}}
	resp, err := d.svc.Spreadsheets.BatchUpdate(d.id, req).Context(ctx).Do()
	if err != nil {
		if g, ok := apiError(err); ok && g.Code == 400 && strings.Contains(g.Message, "already exists") {
			// An earlier attempt created it, or someone just did.
			return sheetMeta{}, connectors.Transient(fmt.Errorf("creating tab %q: it exists already; it is used from the next attempt on", title))
		}
		return sheetMeta{}, d.classify(err, callStructure, fmt.Sprintf("creating tab %q", title))
	}
	if len(resp.Replies) == 0 || resp.Replies[0].AddSheet == nil || resp.Replies[0].AddSheet.Properties == nil {
		return sheetMeta{}, connectors.Transient(fmt.Errorf("creating tab %q: Google's answer named no sheetId", title))
	}
	p := resp.Replies[0].AddSheet.Properties
	m := sheetMeta{id: p.SheetId, title: p.Title, rows: rows, cols: cols}
	if m.title == "" {
		m.title = title
	}
	d.book.sheets = append(d.book.sheets, m)
	d.book.cells[m.id] = m.rows * m.cols
	d.log.Info("created tab", "tab", m.title, "sheet_id", m.id)
	return m, nil
}

// headRows are the first two rows of a tab: the header row and the row
// below it, which tells an empty tab from one whose header was deleted.
type headRows struct {
	header []string
	second bool // row 2 holds data
}

// readHead reads a tab's first two rows and its grid size, checking that
// the title still names the tab's sheetId: one read. It follows a renamed
// tab by id once.
func (d *Destination) readHead(ctx context.Context, st *tabState, spec *mapping.SheetSpec) (headRows, error) {
	for attempt := 0; ; attempt++ {
		h, m, err := d.getHead(ctx, st.title)
		if err == nil && m.id == st.id {
			st.follow(m)
			d.book.cells[m.id] = m.rows * m.cols
			return h, nil
		}
		if err != nil && !isParseRange(err) {
			return headRows{}, err
		}
		if attempt > 0 {
			if err == nil {
				err = fmt.Errorf("title %q names another tab (id %d, not %d)", st.title, m.id, st.id)
			}
			return headRows{}, pauseParseRange(st.title, err)
		}
		// Renamed, or its title now names another tab: follow it by id.
		if err := d.locate(ctx, st, spec, true); err != nil {
			return headRows{}, err
		}
	}
}

// getHead reads rows 1–2 of the tab titled title, with its properties.
func (d *Destination) getHead(ctx context.Context, title string) (headRows, sheetMeta, error) {
	ss, err := d.svc.Spreadsheets.Get(d.id).
		Ranges(quoteTitle(title) + "!1:2").
		Fields("sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),data(rowData(values(userEnteredValue))))").
		Context(ctx).Do()
	if err != nil {
		return headRows{}, sheetMeta{}, d.classify(err, callRead, fmt.Sprintf("reading the header row of tab %q", title))
	}
	if len(ss.Sheets) != 1 || ss.Sheets[0].Properties == nil {
		return headRows{}, sheetMeta{}, connectors.Transient(fmt.Errorf("reading the header row of tab %q: Google answered %d tabs", title, len(ss.Sheets)))
	}
	sh := ss.Sheets[0]
	p := sh.Properties
	m := sheetMeta{id: p.SheetId, title: p.Title}
	if g := p.GridProperties; g != nil {
		m.rows, m.cols = g.RowCount, g.ColumnCount
	}
	var h headRows
	if len(sh.Data) > 0 {
		rows := sh.Data[0].RowData
		if len(rows) > 0 && rows[0] != nil {
			h.header = make([]string, len(rows[0].Values))
			for i, c := range rows[0].Values {
				if c != nil {
					h.header[i] = extendedText(c.UserEnteredValue)
				}
			}
		}
		if len(rows) > 1 && rows[1] != nil {
			for _, c := range rows[1].Values {
				if c != nil && extendedText(c.UserEnteredValue) != "" {
					h.second = true
				}
			}
		}
	}
	return h, m, nil
}

// empty reports whether the header row has no text.
func (h headRows) empty() bool {
	for _, s := range h.header {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

// extendedText is the text of a cell value.
func extendedText(v *sheetsapi.ExtendedValue) string {
	switch {
	case v == nil:
		return ""
	case v.StringValue != nil:
		return *v.StringValue
	case v.NumberValue != nil:
		return strconv.FormatFloat(*v.NumberValue, 'f', -1, 64)
	case v.BoolValue != nil:
		return strings.ToUpper(strconv.FormatBool(*v.BoolValue))
	case v.FormulaValue != nil:
		return *v.FormulaValue
	}
	return ""
}

// cellText is the text of a value from values.get.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// growColumns adds columns to the tab so that it holds at least cols.
func (d *Destination) growColumns(ctx context.Context, st *tabState, cols int64) error {
	return d.growGrid(ctx, st, st.rows, cols)
}

// growGrid adds rows and columns to the tab so that its grid holds at least
// rows × cols: one write when it is too small.
func (d *Destination) growGrid(ctx context.Context, st *tabState, rows, cols int64) error {
	if cols > MaxColumns {
		return connectors.Pausedf("tab %q would need %d columns, more than a sheet holds (%d)", st.title, cols, MaxColumns)
	}
	var reqs []*sheetsapi.Request
	if rows > st.rows {
		reqs = append(reqs, &sheetsapi.Request{AppendDimension: &sheetsapi.AppendDimensionRequest{
			SheetId: st.id, Dimension: "ROWS", Length: rows - st.rows, ForceSendFields: []string{"SheetId"}}})
	}
	if cols > st.cols {
		reqs = append(reqs, &sheetsapi.Request{AppendDimension: &sheetsapi.AppendDimensionRequest{
			SheetId: st.id, Dimension: "COLUMNS", Length: cols - st.cols, ForceSendFields: []string{"SheetId"}}})
	}
	if len(reqs) == 0 {
		return nil
	}
	rows, cols = max(rows, st.rows), max(cols, st.cols)
	if err := d.budgetCells(st, rows*cols-st.rows*st.cols, fmt.Sprintf("growing tab %q to %d×%d", st.title, rows, cols)); err != nil {
		return err
	}
	if _, err := d.svc.Spreadsheets.BatchUpdate(d.id, &sheetsapi.BatchUpdateSpreadsheetRequest{Requests: reqs}).Context(ctx).Do(); err != nil {
		return d.classify(err, callStructure, fmt.Sprintf("growing tab %q", st.title))
	}
	st.rows, st.cols = rows, cols
	d.book.cells[st.id] = rows * cols
	return nil
}

// writeHeaders writes header names into row 1 from column col.
func (d *Destination) writeHeaders(ctx context.Context, st *tabState, col int, headers []string) error {
	if err := d.growColumns(ctx, st, int64(col+len(headers))); err != nil {
		return err
	}
	vals := make([]any, len(headers))
	for i, h := range headers {
		vals[i] = h
	}
	rng := cellRange(st.title, col, 1, col+len(headers)-1, 1)
	_, err := d.svc.Spreadsheets.Values.Update(d.id, rng, &sheetsapi.ValueRange{Values: [][]any{vals}}).
		ValueInputOption(inputRaw).Context(connectors.Idempotent(ctx)).Do()
	if err != nil {
		return d.classify(err, callIdempotent, fmt.Sprintf("writing the header row of tab %q", st.title))
	}
	d.log.Info("wrote headers", "tab", st.title, "headers", strings.Join(headers, ", "))
	return nil
}

// prepare finds the tab of a batch, reads and matches its header row, and
// returns where each mapped column goes. With write unset (probes) it
// changes nothing and returns nil whenever a batch could proceed.
func (d *Destination) prepare(ctx context.Context, spec *mapping.SheetSpec, o sheetOptions, write bool) (*tabState, layout, error) {
	st := d.stateFor(spec.Tab)
	if !st.known {
		if err := d.locate(ctx, st, spec, write); err != nil {
			return nil, layout{}, err
		}
		if !st.known {
			return st, layout{}, nil // a probe of a tab the next batch creates
		}
	} else if d.book.batches >= metaEvery {
		if err := d.loadBook(ctx); err != nil {
			return nil, layout{}, err
		}
	}
	d.book.batches++
	h, err := d.readHead(ctx, st, spec)
	if err != nil {
		return nil, layout{}, err
	}
	if h.empty() {
		if h.second {
			return nil, layout{}, connectors.Pausedf("row 1 of tab %q is empty but row 2 holds data: the header row was deleted; put the header row back (%s)", st.title, quoteList(spec.Headers))
		}
		if write {
			if err := d.writeHeaders(ctx, st, 0, spec.Headers); err != nil {
				return nil, layout{}, err
			}
		}
		return st, freshLayout(spec), nil
	}
	lay, added, err := matchHeaders(st.title, h.header, spec, o.appendMissing)
	if err != nil {
		return nil, layout{}, connectors.Paused(err)
	}
	if len(added) > 0 && write {
		if err := d.writeHeaders(ctx, st, lay.cols[indexOf(spec.Headers, added[0])], added); err != nil {
			return nil, layout{}, err
		}
	}
	return st, lay, nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// budget checks that appending rows more rows to st keeps the workbook
// under cell_limit.
func (d *Destination) budget(st *tabState, rows int) error {
	return d.budgetCells(st, int64(rows)*st.cols, fmt.Sprintf("%d more rows in tab %q", rows, st.title))
}

// budgetCells checks that adding cells keeps the workbook under
// cell_limit, and logs a warning once past cell_warn.
func (d *Destination) budgetCells(st *tabState, cells int64, what string) error {
	next := d.book.total() + cells
	limit := d.cfg.CellLimit
	if next > limit {
		return connectors.Pausedf("spreadsheet %s would grow to %d cells with %s, above the limit of %d cells (cell_limit); delete unused tabs, rows or columns, or point this destination at a new spreadsheet",
			d.id, next, what, limit)
	}
	if float64(next) >= d.cfg.CellWarn*float64(limit) && !d.book.warned {
		d.book.warned = true
		d.log.Warn("spreadsheet is nearing the cell limit; delivery pauses before it is reached", "spreadsheet", d.id, "cells", next, "limit", limit)
	}
	return nil
}

// grew records rows appended to st (INSERT_ROWS adds them to the grid).
func (d *Destination) grew(st *tabState, rows int) {
	st.rows += int64(rows)
	d.book.cells[st.id] = st.rows * st.cols
}
