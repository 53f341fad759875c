package sheets_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/connectors/sheets"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// testMapping is the sheet mapping most tests use.
const testMapping = `sheet: Responses
key: Response ID
columns:
  Response ID: "{{ key }}"
  Submitted:   {value: "{{ submitted_at }}", type: datetime}
  Rating:      {value: "{{ rating }}", type: number}
  Promoter:    {value: "{{ promoter }}", type: bool, optional: true}
  Comment:     {value: "{{ comment }}", optional: true}
`

func mustMapping(t testing.TB, src string) *mapping.Mapping {
	t.Helper()
	m, err := mapping.Parse("mapping.yaml", []byte(src))
	if err != nil {
		t.Fatalf("mapping: %v", err)
	}
	return m
}

func TestMatchHeaders(t *testing.T) {
	t.Parallel()
	spec := mustMapping(t, testMapping).Sheet()
	tests := []struct {
		name      string
		row       []string
		appendMis bool
		want      sheets.Layout
		added     []string
		err       string
	}{
		{
			name: "same order",
			row:  []string{"Response ID", "Submitted", "Rating", "Promoter", "Comment"},
			want: sheets.Layout{Cols: []int{0, 1, 2, 3, 4}, Key: 0, First: 0, Last: 4},
		},
		{
			name: "any order, other columns, case and spaces",
			row:  []string{"Notes", "comment", " RATING ", "Owner", "Response ID", "Promoter", "", "submitted"},
			want: sheets.Layout{Cols: []int{4, 7, 2, 5, 1}, Key: 4, First: 0, Last: 7},
		},
		{
			name: "header starting in column C",
			row:  []string{"", "", "Response ID", "Submitted", "Rating", "Promoter", "Comment"},
			want: sheets.Layout{Cols: []int{2, 3, 4, 5, 6}, Key: 2, First: 2, Last: 6},
		},
		{
			name: "missing header",
			row:  []string{"Response ID", "Submitted", "Promoter", "Comment"},
			err:  `tab "T" has no column "Rating" in row 1; add it back or set append_missing_headers: true`,
		},
		{
			name: "renamed header",
			row:  []string{"Response ID", "Submitted", "Ratings", "Promoter", "Comment"},
			err:  `tab "T" has no column "Rating" in row 1; add it back or set append_missing_headers: true (was "Rating" renamed to "Ratings"? rename it back, or change the mapping)`,
		},
		{
			name: "two missing",
			row:  []string{"Response ID", "Submitted", "Promoter"},
			err:  `tab "T" has no columns "Rating", "Comment" in row 1; add them back`,
		},
		{
			name: "duplicated header",
			row:  []string{"Response ID", "Rating", "Submitted", "Promoter", "Comment", "rating"},
			err:  `tab "T" has column "Rating" more than once in row 1 (columns B and F)`,
		},
		{
			name:      "append missing",
			row:       []string{"Response ID", "Notes", "Rating", "", ""},
			appendMis: true,
			want:      sheets.Layout{Cols: []int{0, 3, 2, 4, 5}, Key: 0, First: 0, Last: 5},
			added:     []string{"Submitted", "Promoter", "Comment"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, added, err := sheets.MatchHeaders("T", tt.row, spec, tt.appendMis)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("layout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.added, added); diff != "" {
				t.Errorf("added (-want +got):\n%s", diff)
			}
		})
	}
}

func renderRow(t testing.TB, m *mapping.Mapping, key string, payload string) *mapping.Row {
	t.Helper()
	r := &survey.Response{Source: "s", Key: key, SubmittedAt: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), Payload: []byte(payload)}
	row, err := m.RenderRow(&mapping.Input{Response: r, Sync: "s"})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return &row
}

