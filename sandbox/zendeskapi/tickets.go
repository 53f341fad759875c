package zendeskapi

import (
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ticket is a stored ticket.
type ticket struct {
	id          int64
	subject     string
	status      string
	priority    string
	kind        string // the ticket's "type"
	externalID  string
	requesterID int64
	submitterID int64
	tags        []string
	fields      map[int64]any
	comments    []comment
	created     time.Time
	updated     time.Time
	updates     int
}

// comment is a stored ticket comment.
type comment struct {
	id         int64
	body       string
	htmlBody   string
	public     bool
	authorID   int64
	auditID    int64
	created    time.Time
	requestSeq int64
}

var (
	statuses   = []string{"new", "open", "pending", "hold", "solved", "closed"}
	priorities = []string{"urgent", "high", "normal", "low"}
	kinds      = []string{"problem", "incident", "question", "task"}
)

// AddTicket stores a ticket as if an agent had created it in the Zendesk
// UI, for tests and the sandbox to update. It returns the ticket's id.
func (s *Server) AddTicket(nt NewTicket) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	email := nt.RequesterEmail
	if email == "" {
		email = fmt.Sprintf("requester-%d@example.com", s.nextID["ticket"])
	}
	requester := s.findUser(email, "")
	if requester == nil {
		name, _, _ := strings.Cut(email, "@")
		requester = s.addUser(name, email, "", "end-user")
	}
	tk := &ticket{
		id:          s.newID("ticket"),
		subject:     nt.Subject,
		status:      cmpOr(nt.Status, "open"),
		externalID:  nt.ExternalID,
		requesterID: requester.id,
		submitterID: requester.id,
		tags:        slices.Clone(nt.Tags),
		fields:      maps.Clone(nt.Fields),
		created:     now,
		updated:     now,
	}
	if tk.fields == nil {
		tk.fields = map[int64]any{}
	}
	if nt.Description != "" {
		tk.comments = append(tk.comments, comment{
			id: s.newID("comment"), body: nt.Description, htmlBody: toHTML(nt.Description),
			public: true, authorID: requester.id, auditID: s.newID("audit"), created: now,
		})
	}
	s.tickets[tk.id] = tk
	s.ticketIDs = append(s.ticketIDs, tk.id)
	return tk.id
}

// ticketInput is the "ticket" object of create and update requests, and an
// entry of update_many's "tickets".
type ticketInput struct {
	ID             int64          `json:"id"`
	Subject        *string        `json:"subject"`
	Comment        *commentInput  `json:"comment"`
	Description    string         `json:"description"`
	Requester      *requesterSpec `json:"requester"`
	RequesterID    *int64         `json:"requester_id"`
	Status         *string        `json:"status"`
	Priority       *string        `json:"priority"`
	Type           *string        `json:"type"`
	Tags           *[]string      `json:"tags"`
	AdditionalTags []string       `json:"additional_tags"`
	RemoveTags     []string       `json:"remove_tags"`
	CustomFields   []fieldInput   `json:"custom_fields"`
	Fields         []fieldInput   `json:"fields"`
	ExternalID     *string        `json:"external_id"`
	SafeUpdate     bool           `json:"safe_update"`
	UpdatedStamp   string         `json:"updated_stamp"`
}

type commentInput struct {
	Body     string `json:"body"`
	HTMLBody string `json:"html_body"`
	Public   *bool  `json:"public"`
	AuthorID *int64 `json:"author_id"`
}

type requesterSpec struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// hasBody reports whether a comment would add text.
func (c *commentInput) hasBody() bool {
	return c != nil && (strings.TrimSpace(c.Body) != "" || strings.TrimSpace(c.HTMLBody) != "")
}

