package scores

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Scale is the closed range of numbers a rating question offers, such as 1–5
// or 0–10. Stars, emoji and labels are turned into numbers upstream by the
// mapping's value maps, so a scale is always numeric.
type Scale struct {
	// Min is the lowest value a respondent can give.
	Min float64
	// Max is the highest value a respondent can give.
	Max float64
}

// The scales most surveys use.
var (
	// Scale1to5 is the usual CSAT scale (Delighted, Zendesk, Nicereply).
	Scale1to5 = Scale{Min: 1, Max: 5}
	// Scale0to10 is the NPS "likelihood to recommend" scale.
	Scale0to10 = Scale{Min: 0, Max: 10}
	// Scale1to7 is the CES 2.0 agreement scale.
	Scale1to7 = Scale{Min: 1, Max: 7}
	// Scale1to10 is the ten-star scale.
	Scale1to10 = Scale{Min: 1, Max: 10}
)

// ParseScale reads a scale written as "min-max", for example "1-5", "0-10"
// or "-2-2". An en dash ("1–5") or two dots ("1..5") are accepted as the
// separator too.
func ParseScale(s string) (Scale, error) {
	text := strings.TrimSpace(s)
	lo, hi, ok := splitScale(text)
	if !ok {
		return Scale{}, fmt.Errorf("parsing scale %q: want min-max, for example 1-5 or 0-10", s)
	}
	minValue, err := strconv.ParseFloat(strings.TrimSpace(lo), 64)
	if err != nil {
		return Scale{}, fmt.Errorf("parsing scale %q: minimum %q is not a number", s, lo)
	}
	maxValue, err := strconv.ParseFloat(strings.TrimSpace(hi), 64)
	if err != nil {
		return Scale{}, fmt.Errorf("parsing scale %q: maximum %q is not a number", s, hi)
	}
	return Scale{Min: minValue, Max: maxValue}, nil
}

// splitScale splits "min-max" at the separator that follows the minimum, so
// that a negative minimum ("-2-2") keeps its sign.
func splitScale(s string) (lo, hi string, ok bool) {
	for _, sep := range []string{"..", "–", "—"} {
		if lo, hi, ok := strings.Cut(s, sep); ok {
			return lo, hi, true
		}
	}
	if len(s) < 3 {
		return "", "", false
	}
	// Skip a leading sign, then cut at the next '-'.
	i := strings.IndexByte(s[1:], '-')
	if i < 0 {
		return "", "", false
	}
	return s[:i+1], s[i+2:], true
}

// String writes the scale as "min–max" with an en dash, as descriptions show
// it.
func (s Scale) String() string {
	return formatNumber(s.Min) + "–" + formatNumber(s.Max)
}

// MarshalText writes the scale as "min-max", the form ParseScale reads.
func (s Scale) MarshalText() ([]byte, error) {
	return []byte(formatNumber(s.Min) + "-" + formatNumber(s.Max)), nil
}

// UnmarshalText reads the scale from "min-max", so that configuration files
// can write scale: 1-5.
func (s *Scale) UnmarshalText(text []byte) error {
	parsed, err := ParseScale(string(text))
	if err != nil {
		return err
	}
	*s = parsed
	return nil
}

// IsZero reports whether the scale is unset.
func (s Scale) IsZero() bool { return s.Min == 0 && s.Max == 0 }

// Contains reports whether v lies within the scale, ends included.
func (s Scale) Contains(v float64) bool { return v >= s.Min && v <= s.Max }

// validate reports what is wrong with the scale's bounds.
func (s Scale) validate(fractional bool) error {
	switch {
	case math.IsNaN(s.Min) || math.IsNaN(s.Max) || math.IsInf(s.Min, 0) || math.IsInf(s.Max, 0):
		return fmt.Errorf("bounds must be finite numbers, got %s", s)
	case s.Min >= s.Max:
		return fmt.Errorf("minimum must be below maximum, got %s", s)
	case !fractional && (!isWhole(s.Min) || !isWhole(s.Max)):
		return fmt.Errorf("bounds of a whole-number scale must be whole numbers, got %s (set fractional: true for a continuous scale)", s)
	}
	return nil
}

// isWhole reports whether v is a finite whole number.
func isWhole(v float64) bool { return v == math.Trunc(v) && !math.IsInf(v, 0) }

// formatNumber writes v in its shortest form: 4, 3.5, -2.
func formatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
