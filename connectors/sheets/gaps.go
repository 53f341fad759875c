package sheets

import (
	"context"
	"fmt"
	"strconv"

	"github.com/surveysync/surveysync/connectors"
)

// An append finds its place by Google's table detection: from the header
// row down to the first empty row. An empty row above the rows surveysync
// wrote (someone cleared a row instead of deleting it) would put the next
// rows right there, in the middle of the tab. Before a tab's first append in
// this process, and again whenever an append shows it happened, the key
// column is read to find rows without a key, and those rows are read whole:
// an empty one pauses the sync with its row number until it is deleted.

// maxGapRanges bounds the ranges of one read of keyless rows; beyond it the
// rows from the first keyless one to the end are read as one range.
const maxGapRanges = 50

// checkGaps reads the key column of st and the rows without a key, records
// where the tab's data ends, and pauses the sync if a row above that end is
// empty. It returns the key column from row 2, which a reconcile in the
// same batch reads instead of reading it again.
func (d *Destination) checkGaps(ctx context.Context, st *tabState, keyCol int) ([]any, error) {
	col, err := d.keyColumn(ctx, st, keyCol, 2)
	if err != nil {
		return nil, err
	}
	end := 1 + len(col) // the header, then the key cells up to the last one
	st.lastEnd = end
	var runs [][2]int // keyless rows, [first, last]
	for i, v := range col {
		if cellText(v) != "" {
			continue
		}
		row := 2 + i
		if n := len(runs); n > 0 && runs[n-1][1] == row-1 {
			runs[n-1][1] = row
		} else {
			runs = append(runs, [2]int{row, row})
		}
	}
	if len(runs) == 0 {
		st.gapsChecked = true
		return col, nil
	}
	if len(runs) > maxGapRanges {
		runs = [][2]int{{runs[0][0], end}}
	}
	ranges := make([]string, len(runs))
	for i, r := range runs {
		ranges[i] = quoteTitle(st.title) + "!" + strconv.Itoa(r[0]) + ":" + strconv.Itoa(r[1])
	}
	got, err := d.svc.Spreadsheets.Values.BatchGet(d.id).Ranges(ranges...).
		MajorDimension("ROWS").ValueRenderOption("UNFORMATTED_VALUE").
		Context(ctx).Do()
	if err != nil {
		return nil, d.classify(err, callRead, fmt.Sprintf("reading the rows without a key in tab %q", st.title))
	}
	if len(got.ValueRanges) != len(runs) {
		return nil, connectors.Transient(fmt.Errorf("reading the rows without a key in tab %q: Google answered %d ranges for %d", st.title, len(got.ValueRanges), len(runs)))
	}
	for i, vr := range got.ValueRanges {
		first, last := runs[i][0], runs[i][1]
		for row := first; row <= last; row++ {
			k := row - first
			if k < len(vr.Values) && !blankRow(vr.Values[k]) {
				continue
			}
			if row >= end {
				break
			}
			return nil, connectors.Pausedf("row %d of tab %q is empty, above rows surveysync wrote (the last key is in row %d): Google appends below the first empty row, so new rows would land in the middle of the tab. Delete the empty row (right-click, Delete row), or fill it, and delivery resumes",
				row, st.title, end)
		}
	}
	st.gapsChecked = true
	return col, nil
}

// blankRow reports whether a row read from the API holds no value.
func blankRow(cells []any) bool {
	for _, c := range cells {
		if cellText(c) != "" {
			return false
		}
	}
	return true
}

// keyColumn reads the key column of st from row from to its last value:
// one read.
func (d *Destination) keyColumn(ctx context.Context, st *tabState, keyCol, from int) ([]any, error) {
	vr, err := d.svc.Spreadsheets.Values.Get(d.id, cellRange(st.title, keyCol, from, keyCol, 0)).
		MajorDimension("COLUMNS").ValueRenderOption("UNFORMATTED_VALUE").
		Context(ctx).Do()
	if err != nil {
		return nil, d.classify(err, callRead, fmt.Sprintf("reading the key column of tab %q", st.title))
	}
	if len(vr.Values) == 0 {
		return nil, nil
	}
	return vr.Values[0], nil
}
