package zendeskapi

import (
	"net/http"
	"strconv"
	"time"
)

// Rate limits named in Entry.Limit.
const (
	// LimitAccount is the account's requests per minute.
	LimitAccount = "account"
	// LimitUpdateTicket is the Update Ticket endpoint's requests per minute.
	LimitUpdateTicket = "update_ticket"
	// LimitTicketUser is the updates per user per ticket in ten minutes.
	LimitTicketUser = "ticket_user"
)

// Texts of the rate-limit 429s.
const (
	accountLimitText    = "Number of allowed API requests per minute exceeded"
	updateTicketText    = "Number of allowed ticket update requests per minute exceeded"
	ticketUserLimitText = "You have exceeded the rate limit for updating this ticket"
)

// minuteCounter counts requests in fixed windows aligned to clock minutes,
// as Zendesk's ratelimit-reset header suggests.
type minuteCounter struct {
	window time.Time
	count  int
}

// take counts a request at now unless limit is reached; it returns whether
// it did, the remaining budget and the time until the window resets.
func (c *minuteCounter) take(now time.Time, limit int) (bool, int, time.Duration) {
	if w := now.Truncate(time.Minute); !w.Equal(c.window) {
		c.window, c.count = w, 0
	}
	reset := c.window.Add(time.Minute).Sub(now)
	if c.count >= limit {
		return false, 0, reset
	}
	c.count++
	return true, limit - c.count, reset
}

// rateLimit enforces the account's per-minute limit and sets the rate-limit
// headers on every authenticated answer. Refused requests do not count.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	if s.accountLimit <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		admitted, remaining, reset := s.account.take(s.now(), s.accountLimit)
		if !admitted {
			noteLocked(r, func(e *Entry) { e.Limit = LimitAccount })
		}
		s.mu.Unlock()
		h := w.Header()
		h.Set("X-Rate-Limit", strconv.Itoa(s.accountLimit))
		h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
		h.Set("Ratelimit-Limit", strconv.Itoa(s.accountLimit))
		h.Set("Ratelimit-Remaining", strconv.Itoa(remaining))
		h.Set("Ratelimit-Reset", strconv.Itoa(retrySeconds(reset)))
		if !admitted {
			tooMany(accountLimitText, reset).write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// admitTicketUpdate applies the Update Ticket limits to an update of ticket
// by user; the caller holds s.mu. It returns the refusal, if any.
func (s *Server) admitTicketUpdate(r *http.Request, user string, ticket int64) (reply, bool) {
	now := s.now()
	if s.updateTicketLimit > 0 {
		if admitted, _, reset := s.updateTicket.take(now, s.updateTicketLimit); !admitted {
			noteLocked(r, func(e *Entry) { e.Limit = LimitUpdateTicket })
			return tooMany(updateTicketText, reset), false
		}
	}
	if s.ticketUpdateLimit > 0 {
		key := ticketUser{user, ticket}
		times := s.ticketUpdates[key]
		i := 0
		for i < len(times) && !times[i].After(now.Add(-ticketUpdateWindow)) {
			i++
		}
		times = times[i:]
		if len(times) >= s.ticketUpdateLimit {
			s.ticketUpdates[key] = times
			noteLocked(r, func(e *Entry) { e.Limit = LimitTicketUser })
			return tooMany(ticketUserLimitText, times[0].Add(ticketUpdateWindow).Sub(now)), false
		}
		s.ticketUpdates[key] = append(times, now)
	}
	return reply{}, true
}

// ticketUser keys the per-user, per-ticket update limit.
type ticketUser struct {
	user   string
	ticket int64
}
