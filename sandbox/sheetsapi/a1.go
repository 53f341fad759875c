package sheetsapi

// This file holds the A1-notation parser and formatter. It depends on nothing
// else in the emulator so that the Sheets connector can reuse it.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Unbounded marks an open end of an A1Range, as in "A:A" (no last row) or
// "1:2" (no last column).
const Unbounded = -1

// MaxColumns is the widest sheet Google Sheets allows: 18,278 columns, A to ZZZ.
const MaxColumns = 18278

// maxRowNumber bounds the row numbers the parser accepts so that arithmetic
// on them cannot overflow; real grids are limited to far fewer rows by the
// 10,000,000-cell workbook limit.
const maxRowNumber = 1 << 30

// A1Range is a parsed A1 reference. Rows and columns are zero-based; the
// start is inclusive and the end exclusive, so "B2:C3" is StartRow 1,
// StartCol 1, EndRow 3, EndCol 3. EndRow or EndCol is Unbounded when the
// reference leaves that side open ("A:A", "1:2", "A5:A", or a whole sheet).
type A1Range struct {
	// Sheet is the sheet title with quotes removed and '' unescaped; it is
	// empty when the reference names no sheet (meaning the first visible sheet).
	Sheet string
	// StartRow is the first row, zero-based.
	StartRow int
	// StartCol is the first column, zero-based.
	StartCol int
	// EndRow is one past the last row, or Unbounded.
	EndRow int
	// EndCol is one past the last column, or Unbounded.
	EndCol int
}

// WholeSheet reports whether r covers its entire sheet.
func (r A1Range) WholeSheet() bool {
	return r.StartRow == 0 && r.StartCol == 0 && r.EndRow == Unbounded && r.EndCol == Unbounded
}

// SingleCell reports whether r is exactly one cell, such as "A1".
func (r A1Range) SingleCell() bool {
	return r.EndRow == r.StartRow+1 && r.EndCol == r.StartCol+1
}

// String formats r in A1 notation; it is the same as FormatA1(r).
func (r A1Range) String() string { return FormatA1(r) }

// ErrInvalidA1 is wrapped by every error ParseA1 returns.
var ErrInvalidA1 = errors.New("invalid a1 range")

// ParseA1 parses an A1 reference as the Sheets API accepts it:
//
//	Sheet1!A1:B2   Sheet1!A:A   Sheet1!1:2   Sheet1!A5:A   Sheet1!A1   Sheet1
//	'My Sheet'!A1  'Jon''s Data'  A1:B2 (first sheet)  Sheet1!R1C1:R2C2
//
// A quoted name may double each apostrophe, or, as in some of Google's own
// examples, leave a lone apostrophe undoubled:
//
//	'Jon''s Data'!A1   'Jon's_Data'!A1:D5
//
// A bare reference without "!" is a range on the first sheet when it reads as
// one ("A1", "A:B", "1:2") and a sheet title otherwise ("Sheet1"), so a sheet
// whose title looks like a cell must be quoted ('A1'). Column letters are
// case-insensitive. Reversed corners ("B2:A1") are normalised.
func ParseA1(s string) (A1Range, error) {
	if s == "" {
		return A1Range{}, fmt.Errorf("%w: empty", ErrInvalidA1)
	}
	if s[0] == '\'' {
		name, rest, err := cutQuotedName(s)
		if err != nil {
			return A1Range{}, err
		}
		if rest == "" {
			return wholeSheet(name), nil
		}
		// rest starts with '!'.
		r, ok := parseCells(rest[1:])
		if !ok {
			return A1Range{}, fmt.Errorf("%w: %q is not a cell range", ErrInvalidA1, rest[1:])
		}
		r.Sheet = name
		return r, nil
	}
	if i := strings.LastIndexByte(s, '!'); i >= 0 {
		name, cells := s[:i], s[i+1:]
		if name == "" {
			return A1Range{}, fmt.Errorf("%w: empty sheet name", ErrInvalidA1)
		}
		r, ok := parseCells(cells)
		if !ok {
			return A1Range{}, fmt.Errorf("%w: %q is not a cell range", ErrInvalidA1, cells)
		}
		r.Sheet = name
		return r, nil
	}
	if r, ok := parseCells(s); ok {
		return r, nil
	}
	return wholeSheet(s), nil
}

