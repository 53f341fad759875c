package hubspotapi

import (
	"maps"
	"strconv"
	"time"
)

// Contact is a snapshot of a stored contact.
type Contact struct {
	// ID is the contact's object id.
	ID string
	// Properties holds the current values, system properties excluded.
	Properties map[string]string
	// History lists, per property, every value written, oldest first; a
	// value written twice appears twice, so tests can count effects.
	History map[string][]PropertyValue
	// Updates counts the writes applied after creation.
	Updates int
	// CreatedAt and UpdatedAt are by the server's clock.
	CreatedAt, UpdatedAt time.Time
}

// Note is a snapshot of a stored note.
type Note struct {
	// ID is the note's object id.
	ID string
	// Properties holds the values written, such as hs_note_body.
	Properties map[string]string
	// ContactIDs lists the associated contacts.
	ContactIDs []string
	// CreatedAt is by the server's clock.
	CreatedAt time.Time
}

// Contacts returns the stored contacts in creation order.
func (s *Server) Contacts() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Contact, 0, len(s.contacts.ids))
	for _, id := range s.contacts.ids {
		o := s.contacts.objects[id]
		hist := make(map[string][]PropertyValue, len(o.history))
		for k, v := range o.history {
			hist[k] = append([]PropertyValue(nil), v...)
		}
		out = append(out, Contact{
			ID:         strconv.FormatInt(o.id, 10),
			Properties: maps.Clone(o.props),
			History:    hist,
			Updates:    o.updates,
			CreatedAt:  o.created,
			UpdatedAt:  o.updated,
		})
	}
	return out
}

// Notes returns the stored notes in creation order.
func (s *Server) Notes() []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Note, 0, len(s.notes.ids))
	for _, id := range s.notes.ids {
		o := s.notes.objects[id]
		n := Note{ID: strconv.FormatInt(o.id, 10), Properties: maps.Clone(o.props), CreatedAt: o.created}
		for _, c := range o.contacts {
			n.ContactIDs = append(n.ContactIDs, strconv.FormatInt(c, 10))
		}
		out = append(out, n)
	}
	return out
}
