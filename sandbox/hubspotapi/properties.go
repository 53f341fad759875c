package hubspotapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Property error codes, as in HubSpot's "Property values were not valid"
// messages. codeNotString is the emulator's own.
const (
	codeNoSuchProperty = "PROPERTY_DOESNT_EXIST"
	codeReadOnly       = "READ_ONLY_VALUE"
	codeInvalidEmail   = "INVALID_EMAIL"
	codeInvalidDate    = "INVALID_DATE"
	codeRequired       = "REQUIRED_PROPERTY"
	codeTooLong        = "VALUE_TOO_LONG"
	codeNotString      = "INVALID_TYPE"
)

// maxNoteBody is the longest hs_note_body HubSpot accepts.
const maxNoteBody = 65_536

// propError is one invalid property value.
type propError struct {
	Name    string
	Code    string
	Message string
}

// schema is the set of properties one object type knows.
type schema struct {
	props    map[string]Property
	readOnly map[string]bool
}

func newSchema(defaults, extra []Property, readOnly ...string) *schema {
	sc := &schema{props: map[string]Property{}, readOnly: map[string]bool{}}
	for _, p := range append(slices.Clone(defaults), extra...) {
		sc.props[p.Name] = p
	}
	for _, n := range readOnly {
		sc.readOnly[n] = true
	}
	return sc
}

// contactDefaults are the contact properties every emulator knows.
var contactDefaults = []Property{
	{Name: "email", Unique: true},
	{Name: "firstname"},
	{Name: "lastname"},
	{Name: "phone"},
	{Name: "company"},
}

// noteDefaults are the note properties every emulator knows.
var noteDefaults = []Property{
	{Name: "hs_timestamp"},
	{Name: "hs_note_body"},
	{Name: "hubspot_owner_id"},
	{Name: "hs_attachment_ids"},
}

// check validates the property values of one input and returns them as
// strings; emails are lowercased as HubSpot stores them.
func (sc *schema) check(raw map[string]json.RawMessage) (map[string]string, []propError) {
	vals := make(map[string]string, len(raw))
	var errs []propError
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		if sc.readOnly[name] {
			errs = append(errs, propError{name, codeReadOnly, fmt.Sprintf("Property %q is a read only property; its value cannot be set.", name)})
			continue
		}
		if _, ok := sc.props[name]; !ok {
			errs = append(errs, propError{name, codeNoSuchProperty, fmt.Sprintf("Property %q does not exist", name)})
			continue
		}
		var v string
		if kind := jsonKind(raw[name]); kind != "string" {
			errs = append(errs, propError{name, codeNotString, fmt.Sprintf("Property %q must be a string, got %s", name, kind)})
			continue
		}
		if err := json.Unmarshal(raw[name], &v); err != nil {
			errs = append(errs, propError{name, codeNotString, fmt.Sprintf("Property %q must be a string: %v", name, err)})
			continue
		}
		switch name {
		case "email":
			v = strings.ToLower(strings.TrimSpace(v))
			if v != "" && !validEmail(v) {
				errs = append(errs, propError{name, codeInvalidEmail, fmt.Sprintf("Email address %s is invalid", v)})
				continue
			}
		case "hs_timestamp":
			if v != "" && !validTimestamp(v) {
				errs = append(errs, propError{name, codeInvalidDate, fmt.Sprintf("%s was not a valid long or ISO 8601 date-time", v)})
				continue
			}
		case "hs_note_body":
			if len(v) > maxNoteBody {
				errs = append(errs, propError{name, codeTooLong, fmt.Sprintf("Property %q is longer than %d characters", name, maxNoteBody)})
				continue
			}
		}
		vals[name] = v
	}
	return vals, errs
}

// jsonKind names the JSON type of a raw value.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// validEmail accepts a bare address with a dotted domain.
func validEmail(v string) bool {
	addr, err := mail.ParseAddress(v)
	if err != nil || addr.Address != v || strings.ContainsAny(v, " \t") {
		return false
	}
	_, domain, _ := strings.Cut(v, "@")
	return strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".")
}

// validTimestamp accepts epoch milliseconds or an ISO 8601 date-time.
func validTimestamp(v string) bool {
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return true
	}
	_, err := time.Parse(time.RFC3339Nano, v)
	return err == nil
}

// propMessage renders property errors as HubSpot's message text.
func propMessage(errs []propError) string {
	type item struct {
		IsValid bool   `json:"isValid"`
		Message string `json:"message"`
		Error   string `json:"error"`
		Name    string `json:"name"`
	}
	items := make([]item, len(errs))
	for i, e := range errs {
		items[i] = item{Message: e.Message, Error: e.Code, Name: e.Name}
	}
	b, _ := json.Marshal(items)
	return "Property values were not valid: " + string(b)
}

// propDetails renders property errors as an errors array.
func propDetails(errs []propError) []errorDetail {
	out := make([]errorDetail, len(errs))
	for i, e := range errs {
		out[i] = errorDetail{
			Message: e.Message,
			Code:    e.Code,
			In:      e.Name,
			Context: map[string][]string{"propertyName": {e.Name}},
		}
	}
	return out
}
