package sheets

import (
	"fmt"
	"strconv"
	"strings"
)

// quoteTitle quotes a tab title for A1 notation, always, doubling any
// apostrophe: a title such as A1 or Jon's is never read as something else.
func quoteTitle(title string) string {
	return "'" + strings.ReplaceAll(title, "'", "''") + "'"
}

// columnName returns the letters of a zero-based column index (0 → A,
// 26 → AA).
func columnName(col int) string {
	var b []byte
	for n := col + 1; n > 0; n = (n - 1) / 26 {
		b = append(b, byte('A'+(n-1)%26))
	}
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// columnIndex returns the zero-based index of column letters, or -1.
func columnIndex(letters string) int {
	if letters == "" || len(letters) > 3 {
		return -1
	}
	n := 0
	for _, c := range letters {
		if c < 'A' || c > 'Z' {
			return -1
		}
		n = n*26 + int(c-'A'+1)
	}
	return n - 1
}

// cellRange returns 'Title'!B3:F3 style ranges; rows are 1-based, columns
// zero-based, and an end row of 0 leaves the rows open (B3:F).
func cellRange(title string, c0, r0, c1, r1 int) string {
	end := columnName(c1)
	if r1 > 0 {
		end += strconv.Itoa(r1)
	}
	return fmt.Sprintf("%s!%s%d:%s", quoteTitle(title), columnName(c0), r0, end)
}

// gridRange is a parsed A1 range as the API returns it: 'Tab'!B3:F7.
// Rows are 1-based, columns zero-based.
type gridRange struct {
	title        string
	startCol     int
	startRow     int
	endCol       int
	endRow       int
	singleColumn bool
}

// parseRange reads a bounded A1 range with a sheet name, such as the
// updatedRange of an append. It accepts a single cell too.
func parseRange(s string) (gridRange, error) {
	bang := strings.LastIndexByte(s, '!')
	if bang < 0 {
		return gridRange{}, fmt.Errorf("range %q has no sheet name", s)
	}
	g := gridRange{title: s[:bang]}
	if strings.HasPrefix(g.title, "'") && strings.HasSuffix(g.title, "'") && len(g.title) >= 2 {
		g.title = strings.ReplaceAll(g.title[1:len(g.title)-1], "''", "'")
	}
	from, to, isRange := strings.Cut(s[bang+1:], ":")
	var err error
	if g.startCol, g.startRow, err = parseCell(from); err != nil {
		return gridRange{}, fmt.Errorf("range %q: %w", s, err)
	}
	g.endCol, g.endRow = g.startCol, g.startRow
	if isRange {
		if g.endCol, g.endRow, err = parseCell(to); err != nil {
			return gridRange{}, fmt.Errorf("range %q: %w", s, err)
		}
	}
	return g, nil
}

// parseCell reads a cell reference such as AB12.
func parseCell(s string) (col, row int, err error) {
	i := 0
	for i < len(s) && s[i] >= 'A' && s[i] <= 'Z' {
		i++
	}
	col = columnIndex(s[:i])
	row, rerr := strconv.Atoi(s[i:])
	if col < 0 || rerr != nil || row < 1 {
		return 0, 0, fmt.Errorf("%q is not a cell such as B3", s)
	}
	return col, row, nil
}
