package zendeskapi

import (
	"time"

	"github.com/surveysync/surveysync/sandbox/fault"
)

// Defaults used when the matching Options field is zero.
const (
	// DefaultRateLimit is the account's requests per minute (Enterprise
	// plans; Team allows 200, Growth and Professional 400, High Volume 2500).
	DefaultRateLimit = 700
	// DefaultUpdateTicketLimit is the Update Ticket endpoint's requests per
	// minute per account.
	DefaultUpdateTicketLimit = 100
	// DefaultTicketUpdateLimit is the updates one user may make to one
	// ticket in ten minutes.
	DefaultTicketUpdateLimit = 30
	// DefaultIdempotencyTTL is how long an Idempotency-Key is remembered.
	DefaultIdempotencyTTL = 2 * time.Hour
	// MaxBulk is the most tickets one update_many request may name.
	MaxBulk = 100
	// ticketUpdateWindow is the span of the per-user, per-ticket limit.
	ticketUpdateWindow = 10 * time.Minute
	// jobRetention is how long job statuses can be read.
	jobRetention = 24 * time.Hour
)

// Credential is an API token accepted through basic authentication as
// "{Email}/token:{Token}".
type Credential struct {
	// Email is the agent's address; it is matched ignoring case.
	Email string
	// Token is the API token.
	Token string
}

// FieldType is the type of a custom ticket field.
type FieldType string

// The custom field types the emulator validates.
const (
	// FieldText takes a string (numbers are kept as their text).
	FieldText FieldType = "text"
	// FieldTextarea takes a string, like FieldText.
	FieldTextarea FieldType = "textarea"
	// FieldInteger takes an integer, as a JSON number or a string of digits.
	FieldInteger FieldType = "integer"
	// FieldDecimal takes a number, as a JSON number or a numeric string.
	FieldDecimal FieldType = "decimal"
	// FieldTagger is a drop-down: one of the field's tag values.
	FieldTagger FieldType = "tagger"
	// FieldMultiselect takes a list of the field's tag values.
	FieldMultiselect FieldType = "multiselect"
	// FieldCheckbox takes a boolean.
	FieldCheckbox FieldType = "checkbox"
	// FieldDate takes a date as "YYYY-MM-DD".
	FieldDate FieldType = "date"
)

// Field is a custom ticket field.
type Field struct {
	// ID is the field id used in custom_fields[].id.
	ID int64
	// Title is the field's name, used in messages and on the sandbox page.
	Title string
	// Type decides which values are valid.
	Type FieldType
	// Tags lists the allowed values of tagger and multiselect fields.
	Tags []string
}

// NewTicket describes a ticket to seed with AddTicket. Seeds are trusted:
// their fields are stored without validation.
type NewTicket struct {
	// Subject is the ticket's title.
	Subject string
	// Description becomes the first, public comment.
	Description string
	// Status is one of new, open, pending, hold, solved, closed; "" is open.
	Status string
	// RequesterEmail names the end user who asked; "" makes one up.
	RequesterEmail string
	// ExternalID links the ticket to another system.
	ExternalID string
	// Tags are the ticket's tags.
	Tags []string
	// Fields holds custom field values by field id.
	Fields map[int64]any
}

// Options configures a Server. The zero value is a usable emulator that
// accepts any well-formed credentials.
type Options struct {
	// Subdomain is informational: it names the tables on the sandbox page
	// and is checked nowhere.
	Subdomain string
	// Credentials lists the accepted API tokens. When neither Credentials
	// nor BearerTokens is set, any "email/token:TOKEN" basic credential and
	// any bearer token is accepted.
	Credentials []Credential
	// BearerTokens lists the accepted OAuth access tokens.
	BearerTokens []string
	// RateLimit is the account's requests per minute; 0 means
	// DefaultRateLimit and a negative value disables the limit.
	RateLimit int
	// UpdateTicketLimit is the PUT /api/v2/tickets/{id} requests per minute
	// per account; 0 means DefaultUpdateTicketLimit, negative disables it.
	UpdateTicketLimit int
	// TicketUpdateLimit is the updates per user per ticket in any ten
	// minutes; 0 means DefaultTicketUpdateLimit, negative disables it.
	TicketUpdateLimit int
	// Now is the clock; nil means time.Now. Tests inject a fake clock to move
	// rate-limit windows, idempotency expiry and jobs without sleeping.
	Now func() time.Time
	// Faults, when set, injects faults into the requests FaultOnly selects.
	Faults *fault.Injector
	// FaultOnly selects the requests faults apply to; nil selects writes
	// (every method but GET and HEAD).
	FaultOnly fault.Only
	// Fields are the custom ticket fields.
	Fields []Field
	// Tickets are seeded in order, as if by AddTicket.
	Tickets []NewTicket
	// JobDelay is how long an update_many job stays queued. With 0 the job
	// is applied by the next request after the one that queued it (such as
	// the first poll of its status), or by the next accessor call.
	JobDelay time.Duration
	// IdempotencyTTL is how long an Idempotency-Key is remembered; 0 means
	// DefaultIdempotencyTTL.
	IdempotencyTTL time.Duration
}

// limitOrDefault resolves the "0 means default, negative disables" rule;
// it returns 0 for a disabled limit.
func limitOrDefault(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}
