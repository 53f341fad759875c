package hubspotapi

import (
	"fmt"
	"net/http"
	"slices"
)

// propertyDef is a property definition as the properties API returns it,
// with the fields the emulator can fill in.
type propertyDef struct {
	Name                 string               `json:"name"`
	Label                string               `json:"label"`
	Type                 string               `json:"type"`
	FieldType            string               `json:"fieldType"`
	GroupName            string               `json:"groupName"`
	Description          string               `json:"description"`
	Options              []any                `json:"options"`
	DisplayOrder         int                  `json:"displayOrder"`
	HasUniqueValue       bool                 `json:"hasUniqueValue"`
	Hidden               bool                 `json:"hidden"`
	FormField            bool                 `json:"formField"`
	Calculated           bool                 `json:"calculated"`
	ExternalOptions      bool                 `json:"externalOptions"`
	Archived             bool                 `json:"archived"`
	HubspotDefined       bool                 `json:"hubspotDefined"`
	ModificationMetadata modificationMetadata `json:"modificationMetadata"`
}

// modificationMetadata says what may be changed about a property.
type modificationMetadata struct {
	Archivable         bool `json:"archivable"`
	ReadOnlyDefinition bool `json:"readOnlyDefinition"`
	ReadOnlyValue      bool `json:"readOnlyValue"`
}

// storeFor returns the store of an object type as the properties API names
// it (contacts or 0-1, notes or 0-46), or nil.
func (s *Server) storeFor(objectType string) *store {
	switch objectType {
	case "contacts", "contact", "0-1":
		return s.contacts
	case "notes", "note", "0-46":
		return s.notes
	}
	return nil
}

// definitions lists the properties of a store, sorted by name: the ones
// values may be written to, then the read-only system ones. The caller
// holds s.mu.
func (st *store) definitions() []propertyDef {
	group := st.kind[:len(st.kind)-1] + "information"
	var out []propertyDef
	for name, p := range st.schema.props {
		out = append(out, propertyDef{
			Name: name, Label: name, Type: "string", FieldType: "text", GroupName: group, Options: []any{},
			HasUniqueValue: p.Unique, FormField: true,
			ModificationMetadata: modificationMetadata{Archivable: true},
		})
	}
	for name := range st.schema.readOnly {
		if _, dup := st.schema.props[name]; dup {
			continue
		}
		out = append(out, propertyDef{
			Name: name, Label: name, Type: "string", FieldType: "text", GroupName: group, Options: []any{},
			HasUniqueValue: name == "hs_object_id", HubspotDefined: true,
			ModificationMetadata: modificationMetadata{ReadOnlyDefinition: true, ReadOnlyValue: true},
		})
	}
	slices.SortFunc(out, func(a, b propertyDef) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// listProperties answers GET /crm/v3/properties/{objectType}: every
// property definition of contacts or notes.
func (s *Server) listProperties(w http.ResponseWriter, r *http.Request) {
	st := s.storeFor(r.PathValue("objectType"))
	if st == nil {
		writeError(w, http.StatusBadRequest, categoryValidation, fmt.Sprintf("Unable to infer object type from: %s", r.PathValue("objectType")))
		return
	}
	s.mu.Lock()
	defs := st.definitions()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"results": defs})
}

// getProperty answers GET /crm/v3/properties/{objectType}/{propertyName}:
// one definition, or 404 when the property does not exist.
func (s *Server) getProperty(w http.ResponseWriter, r *http.Request) {
	st := s.storeFor(r.PathValue("objectType"))
	if st == nil {
		writeError(w, http.StatusBadRequest, categoryValidation, fmt.Sprintf("Unable to infer object type from: %s", r.PathValue("objectType")))
		return
	}
	name := r.PathValue("propertyName")
	s.mu.Lock()
	defs := st.definitions()
	s.mu.Unlock()
	for _, d := range defs {
		if d.Name == name {
			writeJSON(w, http.StatusOK, d)
			return
		}
	}
	writeError(w, http.StatusNotFound, categoryNotFound, fmt.Sprintf("Property %s does not exist", name))
}
