package sheetsapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/sheets/v4"
)

// TestAppendTableDetection pins down the emulator's model of how
// values.append finds the table (see values_append.go).
func TestAppendTableDetection(t *testing.T) {
	t.Parallel()
	type step struct {
		rng, insert string
		values      [][]any
		table, upd  string
	}
	tests := []struct {
		name  string
		setup [][]any // rows set by hand, from row 1; nil rows stay empty
		steps []step
		want  [][]any
	}{
		{
			name:  "key column range covers the whole table",
			setup: [][]any{{"k", "a", "b"}, {"r1", 1, 2}},
			steps: []step{{"T!A:A", "INSERT_ROWS", [][]any{{"r2", 3, 4}}, "T!A1:C2", "T!A3:C3"}},
			want:  [][]any{{"k", "a", "b"}, {"r1", 1.0, 2.0}, {"r2", 3.0, 4.0}},
		},
		{
			name:  "a middle column finds the table's first column",
			setup: [][]any{{"k", "a", "b"}, {"r1", 1, 2}},
			steps: []step{{"T!B:B", "INSERT_ROWS", [][]any{{"r2"}}, "T!A1:C2", "T!A3"}},
			want:  [][]any{{"k", "a", "b"}, {"r1", 1.0, 2.0}, {"r2"}},
		},
		{
			name:  "a table beyond an empty column is separate",
			setup: [][]any{{"a", "b", nil, "x", "y"}, {"a", "b", nil, "x", "y"}, {nil, nil, nil, "x", "y"}},
			steps: []step{
				{"T!D:D", "INSERT_ROWS", [][]any{{"x4"}}, "T!D1:E3", "T!D4"},
				{"T!A:A", "OVERWRITE", [][]any{{"a3"}}, "T!A1:B2", "T!A3"},
			},
			want: [][]any{{"a", "b", "", "x", "y"}, {"a", "b", "", "x", "y"}, {"a3", "", "", "x", "y"}, {"", "", "", "x4"}},
		},
		{
			name:  "a blank row ends the table and INSERT_ROWS shifts what is below",
			setup: [][]any{{"k"}, {"r1"}, nil, {"note"}},
			steps: []step{
				{"T!A1", "INSERT_ROWS", [][]any{{"r2"}}, "T!A1:A2", "T!A3"},
				{"T!A1", "INSERT_ROWS", [][]any{{"r3"}}, "T!A1:A3", "T!A4"},
			},
			want: [][]any{{"k"}, {"r1"}, {"r2"}, {"r3"}, {}, {"note"}},
		},
		{
			name:  "OVERWRITE fills the blank row and joins the table below",
			setup: [][]any{{"k"}, {"r1"}, nil, {"note"}, {"more"}},
			steps: []step{
				{"T!A1", "OVERWRITE", [][]any{{"r2"}}, "T!A1:A2", "T!A3"},
				{"T!A1", "OVERWRITE", [][]any{{"r3"}}, "T!A1:A5", "T!A6"},
			},
			want: [][]any{{"k"}, {"r1"}, {"r2"}, {"note"}, {"more"}, {"r3"}},
		},
		{
			name:  "leading blank rows are skipped",
			setup: [][]any{nil, nil, {nil, "k"}, {nil, "r1"}},
			steps: []step{{"T", "INSERT_ROWS", [][]any{{"r2"}}, "T!B3:B4", "T!B5"}},
			want:  [][]any{{}, {}, {"", "k"}, {"", "r1"}, {"", "r2"}},
		},
		{
			name:  "the table runs past a bounded search range",
			setup: [][]any{{"k"}, {"r1"}, {"r2"}, {"r3"}},
			steps: []step{{"T!A1:B2", "INSERT_ROWS", [][]any{{"r4"}}, "T!A1:A4", "T!A5"}},
			want:  [][]any{{"k"}, {"r1"}, {"r2"}, {"r3"}, {"r4"}},
		},
		{
			name: "no table: write at the range's corner",
			steps: []step{
				{"T!C5", "INSERT_ROWS", [][]any{{"x", "y"}}, "", "T!C5:D5"},
				{"T!C5", "INSERT_ROWS", [][]any{{"z"}}, "T!C5:D5", "T!C6"},
			},
			want: [][]any{{}, {}, {}, {}, {"", "", "x", "y"}, {"", "", "z"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Options{})
			id := e.srv.CreateSpreadsheet("S", "T")
			for i, row := range tt.setup {
				if row != nil {
					if err := e.srv.SetRow(id, "T", i, row); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, st := range tt.steps {
				resp, err := e.svc.Spreadsheets.Values.Append(id, st.rng, &sheets.ValueRange{Values: st.values}).
					ValueInputOption("USER_ENTERED").InsertDataOption(st.insert).Context(e.ctx).Do()
				if err != nil {
					t.Fatalf("append %v to %s: %v", st.values, st.rng, err)
				}
				if resp.TableRange != st.table || resp.Updates.UpdatedRange != st.upd {
					t.Errorf("append %v to %s: tableRange %q updatedRange %q, want %q %q", st.values, st.rng, resp.TableRange, resp.Updates.UpdatedRange, st.table, st.upd)
				}
			}
			if diff := cmp.Diff(tt.want, e.srv.Values(id, "T")); diff != "" {
				t.Errorf("sheet (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAppendSeesOtherChanges checks that the remembered table end is
// dropped when anything else changes the sheet.
func TestAppendSeesOtherChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "T")
	app := func(v string) string {
		t.Helper()
		resp, err := e.svc.Spreadsheets.Values.Append(id, "T!A:A", &sheets.ValueRange{Values: [][]any{{v}}}).
			ValueInputOption("RAW").InsertDataOption("INSERT_ROWS").Context(e.ctx).Do()
		if err != nil {
			t.Fatal(err)
		}
		return resp.Updates.UpdatedRange
	}
	app("k")
	app("r1")
	// A person types into the row right after the table.
	if err := e.srv.SetRow(id, "T", 2, []any{"typed"}); err != nil {
		t.Fatal(err)
	}
	if got := app("r2"); got != "T!A4" {
		t.Errorf("after a hand-typed row: %s, want T!A4", got)
	}
	// Someone clears the last two rows.
	if _, err := e.svc.Spreadsheets.Values.Clear(id, "T!A3:A4", &sheets.ClearValuesRequest{}).Context(e.ctx).Do(); err != nil {
		t.Fatal(err)
	}
	if got := app("r3"); got != "T!A3" {
		t.Errorf("after clearing: %s, want T!A3", got)
	}
	// Someone deletes the header row.
	if err := e.srv.DeleteRows(id, "T", 0, 1); err != nil {
		t.Fatal(err)
	}
	if got := app("r4"); got != "T!A3" {
		t.Errorf("after deleting a row: %s, want T!A3", got)
	}
	if diff := cmp.Diff([][]any{{"r1"}, {"r3"}, {"r4"}}, e.srv.Values(id, "T")); diff != "" {
		t.Errorf("sheet (-want +got):\n%s", diff)
	}
}

func TestAppendColumnsMajor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "T")
	e.seed(t, id, "T!A1", [][]any{{"k", "v"}})
	resp, err := e.svc.Spreadsheets.Values.Append(id, "T!A1", &sheets.ValueRange{MajorDimension: "COLUMNS", Values: [][]any{{"r1", "r2"}, {1, 2}}}).
		ValueInputOption("RAW").InsertDataOption("INSERT_ROWS").Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Updates.UpdatedRange != "T!A2:B3" || resp.Updates.UpdatedRows != 2 || resp.Updates.UpdatedColumns != 2 {
		t.Errorf("updates = %+v", resp.Updates)
	}
	if diff := cmp.Diff([][]any{{"k", "v"}, {"r1", 1.0}, {"r2", 2.0}}, e.srv.Values(id, "T")); diff != "" {
		t.Errorf("sheet (-want +got):\n%s", diff)
	}
}
