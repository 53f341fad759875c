package zendeskapi

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/surveysync/surveysync/sandbox/view"
)

// tableGroup is the group the Zendesk tables appear under, naming the
// subdomain when one is configured.
func (s *Server) tableGroup() string {
	if s.opts.Subdomain == "" {
		return "Zendesk"
	}
	return "Zendesk · " + s.opts.Subdomain
}

// maxCell bounds long texts, such as comments, on the sandbox page.
const maxCell = 120

// Tables describes the tickets and users for the sandbox page. The ticket
// table shows one column per configured custom field.
func (s *Server) Tables() []view.Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runDueJobs()
	header := []string{"id", "subject", "status"}
	for _, id := range s.fieldIDs {
		header = append(header, cmpOr(s.fields[id].Title, "field "+strconv.FormatInt(id, 10)))
	}
	header = append(header, "comments", "last comment", "updates")
	tickets := view.Table{Group: s.tableGroup(), Name: "Tickets", Header: header, Rows: [][]string{}}
	for _, id := range s.ticketIDs {
		tk := s.tickets[id]
		row := []string{strconv.FormatInt(tk.id, 10), clip(tk.subject), tk.status}
		for _, fid := range s.fieldIDs {
			row = append(row, display(tk.fields[fid]))
		}
		last := ""
		if n := len(tk.comments); n > 0 {
			c := tk.comments[n-1]
			last = clip(c.body)
			if !c.public {
				last = "(internal) " + last
			}
		}
		row = append(row, strconv.Itoa(len(tk.comments)), last, strconv.Itoa(tk.updates))
		tickets.Rows = append(tickets.Rows, row)
	}
	tickets.Note = fmt.Sprintf("%d tickets, %d created through the API", len(tickets.Rows), s.created)

	users := view.Table{Group: s.tableGroup(), Name: "Users", Header: []string{"id", "name", "email", "external_id", "role"}, Rows: [][]string{}}
	for _, id := range s.userIDs {
		u := s.users[id]
		users.Rows = append(users.Rows, []string{strconv.FormatInt(u.id, 10), u.name, u.email, u.externalID, u.role})
	}
	return []view.Table{tickets, users}
}

// display formats a stored custom field value.
func display(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []string:
		return strings.Join(x, ", ")
	case string:
		return clip(x)
	}
	return fmt.Sprint(v)
}

// clip shortens s to maxCell runes for display.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= maxCell {
		return s
	}
	return string(r[:maxCell-1]) + "…"
}
