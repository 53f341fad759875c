package mapping

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/surveysync/surveysync/survey"
)

// valueType is a column's type.
type valueType uint8

const (
	typeText valueType = iota
	typeNumber
	typeInteger
	typeBool
	typeDate
	typeDateTime
)

var typeNames = map[string]valueType{
	"text":     typeText,
	"number":   typeNumber,
	"integer":  typeInteger,
	"bool":     typeBool,
	"date":     typeDate,
	"datetime": typeDateTime,
}

func (t valueType) String() string {
	for n, v := range typeNames {
		if v == t {
			return n
		}
	}
	return "text"
}

// kind is the survey.Kind values of this type have.
func (t valueType) kind() survey.Kind {
	switch t {
	case typeNumber, typeInteger:
		return survey.KindNumber
	case typeBool:
		return survey.KindBool
	case typeDate:
		return survey.KindDate
	case typeDateTime:
		return survey.KindDateTime
	default:
		return survey.KindText
	}
}

// typeSpec is a type with its time settings.
type typeSpec struct {
	typ         valueType
	zone        *time.Location // output zone for dates and datetimes
	inputZone   *time.Location // zone of times written without one
	format      *timeFormat    // output text form
	inputFormat *timeFormat    // the only accepted input form, when set
}

// convert turns a rendered value into a typed cell value. Null, and empty
// text for types other than text, become an empty cell.
func (ts *typeSpec) convert(v any) (survey.Value, error) {
	if v == nil {
		return survey.Null, nil
	}
	if ts.typ != typeText {
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
			return survey.Null, nil
		}
		if !isScalar(v) {
			return survey.Null, fmt.Errorf("a %s column needs a single value, got %s", ts.typ, kindName(v))
		}
	}
	switch ts.typ {
	case typeNumber:
		f, ok := toFloat(v)
		if !ok {
			return survey.Null, fmt.Errorf("%s is not a number", quoteShort(v))
		}
		return survey.Number(f), nil
	case typeInteger:
		f, ok := toFloat(v)
		if !ok {
			return survey.Null, fmt.Errorf("%s is not a number", quoteShort(v))
		}
		if f != math.Trunc(f) {
			return survey.Null, fmt.Errorf("%s is not a whole number", quoteShort(v))
		}
		return survey.Number(f), nil
	case typeBool:
		b, err := toBool(v)
		if err != nil {
			return survey.Null, err
		}
		return survey.Bool(b.(bool)), nil
	case typeDate, typeDateTime:
		t, dateOnly, err := parseTime(v, ts.inputZone, ts.inputFormat)
		if err != nil {
			return survey.Null, err
		}
		var out survey.Value
		switch {
		case ts.typ == typeDate && dateOnly:
			out = survey.Date(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, ts.zone))
		case ts.typ == typeDate:
			t = t.In(ts.zone)
			out = survey.Date(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, ts.zone))
		default:
			out = survey.DateTime(t.In(ts.zone))
		}
		if ts.format != nil {
			out.Layout = ts.format.layout
		}
		return out, nil
	default:
		if t, ok := v.(time.Time); ok && ts.zone != nil {
			v = t.In(ts.zone)
		}
		return survey.Text(textOf(v)), nil
	}
}
