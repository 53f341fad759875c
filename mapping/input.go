package mapping

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/surveysync/surveysync/survey"
)

// Input is one response together with what the engine knows about its
// delivery. Templates read the response's payload fields and the built-ins
// key, source, submitted_at, received_at, delivery_key, version, sync and now.
//
// An Input is used by one goroutine at a time: when Fields is nil, the
// payload is decoded on first use and kept. A Mapping decodes (and keeps,
// privately) only the parts its templates and filter can reach; Expr.Eval
// and Filter.Match decode the whole payload into Fields.
type Input struct {
	// Response is the stored response.
	Response *survey.Response
	// Fields is the decoded payload, with numbers as json.Number. When nil it
	// is decoded from Response.Payload on first use.
	Fields map[string]any
	// Sync is the name of the sync the response is delivered through.
	Sync string
	// DeliveryKey identifies this delivery; when empty it is derived with
	// survey.DeliveryKey from Sync, the response's source and key, and Version.
	DeliveryKey string
	// Version counts the versions of the response seen so far (an update of a
	// response is a new version).
	Version int
	// ReceivedAt is when surveysync stored the response.
	ReceivedAt time.Time
	// Now is the time the built-in now returns; the zero time means the
	// current time.
	Now time.Time

	// proj is set while a Mapping renders: only what its paths reach is
	// decoded, into projFields, and Fields stays nil.
	proj       *projection
	projFor    *projection
	projFields map[string]any
}

// project makes the input decode only what p reaches until the returned
// function is called. It does nothing when Fields is already set or another
// projection is active.
func (in *Input) project(p *projection) (restore func()) {
	if in.Fields != nil || in.proj != nil || p == nil || p.all {
		return func() {}
	}
	in.proj = p
	return func() { in.proj = nil }
}

// fields returns the decoded payload, decoding it on first use.
func (in *Input) fields() (map[string]any, error) {
	if in.Fields != nil {
		return in.Fields, nil
	}
	if in.Response == nil || len(in.Response.Payload) == 0 {
		in.Fields = map[string]any{}
		return in.Fields, nil
	}
	if in.proj != nil {
		if in.projFor != in.proj {
			f, err := decodeProjected(in.Response.Payload, in.proj)
			if err != nil {
				return nil, err
			}
			in.projFields, in.projFor = f, in.proj
		}
		return in.projFields, nil
	}
	f, err := decodePayload(in.Response.Payload)
	if err != nil {
		return nil, err
	}
	in.Fields = f
	return f, nil
}

// builtin identifies a built-in name.
type builtin uint8

const (
	notBuiltin builtin = iota
	builtinKey
	builtinSource
	builtinSubmittedAt
	builtinReceivedAt
	builtinDeliveryKey
	builtinVersion
	builtinSync
	builtinNow
	builtinPayload
)

var builtinNames = map[string]builtin{
	"key":          builtinKey,
	"source":       builtinSource,
	"submitted_at": builtinSubmittedAt,
	"received_at":  builtinReceivedAt,
	"delivery_key": builtinDeliveryKey,
	"version":      builtinVersion,
	"sync":         builtinSync,
	"now":          builtinNow,
	"payload":      builtinPayload,
}

// builtinReasons explain why a built-in has no value.
var builtinReasons = map[builtin]string{
	builtinKey:         "the response has no key",
	builtinSource:      "the response has no source",
	builtinSubmittedAt: "the source does not report when the response was submitted",
	builtinReceivedAt:  "the receive time is not known here",
	builtinDeliveryKey: "there is no delivery key outside a sync",
	builtinSync:        "there is no sync name here",
}

// lookupBuiltin returns the value of a built-in; ok is false when the input
// does not carry it (no response, a zero time, an empty sync name).
func (in *Input) lookupBuiltin(b builtin) (v any, ok bool, err error) {
	r := in.Response
	switch b {
	case builtinKey:
		if r == nil || r.Key == "" {
			return nil, false, nil
		}
		return r.Key, true, nil
	case builtinSource:
		if r == nil || r.Source == "" {
			return nil, false, nil
		}
		return r.Source, true, nil
	case builtinSubmittedAt:
		if r == nil || r.SubmittedAt.IsZero() {
			return nil, false, nil
		}
		return r.SubmittedAt, true, nil
	case builtinReceivedAt:
		if in.ReceivedAt.IsZero() {
			return nil, false, nil
		}
		return in.ReceivedAt, true, nil
	case builtinDeliveryKey:
		if in.DeliveryKey != "" {
			return in.DeliveryKey, true, nil
		}
		if r == nil || in.Sync == "" {
			return nil, false, nil
		}
		in.DeliveryKey = survey.DeliveryKey(in.Sync, r.Source, r.Key, in.Version)
		return in.DeliveryKey, true, nil
	case builtinVersion:
		return json.Number(strconv.Itoa(in.Version)), true, nil
	case builtinSync:
		if in.Sync == "" {
			return nil, false, nil
		}
		return in.Sync, true, nil
	case builtinNow:
		if in.Now.IsZero() {
			return time.Now(), true, nil
		}
		return in.Now, true, nil
	case builtinPayload:
		f, err := in.fields()
		if err != nil {
			return nil, false, err
		}
		return f, true, nil
	}
	return nil, false, nil
}
