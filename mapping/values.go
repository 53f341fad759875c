package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Values flowing through expressions are those of a decoded JSON payload
// (map[string]any, []any, string, json.Number, bool, nil) plus float64 for
// computed numbers and time.Time for the built-in times.

// textOf returns the text form of a value: strings as they are, numbers in
// their shortest form, true/false, "" for null, RFC 3339 for times and
// compact JSON for lists and objects.
func textOf(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.Format(time.RFC3339)
	default:
		s, _ := compactJSON(v)
		return s
	}
}

// compactJSON marshals v without HTML escaping and without a trailing newline.
func compactJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonReady(v)); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// jsonReady converts a time to RFC 3339 text so that a value can be
// marshalled; times only come from built-ins, never from inside payloads.
func jsonReady(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.Format(time.RFC3339)
	}
	return v
}

// kindName names the type of a value for error messages.
func kindName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "text"
	case json.Number, float64:
		return "a number"
	case bool:
		return "true/false"
	case time.Time:
		return "a time"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// isScalar reports whether v is not a list or an object.
func isScalar(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return false
	}
	return true
}

// quoteShort quotes a value for an error message, shortening long text.
func quoteShort(v any) string {
	s := textOf(v)
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "..."
	}
	if _, ok := v.(string); ok || v == nil {
		return strconv.Quote(s)
	}
	return s
}

// parseNumber parses number text the way ops people write it: surrounding
// spaces are ignored, and the result must be finite. It does not accept hex,
// underscores or "Inf".
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || !looksNumeric(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// looksNumeric accepts an optional sign, digits with at most one decimal
// point, and an optional exponent.
func looksNumeric(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			digits++
		case c == '.' && !dot:
			dot = true
		case (c == 'e' || c == 'E') && digits > 0:
			i++
			if i < len(s) && (s[i] == '+' || s[i] == '-') {
				i++
			}
			if i >= len(s) {
				return false
			}
			for ; i < len(s); i++ {
				if !isDigit(s[i]) {
					return false
				}
			}
			return true
		default:
			return false
		}
	}
	return digits > 0
}

// toFloat converts numbers and numeric text to float64.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		return parseNumber(string(x))
	case float64:
		return x, !math.IsInf(x, 0) && !math.IsNaN(x)
	case string:
		return parseNumber(x)
	}
	return 0, false
}

// numberValue returns a JSON-ready number: json.Number for whole numbers that
// fit, float64 otherwise.
func numberValue(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return json.Number(strconv.FormatInt(int64(f), 10))
	}
	return f
}

// equalValues reports whether a response value equals a literal from the
// mapping file. Numbers compare as numbers (so 9, 9.0 and "9" are equal when
// the literal is a number), booleans as booleans, null only with null, and
// everything else by exact text.
func equalValues(v, lit any) bool {
	switch l := lit.(type) {
	case nil:
		return v == nil
	case bool:
		switch x := v.(type) {
		case bool:
			return x == l
		case string:
			return strings.TrimSpace(x) == strconv.FormatBool(l)
		}
		return false
	case json.Number, float64:
		lf, ok1 := toFloat(l)
		vf, ok2 := toFloat(v)
		return ok1 && ok2 && lf == vf
	default:
		if v == nil || !isScalar(v) {
			return false
		}
		return textOf(v) == textOf(lit)
	}
}

// literalFromYAML converts a scalar or null YAML node's value to a literal:
// string, json.Number, float64, bool or nil.
func literalFromYAML(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool:
		return x, nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, fmt.Errorf("%v is not a number JSON can carry", x)
		}
		return numberValue(x), nil
	}
	return nil, fmt.Errorf("expected a single value, got %s", kindName(v))
}
