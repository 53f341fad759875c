package hubspotapi

import (
	"time"

	"github.com/surveysync/surveysync/sandbox/fault"
)

// Defaults used when the matching Options field is zero.
const (
	// DefaultRateLimit is the number of requests a token may make in any
	// rolling ten-second window (HubSpot Free/Starter apps).
	DefaultRateLimit = 100
	// DefaultDailyLimit is the number of requests a token may make per UTC day.
	DefaultDailyLimit = 250_000
	// DefaultSearchLimit is the number of CRM search requests a token may make
	// per second; search is exempt from the ten-second window.
	DefaultSearchLimit = 4
	// MaxBatchInputs is the most inputs a batch request may carry.
	MaxBatchInputs = 100
	// rateInterval is the length of the rolling window.
	rateInterval = 10 * time.Second
)

// Property describes a CRM property the emulator knows.
type Property struct {
	// Name is the property's internal name, such as "last_csat".
	Name string
	// Unique marks a property with hasUniqueValue: no two objects may hold the
	// same value, and it can be used as idProperty.
	Unique bool
}

// Options configures a Server. The zero value is a usable emulator that
// accepts any bearer token.
type Options struct {
	// Tokens lists the accepted bearer tokens; empty accepts any non-empty one.
	Tokens []string
	// RateLimit is the number of requests per token in any rolling ten-second
	// window; 0 means DefaultRateLimit and a negative value disables the limit.
	RateLimit int
	// DailyLimit is the number of requests per token per UTC day; 0 means
	// DefaultDailyLimit and a negative value disables the limit.
	DailyLimit int
	// SearchLimit is the number of search requests per token per second; 0
	// means DefaultSearchLimit and a negative value disables the limit.
	SearchLimit int
	// RetryAfter adds a Retry-After header (whole seconds until a request would
	// be accepted again) to rate-limit 429s. The real API is not documented to
	// send it, so it is off by default.
	RetryAfter bool
	// Now is the clock; nil means time.Now. Tests inject a fake clock to move
	// rate-limit windows and search indexing without sleeping.
	Now func() time.Time
	// Faults, when set, injects faults into the requests FaultOnly selects.
	Faults *fault.Injector
	// FaultOnly selects the requests faults apply to; nil selects writes (any
	// method but GET, except search and batch/read, which only read).
	FaultOnly fault.Only
	// ContactProperties adds contact properties to the defaults (email,
	// firstname, lastname, phone, company).
	ContactProperties []Property
	// NoteProperties adds note properties to the defaults (hs_timestamp,
	// hs_note_body, hubspot_owner_id, hs_attachment_ids).
	NoteProperties []Property
	// Validator, when set, checks every request that matches an operation of
	// the HubSpot OpenAPI specs; a request that violates its spec is answered
	// 400 VALIDATION_ERROR and recorded in Violations.
	Validator RequestChecker
	// ValidateReportOnly records violations but lets the requests through.
	ValidateReportOnly bool
	// SearchDelay is how long a write takes to become visible to search, like
	// the real search index lag (seconds, sometimes up to 30 s). Reads by id
	// are never delayed. 0 makes writes searchable at once.
	SearchDelay time.Duration
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
