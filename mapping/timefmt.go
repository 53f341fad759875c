package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// timeToken is one friendly format token and its Go layout element.
type timeToken struct {
	token, layout string
	hasTime       bool
	format        func(t time.Time) string
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func hour12(t time.Time) int {
	h := t.Hour() % 12
	if h == 0 {
		h = 12
	}
	return h
}

func zoneOffset(t time.Time, colon bool) string {
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	sep := ""
	if colon {
		sep = ":"
	}
	return sign + pad2(off/3600) + sep + pad2(off%3600/60)
}

// timeTokens are the format tokens ops people write, longest first within a
// letter. The format functions are an independent implementation used to
// check that a format translates to a Go layout exactly.
var timeTokens = []timeToken{
	{"YYYY", "2006", false, func(t time.Time) string { return fmt.Sprintf("%04d", t.Year()) }},
	{"YY", "06", false, func(t time.Time) string { return pad2(t.Year() % 100) }},
	{"MMMM", "January", false, func(t time.Time) string { return t.Month().String() }},
	{"MMM", "Jan", false, func(t time.Time) string { return t.Month().String()[:3] }},
	{"MM", "01", false, func(t time.Time) string { return pad2(int(t.Month())) }},
	{"M", "1", false, func(t time.Time) string { return strconv.Itoa(int(t.Month())) }},
	{"DD", "02", false, func(t time.Time) string { return pad2(t.Day()) }},
	{"D", "2", false, func(t time.Time) string { return strconv.Itoa(t.Day()) }},
	{"dddd", "Monday", false, func(t time.Time) string { return t.Weekday().String() }},
	{"ddd", "Mon", false, func(t time.Time) string { return t.Weekday().String()[:3] }},
	{"HH", "15", true, func(t time.Time) string { return pad2(t.Hour()) }},
	{"hh", "03", true, func(t time.Time) string { return pad2(hour12(t)) }},
	{"h", "3", true, func(t time.Time) string { return strconv.Itoa(hour12(t)) }},
	{"mm", "04", true, func(t time.Time) string { return pad2(t.Minute()) }},
	{"m", "4", true, func(t time.Time) string { return strconv.Itoa(t.Minute()) }},
	{"ss", "05", true, func(t time.Time) string { return pad2(t.Second()) }},
	{"s", "5", true, func(t time.Time) string { return strconv.Itoa(t.Second()) }},
	{"SSS", "000", true, func(t time.Time) string { return fmt.Sprintf("%03d", t.Nanosecond()/1e6) }},
	{"A", "PM", true, func(t time.Time) string {
		if t.Hour() < 12 {
			return "AM"
		}
		return "PM"
	}},
	{"a", "pm", true, func(t time.Time) string {
		if t.Hour() < 12 {
			return "am"
		}
		return "pm"
	}},
	{"ZZ", "-0700", true, func(t time.Time) string { return zoneOffset(t, false) }},
	{"Z", "-07:00", true, func(t time.Time) string { return zoneOffset(t, true) }},
}

const tokenLetters = "YMDdHhmsSAaZ"

// timeFormat is a compiled friendly format such as "YYYY-MM-DD HH:mm".
type timeFormat struct {
	src     string
	layout  string
	hasTime bool
	pieces  []formatPiece
}

type formatPiece struct {
	tok  *timeToken
	text string
}

func (tf *timeFormat) format(t time.Time) string {
	var b strings.Builder
	for _, p := range tf.pieces {
		if p.tok != nil {
			b.WriteString(p.tok.format(t))
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// compileTimeFormat translates a friendly format to a Go layout. Text in
// [brackets] and characters that are not token letters are copied as they
// are. A format that Go would read differently from what was meant, such as
// literal digits, is refused.
func compileTimeFormat(src string) (*timeFormat, error) {
	if src == "" {
		return nil, errors.New("the format is empty")
	}
	tf := &timeFormat{src: src}
	var layout strings.Builder
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '[':
			end := strings.IndexByte(src[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("format %q: [ is never closed with ]", src)
			}
			text := src[i+1 : i+end]
			tf.pieces = append(tf.pieces, formatPiece{text: text})
			layout.WriteString(text)
			i += end + 1
		case strings.IndexByte(tokenLetters, c) >= 0:
			j := i
			for j < len(src) && src[j] == c {
				j++
			}
			run := src[i:j]
			var tok *timeToken
			for k := range timeTokens {
				if timeTokens[k].token == run {
					tok = &timeTokens[k]
				}
			}
			if tok == nil {
				return nil, fmt.Errorf("format %q: %q is not a format token (use YYYY YY MMMM MMM MM M DD D dddd ddd HH hh h mm m ss s SSS A a Z ZZ, and [text] for literal letters)", src, run)
			}
			if tok.hasTime {
				tf.hasTime = true
			}
			tf.pieces = append(tf.pieces, formatPiece{tok: tok})
			layout.WriteString(tok.layout)
			i = j
		default:
			j := i
			for j < len(src) && src[j] != '[' && strings.IndexByte(tokenLetters, src[j]) < 0 {
				j++
			}
			tf.pieces = append(tf.pieces, formatPiece{text: src[i:j]})
			layout.WriteString(src[i:j])
			i = j
		}
	}
	tf.layout = layout.String()
	probes := []time.Time{
		time.Date(2009, 11, 3, 4, 5, 6, 7e6, time.FixedZone("", 5*3600+30*60)),
		time.Date(2021, 12, 25, 16, 45, 59, 999e6, time.FixedZone("", -8*3600)),
	}
	for _, t := range probes {
		if got, want := t.Format(tf.layout), tf.format(t); got != want {
			return nil, fmt.Errorf("format %q cannot be written exactly: its literal text would be read as part of the date; keep digits and words such as Jan, Mon, PM or MST out of it, and separate tokens (SSS needs a . before it)", src)
		}
	}
	return tf, nil
}

// naiveLayouts are accepted text forms without a zone; they are read in the
// input time zone.
var naiveLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
}

// zonedLayouts are accepted text forms with a zone besides RFC 3339.
var zonedLayouts = []string{
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 -07:00",
}

// parseTime reads a date or time from a response value: a time.Time, Unix
// seconds or milliseconds (as a number or digits), RFC 3339, a date
// (YYYY-MM-DD), or a date and time without zone read in zone. With input set,
// text is read with that format only. dateOnly reports that the value carried
// no time of day.
func parseTime(v any, zone *time.Location, input *timeFormat) (t time.Time, dateOnly bool, err error) {
	switch x := v.(type) {
	case time.Time:
		return x, false, nil
	case json.Number:
		return unixTime(string(x))
	case float64:
		return unixTime(strconv.FormatFloat(x, 'f', -1, 64))
	case string:
		s := strings.TrimSpace(x)
		if input != nil {
			t, err := time.ParseInLocation(input.layout, s, zone)
			if err != nil {
				return time.Time{}, false, fmt.Errorf("%s does not match the input format %q", quoteShort(x), input.src)
			}
			return t, !input.hasTime, nil
		}
		if s != "" && looksNumeric(s) && !strings.ContainsAny(s, "eE") {
			return unixTime(s)
		}
		if len(s) == 10 {
			if t, err := time.ParseInLocation(time.DateOnly, s, zone); err == nil {
				return t, true, nil
			}
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, false, nil
		}
		for _, l := range zonedLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t, false, nil
			}
		}
		for _, l := range naiveLayouts {
			if t, err := time.ParseInLocation(l, s, zone); err == nil {
				return t, false, nil
			}
		}
		return time.Time{}, false, fmt.Errorf("%s is not a date or time in a form I know (RFC 3339, YYYY-MM-DD, YYYY-MM-DD hh:mm:ss or Unix seconds); set input_format", quoteShort(x))
	}
	return time.Time{}, false, fmt.Errorf("%s is not a date or time", quoteShort(v))
}

