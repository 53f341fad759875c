package zendeskapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// maxIdempotencyKey is the longest Idempotency-Key accepted.
const maxIdempotencyKey = 255

// idempotent is a remembered ticket creation.
type idempotent struct {
	fingerprint string
	answer      reply
	expires     time.Time
}

// fingerprint identifies the parameters of a request body: the same JSON
// with other spacing or key order has the same fingerprint.
func fingerprint(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "raw:" + string(body)
	}
	canonical, err := json.Marshal(v)
	if err != nil {
		return "raw:" + string(body)
	}
	return string(canonical)
}

// createTicketIdempotent creates a ticket, answering a replay of a known
// Idempotency-Key from the cache (x-idempotency-lookup: hit) and refusing
// the key's reuse with other parameters. Only successful creations are
// remembered.
func (s *Server) createTicketIdempotent(r *http.Request, body []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return s.createTicketLocked(r, body)
	}
	if len(key) > maxIdempotencyKey {
		return errorReply(http.StatusBadRequest, "InvalidValue", "Idempotency-Key must be at most 255 characters")
	}
	now := s.now()
	for k, c := range s.idempotency {
		if !now.Before(c.expires) {
			delete(s.idempotency, k)
		}
	}
	fp := fingerprint(body)
	if cached := s.idempotency[key]; cached != nil {
		if cached.fingerprint != fp {
			noteLocked(r, func(e *Entry) { e.Idempotency = LookupMismatch })
			return errorReply(http.StatusBadRequest, "IdempotentRequestError", "Request parameters don't match the given idempotency key")
		}
		noteLocked(r, func(e *Entry) { e.Idempotency = LookupHit })
		rp := cached.answer
		rp.header = rp.header.Clone()
		rp.header.Set("X-Idempotency-Lookup", LookupHit)
		return rp
	}
	noteLocked(r, func(e *Entry) { e.Idempotency = LookupMiss })
	rp := s.createTicketLocked(r, body)
	if rp.header == nil {
		rp.header = http.Header{}
	}
	if rp.status >= 200 && rp.status < 300 {
		s.idempotency[key] = &idempotent{fingerprint: fp, answer: reply{
			status: rp.status, header: rp.header.Clone(), body: rp.body, text: rp.text,
		}, expires: now.Add(s.idempotencyTTL)}
	}
	rp.header.Set("X-Idempotency-Lookup", LookupMiss)
	return rp
}
