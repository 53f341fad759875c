package sheetsapi

import (
	"testing"
	"time"
)

func TestNumberFormatRendering(t *testing.T) {
	t.Parallel()
	at := toSerial(time.Date(2026, 5, 1, 14, 5, 9, 250_000_000, time.UTC))
	tests := []struct {
		typ, pattern string
		n            float64
		want         string
	}{
		// Dates and times.
		{nfDate, "", at, "5/1/2026"},
		{nfDateTime, "", at, "5/1/2026 14:05:09"},
		{nfTime, "", at, "2:05:09 pm"},
		{nfDateTime, "yyyy-mm-dd hh:mm:ss", at, "2026-05-01 14:05:09"},
		{nfDateTime, "yyyy-mm-dd hh:mm:ss.000", at, "2026-05-01 14:05:09.250"},
		{nfDateTime, "dd.mm.yy h:mm AM/PM", at, "01.05.26 2:05 PM"},
		{nfDate, "dddd, mmmm d", at, "Friday, May 1"},
		{nfDate, "ddd mmm dd", at, "Fri May 01"},
		{nfDate, `"week of" yyyy\-mm\-dd`, at, "week of 2026-05-01"},
		{nfTime, "[h]:mm", 1.5, "36:00"},
		{nfTime, "mm:ss", at, "05:09"},
		{nfNumber, "yyyy-mm-dd", 45413, "2024-05-01"}, // a date pattern under another type
		{nfDateTime, "yyyy-mm-dd hh:mm:ss", toSerial(time.Date(2026, 5, 1, 23, 59, 59, 600_000_000, time.UTC)), "2026-05-02 00:00:00"},
		// Numbers.
		{nfNumber, "", 1234.567, "1,234.57"},
		{nfNumber, "0", 2.5, "3"},
		{nfNumber, "0.0", -0.04, "0.0"},
		{nfNumber, "#.##", 0.5, ".5"},
		{nfNumber, "#,##0", 1234567, "1,234,567"},
		{nfNumber, "000", 7, "007"},
		{nfPercent, "", 0.1234, "12.34%"},
		{nfPercent, "0%", 0.5, "50%"},
		{nfCurrency, "", -5, "-$5.00"},
		{nfCurrency, `"$"#,##0.00;("$"#,##0.00)`, -1234.5, "($1,234.50)"},
		{nfCurrency, `[$€]#,##0.00`, 3, "[$€]3.00"},
		{nfScientific, "", 12345, "1.23E+04"},
		{nfScientific, "0.0E+00", 0.00012, "1.2E-04"},
		{nfScientific, "", 9.999, "1.00E+01"},
		{nfText, "", 45413, "45413"},
		{nfNumber, "0.00_);(0.00)", -2, "(2.00)"},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.pattern, func(t *testing.T) {
			t.Parallel()
			if got := (numFmt{typ: tt.typ, pattern: tt.pattern}).format(tt.n); got != tt.want {
				t.Errorf("format(%v) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestShiftIndex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		b, at, n int
		end      bool
		want     int
	}{
		{"insert above start", 5, 2, 3, false, 8},
		{"insert at start (below the row above)", 5, 5, 3, false, 8},
		{"insert at the top", 0, 0, 3, false, 0},
		{"insert below start", 5, 7, 3, false, 5},
		{"insert at end (inherits)", 5, 5, 3, true, 8},
		{"insert past end", 5, 6, 3, true, 5},
		{"delete above", 5, 0, -2, false, 3},
		{"delete around", 5, 4, -3, false, 4},
		{"delete below", 5, 6, -2, false, 5},
	}
	for _, tt := range tests {
		if got := shiftIndex(tt.b, tt.at, tt.n, tt.end); got != tt.want {
			t.Errorf("%s: shiftIndex(%d, %d, %d, %v) = %d, want %d", tt.name, tt.b, tt.at, tt.n, tt.end, got, tt.want)
		}
	}
}
