package hubspotapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// objectInput is one object in a create, update or upsert request.
type objectInput struct {
	ID                 string                     `json:"id"`
	IDProperty         string                     `json:"idProperty"`
	Properties         map[string]json.RawMessage `json:"properties"`
	Associations       []associationInput         `json:"associations"`
	ObjectWriteTraceID string                     `json:"objectWriteTraceId"`
}

// queryList returns the values of a comma-separated, possibly repeated
// query parameter.
func queryList(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// conflictMessage words a unique-value clash as HubSpot does for email.
func conflictMessage(prop, value string, existing int64) string {
	if prop == "email" {
		return fmt.Sprintf("Contact already exists. Existing ID: %d", existing)
	}
	return fmt.Sprintf("A contact with the value %q for the unique property %q already exists. Existing ID: %d", value, prop, existing)
}

// createContact serves POST /crm/v3/objects/contacts.
func (s *Server) createContact(w http.ResponseWriter, r *http.Request) {
	var in objectInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.createContactLocked(r, in).write(w)
}

func (s *Server) createContactLocked(r *http.Request, in objectInput) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	noteLocked(r, func(e *Entry) { e.Inputs = 1 })
	vals, errs := s.contacts.schema.check(in.Properties)
	if len(errs) > 0 {
		return fail(http.StatusBadRequest, categoryValidation, propMessage(errs), propDetails(errs)...)
	}
	if prop, id := s.contacts.conflict(nil, vals); prop != "" {
		return fail(http.StatusConflict, categoryConflict, conflictMessage(prop, vals[prop], id))
	}
	o := s.contacts.create(vals, s.now(), s.seqOf(r), s.opts.SearchDelay > 0)
	noteLocked(r, func(e *Entry) { e.Applied = true })
	return ok(http.StatusCreated, s.contacts.public(o, s.contacts.writeNames(vals), nil))
}

// seqOf returns the log sequence number of r.
func (s *Server) seqOf(r *http.Request) int64 {
	if e := entryFrom(r); e != nil {
		return e.Seq
	}
	return 0
}

// findByPath finds the object addressed by the {id} path segment and the
// idProperty query parameter.
func (s *Server) findByPath(st *store, r *http.Request) (*object, reply, bool) {
	idProp := r.URL.Query().Get("idProperty")
	if idProp != "" && !st.isIDProperty(idProp) {
		return nil, fail(http.StatusBadRequest, categoryValidation,
			fmt.Sprintf("Property %q is not a unique identifier for %s", idProp, st.kind)), false
	}
	o := st.lookup(idProp, r.PathValue("id"))
	if o == nil {
		return nil, notFound(), false
	}
	return o, reply{}, true
}

// getContact serves GET /crm/v3/objects/contacts/{id}.
func (s *Server) getContact(w http.ResponseWriter, r *http.Request) {
	s.getObject(s.contacts, r).write(w)
}

func (s *Server) getObject(st *store, r *http.Request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, rp, found := s.findByPath(st, r)
	if !found {
		return rp
	}
	p := st.public(o, queryList(r, "properties"), queryList(r, "propertiesWithHistory"))
	if st == s.notes && len(o.contacts) > 0 && containsFold(queryList(r, "associations"), "contacts") {
		p.Associations = noteAssociations(o)
	}
	return ok(http.StatusOK, p)
}

// updateContact serves PATCH /crm/v3/objects/contacts/{id}.
func (s *Server) updateContact(w http.ResponseWriter, r *http.Request) {
	var in objectInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.updateContactLocked(r, in).write(w)
}

func (s *Server) updateContactLocked(r *http.Request, in objectInput) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	noteLocked(r, func(e *Entry) { e.Inputs = 1 })
	o, rp, found := s.findByPath(s.contacts, r)
	if !found {
		return rp
	}
	vals, errs := s.contacts.schema.check(in.Properties)
	if len(errs) > 0 {
		return fail(http.StatusBadRequest, categoryValidation, propMessage(errs), propDetails(errs)...)
	}
	if prop, id := s.contacts.conflict(o, vals); prop != "" {
		return fail(http.StatusConflict, categoryConflict, conflictMessage(prop, vals[prop], id))
	}
	s.contacts.set(o, vals, s.now(), s.seqOf(r), s.opts.SearchDelay > 0)
	noteLocked(r, func(e *Entry) { e.Applied = true })
	return ok(http.StatusOK, s.contacts.public(o, s.contacts.writeNames(vals), nil))
}

// listPage is a page of objects with a forward cursor.
type listPage struct {
	Total   *int           `json:"total,omitempty"`
	Results []publicObject `json:"results"`
	Paging  *paging        `json:"paging,omitempty"`
}

type paging struct {
	Next nextPage `json:"next"`
}

type nextPage struct {
	After string `json:"after"`
	Link  string `json:"link,omitempty"`
}

// listObjects serves GET /crm/v3/objects/{type}: objects in creation order,
// limit per page (default 10, at most 100), with after as the cursor.
func (s *Server) listObjects(st *store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, start := 10, 0
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100 {
				fail(http.StatusBadRequest, categoryValidation, "limit must be an integer between 1 and 100").write(w)
				return
			}
			limit = n
		}
		if v := q.Get("after"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				fail(http.StatusBadRequest, categoryValidation, "after must be a paging cursor from a previous page").write(w)
				return
			}
			start = n
		}
		s.listLocked(st, r, start, limit).write(w)
	}
}

func (s *Server) listLocked(st *store, r *http.Request, start, limit int) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	page := listPage{Results: []publicObject{}}
	names := queryList(r, "properties")
	withContacts := st == s.notes && containsFold(queryList(r, "associations"), "contacts")
	for i := start; i < len(st.ids) && len(page.Results) < limit; i++ {
		o := st.objects[st.ids[i]]
		p := st.public(o, names, nil)
		if withContacts && len(o.contacts) > 0 {
			p.Associations = noteAssociations(o)
		}
		page.Results = append(page.Results, p)
	}
	if end := start + limit; end < len(st.ids) {
		after := strconv.Itoa(end)
		page.Paging = &paging{Next: nextPage{After: after, Link: r.URL.Path + "?after=" + after}}
	}
	return ok(http.StatusOK, page)
}

// containsFold reports whether list holds s, ignoring case.
func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
