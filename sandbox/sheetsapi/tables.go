package sheetsapi

import (
	"fmt"

	"github.com/surveysync/surveysync/sandbox/view"
)

// FormulaMark prefixes formula cells in Tables, so the page shows which
// cells would be computed by Sheets: "ƒ =SUM(A1:A3)".
const FormulaMark = "ƒ "

// Tables implements view.Source: one table per tab, row 1 as the header and
// the other rows as data, values as FORMATTED_VALUE shows them. Long tabs
// show only their last Options.ViewRowLimit rows, which the note says.
func (s *Server) Tables() []view.Table {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []view.Table
	for _, id := range s.order {
		ss := s.books[id]
		group := fmt.Sprintf("Google Sheets · %s (%s)", ss.title, ss.id)
		for _, sh := range ss.sheets {
			out = append(out, s.tabTable(group, sh))
		}
	}
	return out
}

func (s *Server) tabTable(group string, sh *sheet) view.Table {
	t := view.Table{Group: group, Name: sh.title}
	width := sh.dataWidth()
	display := func(row int) []string {
		out := make([]string, width)
		for col := range width {
			c := sh.at(row, col)
			out[col] = c.formatted(sh.cellFormat(row, col, c))
			if c.kind == kindFormula {
				out[col] = FormulaMark + c.s
			}
		}
		return out
	}
	dataRows := len(sh.rows)
	if dataRows > 0 {
		t.Header = display(0)
	}
	first := 1
	if limit := s.opts.ViewRowLimit; limit > 0 && dataRows-1 > limit {
		first = dataRows - limit
	}
	for row := first; row < dataRows; row++ {
		t.Rows = append(t.Rows, display(row))
	}
	t.Note = fmt.Sprintf("sheetId %d · grid %d×%d · %d data rows", sh.id, sh.rowCount, sh.colCount, max(dataRows-1, 0))
	if first > 1 {
		t.Note += fmt.Sprintf(" · showing the last %d", dataRows-first)
	}
	if sh.hidden {
		t.Note += " · hidden"
	}
	if n := countFormulas(sh); n > 0 {
		t.Note += fmt.Sprintf(" · %d formula cells marked %q", n, FormulaMark)
	}
	return t
}

func countFormulas(sh *sheet) int {
	n := 0
	for _, r := range sh.rows {
		for _, c := range r {
			if c.kind == kindFormula {
				n++
			}
		}
	}
	return n
}
