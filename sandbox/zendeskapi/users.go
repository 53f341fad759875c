package zendeskapi

import (
	"fmt"
	"maps"
	"net/http"
	"net/mail"
	"strings"
	"time"
)

// user is a stored Zendesk user.
type user struct {
	id         int64
	name       string
	email      string
	externalID string
	role       string
	userFields map[string]any
	created    time.Time
	updated    time.Time
}

// addUser stores a new user; the caller holds s.mu.
func (s *Server) addUser(name, email, externalID, role string) *user {
	now := s.now()
	u := &user{
		id:         s.newID("user"),
		name:       name,
		email:      strings.ToLower(email),
		externalID: externalID,
		role:       role,
		userFields: map[string]any{},
		created:    now,
		updated:    now,
	}
	s.users[u.id] = u
	s.userIDs = append(s.userIDs, u.id)
	return u
}

// findUser finds a user by email or external id, ignoring case; the caller
// holds s.mu.
func (s *Server) findUser(email, externalID string) *user {
	for _, id := range s.userIDs {
		u := s.users[id]
		if email != "" && strings.EqualFold(u.email, email) ||
			externalID != "" && strings.EqualFold(u.externalID, externalID) {
			return u
		}
	}
	return nil
}

// validEmail accepts a bare address with a dotted domain.
func validEmail(v string) bool {
	addr, err := mail.ParseAddress(v)
	if err != nil || addr.Address != v {
		return false
	}
	_, domain, _ := strings.Cut(v, "@")
	return strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".")
}

// userJSON is a user on the wire.
type userJSON struct {
	ID         int64          `json:"id"`
	URL        string         `json:"url"`
	Name       string         `json:"name"`
	Email      *string        `json:"email"`
	ExternalID *string        `json:"external_id"`
	Role       string         `json:"role"`
	Verified   bool           `json:"verified"`
	UserFields map[string]any `json:"user_fields"`
	CreatedAt  string         `json:"created_at"`
	UpdatedAt  string         `json:"updated_at"`
}

func (u *user) json(base string) userJSON {
	return userJSON{
		ID:         u.id,
		URL:        fmt.Sprintf("%s/api/v2/users/%d.json", base, u.id),
		Name:       u.name,
		Email:      nullable(u.email),
		ExternalID: nullable(u.externalID),
		Role:       u.role,
		Verified:   true,
		UserFields: maps.Clone(u.userFields),
		CreatedAt:  zdTime(u.created),
		UpdatedAt:  zdTime(u.updated),
	}
}

// nullable renders "" as JSON null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// userInput is the body of users/create_or_update.
type userInput struct {
	User *struct {
		Name       string         `json:"name"`
		Email      string         `json:"email"`
		ExternalID string         `json:"external_id"`
		Role       string         `json:"role"`
		UserFields map[string]any `json:"user_fields"`
	} `json:"user"`
}

// createOrUpdateUser serves POST /api/v2/users/create_or_update: a user
// matched by email or external_id (ignoring case) is updated (200),
// otherwise one is created (201).
func (s *Server) createOrUpdateUser(w http.ResponseWriter, r *http.Request) {
	var in userInput
	if _, rp, ok := decodeBody(w, r, &in); !ok {
		rp.write(w)
		return
	}
	s.createOrUpdateUserLocked(r, in).write(w)
}

func (s *Server) createOrUpdateUserLocked(r *http.Request, in userInput) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	noteLocked(r, func(e *Entry) { e.Inputs = 1 })
	if in.User == nil {
		return errorReply(http.StatusBadRequest, "InvalidValue", "Parameter user is required")
	}
	u := *in.User
	details := map[string][]detail{}
	if u.Email != "" && !validEmail(u.Email) {
		details["email"] = append(details["email"], detail{Error: "InvalidValue", Description: fmt.Sprintf("Email: %s is not properly formatted", u.Email)})
	}
	switch u.Role {
	case "", "end-user", "agent", "admin":
	default:
		details["role"] = append(details["role"], detail{Error: "InvalidValue", Description: fmt.Sprintf("Role: %s is not valid", u.Role)})
	}
	existing := s.findUser(u.Email, u.ExternalID)
	if existing == nil && strings.TrimSpace(u.Name) == "" {
		details["name"] = append(details["name"], detail{Error: "BlankValue", Description: "Name: cannot be blank"})
	}
	if existing != nil && u.Email != "" {
		if other := s.findUser(u.Email, ""); other != nil && other != existing {
			details["email"] = append(details["email"], detail{Error: "DuplicateValue",
				Description: fmt.Sprintf("Email: %s is already being used by another user", u.Email)})
		}
	}
	if len(details) > 0 {
		return invalid(details)
	}

	status := http.StatusOK
	if existing == nil {
		existing = s.addUser(u.Name, u.Email, u.ExternalID, cmpOr(u.Role, "end-user"))
		status = http.StatusCreated
	} else {
		if u.Name != "" {
			existing.name = u.Name
		}
		if u.Email != "" {
			existing.email = strings.ToLower(u.Email)
		}
		if u.ExternalID != "" {
			existing.externalID = u.ExternalID
		}
		if u.Role != "" {
			existing.role = u.Role
		}
		existing.updated = s.now()
	}
	for k, v := range u.UserFields {
		existing.userFields[k] = v
	}
	noteLocked(r, func(e *Entry) { e.Applied = true })
	base := baseURL(r)
	rp := jsonReply(status, map[string]any{"user": existing.json(base)})
	rp.header = http.Header{"Location": {fmt.Sprintf("%s/api/v2/users/%d.json", base, existing.id)}}
	return rp
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
