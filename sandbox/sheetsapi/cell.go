package sheetsapi

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// kind is what a cell holds.
type kind uint8

const (
	kindEmpty kind = iota
	kindString
	kindNumber
	kindBool
	kindFormula
)

// numberFormat remembers how a number typed with USER_ENTERED was written,
// so FORMATTED_VALUE can show it the same way.
type numberFormat uint8

const (
	formatPlain numberFormat = iota
	formatPercent
	formatCurrency
	formatDate     // 2024-05-01
	formatDateTime // 2024-05-01 10:00:00
	formatDateUS   // 5/1/2024
	formatDateTimeUS
)

// inputMode records how a cell was written.
type inputMode uint8

const (
	inputRaw inputMode = iota + 1
	inputUserEntered
)

// cell is one grid cell. It is kept small (32 bytes) because a workbook may
// hold millions of them: s holds strings and formula text, n numbers and
// booleans (1 or 0).
type cell struct {
	s      string
	n      float64
	kind   kind
	format numberFormat
	input  inputMode
}

func (c cell) empty() bool { return c.kind == kindEmpty }

// Value input options, as the API spells them.
const (
	valueInputRaw         = "RAW"
	valueInputUserEntered = "USER_ENTERED"
)

// errBadValue reports a JSON value that cannot go into a cell; its text is
// the tail of Google's message, such as "struct_value {\n}\n".
type errBadValue string

func (e errBadValue) Error() string { return string(e) }

// parseInput turns one JSON value from a ValueRange into a cell. skip is true
// for null, which leaves the existing cell alone.
func parseInput(v any, mode inputMode) (c cell, skip bool, err error) {
	switch x := v.(type) {
	case nil:
		return cell{}, true, nil
	case bool:
		return boolCell(x, mode), false, nil
	case float64:
		return cell{kind: kindNumber, n: x, input: mode}, false, nil
	case string:
		if mode == inputRaw {
			if x == "" {
				return cell{}, false, nil
			}
			return cell{kind: kindString, s: x, input: mode}, false, nil
		}
		return parseUserEntered(x), false, nil
	case map[string]any:
		return cell{}, false, errBadValue("struct_value {\n}\n")
	case []any:
		return cell{}, false, errBadValue("list_value {\n}\n")
	}
	return cell{}, false, errBadValue(fmt.Sprintf("unsupported value %T", v))
}

func boolCell(b bool, mode inputMode) cell {
	c := cell{kind: kindBool, input: mode}
	if b {
		c.n = 1
	}
	return c
}

// parseUserEntered applies the emulator's model of "as if the user typed it":
//
//   - "" clears the cell; a leading ' forces text and is not stored;
//   - "=…" is a formula (kept as text, not evaluated);
//   - TRUE/FALSE (any case) are booleans;
//   - numbers, with optional sign, thousands commas, exponent, a leading $
//     (currency) or a trailing % (percent), become numbers;
//   - ISO dates "2024-05-01", "2024-05-01 10:00[:00]" and US dates
//     "5/1/2024[ 10:00[:00]]" become date serial numbers;
//   - any other text starting with + or - is read as a formula ("=+x"), as
//     spreadsheet programs do; everything else, including "@x", stays text.
func parseUserEntered(s string) cell {
	u := cell{input: inputUserEntered}
	switch {
	case s == "":
		return cell{}
	case s[0] == '\'':
		if len(s) == 1 {
			return cell{}
		}
		u.kind, u.s = kindString, s[1:]
		return u
	case s[0] == '=':
		u.kind, u.s = kindFormula, s
		return u
	}
	t := strings.TrimSpace(s)
	switch strings.ToUpper(t) {
	case "TRUE":
		return boolCell(true, inputUserEntered)
	case "FALSE":
		return boolCell(false, inputUserEntered)
	}
	if n, f, ok := parseNumber(t); ok {
		u.kind, u.n, u.format = kindNumber, n, f
		return u
	}
	if n, f, ok := parseDate(t); ok {
		u.kind, u.n, u.format = kindNumber, n, f
		return u
	}
	if s[0] == '+' || s[0] == '-' {
		u.kind, u.s = kindFormula, "="+s
		return u
	}
	u.kind, u.s = kindString, s
	return u
}

