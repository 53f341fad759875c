package sheetsapi

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// numFmt is a NumberFormat set with repeatCell: a type and an optional
// pattern. The zero value means none (the automatic format).
type numFmt struct {
	typ     string
	pattern string
}

// Number format types, as the API spells them.
const (
	nfText       = "TEXT"
	nfNumber     = "NUMBER"
	nfPercent    = "PERCENT"
	nfCurrency   = "CURRENCY"
	nfDate       = "DATE"
	nfTime       = "TIME"
	nfDateTime   = "DATE_TIME"
	nfScientific = "SCIENTIFIC"
)

// numberFormatTypes lists the types a request may set.
var numberFormatTypes = []string{nfText, nfNumber, nfPercent, nfCurrency, nfDate, nfTime, nfDateTime, nfScientific}

// defaultPatterns are the en_US patterns Sheets uses for a type written
// without a pattern, as its Format menu shows them.
var defaultPatterns = map[string]string{
	nfNumber:     "#,##0.00",
	nfPercent:    "0.00%",
	nfCurrency:   `"$"#,##0.00`,
	nfScientific: "0.00E+00",
	nfDate:       "m/d/yyyy",
	nfTime:       "h:mm:ss am/pm",
	nfDateTime:   "m/d/yyyy h:mm:ss",
}

func (f numFmt) isDate() bool {
	return f.typ == nfDate || f.typ == nfTime || f.typ == nfDateTime
}

// format renders n as the format shows it.
func (f numFmt) format(n float64) string {
	p := f.pattern
	if p == "" {
		p = defaultPatterns[f.typ]
	}
	switch {
	case f.typ == nfText || p == "":
		return formatNumber(n)
	case f.isDate() || isDatePattern(p):
		return formatDatePattern(n, p)
	}
	return formatNumberPattern(n, p)
}

// formatRule gives a rectangle of a sheet a number format; r1 and c1 may
// be Unbounded, so rows added later at the end are covered too. An empty
// format is a rule too: it clears the formats of earlier rules.
type formatRule struct {
	r0, c0, r1, c1 int
	f              numFmt
}

func (r formatRule) contains(row, col int) bool {
	return row >= r.r0 && col >= r.c0 && (r.r1 == Unbounded || row < r.r1) && (r.c1 == Unbounded || col < r.c1)
}

// covers reports whether r covers all of o.
func (r formatRule) covers(o formatRule) bool {
	within := func(lo, hi, olo, ohi int) bool {
		return lo <= olo && (hi == Unbounded || (ohi != Unbounded && ohi <= hi))
	}
	return within(r.r0, r.r1, o.r0, o.r1) && within(r.c0, r.c1, o.c0, o.c1)
}

// numberFormat returns the number format the rules give a cell.
func (s *sheet) numberFormat(row, col int) numFmt {
	for i := len(s.formats) - 1; i >= 0; i-- {
		if s.formats[i].contains(row, col) {
			return s.formats[i].f
		}
	}
	return numFmt{}
}

// cellFormat is the number format of the rules for a cell holding a
// number; it costs nothing on a sheet without rules.
func (s *sheet) cellFormat(row, col int, c cell) numFmt {
	if len(s.formats) == 0 || c.kind != kindNumber {
		return numFmt{}
	}
	return s.numberFormat(row, col)
}

// setNumberFormat applies a rule: later rules win, rules it covers are
// dropped, and the formats numbers got from how they were typed (a date,
// "$5", "10%") give way in its range, as a format set in Sheets replaces
// the one it detected.
func (s *sheet) setNumberFormat(r formatRule) {
	kept := s.formats[:0]
	for _, o := range s.formats {
		if !r.covers(o) {
			kept = append(kept, o)
		}
	}
	clear(s.formats[len(kept):])
	s.formats = append(kept, r)
	rowEnd := len(s.rows)
	if r.r1 != Unbounded {
		rowEnd = min(rowEnd, r.r1)
	}
	for row := r.r0; row < rowEnd; row++ {
		cells := s.rows[row]
		colEnd := len(cells)
		if r.c1 != Unbounded {
			colEnd = min(colEnd, r.c1)
		}
		for col := r.c0; col < colEnd; col++ {
			cells[col].format = formatPlain
		}
	}
}

