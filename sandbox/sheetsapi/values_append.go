package sheetsapi

// values.append follows this model of Google's table detection (the guide
// that describes it is not public in machine-readable form):
//
//  1. The range is a search area. A single cell such as "Tab!A1" is an
//     anchor: the area runs from it to the end of the sheet.
//  2. The table starts at the first row (top-down) with data in the area's
//     columns and continues, even past the area's last row, until a row
//     with no data in those columns. In each of its rows the table spans
//     the run of adjacent non-empty cells around that data, so "Tab!A:A"
//     finds a table spanning A:E, while a table beyond an empty column
//     stays separate.
//  3. Values are written from the row after the table, starting at the
//     table's first column; with no table, at the area's top-left cell.
//  4. INSERT_ROWS inserts one grid row per appended row at that point,
//     shifting the rows below down (so the grid always grows by the number
//     of rows appended); OVERWRITE writes in place, growing the grid only
//     when the rows run past its end. Both add columns when needed, and
//     both respect the workbook cell limit.
//
// Each sheet remembers where the table of each search area ends, so a run
// of appends costs O(rows appended), not O(table), until some other change
// to the sheet invalidates the memo.

const (
	insertOverwrite  = "OVERWRITE"
	insertInsertRows = "INSERT_ROWS"
)

// valuesAppend serves values.append.
func (s *Server) valuesAppend(c *call) (any, *apiError) {
	mode, e := parseInputOption(c.query.Get("valueInputOption"))
	if e != nil {
		return nil, e
	}
	insert, e := enumParam("insert_data_option", "InsertDataOption", c.query.Get("insertDataOption"), insertOverwrite, insertOverwrite, insertInsertRows)
	if e != nil {
		return nil, e
	}
	include, o, e := responseOptions(c.query.Get("includeValuesInResponse"), c.query.Get("responseValueRenderOption"), c.query.Get("responseDateTimeRenderOption"))
	if e != nil {
		return nil, e
	}
	var in valueRangeIn
	if e := decodeBody(c.body, &in, true); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.books[c.id]
	if ss == nil {
		return nil, errNotFound
	}
	sh, r, e := ss.resolve(c.rng)
	if e != nil {
		return nil, e
	}
	r.Sheet = sh.title
	if in.Range != "" && in.Range != c.rng {
		bsh, br, e := ss.resolve(in.Range)
		br.Sheet = r.Sheet
		if e != nil || bsh != sh || br != r {
			return nil, badRequest("Requested range [%s] does not match the range in the URL [%s]", in.Range, c.rng)
		}
	}
	major, e := parseMajor(in.MajorDimension)
	if e != nil {
		return nil, e
	}
	b, e := makeBlock(in.Values, major, mode, "")
	if e != nil {
		return nil, e
	}

	key := tableKey{r0: r.StartRow, c0: r.StartCol, r1: r.EndRow, c1: r.EndCol}
	if r.SingleCell() {
		key.r1, key.c1 = Unbounded, Unbounded
	}
	t := sh.findTable(key)
	r0, c0 := r.StartRow, r.StartCol
	resp := appendValuesResponseJSON{SpreadsheetID: ss.id, Updates: &updateValuesResponseJSON{SpreadsheetID: ss.id}}
	if t.found {
		r0, c0 = t.end, t.cmin
		resp.TableRange = sh.a1(gridRect{r0: t.start, c0: t.cmin, r1: t.end, c1: t.cmax})
	}
	n, w := len(b.rows), b.width
	if n == 0 || w == 0 {
		return resp, nil
	}

	rows, cols := sh.rowCount, sh.colCount
	if insert == insertInsertRows {
		rows = max(rows, r0) + n
	} else {
		rows = max(rows, r0+n)
	}
	cols = max(cols, c0+w)
	target := gridRect{r0: r0, c0: c0, r1: r0 + n, c1: c0 + w}
	if cols > MaxColumns {
		return nil, errGridLimits(sh.a1(target), sh.rowCount, sh.colCount)
	}
	if grown := int64(rows)*int64(cols) - sh.cellCount(); grown > 0 && ss.cellCount()+grown > s.opts.MaxCells {
		return nil, errCellLimit(s.opts.MaxCells)
	}

	if insert == insertInsertRows {
		if r0 > sh.rowCount {
			sh.rowCount = r0
		}
		sh.insertRows(r0, n)
	}
	sh.rowCount, sh.colCount = rows, cols
	b.write(sh, r0, c0)
	sh.version++

	// Extend the remembered table over the rows just written.
	c0s, c1s := key.c0, key.c1
	if c1s == Unbounded || c1s > sh.colCount {
		c1s = sh.colCount
	}
	m := t
	if !m.found {
		m = tableMemo{found: true, start: r0, end: r0, cmin: c1s, cmax: c0s}
	}
	m.version = sh.version
	sh.extendTable(&m, c0s, c1s)
	if m.end > m.start {
		sh.remember(key, m)
	}

	resp.Updates.UpdatedRange = sh.a1(target)
	resp.Updates.UpdatedRows, resp.Updates.UpdatedColumns, resp.Updates.UpdatedCells = b.rowsTouched, b.colsTouched, b.cells
	if include {
		vr := readRange(sh, target, o)
		resp.Updates.UpdatedData = &vr
	}
	c.applied, c.rows = true, n
	return resp, nil
}

