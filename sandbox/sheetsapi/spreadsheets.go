package sheetsapi

import (
	"slices"
)

// describe builds the Spreadsheet resource. With grid set, each listed
// sheet carries GridData for its ranges (nil ranges: whole sheets); with
// only set, just the sheets in it are listed, as when get has ranges.
func describe(ss *spreadsheet, grid bool, ranges map[*sheet][]gridRect, only map[*sheet]bool) spreadsheetJSON {
	out := spreadsheetJSON{
		SpreadsheetID:  ss.id,
		Properties:     spreadsheetPropsJSON{Title: ss.title, Locale: ss.locale, AutoRecalc: "ON_CHANGE", TimeZone: ss.timeZone},
		SpreadsheetURL: "https://docs.google.com/spreadsheets/d/" + ss.id + "/edit",
	}
	for i, sh := range ss.sheets {
		if only != nil && !only[sh] {
			continue
		}
		sj := sheetJSON{Properties: sheetProps(sh, i)}
		if grid {
			rects := ranges[sh]
			if rects == nil {
				rects = []gridRect{{r0: 0, c0: 0, r1: sh.rowCount, c1: sh.colCount}}
			}
			for _, g := range rects {
				sj.Data = append(sj.Data, gridData(sh, g))
			}
		}
		out.Sheets = append(out.Sheets, sj)
	}
	return out
}

func sheetProps(sh *sheet, index int) sheetPropsJSON {
	return sheetPropsJSON{
		SheetID:   sh.id,
		Title:     sh.title,
		Index:     index,
		SheetType: "GRID",
		Hidden:    sh.hidden,
		GridProperties: gridPropsJSON{
			RowCount: sh.rowCount, ColumnCount: sh.colCount,
			FrozenRowCount: sh.frozenRows, FrozenColumnCount: sh.frozenCols,
		},
	}
}

// gridData renders a rectangle as GridData: each cell's user-entered value
// (telling a formula from a string that merely starts with "="), its
// effective value and its formatted value. Formulas are not evaluated, so
// they have neither of the last two.
func gridData(sh *sheet, g gridRect) gridDataJSON {
	gd := gridDataJSON{StartRow: g.r0, StartColumn: g.c0}
	lastRow := -1
	for row := g.r0; row < g.r1 && row < len(sh.rows); row++ {
		r := sh.rows[row]
		hi := min(g.c1, len(r))
		for hi > g.c0 && r[hi-1].empty() {
			hi--
		}
		var rd rowDataJSON
		for col := g.c0; col < hi; col++ {
			rd.Values = append(rd.Values, cellData(r[col], sh.numberFormat(row, col)))
		}
		gd.RowData = append(gd.RowData, rd)
		if len(rd.Values) > 0 {
			lastRow = len(gd.RowData) - 1
		}
	}
	gd.RowData = gd.RowData[:lastRow+1]
	if len(gd.RowData) == 0 {
		gd.RowData = nil
	}
	return gd
}

// cellData is a cell as GridData shows it; nf is the number format its
// range was given, reported as its userEnteredFormat.
func cellData(c cell, nf numFmt) cellDataJSON {
	var cd cellDataJSON
	if nf.typ != "" {
		cd.UserEnteredFormat = &cellFormatJSON{NumberFormat: &numberFormatJSON{Type: nf.typ, Pattern: nf.pattern}}
	}
	switch c.kind {
	case kindEmpty:
		return cd
	case kindFormula:
		f := c.s
		cd.UserEnteredValue = &extendedValueJSON{FormulaValue: &f}
		return cd
	case kindString:
		s := c.s
		cd.UserEnteredValue = &extendedValueJSON{StringValue: &s}
	case kindNumber:
		n := c.n
		cd.UserEnteredValue = &extendedValueJSON{NumberValue: &n}
	case kindBool:
		b := c.n != 0
		cd.UserEnteredValue = &extendedValueJSON{BoolValue: &b}
	}
	ev := *cd.UserEnteredValue
	cd.EffectiveValue = &ev
	cd.FormattedValue = c.formatted(nf)
	return cd
}

// get serves spreadsheets.get.
func (s *Server) get(c *call) (any, *apiError) {
	grid := c.query.Get("includeGridData") == "true"
	if fields := c.query.Get("fields"); fields != "" {
		m, err := parseFieldMask(fields)
		if err != nil {
			return nil, badRequest("Invalid field selection %s", fields)
		}
		grid = m.wants("sheets", "data")
	}
	ranges := c.query["ranges"]
	c.ranges = ranges
	s.mu.RLock()
	defer s.mu.RUnlock()
	ss := s.books[c.id]
	if ss == nil {
		return nil, errNotFound
	}
	rects, only, e := resolveRanges(ss, ranges)
	if e != nil {
		return nil, e
	}
	return describe(ss, grid, rects, only), nil
}

