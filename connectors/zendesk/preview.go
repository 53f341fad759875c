package zendesk

import (
	"fmt"
	"net/http"

	"github.com/surveysync/surveysync/connectors"
)

// PreviewWire shows what Deliver would send for items: ticket creations
// with their Idempotency-Key; updates of tickets that get a comment, one
// request each, in order, the comment ending with the delivery key's
// marker line; and field-only updates of several tickets in update_many
// jobs of up to 100 tickets. A response the destination would refuse gets
// its error instead.
func (c *Config) PreviewWire(items []*connectors.Item) ([]connectors.WireRequest, []error) {
	results := make([]connectors.Result, len(items))
	creates, sequences, bulk, _ := planJobs(items, results)
	base := c.endpoint()
	var reqs []connectors.WireRequest
	wire := func(r request, note string) {
		reqs = append(reqs, connectors.WireRequest{Method: r.method, URL: base + r.path, Header: r.header, Body: r.body, Note: note})
	}
	for _, j := range creates {
		wire(createRequest(j), fmt.Sprintf("ticket for response %s; the Idempotency-Key makes a re-send after a lost answer safe", j.it.ResponseKey))
	}
	for _, seq := range sequences {
		for _, j := range seq {
			note := fmt.Sprintf("update of ticket %d for response %s", j.ticketID, j.it.ResponseKey)
			if j.comment {
				note += "; the comment's last line carries the delivery key, so a retry finds it instead of adding it twice"
			}
			wire(updateRequest(j), note)
		}
	}
	for _, round := range bulkRounds(bulk) {
		for start := 0; start < len(round); start += MaxBulk {
			chunk := round[start:min(start+MaxBulk, len(round))]
			r := request{method: http.MethodPut, path: updateManyPath, body: bulkBody(chunk)}
			wire(r, fmt.Sprintf("update_many of %d tickets, then the job's status is polled for each ticket's result", len(chunk)))
		}
	}
	errs := make([]error, len(items))
	for i, r := range results {
		errs[i] = r.Err
	}
	return reqs, errs
}