// parseNumber reads the number forms USER_ENTERED understands.
func parseNumber(t string) (float64, numberFormat, bool) {
	format := formatPlain
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if strings.HasPrefix(t, "$") {
		format = formatCurrency
		t = t[1:]
	} else if strings.HasSuffix(t, "%") {
		format = formatPercent
		t = t[:len(t)-1]
	}
	if t == "" || !(isDigit(t[0]) || t[0] == '.') {
		return 0, 0, false
	}
	if strings.Contains(t, ",") {
		var ok bool
		if t, ok = stripThousands(t); !ok {
			return 0, 0, false
		}
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !isDigit(c) && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-' {
			return 0, 0, false
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(n, 0) {
		return 0, 0, false
	}
	if neg {
		n = -n
	}
	if format == formatPercent {
		n /= 100
	}
	return n, format, true
}

// stripThousands removes well-placed thousands separators ("1,234,567.5").
func stripThousands(t string) (string, bool) {
	intPart, frac, hasFrac := strings.Cut(t, ".")
	groups := strings.Split(intPart, ",")
	if len(groups[0]) == 0 || len(groups[0]) > 3 {
		return "", false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return "", false
		}
	}
	out := strings.Join(groups, "")
	if hasFrac {
		out += "." + frac
	}
	return out, true
}

// serialEpoch is day 0 of Google Sheets date serial numbers.
var serialEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

var dateLayouts = []struct {
	layout string
	format numberFormat
}{
	{"2006-01-02", formatDate},
	{"2006-01-02 15:04:05", formatDateTime},
	{"2006-01-02 15:04", formatDateTime},
	{"1/2/2006", formatDateUS},
	{"1/2/2006 15:04:05", formatDateTimeUS},
	{"1/2/2006 15:04", formatDateTimeUS},
}

func parseDate(t string) (float64, numberFormat, bool) {
	if len(t) < 8 || !isDigit(t[0]) {
		return 0, 0, false
	}
	for _, l := range dateLayouts {
		if tm, err := time.Parse(l.layout, t); err == nil {
			return toSerial(tm), l.format, true
		}
	}
	return 0, 0, false
}

func toSerial(t time.Time) float64 {
	return float64(t.Sub(serialEpoch)) / float64(24*time.Hour)
}

func fromSerial(n float64) time.Time {
	ms := math.Round(n * 24 * 60 * 60 * 1000)
	return serialEpoch.Add(time.Duration(ms) * time.Millisecond)
}

// Render options, as the API spells them.
const (
	renderFormatted   = "FORMATTED_VALUE"
	renderUnformatted = "UNFORMATTED_VALUE"
	renderFormula     = "FORMULA"
	dateSerial        = "SERIAL_NUMBER"
	dateFormatted     = "FORMATTED_STRING"
)

// render returns the JSON value of a non-empty cell for a read; nf is the
// number format its range was given (zero for none). Formulas are not
// evaluated: every render option returns their text.
func (c cell) render(valueOpt, dateOpt string, nf numFmt) any {
	switch c.kind {
	case kindString, kindFormula:
		return c.s
	case kindBool:
		if valueOpt == renderFormatted {
			if c.n != 0 {
				return "TRUE"
			}
			return "FALSE"
		}
		return c.n != 0
	case kindNumber:
		if valueOpt == renderFormatted || (c.isDate(nf) && dateOpt == dateFormatted) {
			return c.formatted(nf)
		}
		return c.n
	}
	return ""
}

// isDate reports whether a number shows as a date or time: by the format
// it was typed in, else by its range's number format.
func (c cell) isDate(nf numFmt) bool {
	if c.format != formatPlain {
		return c.format >= formatDate
	}
	return nf.isDate()
}

// formatted is the cell as FORMATTED_VALUE shows it. A number typed with a
// format of its own ("$5", "2024-05-01") shows in it; otherwise in nf, the
// number format of its range, if any.
func (c cell) formatted(nf numFmt) string {
	switch c.kind {
	case kindString, kindFormula:
		return c.s
	case kindBool:
		if c.n != 0 {
			return "TRUE"
		}
		return "FALSE"
	case kindEmpty:
		return ""
	}
	if c.format == formatPlain && nf.typ != "" {
		return nf.format(c.n)
	}
	switch c.format {
	case formatPercent:
		return formatNumber(c.n*100) + "%"
	case formatCurrency:
		if c.n < 0 {
			return "-$" + strconv.FormatFloat(-c.n, 'f', 2, 64)
		}
		return "$" + strconv.FormatFloat(c.n, 'f', 2, 64)
	case formatDate:
		return fromSerial(c.n).Format("2006-01-02")
	case formatDateTime:
		return fromSerial(c.n).Format("2006-01-02 15:04:05")
	case formatDateUS:
		return fromSerial(c.n).Format("1/2/2006")
	case formatDateTimeUS:
		return fromSerial(c.n).Format("1/2/2006 15:04:05")
	}
	return formatNumber(c.n)
}

// formatNumber follows the "automatic" number format closely enough:
// plain decimals for ordinary magnitudes, scientific notation otherwise.
func formatNumber(n float64) string {
	a := math.Abs(n)
	if a != 0 && (a >= 1e15 || a < 1e-9) {
		return strings.ToUpper(strconv.FormatFloat(n, 'E', -1, 64))
	}
	return strconv.FormatFloat(n, 'f', -1, 64)
}
