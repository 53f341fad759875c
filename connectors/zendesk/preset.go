package zendesk

import (
	"strings"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/mapping"
)

// The presets of the Zendesk destination.
const (
	// PresetTicketFields updates custom fields of a ticket, optionally with
	// a comment.
	PresetTicketFields = "zendesk.ticket_fields"
	// PresetTicketCreate creates a ticket.
	PresetTicketCreate = "zendesk.ticket_create"
)

func init() {
	mapping.RegisterPreset(PresetTicketFields, expandTicketFields)
	mapping.RegisterPreset(PresetTicketCreate, expandTicketCreate)
}

var ticketFieldsKeys = []string{"ticket", "fields", "comment", "public", "tags"}

// expandTicketFields turns
//
//	preset: zendesk.ticket_fields
//	ticket: "{{ ticket_id }}"
//	fields: {360001234567: "{{ score }}"}
//	comment: "NPS {{ score }}: {{ comment }}"   # optional
//	public: false                               # the default
//	tags: [nps]                                 # optional, added to the ticket's tags
//
// into
//
//	request:
//	  method: PUT
//	  path: "/tickets/{{ ticket_id }}.json"
//	  body:
//	    ticket:
//	      custom_fields: [{id: 360001234567, value: "{{ score }}"}]
//	      comment: {body: "...", public: false}
//	      additional_tags: [nps]
//
// Every value keeps the node, and so the position, it was written at.
func expandTicketFields(n *config.Node) (*config.Node, error) {
	var errs config.ErrorList
	mapping.CheckPresetKeys(n, PresetTicketFields, ticketFieldsKeys, &errs)
	ticket := &config.Node{Kind: config.MapNode, Pos: n.Pos}
	path := ticketPath(n, &errs)
	fields := customFields(n.Get("fields"), &errs)
	if fields != nil {
		ticket.Pairs = append(ticket.Pairs, mapping.PresetPair("custom_fields", fields))
	}
	if c := comment(n, &errs); c != nil {
		ticket.Pairs = append(ticket.Pairs, mapping.PresetPair("comment", c))
	} else if p := n.Get("public"); p != nil {
		errs = append(errs, config.Errorf(p.Pos, "public: only applies with a comment"))
	}
	if tags := n.Get("tags"); tags != nil {
		ticket.Pairs = append(ticket.Pairs, mapping.PresetPair("additional_tags", tagList(tags, &errs)))
	}
	if len(ticket.Pairs) == 0 && len(errs) == 0 {
		errs = append(errs, config.Errorf(config.Pos{}, "preset %s: set fields, a comment or tags; the update would change nothing", PresetTicketFields))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	body := &config.Node{Kind: config.MapNode, Pos: n.Pos, Pairs: []config.Pair{mapping.PresetPair("ticket", ticket)}}
	return requestNode(n.Pos, "PUT", path, nil, body), nil
}

var ticketCreateKeys = []string{"subject", "comment", "public", "requester", "fields", "tags", "priority", "type", "external_id", "idempotency_key"}

// expandTicketCreate turns
//
//	preset: zendesk.ticket_create
//	subject: "NPS {{ score }} from {{ email }}"
//	comment: "{{ comment }}"            # the first message, required
//	public: false                       # the default
//	requester: {email: "{{ email }}", name: "{{ name }}"}   # optional
//	fields: {360001234567: "{{ score }}"}                  # optional
//	tags: [nps, detractor]                                 # optional
//	priority: high                                         # optional
//	external_id: "{{ delivery_key }}"                      # the default
//
// into a POST /tickets.json request with idempotency_key "{{ delivery_key }}"
// (or the one given) and the body {"ticket": {...}}.
func expandTicketCreate(n *config.Node) (*config.Node, error) {
	var errs config.ErrorList
	mapping.CheckPresetKeys(n, PresetTicketCreate, ticketCreateKeys, &errs)
	ticket := &config.Node{Kind: config.MapNode, Pos: n.Pos}
	switch s := n.Get("subject"); {
	case s == nil:
		errs = append(errs, config.Errorf(config.Pos{}, `preset %s: missing key "subject", such as "NPS {{ score }} from {{ email }}"`, PresetTicketCreate))
	case s.Kind != config.ScalarNode:
		errs = append(errs, config.Errorf(s.Pos, "subject: expected text, got %s", s.Kind))
	default:
		ticket.Pairs = append(ticket.Pairs, mapping.PresetPair("subject", s))
	}
	if c := comment(n, &errs); c != nil {
		ticket.Pairs = append(ticket.Pairs, mapping.PresetPair("comment", c))
	} else if n.Get("comment") == nil {
		errs = append(errs, config.Errorf(config.Pos{}, `preset %s: missing key "comment": the ticket's first message, such as "{{ comment }}"`, PresetTicketCreate))
	}
	if r := n.Get("requester"); r != nil {
		if r.Kind != config.MapNode || r.Get("email") == nil {
			errs = append(errs, config.Errorf(r.Pos, "requester: expected {email: ..., name: ...}"))
		}
		ticket.Pairs = append(ticket.Pairs, mapping.PresetPair("requester", r))
	}
	if fields := customFields(n.Get("fields"), &errs); fields != nil {
		ticket.Pairs = append(ticket.Pairs, mapping.PresetPair("custom_fields", fields))
	}
	if tags := n.Get("tags"); tags != nil {
		ticket.Pairs = append(ticket.Pairs, mapping.PresetPair("tags", tagList(tags, &errs)))
	}
	for _, k := range []string{"priority", "type"} {
		if v := n.Get(k); v != nil {
			if v.Kind != config.ScalarNode {
				errs = append(errs, config.Errorf(v.Pos, "%s: expected one value, got %s", k, v.Kind))
			}
			ticket.Pairs = append(ticket.Pairs, mapping.PresetPair(k, v))
		}
	}
	external := n.Get("external_id")
	if external == nil {
		external = mapping.PresetText("{{ delivery_key }}", n.Pos)
	} else if external.Kind != config.ScalarNode {
		errs = append(errs, config.Errorf(external.Pos, "external_id: expected one value such as \"{{ delivery_key }}\", got %s", external.Kind))
	}
	ticket.Pairs = append(ticket.Pairs, mapping.PresetPair("external_id", external))
	idem := n.Get("idempotency_key")
	if idem == nil {
		idem = mapping.PresetText("{{ delivery_key }}", n.Pos)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	body := &config.Node{Kind: config.MapNode, Pos: n.Pos, Pairs: []config.Pair{mapping.PresetPair("ticket", ticket)}}
	return requestNode(n.Pos, "POST", mapping.PresetText("/tickets.json", n.Pos), idem, body), nil
}

// ticketPath builds the path of the ticket the preset updates from its
// ticket key: a template or a number.
func ticketPath(n *config.Node, errs *config.ErrorList) *config.Node {
	t := n.Get("ticket")
	switch {
	case t == nil:
		*errs = append(*errs, config.Errorf(config.Pos{}, `preset %s: missing key "ticket": the ticket's id, such as "{{ ticket_id }}"`, PresetTicketFields))
		return nil
	case t.Kind != config.ScalarNode || t.Value == "" || t.Type != config.StringScalar && t.Type != config.IntScalar:
		*errs = append(*errs, config.Errorf(t.Pos, "ticket: expected the ticket's id, such as \"{{ ticket_id }}\" or 4211"))
		return nil
	case t.Type == config.StringScalar && !strings.Contains(t.Value, "{{") && strings.Trim(t.Value, "0123456789") != "":
		*errs = append(*errs, config.Errorf(t.Pos, "ticket: %q is not a ticket id; write a number or a template such as \"{{ ticket_id }}\"", t.Value))
		return nil
	}
	// The path node sits where the ticket was written, so that a mistake in
	// its template is reported there.
	return &config.Node{Kind: config.ScalarNode, Pos: t.Pos, Value: "/tickets/" + t.Value + ".json", Type: config.StringScalar, Quoted: t.Quoted}
}

// customFields turns {id: value} into [{id: id, value: value}].
func customFields(f *config.Node, errs *config.ErrorList) *config.Node {
	if f == nil {
		return nil
	}
	if f.Kind != config.MapNode || len(f.Pairs) == 0 {
		*errs = append(*errs, config.Errorf(f.Pos, "fields: expected ticket field ids and values, such as {360001234567: \"{{ score }}\"}"))
		return nil
	}
	list := &config.Node{Kind: config.SeqNode, Pos: f.Pos}
	for _, p := range f.Pairs {
		id := strings.TrimSpace(p.Key.Value)
		if id == "" || strings.Trim(id, "0123456789") != "" {
			*errs = append(*errs, config.Errorf(p.Key.Pos, "fields: %q is not a ticket field id (a number such as 360001234567, shown in Admin Center under Fields)", p.Key.Value))
			continue
		}
		if p.Value.Kind == config.MapNode {
			*errs = append(*errs, config.Errorf(p.Value.Pos, "fields: %s: a ticket field takes one value (or a list, for multi-select), not an object", id))
			continue
		}
		idNode := &config.Node{Kind: config.ScalarNode, Pos: p.Key.Pos, Value: id, Type: config.IntScalar}
		list.Items = append(list.Items, &config.Node{Kind: config.MapNode, Pos: p.Key.Pos, Pairs: []config.Pair{
			mapping.PresetPair("id", idNode), mapping.PresetPair("value", p.Value),
		}})
	}
	return list
}

// comment builds {body, public} from the comment and public keys; public
// defaults to false, an internal note.
func comment(n *config.Node, errs *config.ErrorList) *config.Node {
	c := n.Get("comment")
	if c == nil {
		return nil
	}
	if c.Kind != config.ScalarNode {
		*errs = append(*errs, config.Errorf(c.Pos, "comment: expected the comment's text, such as \"NPS {{ score }}: {{ comment }}\", got %s", c.Kind))
		return nil
	}
	public := n.Get("public")
	if public == nil {
		public = &config.Node{Kind: config.ScalarNode, Pos: c.Pos, Value: "false", Type: config.BoolScalar}
	} else if public.Kind != config.ScalarNode || public.Type != config.BoolScalar {
		*errs = append(*errs, config.Errorf(public.Pos, "public: expected true (the requester sees the comment) or false (an internal note)"))
	}
	return &config.Node{Kind: config.MapNode, Pos: c.Pos, Pairs: []config.Pair{mapping.PresetPair("body", c), mapping.PresetPair("public", public)}}
}

// tagList accepts a list of tags or one tag.
func tagList(t *config.Node, errs *config.ErrorList) *config.Node {
	switch t.Kind {
	case config.SeqNode:
		return t
	case config.ScalarNode:
		return &config.Node{Kind: config.SeqNode, Pos: t.Pos, Items: []*config.Node{t}}
	}
	*errs = append(*errs, config.Errorf(t.Pos, "tags: expected a list of tags such as [nps, survey]"))
	return t
}

// requestNode builds a request mapping.
func requestNode(pos config.Pos, method string, path, idem, body *config.Node) *config.Node {
	req := &config.Node{Kind: config.MapNode, Pos: pos, Pairs: []config.Pair{
		mapping.PresetPair("method", mapping.PresetText(method, pos)),
		mapping.PresetPair("path", path),
	}}
	if idem != nil {
		req.Pairs = append(req.Pairs, mapping.PresetPair("idempotency_key", idem))
	}
	req.Pairs = append(req.Pairs, mapping.PresetPair("body", body))
	return &config.Node{Kind: config.MapNode, Pos: pos, Pairs: []config.Pair{mapping.PresetPair("request", req)}}
}