func wholeSheet(name string) A1Range {
	return A1Range{Sheet: name, EndRow: Unbounded, EndCol: Unbounded}
}

// cutQuotedName reads a leading quoted sheet name. rest is "" or starts
// with '!'.
func cutQuotedName(s string) (name, rest string, err error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c != '\'' {
			b.WriteByte(c)
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case i+1 == len(s) || s[i+1] == '!':
			if b.Len() == 0 {
				return "", "", fmt.Errorf("%w: empty sheet name", ErrInvalidA1)
			}
			return b.String(), s[i+1:], nil
		default:
			// A lone apostrophe inside the name, left undoubled.
			b.WriteByte('\'')
		}
	}
	return "", "", fmt.Errorf("%w: unterminated quoted sheet name", ErrInvalidA1)
}

// endpoint is one side of a cell range; col or row is -1 when absent.
type endpoint struct{ col, row int }

// parseCells parses the part after "!" (or a bare reference).
func parseCells(s string) (A1Range, bool) {
	if r, ok := parseR1C1(s); ok {
		return r, true
	}
	first, second, pair := strings.Cut(s, ":")
	a, ok := parseEndpoint(first)
	if !ok {
		return A1Range{}, false
	}
	if !pair {
		if a.col < 0 || a.row < 0 {
			return A1Range{}, false
		}
		return A1Range{StartRow: a.row, StartCol: a.col, EndRow: a.row + 1, EndCol: a.col + 1}, true
	}
	b, ok := parseEndpoint(second)
	if !ok {
		return A1Range{}, false
	}
	if !(a.col >= 0 && b.col >= 0) && !(a.row >= 0 && b.row >= 0) {
		return A1Range{}, false
	}
	var r A1Range
	r.StartCol, r.EndCol = span(a.col, b.col)
	r.StartRow, r.EndRow = span(a.row, b.row)
	return r, true
}

// span turns two optional zero-based positions into [start, end).
func span(a, b int) (int, int) {
	switch {
	case a >= 0 && b >= 0:
		return min(a, b), max(a, b) + 1
	case a >= 0:
		return a, Unbounded
	case b >= 0:
		return 0, b + 1
	}
	return 0, Unbounded
}

// parseEndpoint reads "A1", "A" or "1".
func parseEndpoint(s string) (endpoint, bool) {
	p := endpoint{col: -1, row: -1}
	i := 0
	for i < len(s) && isLetter(s[i]) {
		i++
	}
	if i > 0 {
		c, err := ColumnIndex(s[:i])
		if err != nil {
			return p, false
		}
		p.col = c
	}
	if i < len(s) {
		n, ok := parseRowNumber(s[i:])
		if !ok {
			return p, false
		}
		p.row = n - 1
	}
	return p, p.col >= 0 || p.row >= 0
}

// parseRowNumber reads a one-based row number without sign or leading zero.
func parseRowNumber(s string) (int, bool) {
	if s == "" || s[0] == '0' || len(s) > 10 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > maxRowNumber {
		return 0, false
	}
	return n, true
}

// parseR1C1 reads the absolute R1C1 forms "R1C1" and "R1C1:R2C2".
func parseR1C1(s string) (A1Range, bool) {
	first, second, pair := strings.Cut(s, ":")
	a, ok := parseR1C1Cell(first)
	if !ok {
		return A1Range{}, false
	}
	b := a
	if pair {
		if b, ok = parseR1C1Cell(second); !ok {
			return A1Range{}, false
		}
	}
	var r A1Range
	r.StartCol, r.EndCol = span(a.col, b.col)
	r.StartRow, r.EndRow = span(a.row, b.row)
	return r, true
}

func parseR1C1Cell(s string) (endpoint, bool) {
	if len(s) < 4 || (s[0] != 'R' && s[0] != 'r') {
		return endpoint{}, false
	}
	c := strings.IndexAny(s, "Cc")
	if c < 2 {
		return endpoint{}, false
	}
	row, ok := parseRowNumber(s[1:c])
	if !ok {
		return endpoint{}, false
	}
	col, ok := parseRowNumber(s[c+1:])
	if !ok || col > MaxColumns {
		return endpoint{}, false
	}
	return endpoint{col: col - 1, row: row - 1}, true
}

