package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
)

// The requests a HubSpot mapping may render. The destination recognises the
// action by method and path and builds the wire requests itself, so that it
// can batch, deduplicate and reconcile them.
const (
	// UpsertPath takes one batch-upsert input per response:
	// {id, idProperty, properties, note?}. The destination sends up to 100
	// of them in one request.
	UpsertPath = "/crm/v3/objects/contacts/batch/upsert"
	// NotesPath takes one note per response: {properties, associations}.
	NotesPath = "/crm/v3/objects/notes"
	// notesSearchPath finds notes by their delivery key.
	notesSearchPath = "/crm/v3/objects/notes/search"
	// contactsReadPath reads contacts by a unique property.
	contactsReadPath = "/crm/v3/objects/contacts/batch/read"
	// noteToContact is HubSpot's association type from a note to a contact.
	noteToContact = 202
)

// upsertInput is one contact of a batch upsert, as sent.
type upsertInput struct {
	ID                 string            `json:"id"`
	IDProperty         string            `json:"idProperty,omitempty"`
	Properties         map[string]string `json:"properties"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId,omitempty"`
}

// noteSpec is a note to create: its properties (hs_timestamp and
// hs_note_body at least) and associations.
type noteSpec struct {
	Properties   map[string]string `json:"properties"`
	Associations []association     `json:"associations"`
}

// association links a new object to another one.
type association struct {
	To    associationTo     `json:"to"`
	Types []associationType `json:"types"`
}

type associationTo struct {
	ID string `json:"id"`
}

type associationType struct {
	AssociationCategory string `json:"associationCategory"`
	AssociationTypeID   int    `json:"associationTypeId"`
}

// contactNote links a note to a contact.
func contactNote(contactID string) []association {
	return []association{{
		To:    associationTo{ID: contactID},
		Types: []associationType{{AssociationCategory: "HUBSPOT_DEFINED", AssociationTypeID: noteToContact}},
	}}
}

// action is what one rendered request asks for: a contact upsert (with an
// optional note about that contact) or a note on its own.
type action struct {
	upsert *upsertInput
	// dedupe identifies the contact within a batch: the id property and the
	// id as HubSpot compares it.
	dedupe string
	note   *noteSpec
}

// parseAction reads a rendered request. A request the destination does not
// know is a mapping mistake, reported as a render error.
func parseAction(r *mapping.Request, submitted time.Time) (*action, error) {
	if r == nil {
		return nil, connectors.Render(errors.New("the mapping rendered no request"))
	}
	body, _ := r.Body.(map[string]any)
	switch {
	case r.Method == http.MethodPost && r.Path == UpsertPath:
		if body == nil {
			return nil, connectors.Render(fmt.Errorf("%s: the body must be one input such as {id, idProperty, properties}, got %s", UpsertPath, connectors.JSONKind(r.Body)))
		}
		return parseUpsert(body, submitted)
	case r.Method == http.MethodPost && r.Path == NotesPath:
		if body == nil {
			return nil, connectors.Render(fmt.Errorf("%s: the body must be {properties, associations}, got %s", NotesPath, connectors.JSONKind(r.Body)))
		}
		n, err := parseNote(body, submitted)
		if err != nil {
			return nil, err
		}
		return &action{note: n}, nil
	}
	return nil, connectors.Render(fmt.Errorf("the hubspot destination sends contact upserts (POST %s, or preset hubspot.contact_upsert) and notes (POST %s); this mapping renders %s %s",
		UpsertPath, NotesPath, r.Method, r.Path))
}

var upsertKeys = map[string]bool{"id": true, "idProperty": true, "properties": true, "objectWriteTraceId": true, "note": true}

// parseUpsert reads one upsert input and its optional note.
func parseUpsert(body map[string]any, submitted time.Time) (*action, error) {
	for k := range body {
		if !upsertKeys[k] {
			return nil, connectors.Render(fmt.Errorf("upsert input: unknown key %q (an input has id, idProperty, properties and, for surveysync, note)", k))
		}
	}
	in := &upsertInput{Properties: map[string]string{}}
	switch v := body["idProperty"].(type) {
	case nil:
	case string:
		in.IDProperty = strings.TrimSpace(v)
	default:
		return nil, connectors.Render(fmt.Errorf("upsert input: idProperty must be a property name, got %s", connectors.JSONKind(v)))
	}
	id, err := propertyText(body["id"])
	if err != nil {
		return nil, connectors.Render(fmt.Errorf("upsert input: id: %w", err))
	}
	id = strings.TrimSpace(id)
	if in.IDProperty == "email" {
		// HubSpot matches emails exactly; contacts are keyed by the
		// lowercased address.
		id = strings.ToLower(id)
	}
	if id == "" {
		return nil, connectors.Render(errors.New("upsert input: id rendered empty; the response has no value to find the contact by"))
	}
	in.ID = id
	props, ok := body["properties"].(map[string]any)
	if !ok && body["properties"] != nil {
		return nil, connectors.Render(fmt.Errorf("upsert input: properties must be names and values, got %s", connectors.JSONKind(body["properties"])))
	}
	for name, v := range props {
		text, err := propertyText(v)
		if err != nil {
			return nil, connectors.Render(fmt.Errorf("upsert input: properties.%s: %w", name, err))
		}
		in.Properties[name] = text
	}
	a := &action{upsert: in, dedupe: in.IDProperty + "\x00" + id}
	if n, ok := body["note"]; ok && n != nil {
		note, err := parseUpsertNote(n, submitted)
		if err != nil {
			return nil, err
		}
		a.note = note
	}
	return a, nil
}