// valuesClear serves values.clear: only values are cleared, and the
// cleared range is bounded to the sheet.
func (s *Server) valuesClear(c *call) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.books[c.id]
	if ss == nil {
		return nil, errNotFound
	}
	sh, g, e := ss.resolveForClear(c.rng)
	if e != nil {
		return nil, e
	}
	c.rows = sh.countDataRows(g)
	sh.clear(g)
	c.applied = true
	return clearValuesResponseJSON{SpreadsheetID: ss.id, ClearedRange: sh.a1(g)}, nil
}

// valuesBatchClear serves values.batchClear; every range is checked first.
func (s *Server) valuesBatchClear(c *call) (any, *apiError) {
	var in batchClearValuesIn
	if e := decodeBody(c.body, &in, true); e != nil {
		return nil, e
	}
	c.ranges = in.Ranges
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.books[c.id]
	if ss == nil {
		return nil, errNotFound
	}
	type target struct {
		sh *sheet
		g  gridRect
	}
	targets := make([]target, len(in.Ranges))
	for i, rng := range in.Ranges {
		sh, g, e := ss.resolveForClear(rng)
		if e != nil {
			return nil, e
		}
		targets[i] = target{sh, g}
	}
	resp := batchClearValuesResponseJSON{SpreadsheetID: ss.id}
	for _, t := range targets {
		c.rows += t.sh.countDataRows(t.g)
		t.sh.clear(t.g)
		resp.ClearedRanges = append(resp.ClearedRanges, t.sh.a1(t.g))
	}
	c.applied = true
	return resp, nil
}

// resolveForClear resolves a range and bounds it to the sheet's limits; a
// range that starts outside the grid is an error.
func (ss *spreadsheet) resolveForClear(rng string) (*sheet, gridRect, *apiError) {
	sh, r, e := ss.resolve(rng)
	if e != nil {
		return nil, gridRect{}, e
	}
	g := sh.bound(r)
	if g.r0 >= sh.rowCount || g.c0 >= sh.colCount {
		r.Sheet = sh.title
		return nil, gridRect{}, errGridLimits(FormatA1(r), sh.rowCount, sh.colCount)
	}
	g.r1, g.c1 = min(g.r1, sh.rowCount), min(g.c1, sh.colCount)
	return sh, g, nil
}

// countDataRows counts the rows of g holding any value.
func (sh *sheet) countDataRows(g gridRect) int {
	n := 0
	for row := g.r0; row < g.r1 && row < len(sh.rows); row++ {
		if !sh.rowBlank(row, g.c0, g.c1) {
			n++
		}
	}
	return n
}