// checkTicket validates a create (current nil) or an update of current and
// returns the custom field values to write.
func (s *Server) checkTicket(in *ticketInput, current *ticket) (map[int64]any, map[string][]detail) {
	details := map[string][]detail{}
	add := func(key, kind, format string, args ...any) {
		details[key] = append(details[key], detail{Error: kind, Description: fmt.Sprintf(format, args...)})
	}
	if current != nil && current.status == "closed" {
		add("status", "InvalidValue", "Status: closed prevents ticket update")
	}
	if in.Status != nil && !slices.Contains(statuses, *in.Status) {
		add("status", "InvalidValue", "Status: %s is not valid", *in.Status)
	}
	if in.Priority != nil && *in.Priority != "" && !slices.Contains(priorities, *in.Priority) {
		add("priority", "InvalidValue", "Priority: %s is not valid", *in.Priority)
	}
	if in.Type != nil && *in.Type != "" && !slices.Contains(kinds, *in.Type) {
		add("type", "InvalidValue", "Type: %s is not valid", *in.Type)
	}
	if in.Comment != nil && in.Comment.AuthorID != nil && s.users[*in.Comment.AuthorID] == nil {
		add("author_id", "InvalidValue", "Comment author %d does not exist", *in.Comment.AuthorID)
	}
	if current == nil {
		if !in.Comment.hasBody() && strings.TrimSpace(in.Description) == "" {
			add("description", "BlankValue", "Description: cannot be blank")
		}
		if in.Requester != nil && !validEmail(strings.TrimSpace(in.Requester.Email)) {
			add("requester", "InvalidValue", "Requester: %s is invalid", in.Requester.Email)
		}
		if in.RequesterID != nil && s.users[*in.RequesterID] == nil {
			add("requester", "InvalidValue", "Requester: user %d does not exist", *in.RequesterID)
		}
	}
	fields, errs := s.checkFields(append(slices.Clone(in.CustomFields), in.Fields...))
	if len(errs) > 0 {
		details["base"] = append(details["base"], errs...)
	}
	if len(details) == 0 {
		return fields, nil
	}
	return fields, details
}

// auditJSON is a ticket audit on the wire.
type auditJSON struct {
	ID        int64            `json:"id"`
	TicketID  int64            `json:"ticket_id"`
	AuthorID  int64            `json:"author_id"`
	CreatedAt string           `json:"created_at"`
	Events    []map[string]any `json:"events"`
}