// resolveRanges maps get's ranges to sheets and rectangles.
func resolveRanges(ss *spreadsheet, ranges []string) (map[*sheet][]gridRect, map[*sheet]bool, *apiError) {
	if len(ranges) == 0 {
		return nil, nil, nil
	}
	rects := map[*sheet][]gridRect{}
	only := map[*sheet]bool{}
	for _, rng := range ranges {
		sh, g, e := ss.resolveInGrid(rng)
		if e != nil {
			return nil, nil, e
		}
		rects[sh] = append(rects[sh], g)
		only[sh] = true
	}
	return rects, only, nil
}

// create serves spreadsheets.create.
func (s *Server) create(c *call) (any, *apiError) {
	var in spreadsheetIn
	if e := decodeBody(c.body, &in, false); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := newSpreadsheetID(s.rnd)
	for s.books[id] != nil {
		id = newSpreadsheetID(s.rnd)
	}
	title := ""
	if in.Properties != nil {
		title = in.Properties.Title
	}
	ss := newSpreadsheet(id, title)
	if in.Properties != nil {
		if in.Properties.Locale != "" {
			ss.locale = in.Properties.Locale
		}
		if in.Properties.TimeZone != "" {
			ss.timeZone = in.Properties.TimeZone
		}
	}
	for i, sj := range in.Sheets {
		p := sj.Properties
		var sid int64
		if p.SheetID != nil {
			sid = *p.SheetID
			if ss.sheetByID(sid) != nil {
				return nil, badRequest("Invalid sheets[%d]: A sheet with the id %d already exists.", i, sid)
			}
		} else if i > 0 {
			sid = ss.newSheetID(s.rnd)
		}
		t := ss.freeTitle()
		if p.Title != nil {
			t = *p.Title
		}
		if e := checkTitle(ss, nil, t); e != nil {
			return nil, badRequest("Invalid sheets[%d]: %s", i, e.Message)
		}
		sh := newSheet(sid, t, defaultRowCount, defaultColumnCount)
		if e := applyNewSheetProps(sh, p); e != nil {
			return nil, badRequest("Invalid sheets[%d]: %s", i, e.Message)
		}
		ss.sheets = append(ss.sheets, sh)
	}
	if len(ss.sheets) == 0 {
		ss.sheets = []*sheet{newSheet(0, "Sheet1", defaultRowCount, defaultColumnCount)}
	}
	if ss.cellCount() > s.opts.MaxCells {
		return nil, errCellLimit(s.opts.MaxCells)
	}
	s.books[id] = ss
	s.order = append(s.order, id)
	c.applied = true
	return describe(ss, false, nil, nil), nil
}

// applyNewSheetProps applies the optional properties of a new sheet.
func applyNewSheetProps(sh *sheet, p sheetPropsIn) *apiError {
	if p.SheetType != "" && p.SheetType != "GRID" {
		return badRequest("Only GRID sheets are supported by the Sheets sandbox emulator.")
	}
	if p.Hidden != nil {
		sh.hidden = *p.Hidden
	}
	if gp := p.GridProperties; gp != nil {
		rows, cols := sh.rowCount, sh.colCount
		if gp.RowCount != nil {
			rows = *gp.RowCount
		}
		if gp.ColumnCount != nil {
			cols = *gp.ColumnCount
		}
		if e := checkGridSize(rows, cols); e != nil {
			return e
		}
		sh.rowCount, sh.colCount = rows, cols
		if gp.FrozenRowCount != nil {
			sh.frozenRows = *gp.FrozenRowCount
		}
		if gp.FrozenColumnCount != nil {
			sh.frozenCols = *gp.FrozenColumnCount
		}
		if sh.frozenRows < 0 || sh.frozenRows > sh.rowCount || sh.frozenCols < 0 || sh.frozenCols > sh.colCount {
			return badRequest("Frozen rows or columns exceed the grid size.")
		}
	}
	return nil
}

func checkGridSize(rows, cols int) *apiError {
	if rows < 1 || cols < 1 {
		return badRequest("Grid size must be at least one row and one column: rowCount %d, columnCount %d.", rows, cols)
	}
	if cols > MaxColumns {
		return badRequest("This action would increase the number of columns in the sheet above the limit of %d.", MaxColumns)
	}
	return nil
}

// checkTitle validates a new title for sh (nil for a new sheet).
func checkTitle(ss *spreadsheet, sh *sheet, title string) *apiError {
	if title == "" {
		return badRequest("Sheet names must not be empty.")
	}
	if other := ss.sheetByTitle(title); other != nil && other != sh {
		return badRequest("A sheet with the name %q already exists. Please enter another name.", title)
	}
	return nil
}

// moveSheet places sh at index (clamped) in tab order.
func (ss *spreadsheet) moveSheet(sh *sheet, index int) {
	i := ss.indexOf(sh)
	ss.sheets = slices.Delete(ss.sheets, i, i+1)
	index = max(0, min(index, len(ss.sheets)))
	ss.sheets = slices.Insert(ss.sheets, index, sh)
}