// shiftFormats moves the rules' bounds along one dimension when n lines
// are inserted before index at (n > 0) or lines [at, at-n) are deleted
// (n < 0). Lines inserted inside a rule's range or right below its end
// take its format, as inserted rows inherit the format of the row above.
func (s *sheet) shiftFormats(rows bool, at, n int) {
	kept := s.formats[:0]
	for _, r := range s.formats {
		lo, hi := &r.c0, &r.c1
		if rows {
			lo, hi = &r.r0, &r.r1
		}
		*lo = shiftIndex(*lo, at, n, false)
		if *hi != Unbounded {
			*hi = shiftIndex(*hi, at, n, true)
			if *hi <= *lo {
				continue
			}
		}
		kept = append(kept, r)
	}
	clear(s.formats[len(kept):])
	s.formats = kept
}

func shiftIndex(b, at, n int, end bool) int {
	if n > 0 {
		if b > at || (b == at && (end || at > 0)) {
			return b + n
		}
		return b
	}
	deleted := -n
	switch {
	case b >= at+deleted:
		return b - deleted
	case b > at:
		return at
	}
	return b
}

// clipFormats bounds the rules to a grid that shrank.
func (s *sheet) clipFormats(rows, cols int) {
	kept := s.formats[:0]
	for _, r := range s.formats {
		if r.r1 != Unbounded {
			r.r1 = min(r.r1, rows)
		}
		if r.c1 != Unbounded {
			r.c1 = min(r.c1, cols)
		}
		if r.r0 >= rows || r.c0 >= cols || (r.r1 != Unbounded && r.r1 <= r.r0) || (r.c1 != Unbounded && r.c1 <= r.c0) {
			continue
		}
		kept = append(kept, r)
	}
	clear(s.formats[len(kept):])
	s.formats = kept
}

// Date patterns ---------------------------------------------------------

// isDatePattern reports whether a pattern has date or time tokens outside
// quoted text, so that a NUMBER format "yyyy-mm-dd" still shows a date.
func isDatePattern(p string) bool {
	for _, t := range tokenizeDate(p) {
		if t.kind != tokLiteral {
			return true
		}
	}
	return false
}

type dateTokKind uint8

const (
	tokLiteral dateTokKind = iota
	tokYear
	tokMonth // also minutes, decided by context
	tokDay
	tokHour
	tokMinute
	tokSecond
	tokFraction
	tokAMPM
	tokElapsedHours
)

type dateTok struct {
	kind dateTokKind
	n    int    // run length
	text string // literal text, or the AM/PM spelling
}

// tokenizeDate splits a date pattern into tokens: runs of y, m, d, h, s
// (any case), ".0…" after seconds, AM/PM, A/P, [h], quoted text and
// backslash escapes; anything else is literal.
func tokenizeDate(p string) []dateTok {
	var out []dateTok
	lit := func(s string) {
		if n := len(out); n > 0 && out[n-1].kind == tokLiteral {
			out[n-1].text += s
			return
		}
		out = append(out, dateTok{kind: tokLiteral, text: s})
	}
	for i := 0; i < len(p); {
		c := p[i]
		lower := c | 0x20
		switch {
		case c == '"':
			end := strings.IndexByte(p[i+1:], '"')
			if end < 0 {
				lit(p[i+1:])
				return out
			}
			lit(p[i+1 : i+1+end])
			i += end + 2
		case c == '\\' && i+1 < len(p):
			lit(p[i+1 : i+2])
			i += 2
		case strings.HasPrefix(strings.ToUpper(p[i:]), "AM/PM"):
			out = append(out, dateTok{kind: tokAMPM, text: p[i : i+5]})
			i += 5
		case strings.HasPrefix(strings.ToUpper(p[i:]), "A/P"):
			out = append(out, dateTok{kind: tokAMPM, text: p[i : i+3]})
			i += 3
		case strings.HasPrefix(strings.ToLower(p[i:]), "[h]"):
			out = append(out, dateTok{kind: tokElapsedHours})
			i += 3
		case c == '.' && i+1 < len(p) && p[i+1] == '0' && len(out) > 0 && out[len(out)-1].kind == tokSecond:
			j := i + 1
			for j < len(p) && p[j] == '0' {
				j++
			}
			out = append(out, dateTok{kind: tokFraction, n: j - i - 1})
			i = j
		case lower == 'y' || lower == 'm' || lower == 'd' || lower == 'h' || lower == 's':
			j := i
			for j < len(p) && p[j]|0x20 == lower {
				j++
			}
			kind := map[byte]dateTokKind{'y': tokYear, 'm': tokMonth, 'd': tokDay, 'h': tokHour, 's': tokSecond}[lower]
			out = append(out, dateTok{kind: kind, n: j - i})
			i = j
		default:
			lit(p[i : i+1])
			i++
		}
	}
	// An "m" or "mm" right after hours or right before seconds means minutes.
	prev := -1
	for i, t := range out {
		if t.kind == tokLiteral {
			continue
		}
		if t.kind == tokMonth && t.n <= 2 {
			afterHour := prev >= 0 && (out[prev].kind == tokHour || out[prev].kind == tokElapsedHours)
			beforeSecond := false
			for _, u := range out[i+1:] {
				if u.kind != tokLiteral {
					beforeSecond = u.kind == tokSecond
					break
				}
			}
			if afterHour || beforeSecond {
				out[i].kind = tokMinute
			}
		}
		prev = i
	}
	return out
}

