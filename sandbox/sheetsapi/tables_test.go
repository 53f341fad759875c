package sheetsapi

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/sandbox/view"
)

var _ view.Source = (*Server)(nil)

func TestTables(t *testing.T) {
	t.Parallel()
	s := New(Options{Seed: 3, ViewRowLimit: 2})
	t.Cleanup(func() { s.Close() })
	if err := s.CreateSpreadsheetWithID("sheet-1", "Survey responses", "Responses", "Empty"); err != nil {
		t.Fatal(err)
	}
	rows := [][]any{{"key", "rating", "total"}, {"r1", 5, "=SUM(B2:B3)"}, {"r2", true}, {"r3", 2.5, "'=not a formula"}}
	for i, r := range rows {
		if err := s.SetRow("sheet-1", "Responses", i, r); err != nil {
			t.Fatal(err)
		}
	}
	got := s.Tables()
	if len(got) != 2 {
		t.Fatalf("Tables() = %d tables, want 2", len(got))
	}
	want := view.Table{
		Group:  "Google Sheets · Survey responses (sheet-1)",
		Name:   "Responses",
		Header: []string{"key", "rating", "total"},
		Rows:   [][]string{{"r2", "TRUE", ""}, {"r3", "2.5", "=not a formula"}},
	}
	note := got[0].Note
	got[0].Note = ""
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("Responses table (-want +got):\n%s", diff)
	}
	for _, part := range []string{"grid 1000×26", "3 data rows", "showing the last 2", "1 formula cells"} {
		if !strings.Contains(note, part) {
			t.Errorf("note %q lacks %q", note, part)
		}
	}
	// With no row limit the formula row shows, marked.
	s2 := New(Options{ViewRowLimit: -1})
	if err := s2.CreateSpreadsheetWithID("x", "X", "T"); err != nil {
		t.Fatal(err)
	}
	_ = s2.SetRow("x", "T", 0, []any{"h"})
	_ = s2.SetRow("x", "T", 1, []any{"=A1"})
	if tb := s2.Tables()[0]; len(tb.Rows) != 1 || tb.Rows[0][0] != FormulaMark+"=A1" {
		t.Errorf("formula row = %v", tb.Rows)
	}
	if empty := got[1]; empty.Name != "Empty" || empty.Header != nil || empty.Rows != nil {
		t.Errorf("empty tab = %+v", empty)
	}
}
