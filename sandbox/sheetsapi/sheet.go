package sheetsapi

import "slices"

// Default grid size of a new sheet, as in Google Sheets.
const (
	defaultRowCount    = 1000
	defaultColumnCount = 26
)

// sheet is one tab. Only rows up to the last one holding data are stored;
// rows[i] holds the cells of row i up to its last non-empty one, so a read
// or an append at the end never touches the empty part of the grid.
type sheet struct {
	id         int64
	title      string
	hidden     bool
	rowCount   int
	colCount   int
	frozenRows int
	frozenCols int
	rows       [][]cell
	version    uint64 // bumped by every change not made by append
	tables     map[tableKey]tableMemo
	formats    []formatRule // number formats set with repeatCell, oldest first
}

func newSheet(id int64, title string, rows, cols int) *sheet {
	return &sheet{id: id, title: title, rowCount: rows, colCount: cols}
}

// cellCount is the number of grid cells the sheet contributes to the
// workbook limit, empty or not.
func (s *sheet) cellCount() int64 { return int64(s.rowCount) * int64(s.colCount) }

// at returns the cell at a zero-based position.
func (s *sheet) at(row, col int) cell {
	if row < 0 || row >= len(s.rows) || col < 0 || col >= len(s.rows[row]) {
		return cell{}
	}
	return s.rows[row][col]
}

// reserve makes row exist in storage with room for width cells, so a row
// written cell by cell is allocated once.
func (s *sheet) reserve(row, width int) {
	if row >= len(s.rows) {
		s.rows = extend(s.rows, row+1)
	}
	if r := s.rows[row]; cap(r) < width {
		grown := make([]cell, len(r), width)
		copy(grown, r)
		s.rows[row] = grown
	}
}

// set stores c, growing the stored rows as needed. Callers check grid bounds.
func (s *sheet) set(row, col int, c cell) {
	if c.empty() {
		if row >= len(s.rows) || col >= len(s.rows[row]) {
			return
		}
		s.rows[row][col] = c
		return
	}
	if row >= len(s.rows) {
		s.rows = extend(s.rows, row+1)
	}
	r := s.rows[row]
	if col >= len(r) {
		r = extend(r, col+1)
		s.rows[row] = r
	}
	r[col] = c
}

// extend returns x lengthened to n elements, the new ones zero. Rows and
// the row list shrink in place (x[:k]), which leaves the cut elements in
// the backing array; extending by reslicing alone would bring them back.
func extend[T any](x []T, n int) []T {
	old := len(x)
	if n <= old {
		return x
	}
	x = slices.Grow(x, n-old)[:n]
	clear(x[old:])
	return x
}

// rowBlank reports whether row has no data in columns [c0, c1).
func (s *sheet) rowBlank(row, c0, c1 int) bool {
	if row >= len(s.rows) {
		return true
	}
	r := s.rows[row]
	for c := c0; c < c1 && c < len(r); c++ {
		if !r[c].empty() {
			return false
		}
	}
	return true
}

// insertRows inserts n empty rows before row at (zero-based) and grows the grid.
func (s *sheet) insertRows(at, n int) {
	s.rowCount += n
	if at < len(s.rows) {
		s.rows = slices.Insert(s.rows, at, make([][]cell, n)...)
	}
	s.shiftFormats(true, at, n)
	s.version++
}

// deleteRows removes rows [start, end) from the grid.
func (s *sheet) deleteRows(start, end int) {
	s.rowCount -= end - start
	if start < len(s.rows) {
		s.rows = slices.Delete(s.rows, start, min(end, len(s.rows)))
	}
	s.shiftFormats(true, start, start-end)
	s.version++
}

// insertColumns inserts n empty columns before col at.
func (s *sheet) insertColumns(at, n int) {
	s.colCount += n
	for i, r := range s.rows {
		if at < len(r) {
			s.rows[i] = slices.Insert(r, at, make([]cell, n)...)
		}
	}
	s.shiftFormats(false, at, n)
	s.version++
}

// deleteColumns removes columns [start, end).
func (s *sheet) deleteColumns(start, end int) {
	s.colCount -= end - start
	for i, r := range s.rows {
		if start < len(r) {
			s.rows[i] = slices.Delete(r, start, min(end, len(r)))
		}
	}
	s.shiftFormats(false, start, start-end)
	s.version++
}

// resize sets the grid size, dropping data that falls outside it.
func (s *sheet) resize(rows, cols int) {
	if rows < len(s.rows) {
		clear(s.rows[rows:])
		s.rows = s.rows[:rows]
	}
	if cols < s.colCount {
		for i, r := range s.rows {
			if len(r) > cols {
				clear(r[cols:])
				s.rows[i] = r[:cols]
			}
		}
	}
	s.clipFormats(rows, cols)
	s.rowCount, s.colCount = rows, cols
	s.trim()
	s.version++
}

