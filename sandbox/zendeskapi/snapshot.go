package zendeskapi

import (
	"maps"
	"slices"
	"time"
)

// Ticket is a snapshot of a stored ticket.
type Ticket struct {
	// ID is the ticket id.
	ID int64
	// Subject, Status, Priority, Type and ExternalID are as stored; unset
	// ones are "".
	Subject, Status, Priority, Type, ExternalID string
	// RequesterID is the end user who asked.
	RequesterID int64
	// Tags are the ticket's tags.
	Tags []string
	// Fields holds custom field values by field id, in stored form.
	Fields map[int64]any
	// Comments lists the comments, oldest first.
	Comments []Comment
	// Updates counts the updates applied after creation, by PUT or by an
	// update_many job.
	Updates int
	// CreatedAt and UpdatedAt are by the server's clock.
	CreatedAt, UpdatedAt time.Time
}

// Comment is a snapshot of a ticket comment.
type Comment struct {
	// ID is the comment id.
	ID int64
	// Body is the plain text; HTMLBody the HTML form.
	Body, HTMLBody string
	// Public is false for internal notes.
	Public bool
	// AuthorID is the user who wrote it.
	AuthorID int64
	// CreatedAt is by the server's clock.
	CreatedAt time.Time
	// RequestSeq is the Seq of the logged request that added it; 0 for seeds.
	RequestSeq int64
}

// User is a snapshot of a stored user.
type User struct {
	// ID is the user id.
	ID int64
	// Name, Email, ExternalID and Role are as stored.
	Name, Email, ExternalID, Role string
	// UserFields holds the user's custom field values.
	UserFields map[string]any
}

// Tickets returns the stored tickets in creation order, after running any
// update_many jobs that are due.
func (s *Server) Tickets() []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runDueJobs()
	out := make([]Ticket, 0, len(s.ticketIDs))
	for _, id := range s.ticketIDs {
		out = append(out, snapshotTicket(s.tickets[id]))
	}
	return out
}

// Ticket returns the ticket with id, after running any due jobs.
func (s *Server) Ticket(id int64) (Ticket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runDueJobs()
	tk := s.tickets[id]
	if tk == nil {
		return Ticket{}, false
	}
	return snapshotTicket(tk), true
}

func snapshotTicket(tk *ticket) Ticket {
	t := Ticket{
		ID: tk.id, Subject: tk.subject, Status: tk.status, Priority: tk.priority, Type: tk.kind,
		ExternalID: tk.externalID, RequesterID: tk.requesterID, Tags: slices.Clone(tk.tags),
		Fields: maps.Clone(tk.fields), Updates: tk.updates, CreatedAt: tk.created, UpdatedAt: tk.updated,
	}
	for _, c := range tk.comments {
		t.Comments = append(t.Comments, Comment{
			ID: c.id, Body: c.body, HTMLBody: c.htmlBody, Public: c.public, AuthorID: c.authorID,
			CreatedAt: c.created, RequestSeq: c.requestSeq,
		})
	}
	return t
}

// CreatedTickets counts the tickets created through the API (seeds and
// AddTicket excluded); idempotent replays create none.
func (s *Server) CreatedTickets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created
}

// Users returns the stored users in creation order, agents included.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.userIDs))
	for _, id := range s.userIDs {
		u := s.users[id]
		out = append(out, User{ID: u.id, Name: u.name, Email: u.email, ExternalID: u.externalID,
			Role: u.role, UserFields: maps.Clone(u.userFields)})
	}
	return out
}
