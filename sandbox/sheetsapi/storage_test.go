package sheetsapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Rows are stored as slices that shrink in place (row[:n]), so their
// backing arrays may still hold the cells that were cut off. These tests
// shrink rows and the grid in every way the emulator does and then grow
// them again: a cell that was emptied or dropped must never come back.

func TestSetRowEmptiesCellsInTheMiddle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		before []any
		after  []any
		want   [][]any
	}{
		{"empty string", []any{"Response ID", "Submitted", "Rating", "Promoter", "Comment"},
			[]any{"Response ID", "Submitted", "", "Promoter", "Comment"},
			[][]any{{"Response ID", "Submitted", "", "Promoter", "Comment"}}},
		{"nil", []any{"a", "b", "c", "d"}, []any{"a", nil, nil, "d"}, [][]any{{"a", "", "", "d"}}},
		{"shorter row", []any{"a", "b", "c", "d"}, []any{"", "b"}, [][]any{{"", "b"}}},
		{"every cell", []any{"a", "b", "c"}, []any{"", nil, ""}, nil},
		{"swap", []any{"a", "b", "c"}, []any{"c", "b", "a"}, [][]any{{"c", "b", "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := New(Options{})
			id := srv.CreateSpreadsheet("S", "Tab")
			if err := srv.SetRow(id, "Tab", 0, tt.before); err != nil {
				t.Fatal(err)
			}
			if err := srv.SetRow(id, "Tab", 0, tt.after); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, srv.Values(id, "Tab")); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSetRowThenAPIWritesPastTheRow writes through the API past a row that
// SetRow shortened, which grows the stored row again.
func TestSetRowThenAPIWritesPastTheRow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Tab")
	e.seed(t, id, "Tab!A1", [][]any{{"a", "b", "c", "d", "e"}})
	if err := e.srv.SetRow(id, "Tab", 0, []any{"x"}); err != nil {
		t.Fatal(err)
	}
	e.seed(t, id, "Tab!F1", [][]any{{"f"}})
	want := [][]any{{"x", "", "", "", "", "f"}}
	if diff := cmp.Diff(want, e.srv.Values(id, "Tab")); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}

// TestGridShrinkThenGrowDropsData shrinks the grid through
// updateSheetProperties (dropping the data outside it, as Sheets does),
// grows it again and writes beyond the old data.
func TestGridShrinkThenGrowDropsData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Tab")
	rows := make([][]any, 10)
	for i := range rows {
		rows[i] = []any{i, "b", "c", "d", "e"}
	}
	e.seed(t, id, "Tab!A1", rows)
	if err := e.srv.SetGridSize(id, "Tab", 5, 2); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.SetGridSize(id, "Tab", 20, 26); err != nil {
		t.Fatal(err)
	}
	e.seed(t, id, "Tab!A15", [][]any{{"new"}})
	e.seed(t, id, "Tab!F1", [][]any{{"f"}})
	want := [][]any{
		{0.0, "b", "", "", "", "f"}, {1.0, "b"}, {2.0, "b"}, {3.0, "b"}, {4.0, "b"},
		{}, {}, {}, {}, {}, {}, {}, {}, {}, {"new"},
	}
	if diff := cmp.Diff(want, e.srv.Values(id, "Tab")); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}

// TestClearThenWritePastTheClearedCells clears the end of a row (which
// trims it) and then writes past it.
func TestClearThenWritePastTheClearedCells(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Tab")
	e.seed(t, id, "Tab!A1", [][]any{{"a", "b", "c", "d"}, {"a2", "b2", "c2", "d2"}})
	if _, err := e.svc.Spreadsheets.Values.Clear(id, "Tab!B1:D2", nil).Context(e.ctx).Do(); err != nil {
		t.Fatal(err)
	}
	e.seed(t, id, "Tab!E1", [][]any{{"e"}})
	if err := e.srv.DeleteRows(id, "Tab", 1, 1); err != nil {
		t.Fatal(err)
	}
	e.seed(t, id, "Tab!C3", [][]any{{"c3"}})
	want := [][]any{{"a", "", "", "", "e"}, {}, {"", "", "c3"}}
	if diff := cmp.Diff(want, e.srv.Values(id, "Tab")); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}