// formatDatePattern renders a serial number with a date pattern.
func formatDatePattern(n float64, p string) string {
	toks := tokenizeDate(p)
	digits := 0
	twelve := false
	for _, t := range toks {
		switch t.kind {
		case tokFraction:
			digits = max(digits, min(t.n, 3))
		case tokAMPM:
			twelve = true
		}
	}
	// Round to the precision shown, as Sheets does.
	unit := math.Pow10(-digits) / 86400
	n = math.Round(n/unit) * unit
	tm := fromSerial(n)
	var b strings.Builder
	for _, t := range toks {
		switch t.kind {
		case tokLiteral:
			b.WriteString(t.text)
		case tokYear:
			if t.n <= 2 {
				b.WriteString(pad(tm.Year()%100, 2))
			} else {
				b.WriteString(pad(tm.Year(), 4))
			}
		case tokMonth:
			switch {
			case t.n == 1:
				b.WriteString(strconv.Itoa(int(tm.Month())))
			case t.n == 2:
				b.WriteString(pad(int(tm.Month()), 2))
			case t.n == 3:
				b.WriteString(tm.Month().String()[:3])
			case t.n == 5:
				b.WriteString(tm.Month().String()[:1])
			default:
				b.WriteString(tm.Month().String())
			}
		case tokDay:
			switch {
			case t.n == 1:
				b.WriteString(strconv.Itoa(tm.Day()))
			case t.n == 2:
				b.WriteString(pad(tm.Day(), 2))
			case t.n == 3:
				b.WriteString(tm.Weekday().String()[:3])
			default:
				b.WriteString(tm.Weekday().String())
			}
		case tokHour:
			h := tm.Hour()
			if twelve {
				h %= 12
				if h == 0 {
					h = 12
				}
			}
			b.WriteString(padIf(h, t.n))
		case tokElapsedHours:
			b.WriteString(strconv.Itoa(int(tm.Sub(serialEpoch) / time.Hour)))
		case tokMinute:
			b.WriteString(padIf(tm.Minute(), t.n))
		case tokSecond:
			b.WriteString(padIf(tm.Second(), t.n))
		case tokFraction:
			ms := tm.Nanosecond() / int(time.Millisecond)
			frac := pad(ms, 3)
			for len(frac) < t.n {
				frac += "0"
			}
			b.WriteString("." + frac[:t.n])
		case tokAMPM:
			am := tm.Hour() < 12
			switch strings.ToUpper(t.text) {
			case "AM/PM":
				s := "PM"
				if am {
					s = "AM"
				}
				if t.text[0] >= 'a' {
					s = strings.ToLower(s)
				}
				b.WriteString(s)
			default:
				s := "P"
				if am {
					s = "A"
				}
				if t.text[0] >= 'a' {
					s = strings.ToLower(s)
				}
				b.WriteString(s)
			}
		}
	}
	return b.String()
}

func pad(v, width int) string {
	s := strconv.Itoa(v)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func padIf(v, run int) string {
	if run >= 2 {
		return pad(v, 2)
	}
	return strconv.Itoa(v)
}

// Number patterns -------------------------------------------------------

// numberSection is one ";"-separated section of a number pattern.
type numberSection struct {
	prefix, suffix string
	minInt         int  // zeros before the decimal point
	grouping       bool // a comma between digit placeholders
	point          bool
	minDec, maxDec int
	percent        int // each % multiplies by 100
	sci            bool
	expSign        bool // E+ (always a sign) rather than E-
	expDigits      int
}

// formatNumberPattern renders n with a number pattern such as "#,##0.00",
// "0.0%", `"$"#,##0.00;("$"#,##0.00)` or "0.00E+00". Literal text inside
// the digits (such as phone-number dashes) is not supported and moves to
// the end.
func formatNumberPattern(n float64, p string) string {
	sections := splitSections(p)
	sec, signed := sections[0], true
	switch {
	case n < 0 && len(sections) >= 2:
		sec, signed = sections[1], false
	case n == 0 && len(sections) >= 3:
		sec = sections[2]
	}
	s := parseNumberSection(sec)
	v := math.Abs(n)
	for range s.percent {
		v *= 100
	}
	var digits string
	if s.sci {
		digits = s.scientific(v)
	} else {
		digits = s.fixed(v)
	}
	out := s.prefix + digits + s.suffix
	if n < 0 && signed && strings.ContainsAny(digits, "123456789") {
		out = "-" + out
	}
	return out
}

// splitSections splits a pattern at semicolons outside quotes.
func splitSections(p string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '"':
			quoted = !quoted
		case '\\':
			i++
		case ';':
			if !quoted {
				out = append(out, p[start:i])
				start = i + 1
			}
		}
	}
	return append(out, p[start:])
}