// parseUpsertNote reads the note of an upsert input: its text, or
// {body, timestamp, properties}. A note whose body rendered empty is left out.
func parseUpsertNote(v any, submitted time.Time) (*noteSpec, error) {
	n := &noteSpec{Properties: map[string]string{}}
	var body, stamp any
	switch x := v.(type) {
	case string:
		body = x
	case map[string]any:
		for k := range x {
			if k != "body" && k != "timestamp" && k != "properties" {
				return nil, connectors.Render(fmt.Errorf("note: unknown key %q (a note has body, timestamp and properties)", k))
			}
		}
		body, stamp = x["body"], x["timestamp"]
		if p, ok := x["properties"].(map[string]any); ok {
			for name, pv := range p {
				text, err := propertyText(pv)
				if err != nil {
					return nil, connectors.Render(fmt.Errorf("note: properties.%s: %w", name, err))
				}
				n.Properties[name] = text
			}
		}
	default:
		return nil, connectors.Render(fmt.Errorf("note: expected the note's text or {body, timestamp}, got %s", connectors.JSONKind(v)))
	}
	text, err := propertyText(body)
	if err != nil {
		return nil, connectors.Render(fmt.Errorf("note: body: %w", err))
	}
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	n.Properties["hs_note_body"] = text
	ts, err := timestampText(stamp, submitted)
	if err != nil {
		return nil, connectors.Render(fmt.Errorf("note: timestamp: %w", err))
	}
	n.Properties["hs_timestamp"] = ts
	return n, nil
}

// parseNote reads a note request: {properties, associations}.
func parseNote(body map[string]any, submitted time.Time) (*noteSpec, error) {
	for k := range body {
		if k != "properties" && k != "associations" {
			return nil, connectors.Render(fmt.Errorf("note: unknown key %q (a note has properties and associations)", k))
		}
	}
	n := &noteSpec{Properties: map[string]string{}}
	props, ok := body["properties"].(map[string]any)
	if !ok {
		return nil, connectors.Render(fmt.Errorf("note: properties must be names and values, got %s", connectors.JSONKind(body["properties"])))
	}
	for name, v := range props {
		text, err := propertyText(v)
		if err != nil {
			return nil, connectors.Render(fmt.Errorf("note: properties.%s: %w", name, err))
		}
		n.Properties[name] = text
	}
	if n.Properties["hs_timestamp"] == "" {
		ts, _ := timestampText(nil, submitted)
		n.Properties["hs_timestamp"] = ts
	}
	if a, ok := body["associations"]; ok && a != nil {
		raw, err := json.Marshal(a)
		if err == nil {
			err = json.Unmarshal(raw, &n.Associations)
		}
		if err != nil {
			return nil, connectors.Render(fmt.Errorf("note: associations must be a list of {to: {id}, types: [{associationCategory, associationTypeId}]}: %v", err))
		}
	}
	return n, nil
}

// timestampText renders hs_timestamp: the mapping's value as text, or the
// response's submission time in epoch milliseconds.
func timestampText(v any, submitted time.Time) (string, error) {
	if v != nil {
		text, err := propertyText(v)
		if err != nil {
			return "", err
		}
		if strings.TrimSpace(text) != "" {
			return text, nil
		}
	}
	if submitted.IsZero() {
		return "", errors.New("no timestamp and no submission time; hs_timestamp is required")
	}
	return strconv.FormatInt(submitted.UnixMilli(), 10), nil
}

// propertyText turns a rendered value into the string HubSpot takes for
// every property: text as is, numbers in their shortest decimal form, true
// and false, null as "" (which clears the property), and lists joined with
// ";" (multiple checkboxes). Times arrive already as RFC 3339 text; use the
// unix_ms pipe for epoch milliseconds. Objects are refused.
func propertyText(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if _, nested := e.([]any); nested {
				return "", errors.New("a list of lists cannot be a property value")
			}
			s, err := propertyText(e)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ";"), nil
	}
	return "", fmt.Errorf("%s cannot be a property value; HubSpot properties take text, numbers, true/false or lists", connectors.JSONKind(v))
}

// checkMapping refuses, when the configuration is loaded, request mappings
// this destination cannot send: it understands contact upserts and notes.
func checkMapping(m *mapping.Mapping) error {
	shape, ok := m.RequestShape()
	if !ok {
		return nil
	}
	if shape.Method == http.MethodPost && (shape.Path == UpsertPath || shape.Path == NotesPath) {
		return nil
	}
	return fmt.Errorf("it sends POST %s (contact upserts, or preset hubspot.contact_upsert) and POST %s (notes); this mapping sends %s %s", UpsertPath, NotesPath, shape.Method, shape.Path)
}