func TestRowAlignment(t *testing.T) {
	t.Parallel()
	m := mustMapping(t, testMapping)
	row := renderRow(t, m, "r1", `{"rating": 4, "promoter": true, "comment": "=1+2"}`)
	serial := 46143.5 // 2026-05-01 12:00
	tests := []struct {
		name   string
		header []string
		clear  bool
		want   []any
	}{
		{"file order", []string{"Response ID", "Submitted", "Rating", "Promoter", "Comment"}, false,
			[]any{"r1", serial, 4.0, true, "=1+2"}},
		{"reordered with a human column between", []string{"Comment", "Notes", "Rating", "Response ID", "Promoter", "Submitted"}, false,
			[]any{"=1+2", nil, 4.0, "r1", true, serial}},
		{"starting in column B", []string{"", "Rating", "Response ID", "Submitted", "Promoter", "Comment", "Owner"}, false,
			[]any{4.0, "r1", serial, true, "=1+2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := sheets.RowValues(tt.header, m.Sheet(), row, mapping.DatesSerial, mapping.LongTextTruncate, tt.clear)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}

	// A missing optional value is left alone in an append (null: the cell
	// is skipped) but cleared in an update of an existing row.
	sparse := renderRow(t, m, "r2", `{"rating": 2}`)
	header := []string{"Response ID", "Submitted", "Rating", "Promoter", "Comment"}
	got, _ := sheets.RowValues(header, m.Sheet(), sparse, mapping.DatesSerial, mapping.LongTextTruncate, false)
	if diff := cmp.Diff([]any{"r2", serial, 2.0}, got); diff != "" {
		t.Errorf("append row (-want +got):\n%s", diff)
	}
	got, _ = sheets.RowValues(header, m.Sheet(), sparse, mapping.DatesText, mapping.LongTextTruncate, true)
	if diff := cmp.Diff([]any{"r2", "2026-05-01T12:00:00Z", 2.0, "", ""}, got); diff != "" {
		t.Errorf("update row (-want +got):\n%s", diff)
	}
}

func TestEncodeValue(t *testing.T) {
	t.Parallel()
	day := time.Date(2024, 5, 1, 18, 0, 0, 0, time.FixedZone("", 2*3600))
	tests := []struct {
		name               string
		v                  survey.Value
		userEnteredRequest bool
		userEnteredColumn  bool
		dates              mapping.DateMode
		want               any
	}{
		{"text raw", survey.Text("=IMPORTXML(\"http://x\", \"//a\")"), false, false, mapping.DatesSerial, "=IMPORTXML(\"http://x\", \"//a\")"},
		{"plus raw", survey.Text("+1"), false, false, mapping.DatesSerial, "+1"},
		{"text in a user-entered request gets an apostrophe", survey.Text("=1+2"), true, false, mapping.DatesSerial, "'=1+2"},
		{"minus in a user-entered request", survey.Text("-2"), true, false, mapping.DatesSerial, "'-2"},
		{"at in a user-entered request", survey.Text("@x"), true, false, mapping.DatesSerial, "'@x"},
		{"leading zeros kept", survey.Text("0001"), true, false, mapping.DatesSerial, "'0001"},
		{"apostrophe doubled", survey.Text("'quoted"), true, false, mapping.DatesSerial, "''quoted"},
		{"empty text stays empty", survey.Text(""), true, false, mapping.DatesSerial, ""},
		{"user-entered column as is", survey.Text("=HYPERLINK(\"https://x\")"), true, true, mapping.DatesSerial, "=HYPERLINK(\"https://x\")"},
		{"number", survey.Number(9.5), true, false, mapping.DatesSerial, 9.5},
		{"bool", survey.Bool(true), false, false, mapping.DatesSerial, true},
		{"null skipped", survey.Null, false, false, mapping.DatesSerial, nil},
		{"date serial", survey.Date(day), false, false, mapping.DatesSerial, 45413.0},
		{"datetime serial in its own zone", survey.DateTime(day), false, false, mapping.DatesSerial, 45413.75},
		{"date text", survey.Date(day), false, false, mapping.DatesText, "2024-05-01"},
		{"datetime text in a user-entered request", survey.DateTime(day), true, false, mapping.DatesText, "'2024-05-01T18:00:00+02:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := sheets.EncodeValue(tt.v, tt.userEnteredRequest, tt.userEnteredColumn, tt.dates, mapping.LongTextTruncate)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := sheets.EncodeValue(survey.Number(math.NaN()), false, false, mapping.DatesSerial, mapping.LongTextTruncate); err == nil {
		t.Error("NaN encoded without error")
	}
}

func TestInputOption(t *testing.T) {
	t.Parallel()
	if got := sheets.InputOption(mustMapping(t, testMapping).Sheet()); got != "RAW" {
		t.Errorf("plain mapping: %s, want RAW", got)
	}
	ue := mustMapping(t, testMapping+"  Link: {value: \"=HYPERLINK(\\\"https://x/{{ key }}\\\")\", input: user_entered}\n")
	if got := sheets.InputOption(ue.Sheet()); got != "USER_ENTERED" {
		t.Errorf("mapping with a user_entered column: %s, want USER_ENTERED", got)
	}
}

// TestUserEnteredRows: in a mapping with a user_entered column, every
// request is USER_ENTERED, so every other text cell, the key included
// even when it is marked user_entered itself, gets an apostrophe.
func TestUserEnteredRows(t *testing.T) {
	t.Parallel()
	m := mustMapping(t, `sheet: T
key: ID
columns:
  ID: {value: "{{ key }}", input: user_entered}
  Comment: "{{ comment }}"
  Rating: {value: "{{ rating }}", type: number}
  Link: {value: "=HYPERLINK(\"https://x/{{ key }}\")", input: user_entered}
`)
	row := renderRow(t, m, "0012", `{"comment": "=1+2", "rating": 3}`)
	got, err := sheets.RowValues([]string{"ID", "Comment", "Rating", "Link"}, m.Sheet(), row, mapping.DatesSerial, mapping.LongTextTruncate, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"'0012", "'=1+2", 3.0, `=HYPERLINK("https://x/0012")`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}

func TestLongText(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ab😀", 20000) // 80,000 UTF-16 units
	got, err := sheets.EncodeValue(survey.Text(long), false, false, mapping.DatesSerial, mapping.LongTextTruncate)
	if err != nil {
		t.Fatal(err)
	}
	s := got.(string)
	if n := sheets.UTF16Len(s); n > mapping.MaxCellChars || n < mapping.MaxCellChars-2 {
		t.Errorf("truncated to %d UTF-16 units, want just under %d", n, mapping.MaxCellChars)
	}
	if !strings.HasSuffix(s, sheets.TruncationMarker) || !strings.HasPrefix(long, strings.TrimSuffix(s, sheets.TruncationMarker)) {
		t.Errorf("truncated text does not keep the start and end with the marker: …%q", s[len(s)-60:])
	}
	if _, err := sheets.EncodeValue(survey.Text(long), false, false, mapping.DatesSerial, mapping.LongTextDeadLetter); err == nil || !strings.Contains(err.Error(), "80000 characters") {
		t.Errorf("dead_letter error = %v", err)
	}

	// The mapping cuts long text to the limit when it renders a row, so
	// text that reaches the limit is marked (or dead-lettered) too.
	cut := strings.Repeat("x", mapping.MaxCellChars)
	if got, _ := sheets.EncodeValue(survey.Text(cut), false, false, mapping.DatesSerial, mapping.LongTextTruncate); !strings.HasSuffix(got.(string), sheets.TruncationMarker) {
		t.Error("text cut to the limit by the mapping is not marked")
	}
	if _, err := sheets.EncodeValue(survey.Text(cut), false, false, mapping.DatesSerial, mapping.LongTextDeadLetter); err == nil {
		t.Error("text cut to the limit by the mapping is not dead-lettered under dead_letter")
	}
	short := strings.Repeat("x", mapping.MaxCellChars-2)
	if got, _ := sheets.EncodeValue(survey.Text(short), false, false, mapping.DatesSerial, mapping.LongTextDeadLetter); got != short {
		t.Error("text under the limit was changed")
	}
}

func TestSplitBySize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		sizes []int
		rows  int
		bytes int
		want  [][2]int
	}{
		{"empty", nil, 10, 100, nil},
		{"one chunk", []int{10, 10, 10}, 10, 100, [][2]int{{0, 3}}},
		{"by rows", []int{1, 1, 1, 1, 1}, 2, 100, [][2]int{{0, 2}, {2, 4}, {4, 5}}},
		{"by bytes", []int{40, 40, 40, 10}, 10, 100, [][2]int{{0, 2}, {2, 4}}},
		{"row larger than the limit goes alone", []int{10, 500, 10}, 10, 100, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, sheets.SplitBySize(tt.sizes, tt.rows, tt.bytes)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestJSONSizeIsAnUpperBound(t *testing.T) {
	t.Parallel()
	for _, v := range []any{nil, true, 1.5, -1e300, "plain", "quote\"back\\slash", "<html>&", "tab\tnew\nline\x01", "emoji 😀 ü", "bad \xff utf8", "\u2028"} {
		row := []any{v}
		enc, err := jsonMarshal(row)
		if err != nil {
			t.Fatal(err)
		}
		if got := sheets.RowSize(row); got < len(enc) {
			t.Errorf("RowSize(%q) = %d, below the %d bytes it encodes to", v, got, len(enc))
		}
	}
}

func TestNumberFormatPattern(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"YYYY-MM-DD", "yyyy-mm-dd"},
		{"DD.MM.YYYY HH:mm", "dd.mm.yyyy hh:mm"},
		{"ddd, MMM D YYYY h:mm a", "ddd, mmm d yyyy h:mm am/pm"},
		{"YYYY-MM-DD[T]HH:mm:ss.SSS", `yyyy-mm-dd"T"hh:mm:ss.000`},
	}
	for _, tt := range tests {
		got, ok := sheets.NumberFormatPattern(tt.in)
		if !ok || got != tt.want {
			t.Errorf("NumberFormatPattern(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	for _, in := range []string{"", "YYYY-MM-DD HH:mm Z"} {
		if got, ok := sheets.NumberFormatPattern(in); ok {
			t.Errorf("NumberFormatPattern(%q) = %q, want no pattern", in, got)
		}
	}
}

func TestA1Helpers(t *testing.T) {
	t.Parallel()
	for col, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 701: "ZZ", 702: "AAA", 18277: "ZZZ"} {
		if got := sheets.ColumnName(col); got != want {
			t.Errorf("ColumnName(%d) = %s, want %s", col, got, want)
		}
	}
	for title, want := range map[string]string{"Responses": "'Responses'", "Jon's Data": "'Jon''s Data'", "A1": "'A1'"} {
		if got := sheets.QuoteTitle(title); got != want {
			t.Errorf("QuoteTitle(%q) = %s, want %s", title, got, want)
		}
	}
}
