package zendesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
)

var _ connectors.Checker = (*Destination)(nil)

// ticketFieldsPath lists the account's ticket fields.
const ticketFieldsPath = "/ticket_fields.json"

// maxFieldPages bounds the pages of ticket fields read by one check.
const maxFieldPages = 50

// ticketField is what the check needs of one ticket field.
type ticketField struct {
	ID     int64  `json:"id"`
	Title  string `json:"title"`
	Type   string `json:"type"`
	Active bool   `json:"active"`
}

// fieldRef is a custom field id a mapping sends, with where it is written.
type fieldRef struct {
	id    int64
	where string
	pos   config.Pos
}

// Check is validate --connect's look at a sync: it reads the account's
// ticket fields (which also proves the credentials) and reports every
// custom field id the mapping sends that is not one of them. Ids written as
// templates are read from the sample's rendered request when validate was
// given --sample, and reported as unchecked otherwise. It writes nothing.
func (d *Destination) Check(ctx context.Context, _ string, m *mapping.Mapping, sample *mapping.Request) ([]connectors.Finding, error) {
	if _, ok := m.RequestShape(); !ok {
		return nil, nil
	}
	var findings []connectors.Finding
	refs := fieldRefs(m, sample, func(format string, args ...any) {
		findings = append(findings, connectors.Finding{Note: true, Mapping: true, Msg: fmt.Sprintf(format, args...)})
	})
	fields, err := d.ticketFields(ctx)
	if err != nil {
		return findings, err
	}
	byID := make(map[int64]ticketField, len(fields))
	for _, f := range fields {
		byID[f.ID] = f
	}
	for _, r := range refs {
		f, ok := byID[r.id]
		switch {
		case !ok:
			findings = append(findings, connectors.Finding{Mapping: true, Pos: r.pos,
				Msg: fmt.Sprintf("custom field %d (%s) does not exist in Zendesk%s; field ids are listed in Admin Center under Objects and rules → Tickets → Fields", r.id, r.where, fieldList(fields))})
		case !f.Active:
			findings = append(findings, connectors.Finding{Note: true, Mapping: true, Pos: r.pos,
				Msg: fmt.Sprintf("custom field %d (%q, %s) is inactive in Zendesk: agents do not see it, and values sent to it may be dropped", r.id, f.Title, r.where)})
		}
	}
	return findings, nil
}

// fieldRefs finds the custom field ids in a mapping's ticket: constants as
// written, and templates as the sample rendered them.
func fieldRefs(m *mapping.Mapping, sample *mapping.Request, note func(string, ...any)) []fieldRef {
	body, ok := m.Body()
	if !ok {
		return nil
	}
	ticket := body.Get("ticket")
	var sampleTicket map[string]any
	if sample != nil {
		b, _ := sample.Body.(map[string]any)
		sampleTicket, _ = b["ticket"].(map[string]any)
	}
	var refs []fieldRef
	seen := map[int64]bool{}
	add := func(r fieldRef) {
		if !seen[r.id] {
			seen[r.id] = true
			refs = append(refs, r)
		}
	}
	for _, key := range []string{"custom_fields", "fields"} {
		list := ticket.Get(key)
		if !list.Exists() {
			continue
		}
		templated := false
		var templatedPos config.Pos
		for _, item := range list.Items() {
			idPart := item.Get("id")
			if v, ok := idPart.Const(); ok {
				if id, ok := fieldID(v); ok {
					add(fieldRef{id: id, where: idPart.Where(), pos: item.Pos()})
				}
				continue
			}
			if !templated {
				templated, templatedPos = true, item.Pos()
			}
		}
		if !list.IsList() {
			templated, templatedPos = true, list.Pos()
		}
		if !templated {
			continue
		}
		rendered, ok := sampleTicket[key].([]any)
		if !ok {
			note("%s holds field ids written as templates; they could not be checked without a sample response the sync renders (--sample)", list.Where())
			continue
		}
		for i, it := range rendered {
			obj, _ := it.(map[string]any)
			if id, ok := fieldID(obj["id"]); ok {
				add(fieldRef{id: id, where: fmt.Sprintf("%s[%d].id as the sample rendered it", list.Where(), i), pos: templatedPos})
			}
		}
	}
	return refs
}

// fieldID reads a field id written or rendered as a number or digits.
func fieldID(v any) (int64, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return x, x > 0
	case int:
		return int64(x), x > 0
	default:
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// fieldList names the account's custom fields for a message, when there
// are few enough to list.
func fieldList(fields []ticketField) string {
	const most = 10
	var parts []string
	for _, f := range fields {
		if !f.Active {
			continue
		}
		switch f.Type {
		case "subject", "description", "status", "tickettype", "priority", "group", "assignee", "custom_status":
			continue // system fields
		}
		parts = append(parts, fmt.Sprintf("%d %q", f.ID, f.Title))
	}
	if len(parts) == 0 || len(parts) > most {
		return ""
	}
	return " (its custom fields: " + strings.Join(parts, ", ") + ")"
}

// ticketFields reads every ticket field of the account, following
// next_page within the endpoint: GETs only.
func (d *Destination) ticketFields(ctx context.Context) ([]ticketField, error) {
	const what = "reading the ticket fields"
	var out []ticketField
	path := ticketFieldsPath
	for page := 0; path != "" && page < maxFieldPages; page++ {
		resp, data, err := d.do(ctx, request{method: http.MethodGet, path: path, idempotent: true})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		switch code := resp.StatusCode; {
		case code == http.StatusUnauthorized:
			return nil, fmt.Errorf("zendesk rejected the credentials (401) when %s: %s; check email and token, or oauth_token", what, errorText(data))
		case code == http.StatusForbidden:
			return nil, fmt.Errorf("zendesk refused access (403) when %s: %s; the token's user must be an agent, with permission to edit tickets to deliver", what, errorText(data))
		case code == http.StatusNotFound:
			return nil, fmt.Errorf("zendesk has no ticket fields at %s%s (404): %s; check subdomain and endpoint", d.base, path, errorText(data))
		case code != http.StatusOK:
			return nil, fmt.Errorf("%s: zendesk answered %d: %s", what, code, errorText(data))
		}
		var list struct {
			Fields   []ticketField `json:"ticket_fields"`
			NextPage *string       `json:"next_page"`
		}
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("%s: the answer is not Zendesk's list of ticket fields: %v", what, err)
		}
		out = append(out, list.Fields...)
		path = ""
		if list.NextPage != nil {
			// Only a page of the same endpoint is followed: the client adds
			// the credentials to every request it sends.
			if rest, ok := strings.CutPrefix(*list.NextPage, d.base); ok && strings.HasPrefix(rest, "/ticket_fields") {
				path = rest
			}
		}
	}
	return out, nil
}
