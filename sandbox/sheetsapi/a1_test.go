package sheetsapi

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const U = Unbounded

func TestParseA1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want A1Range
	}{
		{"Sheet1!A1:B2", A1Range{"Sheet1", 0, 0, 2, 2}},
		{"Sheet1!A1", A1Range{"Sheet1", 0, 0, 1, 1}},
		{"Sheet1!A:A", A1Range{"Sheet1", 0, 0, U, 1}},
		{"Sheet1!A:Z", A1Range{"Sheet1", 0, 0, U, 26}},
		{"Sheet1!1:2", A1Range{"Sheet1", 0, 0, 2, U}},
		{"Sheet1!A5:A", A1Range{"Sheet1", 4, 0, U, 1}},
		{"Sheet1!B5:10", A1Range{"Sheet1", 4, 1, 10, U}},
		{"Sheet1!A:B5", A1Range{"Sheet1", 0, 0, 5, 2}},
		{"Sheet1!B2:A1", A1Range{"Sheet1", 0, 0, 2, 2}},
		{"Sheet1!a1:b2", A1Range{"Sheet1", 0, 0, 2, 2}},
		{"Sheet1!AA10:ZZZ20", A1Range{"Sheet1", 9, 26, 20, MaxColumns}},
		{"Sheet1!R1C1:R2C3", A1Range{"Sheet1", 0, 0, 2, 3}},
		{"Sheet1!R5C2", A1Range{"Sheet1", 4, 1, 5, 2}},
		{"Sheet1", A1Range{"Sheet1", 0, 0, U, U}},
		{"Responses 2024", A1Range{"Responses 2024", 0, 0, U, U}},
		{"A1:B2", A1Range{"", 0, 0, 2, 2}},
		{"A1", A1Range{"", 0, 0, 1, 1}},
		{"A:Z", A1Range{"", 0, 0, U, 26}},
		{"1:2", A1Range{"", 0, 0, 2, U}},
		{"R1", A1Range{"", 0, 17, 1, 18}},
		{"ABC", A1Range{"ABC", 0, 0, U, U}},
		{"2024", A1Range{"2024", 0, 0, U, U}},
		{"'My Custom Sheet'!A:A", A1Range{"My Custom Sheet", 0, 0, U, 1}},
		{"'My Custom Sheet'", A1Range{"My Custom Sheet", 0, 0, U, U}},
		{"'Jon''s Data'!A1:Z1000", A1Range{"Jon's Data", 0, 0, 1000, 26}},
		{"'Jon's_Data'!A1:D5", A1Range{"Jon's_Data", 0, 0, 5, 4}},
		{"'A1'", A1Range{"A1", 0, 0, U, U}},
		{"'A1'!B2", A1Range{"A1", 1, 1, 2, 2}},
		{"query!CRM26", A1Range{"query", 25, 2508, 26, 2509}},
		{"a!b!C3", A1Range{"a!b", 2, 2, 3, 3}},
		{"'it''s!'!A1", A1Range{"it's!", 0, 0, 1, 1}},
		{"Ответы!A1", A1Range{"Ответы", 0, 0, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseA1(tt.in)
			if err != nil {
				t.Fatalf("ParseA1(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseA1(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseA1Errors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "Sheet1!", "!A1", "Sheet1!A", "Sheet1!5", "Sheet1!A0", "Sheet1!A1:", "Sheet1!:A1",
		"Sheet1!A:5", "Sheet1!A1:B2:C3", "'unterminated", "''", "'Sheet1'x", "Sheet1!AAAA1",
		"Sheet1!A01", "Sheet1!A-1", "Sheet1!A1 ", "Sheet1!R0C1",
	} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseA1(in)
			if !errors.Is(err, ErrInvalidA1) {
				t.Errorf("ParseA1(%q) = %+v, %v; want ErrInvalidA1", in, got, err)
			}
		})
	}
}

