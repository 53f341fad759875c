package hubspotapi

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate-limit policy names, as in HubSpot's 429 bodies.
const (
	PolicyTenSecondly = "TEN_SECONDLY_ROLLING"
	PolicyDaily       = "DAILY"
	// PolicySecondly is the emulator's name for the search limit; the real
	// body for it is not documented.
	PolicySecondly = "SECONDLY"
)

// usage counts the accepted requests of one token.
type usage struct {
	recent   []time.Time // accepted non-search requests, oldest first
	searches []time.Time // accepted search requests, oldest first
	day      string      // UTC day the daily count belongs to
	daily    int
}

// prune drops the times at or before cutoff from the front of times.
func prune(times []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(times) && !times[i].After(cutoff) {
		i++
	}
	return times[i:]
}

// isSearch reports whether r is a CRM search, which has its own limit.
func isSearch(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/search")
}

// rateLimit enforces the rolling ten-second, search and daily limits per
// token and sets the X-HubSpot-RateLimit headers on every answer.
// Refused requests do not count against the limits.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := bearer(r)
		search := isSearch(r)
		policy, wait := s.admit(w.Header(), token, search)
		if policy == "" {
			next.ServeHTTP(w, r)
			return
		}
		s.note(r, func(e *Entry) { e.Limit = policy })
		if s.opts.RetryAfter {
			w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(wait)))
		}
		message := "You have reached your " + strings.ToLower(policy) + " limit."
		writeRateLimited(w, policy, message)
	})
}

// admit counts a request of token and sets the rate-limit headers. It
// returns the refusing policy and how long until a request would pass, or
// an empty policy when the request is accepted.
func (s *Server) admit(h http.Header, token string, search bool) (string, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	u := s.usage[token]
	if u == nil {
		u = &usage{}
		s.usage[token] = u
	}
	u.recent = prune(u.recent, now.Add(-rateInterval))
	u.searches = prune(u.searches, now.Add(-time.Second))
	if day := now.UTC().Format(time.DateOnly); u.day != day {
		u.day, u.daily = day, 0
	}

	var policy string
	var wait time.Duration
	switch {
	case s.dailyLimit > 0 && u.daily >= s.dailyLimit:
		y, m, d := now.UTC().Date()
		policy, wait = PolicyDaily, time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC).Sub(now)
	case !search && s.burstLimit > 0 && len(u.recent) >= s.burstLimit:
		policy, wait = PolicyTenSecondly, u.recent[0].Add(rateInterval).Sub(now)
	case search && s.searchLimit > 0 && len(u.searches) >= s.searchLimit:
		policy, wait = PolicySecondly, u.searches[0].Add(time.Second).Sub(now)
	default:
		u.daily++
		if search {
			u.searches = append(u.searches, now)
		} else {
			u.recent = append(u.recent, now)
		}
	}

	if s.burstLimit > 0 {
		h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(s.burstLimit))
		h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(max(0, s.burstLimit-len(u.recent))))
		h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.Itoa(int(rateInterval/time.Millisecond)))
	}
	if s.dailyLimit > 0 {
		h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(s.dailyLimit))
		h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(max(0, s.dailyLimit-u.daily)))
	}
	return policy, wait
}

// retrySeconds rounds d up to whole seconds, at least 1.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
