package survey

import (
	"strconv"
	"time"
)

// Kind is the type of a rendered Value.
type Kind uint8

// The kinds of value a mapping can produce.
const (
	// KindNull is an absent value: an empty cell, or a JSON null.
	KindNull Kind = iota
	// KindText is a string, always written as text.
	KindText
	// KindNumber is a float64 (integers included).
	KindNumber
	// KindBool is a boolean.
	KindBool
	// KindDate is a calendar date; only the date part of Time counts.
	KindDate
	// KindDateTime is an instant, with Time's location as its display zone.
	KindDateTime
)

// String returns the kind's name as mapping files spell it.
func (k Kind) String() string {
	switch k {
	case KindText:
		return "text"
	case KindNumber:
		return "number"
	case KindBool:
		return "bool"
	case KindDate:
		return "date"
	case KindDateTime:
		return "datetime"
	default:
		return "null"
	}
}

// Value is one typed value produced by a mapping: a sheet cell or a leaf of a
// request body. Only the field that matches Kind is meaningful.
type Value struct {
	Kind Kind
	Str  string
	Num  float64
	Bool bool
	Time time.Time
	// Layout is the Go time layout used when a date or datetime is written as
	// text; empty means ISO 8601 (RFC 3339 for datetimes).
	Layout string
}

// Text returns a text value.
func Text(s string) Value { return Value{Kind: KindText, Str: s} }

// Number returns a number value.
func Number(f float64) Value { return Value{Kind: KindNumber, Num: f} }

// Bool returns a boolean value.
func Bool(b bool) Value { return Value{Kind: KindBool, Bool: b} }

// Date returns a date value.
func Date(t time.Time) Value { return Value{Kind: KindDate, Time: t} }

// DateTime returns a datetime value.
func DateTime(t time.Time) Value { return Value{Kind: KindDateTime, Time: t} }

// Null is the absent value.
var Null = Value{}

// IsNull reports whether v is absent.
func (v Value) IsNull() bool { return v.Kind == KindNull }

// String formats v as text: numbers in their shortest form, booleans as
// true/false, dates and datetimes in their layout (ISO 8601 by default).
func (v Value) String() string {
	switch v.Kind {
	case KindText:
		return v.Str
	case KindNumber:
		return strconv.FormatFloat(v.Num, 'f', -1, 64)
	case KindBool:
		return strconv.FormatBool(v.Bool)
	case KindDate:
		if v.Layout != "" {
			return v.Time.Format(v.Layout)
		}
		return v.Time.Format(time.DateOnly)
	case KindDateTime:
		if v.Layout != "" {
			return v.Time.Format(v.Layout)
		}
		return v.Time.Format(time.RFC3339)
	default:
		return ""
	}
}

// Interface returns v as a plain Go value for JSON encoding: string, float64,
// bool, nil, or the text form of a date or datetime.
func (v Value) Interface() any {
	switch v.Kind {
	case KindText:
		return v.Str
	case KindNumber:
		return v.Num
	case KindBool:
		return v.Bool
	case KindDate, KindDateTime:
		return v.String()
	default:
		return nil
	}
}

// sheetsEpoch is day zero of spreadsheet serial dates.
var sheetsEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// SerialNumber returns a date or datetime as a spreadsheet serial number:
// days since 1899-12-30 in the value's own time zone, with the time of day as
// the fraction.
func (v Value) SerialNumber() float64 {
	t := v.Time
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	if v.Kind == KindDate {
		wall = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return wall.Sub(sheetsEpoch).Hours() / 24
}