func isLetter(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ColumnName returns the letters of a zero-based column index: 0 is "A",
// 25 is "Z", 26 is "AA". It returns "" for a negative index.
func ColumnName(index int) string {
	if index < 0 {
		return ""
	}
	var buf [8]byte
	i := len(buf)
	for n := index + 1; n > 0; n = (n - 1) / 26 {
		i--
		buf[i] = byte('A' + (n-1)%26)
	}
	return string(buf[i:])
}

// ColumnIndex returns the zero-based index of column letters such as "A"
// (0) or "aa" (26). Letters are case-insensitive; columns past ZZZ are an error.
func ColumnIndex(letters string) (int, error) {
	if letters == "" || len(letters) > 3 {
		return 0, fmt.Errorf("%w: column %q", ErrInvalidA1, letters)
	}
	n := 0
	for i := 0; i < len(letters); i++ {
		c := letters[i]
		switch {
		case c >= 'A' && c <= 'Z':
			n = n*26 + int(c-'A') + 1
		case c >= 'a' && c <= 'z':
			n = n*26 + int(c-'a') + 1
		default:
			return 0, fmt.Errorf("%w: column %q", ErrInvalidA1, letters)
		}
	}
	return n - 1, nil
}

// CellName returns the A1 name of a zero-based cell, such as "B3" for row 2,
// column 1.
func CellName(row, col int) string {
	return ColumnName(col) + strconv.Itoa(row+1)
}

// QuoteSheetName returns a sheet title ready to put before "!" in a range:
// unchanged when it is a plain identifier that cannot be read as a cell or
// range ("Sheet1", "all_apis"), otherwise wrapped in single quotes with any
// apostrophe doubled:
//
//	'Jon''s Data'   'A1'   'tab01'   'My Sheet'
func QuoteSheetName(title string) string {
	if !needsQuotes(title) {
		return title
	}
	return "'" + strings.ReplaceAll(title, "'", "''") + "'"
}

func needsQuotes(title string) bool {
	if title == "" || isDigit(title[0]) {
		return true
	}
	for i := 0; i < len(title); i++ {
		c := title[i]
		if !isLetter(c) && !isDigit(c) && c != '_' {
			return true
		}
	}
	if _, isRange := parseCells(title); isRange {
		return true
	}
	// Google also quotes names like "tab01" that read as a cell once
	// leading zeros are ignored.
	letters := 0
	for letters < len(title) && isLetter(title[letters]) {
		letters++
	}
	if letters == 0 || letters > 3 || letters == len(title) {
		return false
	}
	for i := letters; i < len(title); i++ {
		if !isDigit(title[i]) {
			return false
		}
	}
	return true
}

// FormatA1 writes r in A1 notation, quoting the sheet title when needed.
// Bounded ranges come out as "A1:B2" or, for one cell, "A1"; open ones as
// "A:B", "1:2", "A5:B" or "B5:10"; a whole sheet as just its title.
func FormatA1(r A1Range) string {
	cells := formatCells(r)
	if r.Sheet == "" {
		return cells
	}
	if cells == "" {
		return QuoteSheetName(r.Sheet)
	}
	return QuoteSheetName(r.Sheet) + "!" + cells
}

func formatCells(r A1Range) string {
	rowsOpen := r.EndRow == Unbounded
	colsOpen := r.EndCol == Unbounded
	switch {
	case rowsOpen && colsOpen:
		if r.StartRow == 0 && r.StartCol == 0 {
			return ""
		}
		return CellName(r.StartRow, r.StartCol) + ":" + ColumnName(MaxColumns-1)
	case rowsOpen && r.StartRow == 0:
		return ColumnName(r.StartCol) + ":" + ColumnName(r.EndCol-1)
	case rowsOpen:
		return CellName(r.StartRow, r.StartCol) + ":" + ColumnName(r.EndCol-1)
	case colsOpen && r.StartCol == 0:
		return strconv.Itoa(r.StartRow+1) + ":" + strconv.Itoa(r.EndRow)
	case colsOpen:
		return CellName(r.StartRow, r.StartCol) + ":" + strconv.Itoa(r.EndRow)
	case r.SingleCell():
		return CellName(r.StartRow, r.StartCol)
	}
	return CellName(r.StartRow, r.StartCol) + ":" + CellName(r.EndRow-1, r.EndCol-1)
}
