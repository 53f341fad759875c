package zendeskapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// fieldInput is one entry of custom_fields.
type fieldInput struct {
	ID    json.RawMessage `json:"id"`
	Value json.RawMessage `json:"value"`
}

// checkFields validates custom field values against the configured fields
// and returns them in stored form: strings for text, integer, decimal,
// tagger and date fields, booleans for checkboxes, string lists for
// multiselects, and nil for a cleared value.
func (s *Server) checkFields(in []fieldInput) (map[int64]any, []detail) {
	vals := map[int64]any{}
	var errs []detail
	for i, f := range in {
		var id int64
		if err := json.Unmarshal(f.ID, &id); err != nil || id <= 0 {
			errs = append(errs, detail{Error: "InvalidValue",
				Description: fmt.Sprintf("custom_fields[%d]: id %s is not a field id", i, bytesOr(f.ID, "(missing)"))})
			continue
		}
		field, known := s.fields[id]
		if !known {
			errs = append(errs, detail{Error: "InvalidValue", FieldKey: strconv.FormatInt(id, 10),
				Description: fmt.Sprintf("Custom field %d does not exist", id)})
			continue
		}
		v, err := fieldValue(field, f.Value)
		if err != nil {
			errs = append(errs, detail{Error: "InvalidValue", FieldKey: strconv.FormatInt(id, 10),
				Description: fmt.Sprintf("%s (field %d, %s): %v", field.Title, id, field.Type, err)})
			continue
		}
		vals[id] = v
	}
	return vals, errs
}

func bytesOr(b []byte, def string) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return def
	}
	return string(b)
}

// fieldValue converts a raw value for field, or says why it is invalid.
func fieldValue(field Field, raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var str string
	isString := raw[0] == '"' && json.Unmarshal(raw, &str) == nil
	var num json.Number
	isNumber := !isString && json.Unmarshal(raw, &num) == nil

	switch field.Type {
	case FieldText, FieldTextarea:
		switch {
		case isString:
			return str, nil
		case isNumber:
			return num.String(), nil
		}
		return nil, fmt.Errorf("%s is not text", raw)
	case FieldInteger:
		text := str
		if isNumber {
			text = num.String()
		}
		if !isString && !isNumber {
			return nil, fmt.Errorf("%s is not an integer", raw)
		}
		if text == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", text)
		}
		return strconv.FormatInt(n, 10), nil
	case FieldDecimal:
		text := str
		if isNumber {
			text = num.String()
		}
		if !isString && !isNumber {
			return nil, fmt.Errorf("%s is not a number", raw)
		}
		if text == "" {
			return nil, nil
		}
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return nil, fmt.Errorf("%q is not a number", text)
		}
		return text, nil
	case FieldTagger:
		if !isString {
			return nil, fmt.Errorf("%s is not a tag", raw)
		}
		if str == "" {
			return nil, nil
		}
		if !slices.Contains(field.Tags, str) {
			return nil, fmt.Errorf("%q is not one of the options %v", str, field.Tags)
		}
		return str, nil
	case FieldMultiselect:
		var tags []string
		if err := json.Unmarshal(raw, &tags); err != nil {
			return nil, fmt.Errorf("%s is not a list of tags", raw)
		}
		for _, t := range tags {
			if !slices.Contains(field.Tags, t) {
				return nil, fmt.Errorf("%q is not one of the options %v", t, field.Tags)
			}
		}
		return tags, nil
	case FieldCheckbox:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("%s is not true or false", raw)
		}
		return b, nil
	case FieldDate:
		if !isString {
			return nil, fmt.Errorf("%s is not a date", raw)
		}
		if str == "" {
			return nil, nil
		}
		if _, err := time.Parse(time.DateOnly, str); err != nil {
			return nil, fmt.Errorf("%q is not a date in the form YYYY-MM-DD", str)
		}
		return str, nil
	}
	return nil, fmt.Errorf("the emulator does not know field type %q", field.Type)
}
