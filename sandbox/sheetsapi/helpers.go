package sheetsapi

import (
	"errors"
	"fmt"
)

// Test and operations helpers. They act directly on the state, bypassing
// quotas, faults and the request log, and are safe for concurrent use with
// requests being served. Rows and columns are zero-based: row 0 is the
// sheet's first row (the header row, "1" in A1 notation), column 0 is A.

// ErrNotFound is returned by helpers for an unknown spreadsheet or tab.
var ErrNotFound = errors.New("not found")

// CreateSpreadsheet adds a spreadsheet with the given tabs (default one
// "Sheet1"), each 1000×26, and returns its new id, or "" when two tabs
// share a title.
func (s *Server) CreateSpreadsheet(title string, tabs ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := newSpreadsheetID(s.rnd)
	for s.books[id] != nil {
		id = newSpreadsheetID(s.rnd)
	}
	if err := s.addBook(id, title, tabs); err != nil {
		s.logger.Error("sheets emulator: create spreadsheet", "err", err)
		return ""
	}
	return id
}

// CreateSpreadsheetWithID adds a spreadsheet with a fixed id, so tests and
// example configs can name it in advance. It fails if the id is taken or
// two tabs share a title.
func (s *Server) CreateSpreadsheetWithID(id, title string, tabs ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		return errors.New("create spreadsheet: empty id")
	}
	if s.books[id] != nil {
		return fmt.Errorf("create spreadsheet %s: id already in use", id)
	}
	return s.addBook(id, title, tabs)
}

func (s *Server) addBook(id, title string, tabs []string) error {
	ss := newSpreadsheet(id, title)
	if len(tabs) == 0 {
		tabs = []string{"Sheet1"}
	}
	for i, t := range tabs {
		if e := checkTitle(ss, nil, t); e != nil {
			return fmt.Errorf("create spreadsheet %s: tab %q: %s", id, t, e.Message)
		}
		var sid int64
		if i > 0 {
			sid = ss.newSheetID(s.rnd)
		}
		ss.sheets = append(ss.sheets, newSheet(sid, t, defaultRowCount, defaultColumnCount))
	}
	s.books[id] = ss
	s.order = append(s.order, id)
	s.changed()
	return nil
}

// lookup finds a tab; callers hold s.mu.
func (s *Server) lookup(id, tab string) (*spreadsheet, *sheet, error) {
	ss := s.books[id]
	if ss == nil {
		return nil, nil, fmt.Errorf("spreadsheet %s: %w", id, ErrNotFound)
	}
	sh := ss.sheetByTitle(tab)
	if sh == nil {
		return nil, nil, fmt.Errorf("spreadsheet %s tab %q: %w", id, tab, ErrNotFound)
	}
	return ss, sh, nil
}

// Values returns a tab's data as UNFORMATTED_VALUE would (numbers as
// float64, booleans as bool, formulas as their text), empty trailing rows
// and cells left out. It returns nil for an unknown spreadsheet or tab.
func (s *Server) Values(spreadsheetID, tab string) [][]any {
	return s.tabRows(spreadsheetID, tab, renderUnformatted)
}

// FormattedValues returns a tab's data as FORMATTED_VALUE shows it: every
// value a string, numbers in their number format (dates as dates), empty
// trailing rows and cells left out. It returns nil for an unknown
// spreadsheet or tab.
func (s *Server) FormattedValues(spreadsheetID, tab string) [][]any {
	return s.tabRows(spreadsheetID, tab, renderFormatted)
}

// tabRows reads a whole tab by rows with the value render option valueOpt;
// nil for an unknown spreadsheet or tab.
func (s *Server) tabRows(spreadsheetID, tab string, valueOpt string) [][]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, sh, err := s.lookup(spreadsheetID, tab)
	if err != nil {
		return nil
	}
	return readRows(sh, gridRect{r0: 0, c0: 0, r1: sh.rowCount, c1: sh.colCount},
		readOptions{major: "ROWS", valueOpt: valueOpt, dateOpt: dateSerial})
}

// NumberFormat returns the number format type and pattern set for a cell
// with repeatCell, or "" and "" when it has none.
func (s *Server) NumberFormat(spreadsheetID, tab string, row, col int) (typ, pattern string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, sh, err := s.lookup(spreadsheetID, tab)
	if err != nil {
		return "", ""
	}
	f := sh.numberFormat(row, col)
	return f.typ, f.pattern
}

// IsFormula reports whether a cell holds a formula, as opposed to a string
// that only looks like one (such as "=1+2" written with RAW).
func (s *Server) IsFormula(spreadsheetID, tab string, row, col int) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, sh, err := s.lookup(spreadsheetID, tab)
	return err == nil && sh.at(row, col).kind == kindFormula
}

// InputOption returns how a cell was last written: "RAW", "USER_ENTERED",
// or "" for an empty cell.
func (s *Server) InputOption(spreadsheetID, tab string, row, col int) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, sh, err := s.lookup(spreadsheetID, tab)
	if err != nil {
		return ""
	}
	switch c := sh.at(row, col); {
	case c.empty():
		return ""
	case c.input == inputRaw:
		return valueInputRaw
	}
	return valueInputUserEntered
}

// RenameSheet renames a tab, as a person would in the UI.
func (s *Server) RenameSheet(spreadsheetID, oldTitle, newTitle string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, sh, err := s.lookup(spreadsheetID, oldTitle)
	if err != nil {
		return fmt.Errorf("rename sheet: %w", err)
	}
	if e := checkTitle(ss, sh, newTitle); e != nil {
		return fmt.Errorf("rename sheet: %s", e.Message)
	}
	sh.title = newTitle
	sh.version++
	s.changed()
	return nil
}

