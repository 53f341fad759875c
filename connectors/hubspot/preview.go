package hubspot

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/surveysync/surveysync/connectors"
)

// contactIDPlaceholder stands, in a previewed note, for the id HubSpot gives
// the contact: it is known only once the upsert has been answered.
const contactIDPlaceholder = "<id of contact %s, from the upsert>"

// PreviewWire shows what Deliver would send for items: the batch upserts,
// split so that no request names a contact twice and none holds more than
// 100 inputs, with every property value as text; then one note per response
// that has one, carrying its delivery key. A response the destination would
// refuse gets its error instead.
func (c *Config) PreviewWire(items []*connectors.Item) ([]connectors.WireRequest, []error) {
	errs := make([]error, len(items))
	var upserts []*upsertJob
	var notes []*noteJob
	for i, it := range items {
		var submitted time.Time
		if it.Response != nil {
			submitted = it.Response.SubmittedAt
		}
		a, err := parseAction(it.Request, submitted)
		if err != nil {
			errs[i] = err
			continue
		}
		if a.upsert != nil {
			upserts = append(upserts, &upsertJob{idx: i, it: it, input: a.upsert, dedupe: a.dedupe, note: a.note})
			continue
		}
		notes = append(notes, &noteJob{idx: i, it: it, note: a.note})
	}
	base := strings.TrimSuffix(c.Endpoint, "/")
	var reqs []connectors.WireRequest
	for _, round := range rounds(upserts) {
		for start := 0; start < len(round); start += MaxBatchInputs {
			chunk := round[start:min(start+MaxBatchInputs, len(round))]
			body, _ := upsertBody(chunk)
			reqs = append(reqs, connectors.WireRequest{
				Method: http.MethodPost, URL: base + UpsertPath, Body: body,
				Note: upsertNote(len(chunk)),
			})
		}
	}
	var upsertNotes []*noteJob
	for _, j := range upserts {
		if j.note != nil {
			n := *j.note
			n.Associations = contactNote(fmt.Sprintf(contactIDPlaceholder, j.input.ID))
			upsertNotes = append(upsertNotes, &noteJob{idx: j.idx, it: j.it, note: &n})
		}
	}
	for _, j := range append(upsertNotes, notes...) {
		how := "a marker line ending the body"
		if c.NoteKeyProperty != "" {
			how = "the property " + c.NoteKeyProperty
		}
		reqs = append(reqs, connectors.WireRequest{
			Method: http.MethodPost, URL: base + NotesPath, Body: noteToSend(j.note, j.it.DeliveryKey, c.NoteKeyProperty),
			Note: fmt.Sprintf("note for response %s; its delivery key, in %s, lets a retry find it instead of posting it twice", j.it.ResponseKey, how),
		})
	}
	return reqs, errs
}

// upsertNote describes a previewed batch upsert of n contacts.
func upsertNote(n int) string {
	what := "upsert of 1 contact"
	if n != 1 {
		what = fmt.Sprintf("upsert of %d contacts", n)
	}
	return what + "; each input's objectWriteTraceId is its delivery key, which matches HubSpot's results to responses"
}
