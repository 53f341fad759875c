package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
)

var _ connectors.Checker = (*Destination)(nil)

// propertiesPath lists the property definitions of an object type.
const propertiesPath = "/crm/v3/properties/"

// builtinNoteProperties are the note properties the destination sets
// itself; every HubSpot account has them.
var builtinNoteProperties = map[string]bool{"hs_note_body": true, "hs_timestamp": true}

// propertyDef is what the check needs of one property definition.
type propertyDef struct {
	Name           string `json:"name"`
	HasUniqueValue bool   `json:"hasUniqueValue"`
	Calculated     bool   `json:"calculated"`
	Modification   struct {
		ReadOnlyValue bool `json:"readOnlyValue"`
	} `json:"modificationMetadata"`
}

// namedProperty is a property a mapping sets, with where it is written.
type namedProperty struct {
	name  string
	where string
	pos   config.Pos
}

// Check is validate --connect's look at a sync: it reads the contact (and,
// when the mapping makes notes with properties of its own, the note)
// property definitions, one GET each, and reports every property the
// mapping sets that does not exist or is read-only, and an idProperty that
// does not hold unique values. It writes nothing.
func (d *Destination) Check(ctx context.Context, _ string, m *mapping.Mapping, sample *mapping.Request) ([]connectors.Finding, error) {
	shape, ok := m.RequestShape()
	if !ok || shape.Method != http.MethodPost {
		return nil, nil
	}
	body, ok := m.Body()
	if !ok {
		return nil, nil
	}
	var sampleBody map[string]any
	if sample != nil {
		sampleBody, _ = sample.Body.(map[string]any)
	}
	var findings []connectors.Finding
	note := func(format string, args ...any) {
		findings = append(findings, connectors.Finding{Note: true, Mapping: true, Msg: fmt.Sprintf(format, args...)})
	}
	var contact, notes []namedProperty
	idProperty := ""
	var idPos config.Pos
	makesNote := false
	switch shape.Path {
	case UpsertPath:
		contact = propertyNames(body.Get("properties"), sampleBody["properties"], note)
		if p := body.Get("idProperty"); p.Exists() {
			if v, ok := p.Const(); ok {
				idProperty, _ = v.(string)
			} else if s, ok := sampleBody["idProperty"].(string); ok {
				idProperty = s
			} else {
				note("idProperty is a template; the property it names could not be checked without a sample response the sync renders (--sample)")
			}
			idPos = body.Get("id").Pos()
		}
		if n := body.Get("note"); n.Exists() {
			makesNote = true
			notes = propertyNames(n.Get("properties"), nil, note)
		}
	case NotesPath:
		makesNote = true
		notes = propertyNames(body.Get("properties"), sampleBody["properties"], note)
	default:
		return nil, nil
	}
	if idProperty != "" {
		contact = append(contact, namedProperty{name: idProperty, where: "body.idProperty", pos: idPos})
	}
	if makesNote && d.cfg.NoteKeyProperty != "" {
		notes = append(notes, namedProperty{name: d.cfg.NoteKeyProperty, where: "note_key_property"})
	}
	var custom []namedProperty
	for _, p := range notes {
		if !builtinNoteProperties[p.name] {
			custom = append(custom, p)
		}
	}
	if len(contact) == 0 && len(custom) == 0 {
		// Nothing to look up; one read still proves the endpoint and the
		// credentials.
		objectType := "notes"
		if shape.Path == UpsertPath {
			objectType = "contacts"
		}
		_, err := d.propertyDefs(ctx, objectType)
		return findings, err
	}
	if len(contact) > 0 {
		defs, err := d.propertyDefs(ctx, "contacts")
		if err != nil {
			return findings, err
		}
		findings = append(findings, checkProperties("contact", contact, defs, idProperty)...)
	}
	if len(custom) > 0 {
		defs, err := d.propertyDefs(ctx, "notes")
		if err != nil {
			return findings, err
		}
		findings = append(findings, checkProperties("note", custom, defs, "")...)
	}
	return findings, nil
}

// propertyNames lists the property names of a mapping's properties object;
// when that is one template, the names are read from the sample's rendered
// value, if any.
func propertyNames(p mapping.BodyPart, sample any, note func(string, ...any)) []namedProperty {
	var out []namedProperty
	switch {
	case p.IsObject():
		for _, k := range p.Keys() {
			kid := p.Get(k)
			out = append(out, namedProperty{name: k, where: kid.Where(), pos: kid.Pos()})
		}
	case p.Exists():
		_, pos, isTemplate := p.Template()
		if !isTemplate {
			return nil
		}
		rendered, ok := sample.(map[string]any)
		if !ok {
			note("%s is a template; the property names it renders could not be checked without a sample response the sync renders (--sample)", p.Where())
			return nil
		}
		names := make([]string, 0, len(rendered))
		for k := range rendered {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			out = append(out, namedProperty{name: k, where: p.Where() + "." + k, pos: pos})
		}
	}
	return out
}

// checkProperties reports the properties that are not among defs, or that
// cannot be set; idProperty must hold unique values.
func checkProperties(object string, props []namedProperty, defs map[string]propertyDef, idProperty string) []connectors.Finding {
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []connectors.Finding
	for _, p := range props {
		def, ok := defs[p.name]
		var msg string
		switch {
		case !ok:
			hint := ""
			if s := config.Suggest(p.name, names); s != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", s)
			}
			msg = fmt.Sprintf("%s property %q (%s) does not exist in HubSpot%s; create it under Settings → Properties, or correct the name", object, p.name, p.where, hint)
		case p.name == idProperty && !def.HasUniqueValue:
			msg = fmt.Sprintf("idProperty %q is not a property with unique values in HubSpot; contacts are upserted by email or by a property created with unique values required", p.name)
		case p.name != idProperty && (def.Modification.ReadOnlyValue || def.Calculated):
			msg = fmt.Sprintf("%s property %q (%s) is read-only in HubSpot; HubSpot refuses values for it, so remove it from the mapping", object, p.name, p.where)
		default:
			continue
		}
		out = append(out, connectors.Finding{Mapping: true, Pos: p.pos, Msg: msg})
	}
	return out
}

// propertyDefs reads the property definitions of an object type: one GET,
// which changes nothing.
func (d *Destination) propertyDefs(ctx context.Context, objectType string) (map[string]propertyDef, error) {
	what := "reading the " + objectType[:len(objectType)-1] + " property definitions"
	resp, data, err := d.call(ctx, http.MethodGet, propertiesPath+objectType, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := decodeError(data)
		switch code := resp.StatusCode; code {
		case http.StatusUnauthorized:
			return nil, fmt.Errorf("hubspot rejected the credentials (401) when %s: %s; check the private-app token or the OAuth grant", what, e.text())
		case http.StatusForbidden:
			return nil, fmt.Errorf("hubspot refused access (403) when %s: %s; the token needs a scope that reads %s properties (crm.objects.%s.read or crm.schemas.%s.read) besides the scopes that deliver",
				what, e.text(), objectType[:len(objectType)-1], objectType, objectType)
		case http.StatusNotFound:
			return nil, fmt.Errorf("hubspot has no property definitions at %s%s%s (404): %s; check endpoint", d.base, propertiesPath, objectType, e.text())
		default:
			return nil, fmt.Errorf("%s: hubspot answered %d: %s", what, code, e.text())
		}
	}
	var list struct {
		Results []propertyDef `json:"results"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s: the answer is not HubSpot's list of properties: %v", what, err)
	}
	defs := make(map[string]propertyDef, len(list.Results))
	for _, p := range list.Results {
		defs[p.Name] = p
	}
	return defs, nil
}