// DeleteSheet deletes a tab; the last tab cannot be deleted.
func (s *Server) DeleteSheet(spreadsheetID, title string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, sh, err := s.lookup(spreadsheetID, title)
	if err != nil {
		return fmt.Errorf("delete sheet: %w", err)
	}
	if e := deleteSheet(ss, sh.id); e != nil {
		return fmt.Errorf("delete sheet: %s", e.Message)
	}
	s.changed()
	return nil
}

// SetRow replaces a whole row as if a person typed the values
// (USER_ENTERED): strings are parsed, Go numbers and booleans kept; nil or
// "" leaves a cell empty and cells past the values are cleared. Use it to
// simulate someone editing headers: swapping two, deleting one, or adding
// a row by hand.
func (s *Server) SetRow(spreadsheetID, tab string, row int, values []any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, sh, err := s.lookup(spreadsheetID, tab)
	if err != nil {
		return fmt.Errorf("set row: %w", err)
	}
	if row < 0 || row >= sh.rowCount || len(values) > sh.colCount {
		return fmt.Errorf("set row %d: %d values do not fit the %d×%d grid", row, len(values), sh.rowCount, sh.colCount)
	}
	cells := make([]cell, len(values))
	for i, v := range values {
		c, skip, err := parseInput(jsonValue(v), inputUserEntered)
		if err != nil {
			return fmt.Errorf("set row %d column %d: %w", row, i, err)
		}
		if !skip {
			cells[i] = c
		}
	}
	sh.reserve(row, 0)
	sh.rows[row] = cells
	sh.trim()
	sh.version++
	s.changed()
	return nil
}

// InsertRows inserts n empty rows before row, shifting the rows below down,
// as a person inserting rows in the middle of a table would.
func (s *Server) InsertRows(spreadsheetID, tab string, row, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, sh, err := s.lookup(spreadsheetID, tab)
	if err != nil {
		return fmt.Errorf("insert rows: %w", err)
	}
	if e := s.changeDimension(ss, dimensionRangeIn{SheetID: sh.id, Dimension: "ROWS", StartIndex: &row, EndIndex: ptr(row + n)}, true); e != nil {
		return fmt.Errorf("insert rows: %s", e.Message)
	}
	s.changed()
	return nil
}

// DeleteRows deletes rows [row, row+n), shifting the rows below up.
func (s *Server) DeleteRows(spreadsheetID, tab string, row, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, sh, err := s.lookup(spreadsheetID, tab)
	if err != nil {
		return fmt.Errorf("delete rows: %w", err)
	}
	if e := s.changeDimension(ss, dimensionRangeIn{SheetID: sh.id, Dimension: "ROWS", StartIndex: &row, EndIndex: ptr(row + n)}, false); e != nil {
		return fmt.Errorf("delete rows: %s", e.Message)
	}
	s.changed()
	return nil
}

// SetGridSize resizes a tab's grid, dropping data outside it; the workbook
// cell limit applies. Tests use it to bring a workbook near the limit
// without filling cells.
func (s *Server) SetGridSize(spreadsheetID, tab string, rows, cols int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, sh, err := s.lookup(spreadsheetID, tab)
	if err != nil {
		return fmt.Errorf("set grid size: %w", err)
	}
	if e := checkGridSize(rows, cols); e != nil {
		return fmt.Errorf("set grid size: %s", e.Message)
	}
	if ss.cellCount()-sh.cellCount()+int64(rows)*int64(cols) > s.opts.MaxCells {
		return fmt.Errorf("set grid size: %s", errCellLimit(s.opts.MaxCells).Message)
	}
	sh.resize(rows, cols)
	s.changed()
	return nil
}

// CellCount returns the workbook's grid cells, empty ones included, as
// counted against the 10,000,000-cell limit; -1 for an unknown spreadsheet.
func (s *Server) CellCount(spreadsheetID string) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ss := s.books[spreadsheetID]
	if ss == nil {
		return -1
	}
	return ss.cellCount()
}

// SheetID returns the numeric id (gid) of a tab.
func (s *Server) SheetID(spreadsheetID, tab string) (int64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, sh, err := s.lookup(spreadsheetID, tab)
	if err != nil {
		return 0, false
	}
	return sh.id, true
}

// SpreadsheetInfo describes a spreadsheet for listings such as the sandbox page.
type SpreadsheetInfo struct {
	ID    string
	Title string
	Tabs  []TabInfo
	Cells int64
}

// TabInfo describes one tab.
type TabInfo struct {
	SheetID  int64
	Title    string
	Hidden   bool
	RowCount int
	ColCount int
	DataRows int // rows up to the last one holding data
}

// Spreadsheets lists the spreadsheets in creation order.
func (s *Server) Spreadsheets() []SpreadsheetInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]SpreadsheetInfo, 0, len(s.order))
	for _, id := range s.order {
		ss := s.books[id]
		info := SpreadsheetInfo{ID: ss.id, Title: ss.title, Cells: ss.cellCount()}
		for _, sh := range ss.sheets {
			info.Tabs = append(info.Tabs, TabInfo{SheetID: sh.id, Title: sh.title, Hidden: sh.hidden,
				RowCount: sh.rowCount, ColCount: sh.colCount, DataRows: len(sh.rows)})
		}
		out = append(out, info)
	}
	return out
}

// jsonValue turns Go numbers into the float64 a JSON body would carry.
func jsonValue(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case uint:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	}
	return v
}

func ptr[T any](v T) *T { return &v }
