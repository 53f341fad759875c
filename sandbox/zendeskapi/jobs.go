package zendeskapi

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Job states.
const (
	jobQueued    = "queued"
	jobCompleted = "completed"
)

// job is a queued or finished update_many.
type job struct {
	id      string
	created time.Time
	due     time.Time
	status  string
	items   []jobItem
	results []jobResult
	agentID int64
	seq     int64
	entry   *Entry
	message string
}

// jobItem is one ticket update of a job.
type jobItem struct {
	ticketID int64
	input    *ticketInput
}

// jobResult is the outcome of one ticket in a job.
type jobResult struct {
	ID      int64  `json:"id"`
	Action  string `json:"action"`
	Success bool   `json:"success"`
	Status  string `json:"status,omitempty"`
	Error   string `json:"error,omitempty"`
	Details string `json:"details,omitempty"`
}

// jobJSON is a job status on the wire.
type jobJSON struct {
	ID       string      `json:"id"`
	URL      string      `json:"url"`
	Total    int         `json:"total"`
	Progress *int        `json:"progress"`
	Status   string      `json:"status"`
	Message  *string     `json:"message"`
	Results  []jobResult `json:"results"`
}

func (j *job) json(base string) jobJSON {
	out := jobJSON{
		ID:     j.id,
		URL:    fmt.Sprintf("%s/api/v2/job_statuses/%s.json", base, j.id),
		Total:  len(j.items),
		Status: j.status,
	}
	if j.status == jobCompleted {
		progress := len(j.items)
		out.Progress, out.Message, out.Results = &progress, &j.message, slices.Clone(j.results)
	}
	return out
}

// updateManyBody is the body of update_many in either form.
type updateManyBody struct {
	Ticket  *ticketInput  `json:"ticket"`
	Tickets []ticketInput `json:"tickets"`
}

// updateMany serves PUT /api/v2/tickets/update_many, either ?ids=1,2 with
// {"ticket":{…}} (the same change to each) or {"tickets":[{"id":1,…}]}.
// It queues a job and answers 200 {"job_status":…}; the updates happen
// when the job runs, each ticket failing or succeeding alone.
func (s *Server) updateMany(w http.ResponseWriter, r *http.Request) {
	var body updateManyBody
	if _, rp, ok := decodeBody(w, r, &body); !ok {
		rp.write(w)
		return
	}
	items, rp, ok := bulkItems(r, body)
	if !ok {
		s.note(r, func(e *Entry) { e.Inputs = len(items) })
		rp.write(w)
		return
	}
	s.queueJob(r, items).write(w)
}

// bulkItems reads the tickets of an update_many request.
func bulkItems(r *http.Request, body updateManyBody) ([]jobItem, reply, bool) {
	var items []jobItem
	if ids := r.URL.Query().Get("ids"); ids != "" {
		if body.Ticket == nil {
			return nil, errorReply(http.StatusBadRequest, "InvalidValue", "Parameter ticket is required with ids"), false
		}
		for _, part := range strings.Split(ids, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil || id <= 0 {
				return nil, errorReply(http.StatusBadRequest, "InvalidValue", fmt.Sprintf("ids: %q is not a ticket id", part)), false
			}
			items = append(items, jobItem{ticketID: id, input: body.Ticket})
		}
	} else {
		for i := range body.Tickets {
			if body.Tickets[i].ID <= 0 {
				return nil, errorReply(http.StatusBadRequest, "InvalidValue", fmt.Sprintf("tickets[%d] has no id", i)), false
			}
			items = append(items, jobItem{ticketID: body.Tickets[i].ID, input: &body.Tickets[i]})
		}
	}
	switch {
	case len(items) == 0:
		return nil, errorReply(http.StatusBadRequest, "InvalidValue", "update_many needs ids with a ticket, or tickets"), false
	case len(items) > MaxBulk:
		return items, errorReply(http.StatusBadRequest, "TooManyValues",
			fmt.Sprintf("update_many accepts at most %d tickets, got %d", MaxBulk, len(items))), false
	}
	return items, reply{}, true
}

// queueJob stores a job for items.
func (s *Server) queueJob(r *http.Request, items []jobItem) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	noteLocked(r, func(e *Entry) { e.Inputs = len(items) })
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	now := s.now()
	j := &job{
		id:      hex.EncodeToString(raw[:]),
		created: now,
		due:     now.Add(s.opts.JobDelay),
		status:  jobQueued,
		items:   items,
		agentID: s.agentFor(r).id,
		seq:     seqOf(r),
		entry:   entryFrom(r),
	}
	s.jobs[j.id] = j
	s.jobOrder = append(s.jobOrder, j.id)
	return jsonReply(http.StatusOK, map[string]any{"job_status": j.json(baseURL(r))})
}

// runDueJobs applies the queued jobs whose delay has passed, oldest first,
// and forgets jobs older than a day; the caller holds s.mu.
func (s *Server) runDueJobs() {
	now := s.now()
	kept := s.jobOrder[:0]
	for _, id := range s.jobOrder {
		j := s.jobs[id]
		if now.Sub(j.created) > jobRetention {
			delete(s.jobs, id)
			continue
		}
		kept = append(kept, id)
		if j.status == jobQueued && !now.Before(j.due) {
			s.runJob(j)
		}
	}
	s.jobOrder = kept
}

// runJob applies each ticket update of j.
func (s *Server) runJob(j *job) {
	applied := false
	for _, it := range j.items {
		tk := s.tickets[it.ticketID]
		if tk == nil {
			j.results = append(j.results, jobResult{ID: it.ticketID, Action: "update", Error: "RecordNotFound", Details: "Ticket not found"})
			continue
		}
		fields, details := s.checkTicket(it.input, tk)
		if details != nil {
			j.results = append(j.results, jobResult{ID: it.ticketID, Action: "update", Error: "RecordInvalid", Details: joinDetails(details)})
			continue
		}
		s.applyTicket(tk, it.input, fields, j.agentID, j.seq, false)
		j.results = append(j.results, jobResult{ID: it.ticketID, Action: "update", Success: true, Status: "Updated"})
		applied = true
	}
	j.status = jobCompleted
	j.message = "Completed at " + zdTime(s.now())
	if applied && j.entry != nil {
		j.entry.Applied = true
	}
}

// joinDetails flattens RecordInvalid details into one line.
func joinDetails(details map[string][]detail) string {
	var parts []string
	for _, key := range slices.Sorted(maps.Keys(details)) {
		for _, d := range details[key] {
			parts = append(parts, d.Description)
		}
	}
	return strings.Join(parts, "; ")
}

// showJob serves GET /api/v2/job_statuses/{id}.
func (s *Server) showJob(w http.ResponseWriter, r *http.Request) {
	s.showJobLocked(r).write(w)
}

func (s *Server) showJobLocked(r *http.Request) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.jobs[r.PathValue("id")]
	if j == nil {
		return notFound()
	}
	return jsonReply(http.StatusOK, map[string]any{"job_status": j.json(baseURL(r))})
}
