package hubspotapi

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/surveysync/surveysync/sandbox/view"
)

// tableGroup is the group the HubSpot tables appear under.
const tableGroup = "HubSpot"

// maxCell bounds long texts, such as note bodies, on the sandbox page.
const maxCell = 120

// Tables describes the contacts and notes for the sandbox page. The contact
// table shows the id, email and every property beyond the default ones.
func (s *Server) Tables() []view.Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	defaults := map[string]bool{}
	for _, p := range contactDefaults {
		defaults[p.Name] = true
	}
	var extra []string
	for _, name := range slices.Sorted(maps.Keys(s.contacts.schema.props)) {
		if !defaults[name] {
			extra = append(extra, name)
		}
	}

	contacts := view.Table{
		Group:  tableGroup,
		Name:   "Contacts",
		Header: append(append([]string{"id", "email"}, extra...), "updates"),
		Rows:   [][]string{},
	}
	for _, id := range s.contacts.ids {
		o := s.contacts.objects[id]
		row := []string{strconv.FormatInt(o.id, 10), o.props["email"]}
		for _, name := range extra {
			row = append(row, clip(o.props[name]))
		}
		contacts.Rows = append(contacts.Rows, append(row, strconv.Itoa(o.updates)))
	}
	contacts.Note = fmt.Sprintf("%d contacts", len(contacts.Rows))

	notes := view.Table{
		Group:  tableGroup,
		Name:   "Notes",
		Header: []string{"id", "hs_timestamp", "contacts", "hs_note_body"},
		Rows:   [][]string{},
	}
	for _, id := range s.notes.ids {
		o := s.notes.objects[id]
		var contactIDs []string
		for _, c := range o.contacts {
			contactIDs = append(contactIDs, strconv.FormatInt(c, 10))
		}
		notes.Rows = append(notes.Rows, []string{
			strconv.FormatInt(o.id, 10),
			o.props["hs_timestamp"],
			strings.Join(contactIDs, ", "),
			clip(o.props["hs_note_body"]),
		})
	}
	notes.Note = fmt.Sprintf("%d notes", len(notes.Rows))
	return []view.Table{contacts, notes}
}

// clip shortens s to maxCell runes for display.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= maxCell {
		return s
	}
	return string(r[:maxCell-1]) + "…"
}