func parseNumberSection(p string) numberSection {
	var s numberSection
	var lit strings.Builder
	seenDigit := false
	flush := func() {
		if seenDigit {
			s.suffix += lit.String()
		} else {
			s.prefix += lit.String()
		}
		lit.Reset()
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '"':
			end := strings.IndexByte(p[i+1:], '"')
			if end < 0 {
				lit.WriteString(p[i+1:])
				i = len(p)
				break
			}
			lit.WriteString(p[i+1 : i+1+end])
			i += end + 1
		case c == '\\' && i+1 < len(p):
			lit.WriteByte(p[i+1])
			i++
		case c == '_' && i+1 < len(p):
			lit.WriteByte(' ')
			i++
		case c == '*' && i+1 < len(p):
			i++ // fill character: no width to fill here
		case c == '0' || c == '#' || c == '?':
			flush()
			seenDigit = true
			switch {
			case s.sci:
				if c == '0' {
					s.expDigits++
				}
			case s.point:
				s.maxDec++
				if c == '0' || c == '?' {
					s.minDec = s.maxDec
				}
			case c == '0':
				s.minInt++
			}
		case c == ',' && seenDigit && !s.point && i+1 < len(p) && strings.IndexByte("0#?", p[i+1]) >= 0:
			s.grouping = true
		case c == '.' && !s.point && !s.sci && (seenDigit || (i+1 < len(p) && strings.IndexByte("0#?", p[i+1]) >= 0)):
			flush()
			seenDigit = true
			s.point = true
		case (c == 'E' || c == 'e') && seenDigit && i+1 < len(p) && (p[i+1] == '+' || p[i+1] == '-'):
			s.sci, s.expSign = true, p[i+1] == '+'
			i++
		case c == '%':
			s.percent++
			lit.WriteByte(c)
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return s
}

// fixed renders v ≥ 0 with the section's integer and decimal digits.
func (s numberSection) fixed(v float64) string {
	// Halves round away from zero, as in Sheets (FormatFloat rounds to even).
	if scale := math.Pow10(s.maxDec); !math.IsInf(v*scale, 0) {
		v = math.Round(v*scale) / scale
	}
	str := strconv.FormatFloat(v, 'f', s.maxDec, 64)
	intPart, frac, _ := strings.Cut(str, ".")
	for len(frac) > s.minDec && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	intPart = strings.TrimLeft(intPart, "0")
	for len(intPart) < s.minInt {
		intPart = "0" + intPart
	}
	if s.grouping {
		intPart = group(intPart)
	}
	if s.point {
		return intPart + "." + frac
	}
	return intPart
}

// scientific renders v ≥ 0 as mantissa and exponent, one integer digit
// per integer placeholder.
func (s numberSection) scientific(v float64) string {
	intDigits := max(s.minInt, 1)
	exp := 0
	if v != 0 {
		exp = int(math.Floor(math.Log10(v))) - (intDigits - 1)
	}
	m := v / math.Pow10(exp)
	mant := s.fixed(m)
	if r, err := strconv.ParseFloat(strings.ReplaceAll(mant, ",", ""), 64); err == nil && r >= math.Pow10(intDigits) {
		exp++
		mant = s.fixed(v / math.Pow10(exp))
	}
	sign := ""
	switch {
	case exp < 0:
		sign = "-"
	case s.expSign:
		sign = "+"
	}
	return mant + "E" + sign + pad(abs(exp), max(s.expDigits, 1))
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// group inserts thousands separators into a run of digits.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	first := len(digits) % 3
	if first > 0 {
		b.WriteString(digits[:first])
	}
	for i := first; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
