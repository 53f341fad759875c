package sheetsapi

import (
	"sync"
	"time"
)

// Google's documented Sheets API quotas: read and write requests are
// counted separately, each per minute per user and per minute per project.
const (
	DefaultPerUserPerMinute    = 60
	DefaultPerProjectPerMinute = 300
)

// Quotas sets the per-minute request limits. A zero field disables that
// limit; use DefaultQuotas for Google's values.
type Quotas struct {
	ReadPerUser     int
	ReadPerProject  int
	WritePerUser    int
	WritePerProject int
}

// DefaultQuotas returns Google's limits: 60 per user and 300 per project
// per minute, for reads and for writes.
func DefaultQuotas() Quotas {
	return Quotas{
		ReadPerUser: DefaultPerUserPerMinute, ReadPerProject: DefaultPerProjectPerMinute,
		WritePerUser: DefaultPerUserPerMinute, WritePerProject: DefaultPerProjectPerMinute,
	}
}

// quotaWindow is the length of the sliding window.
const quotaWindow = time.Minute

// quotas counts requests in sliding one-minute windows: a request is
// allowed when fewer than the limit were admitted in the 60 seconds before
// it. Rejected requests are not counted.
type quotas struct {
	mu      sync.Mutex
	limits  Quotas
	now     func() time.Time
	windows map[bucketKey]*window
}

type bucketKey struct {
	write bool
	user  string // "" for the project bucket
}

// window holds the admission times of the last minute, oldest first.
type window struct{ times []time.Time }

func newQuotas(limits Quotas, now func() time.Time) *quotas {
	return &quotas{limits: limits, now: now, windows: map[bucketKey]*window{}}
}

// admit counts one request for user, or returns the bucket that is full.
// A batch request counts as one.
func (q *quotas) admit(write bool, user string) (quotaKind, int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	userLimit, projectLimit := q.limits.ReadPerUser, q.limits.ReadPerProject
	if write {
		userLimit, projectLimit = q.limits.WritePerUser, q.limits.WritePerProject
	}
	now := q.now()
	uw := q.window(bucketKey{write: write, user: user}, now)
	pw := q.window(bucketKey{write: write}, now)
	if userLimit > 0 && len(uw.times) >= userLimit {
		return quotaKindFor(write, true), userLimit, false
	}
	if projectLimit > 0 && len(pw.times) >= projectLimit {
		return quotaKindFor(write, false), projectLimit, false
	}
	if userLimit > 0 {
		uw.times = append(uw.times, now)
	}
	if projectLimit > 0 {
		pw.times = append(pw.times, now)
	}
	return quotaKind{}, 0, true
}

// window returns the bucket's window with entries older than a minute dropped.
func (q *quotas) window(k bucketKey, now time.Time) *window {
	w := q.windows[k]
	if w == nil {
		w = &window{}
		q.windows[k] = w
	}
	cut := now.Add(-quotaWindow)
	i := 0
	for i < len(w.times) && !w.times[i].After(cut) {
		i++
	}
	if i > 0 {
		w.times = append(w.times[:0], w.times[i:]...)
	}
	return w
}

// set replaces the limits and forgets the counts.
func (q *quotas) set(limits Quotas) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.limits = limits
	q.windows = map[bucketKey]*window{}
}
