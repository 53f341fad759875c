package zendeskapi

import (
	"fmt"
	"net/http"
)

// fieldOption is one value of a drop-down or multi-select field.
type fieldOption struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ticketFieldJSON is a ticket field as GET /api/v2/ticket_fields shows it.
type ticketFieldJSON struct {
	ID                  int64         `json:"id"`
	URL                 string        `json:"url"`
	Type                string        `json:"type"`
	Title               string        `json:"title"`
	RawTitle            string        `json:"raw_title"`
	Description         string        `json:"description"`
	Position            int           `json:"position"`
	Active              bool          `json:"active"`
	Required            bool          `json:"required"`
	Removable           bool          `json:"removable"`
	VisibleInPortal     bool          `json:"visible_in_portal"`
	EditableInPortal    bool          `json:"editable_in_portal"`
	CustomFieldOptions  []fieldOption `json:"custom_field_options,omitempty"`
	AgentDescription    *string       `json:"agent_description"`
	TitleInPortal       string        `json:"title_in_portal"`
	RequiredInPortal    bool          `json:"required_in_portal"`
	CollapsedForAgents  bool          `json:"collapsed_for_agents"`
	RegexpForValidation *string       `json:"regexp_for_validation"`
}

// listTicketFields serves GET /api/v2/ticket_fields: the custom fields of
// Options.Fields, in configuration order, in one page. (Zendesk also lists
// its system fields, such as subject and status; the emulator has none.)
func (s *Server) listTicketFields(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	base := baseURL(r)
	out := make([]ticketFieldJSON, 0, len(s.fieldIDs))
	for i, id := range s.fieldIDs {
		f := s.fields[id]
		tf := ticketFieldJSON{
			ID: f.ID, URL: fmt.Sprintf("%s/api/v2/ticket_fields/%d.json", base, f.ID),
			Type: string(f.Type), Title: f.Title, RawTitle: f.Title, TitleInPortal: f.Title,
			Position: i + 1, Active: true, Removable: true,
		}
		for _, tag := range f.Tags {
			tf.CustomFieldOptions = append(tf.CustomFieldOptions, fieldOption{Name: tag, Value: tag})
		}
		out = append(out, tf)
	}
	s.mu.Unlock()
	jsonReply(http.StatusOK, map[string]any{"ticket_fields": out, "next_page": nil, "previous_page": nil, "count": len(out)}).write(w)
}
