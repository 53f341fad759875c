package hubspotapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// noteToContact is the HUBSPOT_DEFINED association type from a note to a
// contact.
const noteToContact = 202

// associationInput is one entry of a create request's associations.
type associationInput struct {
	To struct {
		ID flexID `json:"id"`
	} `json:"to"`
	Types []struct {
		AssociationCategory string `json:"associationCategory"`
		AssociationTypeID   int    `json:"associationTypeId"`
	} `json:"types"`
}

// flexID is an object id sent as a string (as the spec says) or a number
// (as many clients do).
type flexID string

// UnmarshalJSON accepts a JSON string or number.
func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("object id must be a string or a number: %w", err)
	}
	*f = flexID(n.String())
	return nil
}

// createNote serves POST /crm/v3/objects/notes. hs_timestamp is required;
// associations may link the note to existing contacts (type 202).
func (s *Server) createNote(w http.ResponseWriter, r *http.Request) {
	var in objectInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.createNoteLocked(r, in).write(w)
}

func (s *Server) createNoteLocked(r *http.Request, in objectInput) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	noteLocked(r, func(e *Entry) { e.Inputs = 1 })
	st := s.notes
	vals, errs := st.schema.check(in.Properties)
	if vals["hs_timestamp"] == "" && !slices.ContainsFunc(errs, func(e propError) bool { return e.Name == "hs_timestamp" }) {
		errs = append(errs, propError{"hs_timestamp", codeRequired, `Property "hs_timestamp" is required`})
	}
	if len(errs) > 0 {
		return fail(http.StatusBadRequest, categoryValidation, propMessage(errs), propDetails(errs)...)
	}
	contacts, details := s.noteContacts(in.Associations)
	if len(details) > 0 {
		return fail(http.StatusBadRequest, categoryValidation, "One or more associations are invalid", details...)
	}
	o := st.create(vals, s.now(), s.seqOf(r), false)
	o.contacts = contacts
	st.snapshot(o, s.opts.SearchDelay > 0)
	noteLocked(r, func(e *Entry) { e.Applied = true })
	return ok(http.StatusCreated, st.public(o, st.writeNames(vals), nil))
}

// noteContacts checks a note's associations and returns the contact ids.
func (s *Server) noteContacts(assocs []associationInput) ([]int64, []errorDetail) {
	var ids []int64
	var details []errorDetail
	bad := func(format string, args ...any) {
		details = append(details, errorDetail{Message: fmt.Sprintf(format, args...), In: "associations"})
	}
	for i, a := range assocs {
		if len(a.Types) == 0 {
			bad("association %d has no types", i)
			continue
		}
		for _, t := range a.Types {
			if t.AssociationTypeID != noteToContact || t.AssociationCategory != "HUBSPOT_DEFINED" {
				bad("association %d: type %s/%d is not supported by the emulator (only HUBSPOT_DEFINED/%d, note to contact)",
					i, t.AssociationCategory, t.AssociationTypeID, noteToContact)
				continue
			}
			id, err := strconv.ParseInt(string(a.To.ID), 10, 64)
			if err != nil || s.contacts.objects[id] == nil {
				bad("association %d: contact %q does not exist", i, a.To.ID)
				continue
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids, details
}

// getNote serves GET /crm/v3/objects/notes/{id}; associations=contacts adds
// the associated contact ids.
func (s *Server) getNote(w http.ResponseWriter, r *http.Request) {
	s.getObject(s.notes, r).write(w)
}

// noteAssociations renders the contacts a note is associated with.
func noteAssociations(o *object) map[string]associationResults {
	res := associationResults{Results: make([]associatedID, len(o.contacts))}
	for i, id := range o.contacts {
		res.Results[i] = associatedID{ID: strconv.FormatInt(id, 10), Type: "note_to_contact"}
	}
	return map[string]associationResults{"contacts": res}
}