// clear empties the cells of the bounded rectangle.
func (s *sheet) clear(g gridRect) {
	for row := g.r0; row < g.r1 && row < len(s.rows); row++ {
		r := s.rows[row]
		for col := g.c0; col < g.c1 && col < len(r); col++ {
			r[col] = cell{}
		}
	}
	s.trim()
	s.version++
}

// trim drops empty trailing cells and rows from storage. It touches only the
// rows at the end, so it costs nothing in the common case.
func (s *sheet) trim() {
	for i, r := range s.rows {
		n := len(r)
		for n > 0 && r[n-1].empty() {
			n--
		}
		if n != len(r) {
			s.rows[i] = r[:n]
		}
	}
	n := len(s.rows)
	for n > 0 && len(s.rows[n-1]) == 0 {
		n--
	}
	clear(s.rows[n:])
	s.rows = s.rows[:n]
}

// trimTail drops empty trailing rows only; it is O(trailing empty rows).
func (s *sheet) trimTail() {
	n := len(s.rows)
	for n > 0 && rowEmpty(s.rows[n-1]) {
		n--
	}
	clear(s.rows[n:])
	s.rows = s.rows[:n]
}

func rowEmpty(r []cell) bool {
	for _, c := range r {
		if !c.empty() {
			return false
		}
	}
	return true
}

// dataWidth is the number of columns up to the last non-empty one in any row.
func (s *sheet) dataWidth() int {
	w := 0
	for _, r := range s.rows {
		for n := len(r); n > w; n-- {
			if !r[n-1].empty() {
				w = n
				break
			}
		}
	}
	return w
}

// gridRect is a bounded rectangle of the grid, zero-based and half-open.
type gridRect struct{ r0, c0, r1, c1 int }

func (g gridRect) rows() int { return g.r1 - g.r0 }
func (g gridRect) cols() int { return g.c1 - g.c0 }

// bound closes the open sides of r at the sheet's grid edges.
func (s *sheet) bound(r A1Range) gridRect {
	g := gridRect{r0: r.StartRow, c0: r.StartCol, r1: r.EndRow, c1: r.EndCol}
	if g.r1 == Unbounded {
		g.r1 = max(s.rowCount, g.r0)
	}
	if g.c1 == Unbounded {
		g.c1 = max(s.colCount, g.c0)
	}
	return g
}

// inGrid reports whether the bounded rectangle lies inside the grid.
func (s *sheet) inGrid(g gridRect) bool {
	return g.r1 <= s.rowCount && g.c1 <= s.colCount
}

// a1 formats a bounded rectangle of this sheet.
func (s *sheet) a1(g gridRect) string {
	return FormatA1(A1Range{Sheet: s.title, StartRow: g.r0, StartCol: g.c0, EndRow: g.r1, EndCol: g.c1})
}

// tableKey identifies an append search area; open ends stay Unbounded so
// that the key survives the grid growing.
type tableKey struct{ r0, c0, r1, c1 int }

// tableMemo remembers where the table of a search area ended, so that a run
// of appends does not rescan the table each time.
type tableMemo struct {
	version    uint64
	found      bool
	start, end int // rows [start, end)
	cmin, cmax int // columns [cmin, cmax)
}

// findTable locates the table an append to search would extend; see
// appendValues for the model.
func (s *sheet) findTable(key tableKey) tableMemo {
	if m, ok := s.tables[key]; ok && m.version == s.version {
		return m
	}
	c0, c1 := key.c0, key.c1
	if c1 == Unbounded || c1 > s.colCount {
		c1 = s.colCount
	}
	r1 := key.r1
	if r1 == Unbounded || r1 > len(s.rows) {
		r1 = len(s.rows)
	}
	m := tableMemo{version: s.version}
	for row := key.r0; row < r1; row++ {
		if !s.rowBlank(row, c0, c1) {
			m.found, m.start, m.end = true, row, row
			m.cmin, m.cmax = c1, c0
			break
		}
	}
	if m.found {
		s.extendTable(&m, c0, c1)
	}
	s.remember(key, m)
	return m
}

// extendTable grows m downwards over the following rows that have data in
// columns [c0, c1). In each such row the table spans the run of non-empty
// cells around that data, so a table found through "A:A" covers its other
// columns too, while a table beyond an empty column stays separate.
func (s *sheet) extendTable(m *tableMemo, c0, c1 int) {
	for row := m.end; row < len(s.rows) && !s.rowBlank(row, c0, c1); row++ {
		r := s.rows[row]
		lo := c0
		for r[lo].empty() {
			lo++
		}
		for lo > 0 && !r[lo-1].empty() {
			lo--
		}
		hi := min(c1, len(r))
		for r[hi-1].empty() {
			hi--
		}
		for hi < len(r) && !r[hi].empty() {
			hi++
		}
		m.cmin, m.cmax = min(m.cmin, lo), max(m.cmax, hi)
		m.end = row + 1
	}
}

func (s *sheet) remember(key tableKey, m tableMemo) {
	if s.tables == nil || len(s.tables) > 64 {
		s.tables = make(map[tableKey]tableMemo)
	}
	s.tables[key] = m
}
