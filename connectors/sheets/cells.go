package sheets

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// TruncationMarker ends text that was cut to fit a cell.
const TruncationMarker = "… [truncated by surveysync]"

// Value input options.
const (
	inputRaw         = "RAW"
	inputUserEntered = "USER_ENTERED"
)

// encoder turns typed values into the JSON values of a ValueRange.
//
// Every request is RAW unless the mapping has a column marked
// input: user_entered. valueInputOption is per request, so such a mapping's
// requests are sent USER_ENTERED, and every other text cell is prefixed with
// an apostrophe: Sheets then stores it as text and drops the apostrophe, so
// "=IMPORTXML(...)", "+1" or "0001" stay exactly as written.
type encoder struct {
	dates       mapping.DateMode
	longText    mapping.LongTextMode
	userEntered bool
}

// newEncoder returns the encoder of a mapping's rows.
func newEncoder(spec *mapping.SheetSpec, o sheetOptions) encoder {
	e := encoder{dates: o.dates, longText: o.longText}
	for _, c := range spec.Columns {
		if c.UserEntered {
			e.userEntered = true
		}
	}
	return e
}

// inputOption is the request's valueInputOption.
func (e encoder) inputOption() string {
	if e.userEntered {
		return inputUserEntered
	}
	return inputRaw
}

// errLongText is returned for text over the cell limit under long_text:
// dead_letter.
var errLongText = errors.New("text longer than a cell holds")

// value encodes one cell. clear is set for writes over existing rows, where
// an absent value must empty the cell rather than leave it alone.
func (e encoder) value(v survey.Value, userEnteredCol, clear bool) (any, error) {
	switch v.Kind {
	case survey.KindNull:
		if clear {
			return "", nil
		}
		return nil, nil
	case survey.KindNumber:
		if math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
			return nil, fmt.Errorf("%v is not a number a cell can hold", v.Num)
		}
		return v.Num, nil
	case survey.KindBool:
		return v.Bool, nil
	case survey.KindDate, survey.KindDateTime:
		if e.dates == mapping.DatesText {
			return e.text(v.String(), userEnteredCol)
		}
		return v.SerialNumber(), nil
	default:
		return e.text(v.Str, userEnteredCol)
	}
}

// text encodes a text cell, enforcing the cell limit.
func (e encoder) text(s string, userEnteredCol bool) (any, error) {
	// A mapping cuts text to the cell limit when it renders a row (without
	// a marker), so text that reaches the limit, give or take a character
	// pair split, was cut there.
	if len(s) >= mapping.MaxCellChars-1 {
		if n := utf16Len(s); n >= mapping.MaxCellChars-1 && !strings.HasSuffix(s, TruncationMarker) {
			if e.longText == mapping.LongTextDeadLetter {
				return nil, fmt.Errorf("%w: %d characters or more, the limit is %d (set long_text: truncate to cut it instead)", errLongText, n, mapping.MaxCellChars)
			}
			s = truncate(s, mapping.MaxCellChars)
		}
	}
	if e.userEntered && !userEnteredCol && s != "" {
		return "'" + s, nil
	}
	return s, nil
}

// truncate cuts s so that it and the marker fit in limit UTF-16 units,
// without splitting a character.
func truncate(s string, limit int) string {
	room := limit - utf16Len(TruncationMarker)
	units := 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1
		}
		if units+w > room {
			return s[:i] + TruncationMarker
		}
		units += w
	}
	return s
}

// utf16Len counts the UTF-16 code units of s, as Sheets counts characters.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if w := utf16.RuneLen(r); w > 0 {
			n += w
		} else {
			n++
		}
	}
	return n
}

// jsonSize is an upper bound of the bytes v takes in a request body.
func jsonSize(v any) int {
	switch x := v.(type) {
	case nil:
		return 4
	case bool:
		return 5
	case float64:
		return len(strconv.FormatFloat(x, 'g', -1, 64))
	case string:
		n := 2
		for i := 0; i < len(x); {
			c := x[i]
			switch {
			case c == '"' || c == '\\':
				n += 2
				i++
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				n += 6
				i++
			case c < utf8.RuneSelf:
				n++
				i++
			default:
				r, w := utf8.DecodeRuneInString(x[i:])
				if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
					n += 6
				} else {
					n += w
				}
				i += w
			}
		}
		return n
	}
	return 32
}

// rowSize is an upper bound of a row's bytes in a request body.
func rowSize(row []any) int {
	n := 2
	for _, v := range row {
		n += jsonSize(v) + 1
	}
	return n
}

// splitBySize cuts rows into runs of at most maxRows rows and, unless a
// single row is larger, at most maxBytes bytes.
func splitBySize(sizes []int, maxRows, maxBytes int) [][2]int {
	var out [][2]int
	start, bytes := 0, 0
	for i, s := range sizes {
		if i > start && (i-start >= maxRows || bytes+s > maxBytes) {
			out = append(out, [2]int{start, i})
			start, bytes = i, 0
		}
		bytes += s
	}
	if start < len(sizes) {
		out = append(out, [2]int{start, len(sizes)})
	}
	return out
}
