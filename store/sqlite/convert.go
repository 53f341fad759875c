package sqlite

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// toMicros stores t as microseconds since the Unix epoch; the zero time is
// stored as 0. Microseconds keep every time a source may report in range,
// which nanoseconds do not.
func toMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros reads a time stored by toMicros, in UTC.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// boolInt stores a boolean as 0 or 1.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// int64sJSON encodes ids as a JSON array for json_each, which passes a whole
// set to one statement.
func int64sJSON(ids []int64) string {
	buf := make([]byte, 0, len(ids)*8+2)
	buf = append(buf, '[')
	for i, id := range ids {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendInt(buf, id, 10)
	}
	return string(append(buf, ']'))
}

// parseInt64sJSON reads a JSON array of integers as int64sJSON writes it
// (SQLite's json_group_array writes the same).
func parseInt64sJSON(s string) ([]int64, error) {
	body, open := strings.CutPrefix(strings.TrimSpace(s), "[")
	body, closed := strings.CutSuffix(body, "]")
	if !open || !closed {
		return nil, fmt.Errorf("ids %.40q are not a JSON array", s)
	}
	if strings.TrimSpace(body) == "" {
		return nil, nil
	}
	out := make([]int64, 0, strings.Count(body, ",")+1)
	for f := range strings.SplitSeq(body, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("ids %.40q: %w", s, err)
		}
		out = append(out, id)
	}
	return out, nil
}

// appendJSONString appends s to buf as a JSON string. Every byte of valid
// UTF-8 is kept; an invalid byte becomes U+FFFD, as in encoding/json.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c < 0x20:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, "\\ufffd"...)
		} else {
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return append(buf, '"')
}
