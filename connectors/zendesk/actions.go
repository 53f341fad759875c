package zendesk

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
)

// The requests a Zendesk mapping may render, relative to the endpoint (an
// /api/v2 prefix and a .json suffix are accepted and ignored). The
// destination recognises the action by method and path.
const (
	// TicketsPath creates a ticket: POST {"ticket": {...}}.
	TicketsPath = "/tickets"
	// ticketPrefix starts the path of one ticket: PUT /tickets/{id}.
	ticketPrefix = "/tickets/"
	// updateManyPath updates up to 100 tickets in a background job.
	updateManyPath = "/tickets/update_many.json"
)

// actionKind is what a rendered request asks for.
type actionKind uint8

const (
	createTicket actionKind = iota + 1
	updateTicket
)

// action is one response's request to Zendesk.
type action struct {
	kind     actionKind
	ticketID int64
	// ticket is the request's "ticket" object, copied so it can be changed.
	ticket map[string]any
	// comment is set when the update or creation adds a comment.
	comment bool
	// idempotencyKey is the mapping's idempotency_key, if any.
	idempotencyKey string
	// externalID is the created ticket's external_id, if any.
	externalID string
}

// apiPath strips the parts of a path the endpoint already holds.
func apiPath(p string) string {
	p = strings.TrimPrefix(p, "/api/v2")
	return strings.TrimSuffix(p, ".json")
}

// parseAction reads a rendered request.
func parseAction(r *mapping.Request) (*action, error) {
	if r == nil {
		return nil, connectors.Render(errors.New("the mapping rendered no request"))
	}
	p := apiPath(r.Path)
	a := &action{idempotencyKey: r.IdempotencyKey}
	switch {
	case r.Method == http.MethodPost && p == TicketsPath:
		a.kind = createTicket
	case r.Method == http.MethodPut && strings.HasPrefix(p, ticketPrefix) && !strings.Contains(p[len(ticketPrefix):], "/"):
		id, err := strconv.ParseInt(p[len(ticketPrefix):], 10, 64)
		if err != nil || id <= 0 {
			return nil, connectors.Render(fmt.Errorf("PUT %s: %q is not a ticket id (a number such as 4211)", r.Path, p[len(ticketPrefix):]))
		}
		a.kind, a.ticketID = updateTicket, id
	default:
		return nil, connectors.Render(fmt.Errorf("the zendesk destination creates tickets (POST /api/v2/tickets.json, or preset zendesk.ticket_create) and updates them (PUT /api/v2/tickets/{id}.json, or preset zendesk.ticket_fields); this mapping renders %s %s",
			r.Method, r.Path))
	}
	body, _ := r.Body.(map[string]any)
	ticket, _ := body["ticket"].(map[string]any)
	if ticket == nil || len(body) != 1 {
		return nil, connectors.Render(fmt.Errorf("%s %s: the body must be {\"ticket\": {...}}", r.Method, r.Path))
	}
	a.ticket = maps.Clone(ticket)
	switch c := a.ticket["comment"].(type) {
	case nil:
		delete(a.ticket, "comment")
	case string:
		if strings.TrimSpace(c) == "" {
			delete(a.ticket, "comment")
			break
		}
		a.ticket["comment"] = map[string]any{"body": c}
		a.comment = true
	case map[string]any:
		c = maps.Clone(c)
		a.ticket["comment"] = c
		body, _ := c["body"].(string)
		html, _ := c["html_body"].(string)
		if strings.TrimSpace(body) == "" && strings.TrimSpace(html) == "" {
			// A comment whose text rendered empty adds nothing.
			delete(a.ticket, "comment")
			break
		}
		a.comment = true
	default:
		return nil, connectors.Render(fmt.Errorf("ticket.comment: expected {body, public} or text, got %s", connectors.JSONKind(c)))
	}
	if a.kind == createTicket {
		if !a.comment && a.ticket["description"] == nil {
			return nil, connectors.Render(errors.New("ticket create: the ticket needs a comment (its first message); the comment rendered empty"))
		}
		if id, ok := a.ticket["external_id"]; ok && id != nil {
			a.externalID = strings.TrimSpace(fmt.Sprint(id))
		}
	}
	if a.kind == updateTicket && !a.comment && len(a.ticket) == 0 {
		return nil, connectors.Render(fmt.Errorf("PUT %s: the update changes nothing (no fields, no comment)", r.Path))
	}
	return a, nil
}

// markerPrefix starts the line that carries a comment's delivery key.
const markerPrefix = "[surveysync "

// commentMarker is the last line of a comment added by surveysync: it
// carries the delivery key, so that an earlier attempt is found among the
// ticket's comments.
func commentMarker(key string) string { return markerPrefix + key + "]" }

// markComment appends the marker line to the comment of a ticket object.
func markComment(ticket map[string]any, key string) {
	c, ok := ticket["comment"].(map[string]any)
	if !ok {
		return
	}
	c = maps.Clone(c)
	if html, ok := c["html_body"].(string); ok && strings.TrimSpace(html) != "" {
		c["html_body"] = html + "<p>" + commentMarker(key) + "</p>"
	} else {
		body, _ := c["body"].(string)
		c["body"] = body + "\n\n" + commentMarker(key)
	}
	ticket["comment"] = c
}

// checkMapping refuses, when the configuration is loaded, request mappings
// this destination cannot send: ticket creation and ticket updates. The
// ticket id of an update is a template, checked when it is rendered.
func checkMapping(m *mapping.Mapping) error {
	shape, ok := m.RequestShape()
	if !ok {
		return nil
	}
	p := apiPath(shape.Path)
	switch {
	case shape.Method == http.MethodPost && p == TicketsPath:
		return nil
	case shape.Method == http.MethodPut && strings.HasPrefix(p, ticketPrefix) && !strings.Contains(strings.ReplaceAll(p[len(ticketPrefix):], "}}", ""), "/"):
		return nil
	}
	return fmt.Errorf("it creates tickets (POST /api/v2/tickets.json, or preset zendesk.ticket_create) and updates them (PUT /api/v2/tickets/{id}.json, or preset zendesk.ticket_fields); this mapping sends %s %s", shape.Method, shape.Path)
}
