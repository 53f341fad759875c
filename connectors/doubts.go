package connectors

import (
	"sync"
	"time"
)

// Doubts remembers, by delivery key, the requests this process sent that
// are not idempotent (a HubSpot note, a Zendesk comment) and whose outcome
// is not known yet: before such a request is sent again, the destination
// looks for its effect, no earlier than its reconcile delay after it was
// sent. It is safe for concurrent use.
type Doubts struct {
	mu      sync.Mutex
	started time.Time
	sent    map[string]time.Time
}

// NewDoubts returns an empty record for a destination built at started.
func NewDoubts(started time.Time) *Doubts {
	return &Doubts{started: started, sent: map[string]time.Time{}}
}

// Sent records that the request of key is sent at at.
func (d *Doubts) Sent(key string, at time.Time) {
	d.mu.Lock()
	d.sent[key] = at
	d.mu.Unlock()
}

// Known drops the record of key once the request's outcome is known.
func (d *Doubts) Known(key string) {
	d.mu.Lock()
	delete(d.sent, key)
	d.mu.Unlock()
}

// Unknown reports whether a request of key sent by this process has an
// unknown outcome.
func (d *Doubts) Unknown(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.sent[key]
	return ok
}

// Since returns when the request of key with an unknown outcome was sent;
// for an attempt of an earlier process, when this process started, which
// is later than that attempt.
func (d *Doubts) Since(key string) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if at, ok := d.sent[key]; ok {
		return at
	}
	return d.started
}