func TestFormatA1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   A1Range
		want string
	}{
		{A1Range{"Sheet1", 0, 0, 2, 2}, "Sheet1!A1:B2"},
		{A1Range{"Sheet1", 42, 0, 43, 5}, "Sheet1!A43:E43"},
		{A1Range{"Sheet1", 0, 0, 1, 1}, "Sheet1!A1"},
		{A1Range{"Sheet1", 0, 0, U, 1}, "Sheet1!A:A"},
		{A1Range{"Sheet1", 0, 0, 2, U}, "Sheet1!1:2"},
		{A1Range{"Sheet1", 4, 0, U, 1}, "Sheet1!A5:A"},
		{A1Range{"Sheet1", 0, 0, U, U}, "Sheet1"},
		{A1Range{"Jon's Data", 0, 0, 1000, 26}, "'Jon''s Data'!A1:Z1000"},
		{A1Range{"Lighthouse Results", 1000, 0, 1001, 1}, "'Lighthouse Results'!A1001"},
		{A1Range{"tab01", 0, 0, 1, 1}, "'tab01'!A1"},
		{A1Range{"A1", 0, 0, 1, 1}, "'A1'!A1"},
		{A1Range{"R1C1", 0, 0, 1, 1}, "'R1C1'!A1"},
		{A1Range{"all_apis", 2319, 0, 12320, 26}, "all_apis!A2320:Z12320"},
		{A1Range{"2024", 0, 0, 1, 1}, "'2024'!A1"},
		{A1Range{"", 0, 0, 2, 2}, "A1:B2"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := FormatA1(tt.in); got != tt.want {
				t.Errorf("FormatA1(%+v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestColumnNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		index int
		name  string
	}{{0, "A"}, {25, "Z"}, {26, "AA"}, {51, "AZ"}, {52, "BA"}, {701, "ZZ"}, {702, "AAA"}, {MaxColumns - 1, "ZZZ"}}
	for _, tt := range tests {
		if got := ColumnName(tt.index); got != tt.name {
			t.Errorf("ColumnName(%d) = %q, want %q", tt.index, got, tt.name)
		}
		if got, err := ColumnIndex(tt.name); err != nil || got != tt.index {
			t.Errorf("ColumnIndex(%q) = %d, %v; want %d", tt.name, got, err, tt.index)
		}
	}
	for i := range MaxColumns {
		if got, err := ColumnIndex(ColumnName(i)); err != nil || got != i {
			t.Fatalf("ColumnIndex(ColumnName(%d)) = %d, %v", i, got, err)
		}
	}
	if ColumnName(-1) != "" {
		t.Error("ColumnName(-1) should be empty")
	}
	for _, bad := range []string{"", "AAAA", "A1", "Ä"} {
		if _, err := ColumnIndex(bad); err == nil {
			t.Errorf("ColumnIndex(%q) should fail", bad)
		}
	}
}

// FuzzParseA1 checks that ParseA1 never panics, that what it accepts is
// well formed, and that formatting a parsed range and parsing it again
// gives the same range.
func FuzzParseA1(f *testing.F) {
	for _, s := range []string{
		"Sheet1!A1:B2", "Sheet1!A:A", "Sheet1!1:2", "Sheet1!A5:A", "A1", "'Jon''s Data'!A1:Z1000",
		"'Jon's_Data'!A1:D5", "'A1'", "R1C1:R2C2", "a!b!C3", "Sheet1", "B5:10", "A:B5", "''''!A1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseA1(s)
		if err != nil {
			return
		}
		if r.StartRow < 0 || r.StartCol < 0 || (r.EndRow != Unbounded && r.EndRow <= r.StartRow) || (r.EndCol != Unbounded && r.EndCol <= r.StartCol) {
			t.Fatalf("ParseA1(%q) = %+v: malformed", s, r)
		}
		if r.EndRow == Unbounded && r.EndCol == Unbounded && (r.StartRow != 0 || r.StartCol != 0) {
			t.Fatalf("ParseA1(%q) = %+v: both ends open but not a whole sheet", s, r)
		}
		if r.Sheet == "" && r.WholeSheet() {
			t.Fatalf("ParseA1(%q) = %+v: whole sheet without a name", s, r)
		}
		formatted := FormatA1(r)
		again, err := ParseA1(formatted)
		if err != nil {
			t.Fatalf("ParseA1(%q) = %+v formats as %q, which does not parse: %v", s, r, formatted, err)
		}
		if again != r {
			t.Fatalf("round trip of %q: %+v → %q → %+v", s, r, formatted, again)
		}
	})
}
