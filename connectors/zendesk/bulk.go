package zendesk

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/surveysync/surveysync/connectors"
)

// jobStatus is a background job's status.
type jobStatus struct {
	ID      string      `json:"id"`
	Status  string      `json:"status"`
	Message *string     `json:"message"`
	Results []jobResult `json:"results"`
}

// jobResult is the outcome of one ticket of an update_many job.
type jobResult struct {
	ID      int64  `json:"id"`
	Success bool   `json:"success"`
	Status  string `json:"status"`
	Error   string `json:"error"`
	Details string `json:"details"`
}

// updateMany sends field-only updates of several tickets in update_many
// jobs of up to 100 tickets, waits for each job, and settles every response
// on its ticket's result. A ticket named twice goes into a later job, after
// the first update's job has finished, so that the updates land in order.
// Setting fields is idempotent: a job whose outcome is unknown is sent
// again.
func (d *Destination) updateMany(ctx context.Context, jobs []*job, results []connectors.Result) {
	failed := map[int64]error{}
	for _, round := range bulkRounds(jobs) {
		var send []*job
		for _, j := range round {
			if err := failed[j.ticketID]; err != nil {
				results[j.idx].Err = connectors.Transient(fmt.Errorf("ticket %d: waiting for an earlier response to this ticket: %w", j.ticketID, err))
				continue
			}
			send = append(send, j)
		}
		for start := 0; start < len(send); start += MaxBulk {
			chunk := send[start:min(start+MaxBulk, len(send))]
			d.sendBulk(ctx, chunk, results)
			for _, j := range chunk {
				if c, _ := connectors.Classify(results[j.idx].Err); c != "" && c != connectors.ClassPermanent && c != connectors.ClassRender {
					failed[j.ticketID] = results[j.idx].Err
				}
			}
		}
	}
}

// bulkRounds splits jobs so that no update_many job names a ticket twice:
// round k holds the k-th update of every ticket.
func bulkRounds(jobs []*job) [][]*job {
	return connectors.Rounds(jobs, func(j *job) int64 { return j.ticketID })
}

// bulkBody is the body of an update_many job of chunk.
func bulkBody(chunk []*job) map[string]any {
	tickets := make([]map[string]any, len(chunk))
	for i, j := range chunk {
		t := maps.Clone(j.ticket)
		t["id"] = j.ticketID
		tickets[i] = t
	}
	return map[string]any{"tickets": tickets}
}

// sendBulk runs one update_many job.
func (d *Destination) sendBulk(ctx context.Context, chunk []*job, results []connectors.Result) {
	what := fmt.Sprintf("update_many of %d tickets", len(chunk))
	set := func(err error) {
		for _, j := range chunk {
			results[j.idx].Err = err
		}
	}
	r := request{method: http.MethodPut, path: updateManyPath, body: bulkBody(chunk), idempotent: true}
	resp, data, err := d.do(ctx, r)
	if err != nil || resp.StatusCode != http.StatusOK {
		set(d.failure(what, r, resp, data, err))
		return
	}
	var queued struct {
		JobStatus jobStatus `json:"job_status"`
	}
	if err := json.Unmarshal(data, &queued); err != nil || queued.JobStatus.ID == "" {
		set(connectors.Transient(fmt.Errorf("%s: zendesk answered without a job status: %s", what, connectors.Snippet(data))))
		return
	}
	st, err := d.waitJob(ctx, queued.JobStatus)
	if err != nil {
		set(connectors.Transient(fmt.Errorf("%s (job %s): %w", what, queued.JobStatus.ID, err)))
		return
	}
	byTicket := map[int64]jobResult{}
	for _, r := range st.Results {
		byTicket[r.ID] = r
	}
	for _, j := range chunk {
		r, ok := byTicket[j.ticketID]
		switch {
		case !ok:
			results[j.idx].Err = connectors.Transient(fmt.Errorf("ticket %d: job %s ended %s without a result for it", j.ticketID, st.ID, st.Status))
		case r.Success:
			results[j.idx] = connectors.Result{Ref: fmt.Sprintf("ticket:%d job:%s", j.ticketID, st.ID)}
		case r.Error == "RecordNotFound":
			results[j.idx].Err = connectors.Permanent(fmt.Errorf("ticket %d: zendesk has no such ticket (RecordNotFound)", j.ticketID))
		case r.Error == "RecordInvalid" || r.Error == "InvalidValue" || strings.Contains(r.Details, "field"):
			results[j.idx].Err = connectors.Permanent(fmt.Errorf("ticket %d: zendesk refused the update (%s): %s", j.ticketID, r.Error, r.Details))
		default:
			results[j.idx].Err = connectors.Transient(fmt.Errorf("ticket %d: the update failed in job %s (%s): %s", j.ticketID, st.ID, cmpOr(r.Error, r.Status), r.Details))
		}
	}
}

// waitJob polls a job until it is completed, failed or killed, or until
// JobTimeout.
func (d *Destination) waitJob(ctx context.Context, st jobStatus) (jobStatus, error) {
	deadline := d.now().Add(d.cfg.JobTimeout)
	path := "/job_statuses/" + url.PathEscape(st.ID) + ".json"
	for {
		switch st.Status {
		case "completed":
			return st, nil
		case "failed", "killed":
			msg := ""
			if st.Message != nil {
				msg = ": " + *st.Message
			}
			return st, fmt.Errorf("the job %s%s", st.Status, msg)
		}
		if d.now().After(deadline) {
			return st, fmt.Errorf("the job is still %s after %s", st.Status, d.cfg.JobTimeout)
		}
		t := time.NewTimer(d.cfg.JobPollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return st, ctx.Err()
		case <-t.C:
		}
		r := request{method: http.MethodGet, path: path, idempotent: true}
		resp, data, err := d.do(ctx, r)
		if err != nil || resp.StatusCode != http.StatusOK {
			return st, fmt.Errorf("reading the job's status: %w", d.failure("job status", r, resp, data, err))
		}
		var ans struct {
			JobStatus jobStatus `json:"job_status"`
		}
		if err := json.Unmarshal(data, &ans); err != nil {
			return st, fmt.Errorf("reading the job's status: unreadable answer: %w", err)
		}
		st = ans.JobStatus
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
