package scores

import (
	"fmt"
	"time"
)

// PeriodKind names how responses are grouped in time.
type PeriodKind string

// The period kinds. Calendar periods start at local midnight in the
// Options.Location and are built with calendar arithmetic, so a day is 23 or
// 25 hours long on a daylight-saving change.
const (
	// Day is one calendar day, labelled 2026-11-23.
	Day PeriodKind = "day"
	// Week is one ISO 8601 week starting on Monday, labelled 2026-W47. Its
	// year is the ISO week-numbering year, so 2027-01-01 is in 2026-W53.
	Week PeriodKind = "week"
	// Month is one calendar month, labelled 2026-11.
	Month PeriodKind = "month"
	// Quarter is January–March, April–June, July–September or
	// October–December, labelled 2026-Q4.
	Quarter PeriodKind = "quarter"
	// Year is one calendar year, labelled 2026.
	Year PeriodKind = "year"
	// Rolling is the single window of Options.RollingDays calendar days that
	// ends (exclusive) at Options.AsOf, such as Delighted's "30-day score".
	// It is labelled with its bounds as an ISO 8601 interval.
	Rolling PeriodKind = "rolling"
	// All puts every response in one period, labelled "all".
	All PeriodKind = "all"
)

// Period is the time span one Result covers: from Start (inclusive) to End
// (exclusive), both in the Options.Location.
type Period struct {
	// Kind is the kind of period.
	Kind PeriodKind
	// Start is the first instant of the period. It is the zero time for
	// All, which has no lower bound.
	Start time.Time
	// End is the first instant after the period. It is the zero time for
	// All without Options.AsOf.
	End time.Time
	// Label names the period: 2026-11-23, 2026-W47, 2026-11, 2026-Q4, 2026,
	// "all", or an ISO 8601 interval for rolling windows.
	Label string
}

// anchor is the local calendar date that identifies a calendar period: the
// day itself, the Monday of a week, or the first day of a month, quarter or
// year.
type anchor struct {
	year  int
	month time.Month
	day   int
}

// anchorOf returns the anchor of the period of kind that holds the local
// date y-m-d. The date may be out of range (day 0, month 13); it is
// normalised first.
func anchorOf(kind PeriodKind, y int, m time.Month, d int) anchor {
	// Normalise in UTC, where every date exists and has 24 hours.
	date := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	y, m, d = date.Date()
	switch kind {
	case Week:
		back := (int(date.Weekday()) + 6) % 7 // days since Monday
		return anchorOf(Day, y, m, d-back)
	case Month:
		return anchor{y, m, 1}
	case Quarter:
		return anchor{y, (m-1)/3*3 + 1, 1}
	case Year:
		return anchor{y, time.January, 1}
	default:
		return anchor{y, m, d}
	}
}

// next returns the anchor of the period that follows the one anchored at a.
func (a anchor) next(kind PeriodKind) anchor {
	y, m, d := a.year, a.month, a.day
	switch kind {
	case Week:
		d += 7
	case Month:
		m++
	case Quarter:
		m += 3
	case Year:
		y++
	default:
		d++
	}
	return anchorOf(kind, y, m, d)
}

// previous returns the anchor of the period that precedes the one anchored
// at a.
func (a anchor) previous(kind PeriodKind) anchor {
	return anchorOf(kind, a.year, a.month, a.day-1)
}

// bounds returns the first instant of the period anchored at a and of the
// next one, using calendar arithmetic in loc.
func (a anchor) bounds(kind PeriodKind, loc *time.Location) (start, end time.Time) {
	return a.midnight(loc), a.next(kind).midnight(loc)
}

// midnight returns the first instant of the anchor's date in loc. Where a
// daylight-saving change skips local midnight, time.Date may answer with an
// instant late on the previous day; the day then starts at the change.
func (a anchor) midnight(loc *time.Location) time.Time {
	t := time.Date(a.year, a.month, a.day, 0, 0, 0, 0, loc)
	if t.Day() != a.day {
		if _, change := t.ZoneBounds(); !change.IsZero() {
			return change
		}
	}
	return t
}

// label names the calendar period anchored at a.
func (a anchor) label(kind PeriodKind) string {
	switch kind {
	case Week:
		year, week := time.Date(a.year, a.month, a.day, 12, 0, 0, 0, time.UTC).ISOWeek()
		return fmt.Sprintf("%04d-W%02d", year, week)
	case Month:
		return fmt.Sprintf("%04d-%02d", a.year, int(a.month))
	case Quarter:
		return fmt.Sprintf("%04d-Q%d", a.year, (int(a.month)-1)/3+1)
	case Year:
		return fmt.Sprintf("%04d", a.year)
	default:
		return fmt.Sprintf("%04d-%02d-%02d", a.year, int(a.month), a.day)
	}
}

// calendarSpan is one calendar period: its anchor and its bounds.
type calendarSpan struct {
	anchor     anchor
	start, end time.Time
}

// contains reports whether t lies in the span.
func (s calendarSpan) contains(t time.Time) bool {
	return !t.Before(s.start) && t.Before(s.end)
}

// calendarSpanOf returns the calendar period of kind that holds the instant
// t in loc.
//
// The period is chosen by t's local date, then checked against the bounds:
// where a time zone skips local midnight, time.Date may place a period's
// start on the other side of the gap, and stepping to the neighbouring
// period keeps every instant in exactly one period, the one whose bounds
// contain it.
func calendarSpanOf(kind PeriodKind, t time.Time, loc *time.Location) calendarSpan {
	y, m, d := t.In(loc).Date()
	a := anchorOf(kind, y, m, d)
	start, end := a.bounds(kind, loc)
	switch {
	case t.Before(start):
		a = a.previous(kind)
		start, end = a.bounds(kind, loc)
	case !t.Before(end):
		a = a.next(kind)
		start, end = a.bounds(kind, loc)
	}
	return calendarSpan{anchor: a, start: start, end: end}
}

// rollingWindow returns the window of days calendar days ending at asOf in
// loc: the same wall-clock time days earlier, up to asOf.
func rollingWindow(days int, asOf time.Time, loc *time.Location) (start, end time.Time) {
	end = asOf.In(loc)
	return end.AddDate(0, 0, -days), end
}

// intervalLabel writes an ISO 8601 interval "start/end".
func intervalLabel(start, end time.Time) string {
	return start.Format(time.RFC3339) + "/" + end.Format(time.RFC3339)
}

// ParsePeriodKind reads a period kind as configuration files write it:
// day, week, month, quarter, year, rolling or all.
func ParsePeriodKind(s string) (PeriodKind, error) {
	if kind := PeriodKind(s); validKind(kind) {
		return kind, nil
	}
	return "", fmt.Errorf("period %q is unknown: want day, week, month, quarter, year, rolling or all", s)
}

// validKind reports whether kind is a known period kind.
func validKind(kind PeriodKind) bool {
	switch kind {
	case Day, Week, Month, Quarter, Year, Rolling, All:
		return true
	}
	return false
}
