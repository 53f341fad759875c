package connectors

import "net/http"

// WireRequest is one HTTP request a destination would send, as `preview`
// shows it: the method, URL and body that go on the wire, after the
// destination has batched, converted and marked the rendered requests.
// Credentials are never part of it.
type WireRequest struct {
	Method string
	// URL is the whole address, on the destination's endpoint.
	URL    string
	Header http.Header
	Body   any
	// Note says what the request is for, and which of its values are only
	// known when it is sent (an id the API assigns, for example).
	Note string
}

// WirePreviewer is implemented by the configuration of a destination whose
// requests differ from what its mapping renders: one that batches inputs,
// converts values or adds requests of its own. `preview` calls it with the
// rendered items, so an ops person sees what would be sent and which
// responses the destination would refuse. It sends nothing and needs no
// credentials.
type WirePreviewer interface {
	// PreviewWire returns the requests a delivery of items would send, in
	// order, and for each item nil or the error that would dead-letter it.
	PreviewWire(items []*Item) (reqs []WireRequest, errs []error)
}
