// Package survey holds the small domain types every other surveysync package
// shares: a collected survey response and the typed values that mappings
// produce from it. It imports nothing of ours.
package survey

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Response is one survey response as a source handed it over.
//
// Source and Key together identify the response: a source that sends the same
// key twice is sending the same response (a retry, or an update of it).
type Response struct {
	// Source is the name of the configured source that produced the response.
	Source string
	// Key identifies the response within its source, for example a Typeform
	// token or a Delighted response id.
	Key string
	// SubmittedAt is when the respondent answered, as the source reports it.
	// It is the zero time when the source does not say.
	SubmittedAt time.Time
	// UpdatedAt is when the source last changed the response, as it
	// reports; the zero time when it does not say. When a response arrives
	// again with other content, ingest keeps the content with the newest
	// UpdatedAt, so versions delivered out of order cannot replace a newer
	// one with an older one.
	UpdatedAt time.Time
	// Payload is the response as a JSON object, byte for byte as stored.
	Payload json.RawMessage
}

// Hash returns a stable content hash of the payload, used to tell a
// redelivery of the same response from an update of it.
func (r *Response) Hash() string {
	sum := sha256.Sum256(r.Payload)
	var out [32]byte
	hex.Encode(out[:], sum[:16])
	return string(out[:])
}

// Fields decodes the payload into a generic JSON tree. Numbers are kept as
// json.Number so that large ids keep every digit.
func (r *Response) Fields() (map[string]any, error) {
	return DecodeObject(r.Payload)
}

// DecodeObject decodes a JSON object with numbers kept as json.Number.
func DecodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding response payload: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("decoding response payload: not a JSON object")
	}
	return m, nil
}

// DeliveryKey derives the key that identifies one delivery of one version of
// a response to one sync. It is a pure function of its inputs, so it is the
// same on every attempt, after restarts and on every replica; connectors use
// it as an idempotency key.
func DeliveryKey(sync, source, key string, version int) string {
	// The hashed text is "len:sync|len:source|len:key|version"; it is
	// built in a stack buffer (for usual lengths), as it runs per claimed
	// delivery.
	var stack [256]byte
	b := stack[:0]
	for i, part := range [...]string{sync, source, key} {
		if i > 0 {
			b = append(b, '|')
		}
		b = strconv.AppendInt(b, int64(len(part)), 10)
		b = append(b, ':')
		b = append(b, part...)
	}
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(version), 10)
	sum := sha256.Sum256(b)
	var out [32]byte
	hex.Encode(out[:], sum[:16])
	return string(out[:])
}
