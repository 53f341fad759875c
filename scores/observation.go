package scores

import "time"

// Observation is one rating to score, taken from one stored response.
type Observation struct {
	// At is when the respondent answered. It places the observation in a
	// period; an observation with the zero time can only be scored with the
	// All period and is otherwise counted in Stats.Undated.
	At time.Time
	// Value is the rating as a number. Stars, emoji and labels are turned
	// into numbers upstream by the mapping's value maps. NaN, infinities,
	// values outside the scale and, on a whole-number scale, fractions are
	// invalid: they are counted in Result.Invalid and never clamped.
	Value float64
	// Contact identifies the respondent (an email, a contact id). It is only
	// used by Options.DedupeByContact; an empty Contact is never merged with
	// another response.
	Contact string
	// Key identifies the response within its source. It only breaks ties
	// when one contact answered twice at the same instant.
	Key string
	// Segment holds the values of the response fields named by
	// Options.GroupBy, in the same order, for example the agent and the
	// channel. A missing field is the empty string.
	Segment []string
}

// later reports whether a should replace b as a contact's latest response:
// the later At wins, then the greater Key, then the greater Value, so the
// choice never depends on the order responses arrive in.
func later(a, b *latestResponse) bool {
	switch {
	case a.sec != b.sec:
		return a.sec > b.sec
	case a.nsec != b.nsec:
		return a.nsec > b.nsec
	case a.key != b.key:
		return a.key > b.key
	}
	return a.value > b.value
}

// latestResponse is the response kept for one contact in one group.
type latestResponse struct {
	sec   int64 // At as Unix seconds, floored
	nsec  int32 // and nanoseconds within that second
	group int32 // the group's index in Accumulator.groupList
	value float64
	key   string
}
