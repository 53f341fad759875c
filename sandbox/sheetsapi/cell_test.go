package sheetsapi

import (
	"encoding/json"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

func TestParseUserEntered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        string
		kind      kind
		s         string
		n         float64
		formatted string
	}{
		{"hello", kindString, "hello", 0, "hello"},
		{"", kindEmpty, "", 0, ""},
		{"'", kindEmpty, "", 0, ""},
		{"'0001", kindString, "0001", 0, "0001"},
		{"'=1+2", kindString, "=1+2", 0, "=1+2"},
		{"=1+2", kindFormula, "=1+2", 0, "=1+2"},
		{"=HYPERLINK(\"x\")", kindFormula, "=HYPERLINK(\"x\")", 0, "=HYPERLINK(\"x\")"},
		{"+1", kindNumber, "", 1, "1"},
		{"-2", kindNumber, "", -2, "-2"},
		{"-abc", kindFormula, "=-abc", 0, "=-abc"},
		{"+A1", kindFormula, "=+A1", 0, "=+A1"},
		{"@x", kindString, "@x", 0, "@x"},
		{"\tx", kindString, "\tx", 0, "\tx"},
		{"TRUE", kindBool, "", 1, "TRUE"},
		{"false", kindBool, "", 0, "FALSE"},
		{"42", kindNumber, "", 42, "42"},
		{" 42 ", kindNumber, "", 42, "42"},
		{"1.5e3", kindNumber, "", 1500, "1500"},
		{"1,234,567.25", kindNumber, "", 1234567.25, "1234567.25"},
		{"1,23", kindString, "1,23", 0, "1,23"},
		{"$100.15", kindNumber, "", 100.15, "$100.15"},
		{"50%", kindNumber, "", 0.5, "50%"},
		{"2024-05-01", kindNumber, "", 45413, "2024-05-01"},
		{"2024-05-01 12:00:00", kindNumber, "", 45413.5, "2024-05-01 12:00:00"},
		{"1/1/1900 12:00", kindNumber, "", 2.5, "1/1/1900 12:00:00"},
		{"2024-05-01T10:00:00Z", kindString, "2024-05-01T10:00:00Z", 0, "2024-05-01T10:00:00Z"},
		{"NaN", kindString, "NaN", 0, "NaN"},
		{"0x10", kindString, "0x10", 0, "0x10"},
		{"1e999", kindString, "1e999", 0, "1e999"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			c := parseUserEntered(tt.in)
			if c.kind != tt.kind || c.s != tt.s || c.n != tt.n {
				t.Errorf("parseUserEntered(%q) = kind %d %q %v, want kind %d %q %v", tt.in, c.kind, c.s, c.n, tt.kind, tt.s, tt.n)
			}
			if got := c.formatted(numFmt{}); got != tt.formatted {
				t.Errorf("formatted = %q, want %q", got, tt.formatted)
			}
		})
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	date := parseUserEntered("2024-05-01")
	tests := []struct {
		name        string
		c           cell
		value, date string
		want        any
	}{
		{"number formatted", cell{kind: kindNumber, n: 0.1}, renderFormatted, dateSerial, "0.1"},
		{"number unformatted", cell{kind: kindNumber, n: 0.1}, renderUnformatted, dateSerial, 0.1},
		{"bool formatted", boolCell(true, inputRaw), renderFormatted, dateSerial, "TRUE"},
		{"bool formula", boolCell(false, inputRaw), renderFormula, dateSerial, false},
		{"date serial", date, renderUnformatted, dateSerial, 45413.0},
		{"date string", date, renderUnformatted, dateFormatted, "2024-05-01"},
		{"date formula serial", date, renderFormula, dateSerial, 45413.0},
		{"formula text", cell{kind: kindFormula, s: "=A1"}, renderFormatted, dateSerial, "=A1"},
		{"big number", cell{kind: kindNumber, n: 1e20}, renderFormatted, dateSerial, "1E+20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.c.render(tt.value, tt.date, numFmt{})); diff != "" {
				t.Errorf("render (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCellIsSmall(t *testing.T) {
	t.Parallel()
	if size := unsafe.Sizeof(cell{}); size > 32 {
		t.Errorf("cell is %d bytes; keep it at 32 so a million cells stay near 32 MB", size)
	}
}

func TestFieldMask(t *testing.T) {
	t.Parallel()
	doc := map[string]any{
		"spreadsheetId": "x",
		"properties":    map[string]any{"title": "T", "locale": "en_US"},
		"sheets": []any{
			map[string]any{"properties": map[string]any{"sheetId": 0, "title": "A", "gridProperties": map[string]any{"rowCount": 1}}, "data": []any{}},
		},
	}
	tests := []struct {
		mask string
		want any
	}{
		{"spreadsheetId", map[string]any{"spreadsheetId": "x"}},
		{"sheets.properties.title", map[string]any{"sheets": []any{map[string]any{"properties": map[string]any{"title": "A"}}}}},
		{"sheets(properties(sheetId,title))", map[string]any{"sheets": []any{map[string]any{"properties": map[string]any{"sheetId": jsonNum("0"), "title": "A"}}}}},
		{"properties/title,spreadsheetId", map[string]any{"spreadsheetId": "x", "properties": map[string]any{"title": "T"}}},
		{"sheets.properties,sheets.properties.title", map[string]any{"sheets": []any{map[string]any{"properties": map[string]any{
			"sheetId": jsonNum("0"), "title": "A", "gridProperties": map[string]any{"rowCount": jsonNum("1")}}}}}},
		{"*", nil},
	}
	for _, tt := range tests {
		t.Run(tt.mask, func(t *testing.T) {
			t.Parallel()
			got, err := applyFieldMask(doc, tt.mask)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == nil {
				want, _ = applyFieldMask(doc, "spreadsheetId,properties,sheets")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mask %q (-want +got):\n%s", tt.mask, diff)
			}
		})
	}
	for _, bad := range []string{"", "a(", "a)b", "a..b", "a(b"} {
		if _, err := parseFieldMask(bad); err == nil {
			t.Errorf("parseFieldMask(%q) should fail", bad)
		}
	}
	m, _ := parseFieldMask("sheets.properties")
	if m.wants("sheets", "data") || !m.wants("sheets", "properties", "title") {
		t.Error("wants() disagrees with the mask sheets.properties")
	}
}

func jsonNum(s string) json.Number { return json.Number(s) }
