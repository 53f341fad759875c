package sheets

import (
	"fmt"
	"strings"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/mapping"
)

// layout says where a mapping's columns are in a tab. Columns are
// zero-based sheet columns.
type layout struct {
	// cols holds the sheet column of each mapped column, in mapping order.
	cols []int
	// key is the sheet column of the key header.
	key int
	// first is the leftmost header cell: appends are anchored there, so
	// that Sheets' table detection starts the rows in that column.
	first int
	// last is the rightmost mapped column.
	last int
}

// normHeader is how headers are compared: without surrounding spaces and
// without regard to case, as mapping files define them.
func normHeader(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// matchHeaders finds each mapped header in a tab's header row by name.
// Columns may be in any order and the tab may hold other columns, which
// are left alone. A mapped header that is missing or appears twice is an
// error naming the header and the fix; with appendMissing set, missing
// headers are placed after the last header cell instead, and returned so
// that the caller writes them. row must hold at least one non-empty cell.
func matchHeaders(tab string, row []string, spec *mapping.SheetSpec, appendMissing bool) (layout, []string, error) {
	at := map[string][]int{}
	first, lastCell := -1, -1
	for i, h := range row {
		n := normHeader(h)
		if n == "" {
			continue
		}
		if first < 0 {
			first = i
		}
		lastCell = i
		at[n] = append(at[n], i)
	}
	lay := layout{cols: make([]int, len(spec.Headers)), first: first, key: -1}
	var missing, added []string
	used := map[int]bool{}
	next := lastCell + 1
	for i, h := range spec.Headers {
		cols := at[normHeader(h)]
		switch {
		case len(cols) > 1:
			names := make([]string, len(cols))
			for j, c := range cols {
				names[j] = columnName(c)
			}
			return layout{}, nil, fmt.Errorf("tab %q has column %q more than once in row 1 (columns %s); rename or delete all but one so that no row goes to the wrong column",
				tab, h, strings.Join(names, " and "))
		case len(cols) == 1:
			lay.cols[i] = cols[0]
			used[cols[0]] = true
		case appendMissing:
			lay.cols[i] = next
			next++
			added = append(added, h)
		default:
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		return layout{}, nil, missingError(tab, row, missing, used)
	}
	if next > MaxColumns {
		return layout{}, nil, fmt.Errorf("tab %q would need %d columns to add %s, more than a sheet holds (%d)", tab, next, quoteList(added), MaxColumns)
	}
	lay.last = lay.first
	for i, c := range lay.cols {
		lay.last = max(lay.last, c)
		if spec.Headers[i] == spec.KeyHeader {
			lay.key = c
		}
	}
	return lay, added, nil
}

// missingError explains missing headers, suggesting the unmatched header a
// missing one was probably renamed to.
func missingError(tab string, row []string, missing []string, used map[int]bool) error {
	var unmatched []string
	for i, h := range row {
		if strings.TrimSpace(h) != "" && !used[i] {
			unmatched = append(unmatched, strings.TrimSpace(h))
		}
	}
	noun, pron := "column", "it"
	if len(missing) > 1 {
		noun, pron = "columns", "them"
	}
	msg := fmt.Sprintf("tab %q has no %s %s in row 1; add %s back or set append_missing_headers: true", tab, noun, quoteList(missing), pron)
	for _, h := range missing {
		if s := config.Suggest(h, unmatched); s != "" {
			msg += fmt.Sprintf(" (was %q renamed to %q? rename it back, or change the mapping)", h, s)
			break
		}
	}
	return fmt.Errorf("%s", msg)
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// freshLayout is the layout of an empty tab: the mapping's headers from
// column A, in file order.
func freshLayout(spec *mapping.SheetSpec) layout {
	lay := layout{cols: make([]int, len(spec.Headers)), last: len(spec.Headers) - 1}
	for i, h := range spec.Headers {
		lay.cols[i] = i
		if h == spec.KeyHeader {
			lay.key = i
		}
	}
	return lay
}

// rowValues aligns a rendered row to the layout: the value of each mapped
// column at its sheet column, counted from lay.first; cells of other
// columns are null, so that nothing written there by people is touched.
// Trailing nulls are left out.
func (lay layout) rowValues(row *mapping.Row, spec *mapping.SheetSpec, e encoder, clear bool) ([]any, error) {
	out := make([]any, lay.last-lay.first+1)
	end := 0
	for i, c := range row.Cells {
		if i >= len(lay.cols) {
			break
		}
		// The key column is always written as text, so that a key such as
		// 0012 reads back as it was sent and reconciliation finds it.
		userEntered := spec.Columns[i].UserEntered && lay.cols[i] != lay.key
		v, err := e.value(c.Value, userEntered, clear)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.Header, err)
		}
		pos := lay.cols[i] - lay.first
		out[pos] = v
		if v != nil {
			end = max(end, pos+1)
		}
	}
	return out[:end], nil
}
