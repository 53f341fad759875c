package scores

import (
	"testing"
)

// FuzzParseScale checks that ParseScale never panics and that whatever it
// accepts survives a round trip through its text form.
func FuzzParseScale(f *testing.F) {
	for _, seed := range []string{"1-5", "0-10", "1–7", "1..10", "-2-2", "-5--1", "0-2.5", "5", "", "--", "1e3-1e4", "NaN-Inf"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		scale, err := ParseScale(s)
		if err != nil {
			return
		}
		text, err := scale.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(%v): %v", scale, err)
		}
		back, err := ParseScale(string(text))
		if err != nil {
			t.Fatalf("ParseScale(%q) accepted, but its text form %q is rejected: %v", s, text, err)
		}
		if back != scale && !(scale.Min != scale.Min || scale.Max != scale.Max) { // NaN never equals itself
			t.Fatalf("round trip of %q: %v became %v", s, scale, back)
		}
	})
}

func TestParsePeriodKind(t *testing.T) {
	t.Parallel()
	for _, kind := range []PeriodKind{Day, Week, Month, Quarter, Year, Rolling, All} {
		if got, err := ParsePeriodKind(string(kind)); err != nil || got != kind {
			t.Errorf("ParsePeriodKind(%q) = %q, %v", kind, got, err)
		}
	}
	if _, err := ParsePeriodKind("fortnight"); err == nil || err.Error() != `period "fortnight" is unknown: want day, week, month, quarter, year, rolling or all` {
		t.Errorf("ParsePeriodKind(fortnight) error = %v", err)
	}
}