// applyTicket writes a validated input to tk and returns the audit.
func (s *Server) applyTicket(tk *ticket, in *ticketInput, fields map[int64]any, authorID int64, seq int64, creating bool) auditJSON {
	now := s.now()
	audit := auditJSON{ID: s.newID("audit"), TicketID: tk.id, AuthorID: authorID, CreatedAt: zdTime(now), Events: []map[string]any{}}
	eventType := "Change"
	if creating {
		eventType = "Create"
	}
	change := func(name string, from, to any) {
		if reflect.DeepEqual(from, to) {
			return
		}
		ev := map[string]any{"id": s.newID("audit"), "type": eventType, "field_name": name, "value": to}
		if !creating {
			ev["previous_value"] = from
		}
		audit.Events = append(audit.Events, ev)
	}
	setString := func(name string, dst *string, v *string) {
		if v != nil {
			change(name, *dst, *v)
			*dst = *v
		}
	}

	if c := in.Comment; c.hasBody() {
		public := c.Public == nil || *c.Public
		author := authorID
		if c.AuthorID != nil {
			author = *c.AuthorID
		}
		body, htmlBody := c.Body, c.HTMLBody
		if body == "" {
			body = stripTags(htmlBody)
		}
		if htmlBody == "" {
			htmlBody = toHTML(body)
		}
		cm := comment{id: s.newID("comment"), body: body, htmlBody: htmlBody, public: public,
			authorID: author, auditID: audit.ID, created: now, requestSeq: seq}
		tk.comments = append(tk.comments, cm)
		audit.Events = append(audit.Events, map[string]any{
			"id": cm.id, "type": "Comment", "author_id": author, "body": body, "html_body": htmlBody, "public": public,
		})
	} else if creating && in.Description != "" {
		tk.comments = append(tk.comments, comment{id: s.newID("comment"), body: in.Description, htmlBody: toHTML(in.Description),
			public: true, authorID: authorID, auditID: audit.ID, created: now, requestSeq: seq})
	}
	setString("subject", &tk.subject, in.Subject)
	setString("status", &tk.status, in.Status)
	setString("priority", &tk.priority, in.Priority)
	setString("type", &tk.kind, in.Type)
	setString("external_id", &tk.externalID, in.ExternalID)

	tags := slices.Clone(tk.tags)
	if in.Tags != nil {
		tags = nil
		for _, t := range *in.Tags {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	for _, t := range in.AdditionalTags {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	tags = slices.DeleteFunc(tags, func(t string) bool { return slices.Contains(in.RemoveTags, t) })
	if tags == nil {
		tags = []string{}
	}
	change("tags", tk.tags, tags)
	tk.tags = tags

	for _, id := range slices.Sorted(maps.Keys(fields)) {
		change(strconv.FormatInt(id, 10), tk.fields[id], fields[id])
		if fields[id] == nil {
			delete(tk.fields, id)
		} else {
			tk.fields[id] = fields[id]
		}
	}
	tk.updated = now
	if !creating {
		tk.updates++
	}
	return audit
}

var tagPattern = regexp.MustCompile(`<[^>]*>`)

// stripTags turns an html_body into a plain body.
func stripTags(s string) string { return html.UnescapeString(tagPattern.ReplaceAllString(s, "")) }

// toHTML turns a plain body into Zendesk's html_body form.
func toHTML(s string) string {
	return `<div class="zd-comment" dir="auto"><p dir="auto">` + html.EscapeString(s) + `</p></div>`
}

// ticketJSON is a ticket on the wire.
type ticketJSON struct {
	ID           int64            `json:"id"`
	URL          string           `json:"url"`
	ExternalID   *string          `json:"external_id"`
	Type         *string          `json:"type"`
	Subject      string           `json:"subject"`
	RawSubject   string           `json:"raw_subject"`
	Description  string           `json:"description"`
	Priority     *string          `json:"priority"`
	Status       string           `json:"status"`
	RequesterID  int64            `json:"requester_id"`
	SubmitterID  int64            `json:"submitter_id"`
	AssigneeID   *int64           `json:"assignee_id"`
	Tags         []string         `json:"tags"`
	CustomFields []fieldValueJSON `json:"custom_fields"`
	Fields       []fieldValueJSON `json:"fields"`
	Via          map[string]any   `json:"via"`
	CreatedAt    string           `json:"created_at"`
	UpdatedAt    string           `json:"updated_at"`
}

type fieldValueJSON struct {
	ID    int64 `json:"id"`
	Value any   `json:"value"`
}

// ticketJSON renders tk; custom_fields lists every configured field.
func (s *Server) ticketJSON(base string, tk *ticket) ticketJSON {
	out := ticketJSON{
		ID:          tk.id,
		URL:         ticketURL(base, tk.id),
		ExternalID:  nullable(tk.externalID),
		Type:        nullable(tk.kind),
		Subject:     tk.subject,
		RawSubject:  tk.subject,
		Priority:    nullable(tk.priority),
		Status:      tk.status,
		RequesterID: tk.requesterID,
		SubmitterID: tk.submitterID,
		Tags:        slices.Clone(tk.tags),
		Via:         map[string]any{"channel": "api"},
		CreatedAt:   zdTime(tk.created),
		UpdatedAt:   zdTime(tk.updated),
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if len(tk.comments) > 0 {
		out.Description = tk.comments[0].body
	}
	ids := slices.Clone(s.fieldIDs)
	for id := range tk.fields {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	out.CustomFields = []fieldValueJSON{}
	for _, id := range ids {
		out.CustomFields = append(out.CustomFields, fieldValueJSON{ID: id, Value: tk.fields[id]})
	}
	out.Fields = out.CustomFields
	return out
}

// createTicket serves POST /api/v2/tickets, honouring Idempotency-Key.
func (s *Server) createTicket(w http.ResponseWriter, r *http.Request) {
	body, rp, ok := readBody(w, r)
	if !ok {
		rp.write(w)
		return
	}
	s.createTicketIdempotent(r, body).write(w)
}

// createTicketLocked creates a ticket from a request body; the caller holds s.mu.
func (s *Server) createTicketLocked(r *http.Request, body []byte) reply {
	var req struct {
		Ticket *ticketInput `json:"ticket"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return badJSON(err)
	}
	if req.Ticket == nil {
		return errorReply(http.StatusBadRequest, "InvalidValue", "Parameter ticket is required")
	}
	in := req.Ticket
	noteLocked(r, func(e *Entry) { e.Inputs = 1 })
	fields, details := s.checkTicket(in, nil)
	if details != nil {
		return invalid(details)
	}
	agent := s.agentFor(r)
	requester := agent
	switch {
	case in.RequesterID != nil:
		requester = s.users[*in.RequesterID]
	case in.Requester != nil:
		email := strings.TrimSpace(in.Requester.Email)
		if requester = s.findUser(email, ""); requester == nil {
			name := in.Requester.Name
			if name == "" {
				name, _, _ = strings.Cut(email, "@")
			}
			requester = s.addUser(name, email, "", "end-user")
		}
	}
	now := s.now()
	tk := &ticket{
		id:          s.newID("ticket"),
		status:      "new",
		requesterID: requester.id,
		submitterID: agent.id,
		tags:        []string{},
		fields:      map[int64]any{},
		created:     now,
		updated:     now,
	}
	s.tickets[tk.id] = tk
	s.ticketIDs = append(s.ticketIDs, tk.id)
	s.created++
	if in.Comment != nil && in.Comment.AuthorID == nil && requester != agent {
		// A new ticket's first comment is the requester's.
		id := requester.id
		in.Comment.AuthorID = &id
	}
	audit := s.applyTicket(tk, in, fields, agent.id, seqOf(r), true)
	noteLocked(r, func(e *Entry) { e.Applied = true })
	base := baseURL(r)
	rp := jsonReply(http.StatusCreated, map[string]any{"ticket": s.ticketJSON(base, tk), "audit": audit})
	rp.header = http.Header{"Location": {ticketURL(base, tk.id)}}
	return rp
}

// showTicket serves GET /api/v2/tickets/{id}.
func (s *Server) showTicket(w http.ResponseWriter, r *http.Request) {
	s.showTicketLocked(r).write(w)
}

func (s *Server) showTicketLocked(r *http.Request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := pathID(r)
	tk := s.tickets[id]
	if !ok || tk == nil {
		return notFound()
	}
	return jsonReply(http.StatusOK, map[string]any{"ticket": s.ticketJSON(baseURL(r), tk)})
}

// listTickets serves GET /api/v2/tickets, optionally filtered by
// external_id, in pages of per_page (at most 100).
func (s *Server) listTickets(w http.ResponseWriter, r *http.Request) {
	s.listTicketsLocked(r).write(w)
}

func (s *Server) listTicketsLocked(r *http.Request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	externalID := r.URL.Query().Get("external_id")
	var all []*ticket
	for _, id := range s.ticketIDs {
		if tk := s.tickets[id]; externalID == "" || strings.EqualFold(tk.externalID, externalID) {
			all = append(all, tk)
		}
	}
	page, err := pageOf(r, len(all))
	if err != nil {
		return errorReply(http.StatusBadRequest, "InvalidPaginationParameter", err.Error())
	}
	base := baseURL(r)
	out := []ticketJSON{}
	for _, tk := range all[page.start:page.end] {
		out = append(out, s.ticketJSON(base, tk))
	}
	return jsonReply(http.StatusOK, map[string]any{
		"tickets": out, "count": len(all), "next_page": page.next, "previous_page": page.previous,
	})
}

// updateTicketHandler serves PUT /api/v2/tickets/{id}: 200 {ticket, audit}.
func (s *Server) updateTicketHandler(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Ticket *ticketInput `json:"ticket"`
	}
	if _, rp, ok := decodeBody(w, r, &req); !ok {
		rp.write(w)
		return
	}
	s.updateTicketLocked(r, req.Ticket).write(w)
}

func (s *Server) updateTicketLocked(r *http.Request, in *ticketInput) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	noteLocked(r, func(e *Entry) { e.Inputs = 1 })
	id, ok := pathID(r)
	tk := s.tickets[id]
	if !ok || tk == nil {
		return notFound()
	}
	who, _ := identify(r)
	limitKey := who.user
	if who.bearer {
		limitKey = "bearer:" + who.token
	}
	if rp, admitted := s.admitTicketUpdate(r, limitKey, id); !admitted {
		return rp
	}
	if in == nil {
		return errorReply(http.StatusBadRequest, "InvalidValue", "Parameter ticket is required")
	}
	if in.SafeUpdate && in.UpdatedStamp != zdTime(tk.updated) {
		return errorReply(http.StatusConflict, "UpdateConflict",
			"Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again.")
	}
	fields, details := s.checkTicket(in, tk)
	if details != nil {
		return invalid(details)
	}
	audit := s.applyTicket(tk, in, fields, s.agentFor(r).id, seqOf(r), false)
	noteLocked(r, func(e *Entry) { e.Applied = true })
	return jsonReply(http.StatusOK, map[string]any{"ticket": s.ticketJSON(baseURL(r), tk), "audit": audit})
}

// commentJSON is a ticket comment on the wire.
type commentJSON struct {
	ID          int64          `json:"id"`
	Type        string         `json:"type"`
	AuthorID    int64          `json:"author_id"`
	Body        string         `json:"body"`
	HTMLBody    string         `json:"html_body"`
	PlainBody   string         `json:"plain_body"`
	Public      bool           `json:"public"`
	AuditID     int64          `json:"audit_id"`
	Attachments []any          `json:"attachments"`
	Via         map[string]any `json:"via"`
	CreatedAt   string         `json:"created_at"`
}

// listComments serves GET /api/v2/tickets/{id}/comments, oldest first
// (sort_order=desc for newest first), in pages of per_page (at most 100).
func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	s.listCommentsLocked(r).write(w)
}

func (s *Server) listCommentsLocked(r *http.Request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := pathID(r)
	tk := s.tickets[id]
	if !ok || tk == nil {
		return notFound()
	}
	comments := slices.Clone(tk.comments)
	if r.URL.Query().Get("sort_order") == "desc" {
		slices.Reverse(comments)
	}
	page, err := pageOf(r, len(comments))
	if err != nil {
		return errorReply(http.StatusBadRequest, "InvalidPaginationParameter", err.Error())
	}
	out := []commentJSON{}
	for _, c := range comments[page.start:page.end] {
		out = append(out, commentJSON{
			ID: c.id, Type: "Comment", AuthorID: c.authorID, Body: c.body, HTMLBody: c.htmlBody, PlainBody: c.body,
			Public: c.public, AuditID: c.auditID, Attachments: []any{}, Via: map[string]any{"channel": "api"},
			CreatedAt: zdTime(c.created),
		})
	}
	return jsonReply(http.StatusOK, map[string]any{
		"comments": out, "count": len(comments), "next_page": page.next, "previous_page": page.previous,
	})
}

// page is one page of an offset-paginated list.
type page struct {
	start, end     int
	next, previous *string
}

// pageOf reads page and per_page (default 100, at most 100) for a list of n.
func pageOf(r *http.Request, n int) (page, error) {
	q := r.URL.Query()
	number, size := 1, 100
	if v := q.Get("page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			return page{}, fmt.Errorf("page %q is not a positive integer", v)
		}
		number = p
	}
	if v := q.Get("per_page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 100 {
			return page{}, fmt.Errorf("per_page %q is not an integer between 1 and 100", v)
		}
		size = p
	}
	pg := page{start: min(n, (number-1)*size)}
	pg.end = min(n, pg.start+size)
	link := func(p int) *string {
		u := *r.URL
		v := u.Query()
		v.Set("page", strconv.Itoa(p))
		v.Set("per_page", strconv.Itoa(size))
		u.RawQuery = v.Encode()
		s := baseURL(r) + u.RequestURI()
		return &s
	}
	if pg.end < n {
		pg.next = link(number + 1)
	}
	if number > 1 {
		pg.previous = link(number - 1)
	}
	return pg, nil
}