// unixThresholdMS is where numbers stop being read as seconds and start
// being read as milliseconds: 1e11 seconds is the year 5138, while 1e11
// milliseconds is March 1973.
const unixThresholdMS = 1e11

func unixTime(s string) (time.Time, bool, error) {
	if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
		switch {
		case n >= unixThresholdMS*1000 || n <= -unixThresholdMS*1000:
			return time.Time{}, false, fmt.Errorf("%s is out of range for a Unix time", s)
		case n >= unixThresholdMS || n <= -unixThresholdMS:
			return time.UnixMilli(n).UTC(), false, nil
		}
		return time.Unix(n, 0).UTC(), false, nil
	}
	f, ok := parseNumber(s)
	if !ok {
		return time.Time{}, false, fmt.Errorf("%q is not a number of seconds", s)
	}
	if math.Abs(f) >= unixThresholdMS {
		f /= 1000
	}
	if math.Abs(f) > 1e13 {
		return time.Time{}, false, fmt.Errorf("%s is out of range for a Unix time", s)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), false, nil
}

// loadZone loads an IANA time zone, with an error naming the zone.
func loadZone(name string) (*time.Location, error) {
	if name == "" {
		return nil, errors.New("the time zone is empty")
	}
	if strings.EqualFold(name, "utc") {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("time zone %q is not a known IANA zone such as Europe/Berlin or UTC", name)
	}
	return loc, nil
}
