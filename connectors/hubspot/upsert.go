package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/surveysync/surveysync/connectors"
)

// upsertJob is one response's contact upsert.
type upsertJob struct {
	idx    int
	it     *connectors.Item
	input  *upsertInput
	dedupe string
	note   *noteSpec
	// contactID is the contact's object id, once HubSpot named it.
	contactID string
}

// batchAnswer is a batch endpoint's answer (BatchResponseSimplePublicUpsertObject
// and its WithErrors variant).
type batchAnswer struct {
	Status  string         `json:"status"`
	Results []upsertResult `json:"results"`
	Errors  []apiError     `json:"errors"`
}

// upsertResult is one applied input.
type upsertResult struct {
	ID                 string            `json:"id"`
	Properties         map[string]string `json:"properties"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId"`
	New                *bool             `json:"new"`
}

// rounds splits jobs so that no request names one contact twice: HubSpot
// refuses such a batch as a whole ("Duplicate IDs found in batch input").
// Round k holds the k-th job of every contact, in batch order, so applying
// the rounds one after another has exactly the effect of applying the
// responses one by one: the latest response's values win, and values only
// an earlier response set are kept, as they would be. Each response keeps
// its own outcome.
func rounds(jobs []*upsertJob) [][]*upsertJob {
	return connectors.Rounds(jobs, func(j *upsertJob) string { return j.dedupe })
}

// upsert sends the jobs' contacts and fills their results. It returns the
// notes of the contacts that were upserted, to be created next.
func (d *Destination) upsert(ctx context.Context, jobs []*upsertJob, results []connectors.Result) []*noteJob {
	var notes []*noteJob
	var send []*upsertJob
	for _, j := range jobs {
		if id := d.upsertedBefore(j); id != "" {
			// Upserted by an earlier attempt of this process, which failed
			// on the note: writing the contact again would only repeat it,
			// or undo a newer response delivered since.
			j.contactID = id
			results[j.idx].Err = nil
			continue
		}
		send = append(send, j)
	}
	// A contact whose earlier response failed and will be retried keeps
	// its later responses back too, so that an older response can never
	// overwrite a newer one.
	failed := map[string]error{}
	for _, round := range rounds(send) {
		var ready []*upsertJob
		for _, j := range round {
			if err := failed[j.dedupe]; err != nil {
				results[j.idx].Err = connectors.Transient(fmt.Errorf("contact %s: waiting for an earlier response to this contact: %w", j.input.ID, err))
				continue
			}
			ready = append(ready, j)
		}
		for start := 0; start < len(ready); start += MaxBatchInputs {
			chunk := ready[start:min(start+MaxBatchInputs, len(ready))]
			d.sendUpsert(ctx, chunk, results)
			for _, j := range chunk {
				switch c, _ := connectors.Classify(results[j.idx].Err); c {
				case connectors.ClassTransient, connectors.ClassRetryAfter, connectors.ClassAmbiguous, connectors.ClassPaused:
					failed[j.dedupe] = results[j.idx].Err
				}
			}
		}
	}
	var unresolved []*upsertJob
	for _, j := range jobs {
		if results[j.idx].Err == nil && j.note != nil && j.contactID == "" {
			unresolved = append(unresolved, j)
		}
	}
	d.resolveContacts(ctx, unresolved, results)
	for _, j := range jobs {
		if results[j.idx].Err != nil {
			continue
		}
		results[j.idx].Ref = "contact:" + j.contactID
		if j.note != nil {
			d.rememberUpserted(j)
			j.note.Associations = contactNote(j.contactID)
			notes = append(notes, &noteJob{idx: j.idx, it: j.it, note: j.note, contactID: j.contactID})
		}
	}
	return notes
}

// sendUpsert sends one batch upsert of distinct contacts and settles each
// input on its own outcome.
func (d *Destination) sendUpsert(ctx context.Context, chunk []*upsertJob, results []connectors.Result) {
	body, byTrace := upsertBody(chunk)
	what := fmt.Sprintf("upsert of %d contacts", len(chunk))
	if len(chunk) == 1 {
		what = "upsert of contact " + chunk[0].input.ID
	}
	// An upsert keyed by a unique property is idempotent: the client may
	// re-send it after a lost answer.
	resp, data, err := d.call(connectors.Idempotent(ctx), http.MethodPost, UpsertPath, body)
	if err != nil {
		setAll(results, chunk, transportError(what, err, true))
		return
	}
	var ans batchAnswer
	_ = json.Unmarshal(data, &ans)
	switch code := resp.StatusCode; {
	case code == http.StatusOK || code == http.StatusCreated:
		// Every input was applied.
		d.takeResults(ans.Results, byTrace, chunk)
		setAll(results, chunk, nil)
	case code == http.StatusMultiStatus:
		d.settlePartial(chunk, byTrace, ans, results)
	case code == http.StatusBadRequest || code == http.StatusConflict || code == http.StatusUnprocessableEntity:
		d.settleRejected(ctx, chunk, data, resp, results)
	default:
		setAll(results, chunk, d.classify(what, resp, data, true))
	}
}

// upsertBody is the batch upsert of chunk as sent, and its jobs by the
// trace id that correlates HubSpot's results and errors with inputs: the
// delivery key.
func upsertBody(chunk []*upsertJob) (map[string]any, map[string]*upsertJob) {
	inputs := make([]upsertInput, len(chunk))
	byTrace := make(map[string]*upsertJob, len(chunk))
	for i, j := range chunk {
		inputs[i] = *j.input
		inputs[i].ObjectWriteTraceID = j.it.DeliveryKey
		byTrace[j.it.DeliveryKey] = j
	}
	return map[string]any{"inputs": inputs}, byTrace
}

// takeResults records the contact ids HubSpot returned, by the trace id.
func (d *Destination) takeResults(res []upsertResult, byTrace map[string]*upsertJob, chunk []*upsertJob) {
	for _, r := range res {
		if j := byTrace[r.ObjectWriteTraceID]; j != nil && r.ID != "" {
			j.contactID = r.ID
			continue
		}
		// Without the trace id, match the id property's value.
		for _, j := range chunk {
			prop := cmpOr(j.input.IDProperty, "hs_object_id")
			if v := r.Properties[prop]; v != "" && sameID(prop, v, j.input.ID) {
				j.contactID = r.ID
			}
		}
	}
}

// settlePartial settles a 207: the failed inputs named in errors are dead
// letters with HubSpot's message, every other input was applied. An error
// that names no input leaves the inputs without a result in doubt; they are
// re-sent, which is safe for an upsert.
func (d *Destination) settlePartial(chunk []*upsertJob, byTrace map[string]*upsertJob, ans batchAnswer, results []connectors.Result) {
	d.takeResults(ans.Results, byTrace, chunk)
	failed := map[*upsertJob]apiError{}
	unattributed := false
	for _, e := range ans.Errors {
		js := d.errorInputs(e, byTrace, chunk)
		if len(js) == 0 {
			unattributed = true
			continue
		}
		for _, j := range js {
			failed[j] = e
		}
	}
	applied := map[*upsertJob]bool{}
	for _, r := range ans.Results {
		if j := byTrace[r.ObjectWriteTraceID]; j != nil {
			applied[j] = true
		}
	}
	for _, j := range chunk {
		switch e, bad := failed[j]; {
		case bad:
			results[j.idx].Err = itemError(j, e)
		case unattributed && !applied[j] && j.contactID == "":
			results[j.idx].Err = connectors.Transient(fmt.Errorf("upsert of contact %s: hubspot answered 207 with an error naming no input; sending it again", j.input.ID))
		default:
			results[j.idx].Err = nil
		}
	}
}

// settleRejected settles a batch HubSpot refused as a whole (400, 409, 422).
// Errors that name inputs dead-letter those inputs; when the refusal names
// none of several inputs, each is sent alone so that one bad input cannot
// sink the others.
func (d *Destination) settleRejected(ctx context.Context, chunk []*upsertJob, data []byte, resp *http.Response, results []connectors.Result) {
	e := decodeError(data)
	byTrace := make(map[string]*upsertJob, len(chunk))
	for _, j := range chunk {
		byTrace[j.it.DeliveryKey] = j
	}
	failed := map[*upsertJob]apiError{}
	for _, det := range e.Errors {
		sub := apiError{Message: det.Message, Category: cmpOr(det.Code, e.Category), Context: det.Context}
		for _, j := range d.errorInputs(sub, byTrace, chunk) {
			failed[j] = sub
		}
	}
	for _, j := range d.errorInputs(e, byTrace, chunk) {
		if _, named := failed[j]; !named {
			failed[j] = e
		}
	}
	if len(chunk) == 1 {
		j := chunk[0]
		if f, ok := failed[j]; ok {
			results[j.idx].Err = itemError(j, f)
			return
		}
		results[j.idx].Err = itemError(j, e)
		return
	}
	var rest []*upsertJob
	for _, j := range chunk {
		if f, ok := failed[j]; ok {
			results[j.idx].Err = itemError(j, f)
			continue
		}
		rest = append(rest, j)
	}
	if len(failed) > 0 && len(rest) == 0 {
		return
	}
	d.log.Warn("hubspot refused a batch upsert without naming every failed input; sending them one by one",
		"destination", d.name, "status", resp.StatusCode, "inputs", len(rest), "message", e.Message)
	for _, j := range rest {
		d.sendUpsert(ctx, []*upsertJob{j}, results)
	}
}

// errorInputs finds the inputs an error is about: by objectWriteTraceId,
// else by the ids in its context.
func (d *Destination) errorInputs(e apiError, byTrace map[string]*upsertJob, chunk []*upsertJob) []*upsertJob {
	var out []*upsertJob
	for _, t := range e.Context["objectWriteTraceId"] {
		if j := byTrace[t]; j != nil {
			out = append(out, j)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, id := range e.Context["ids"] {
		for _, j := range chunk {
			if sameID(j.input.IDProperty, id, j.input.ID) {
				out = append(out, j)
			}
		}
	}
	return out
}

// itemError is the dead-letter reason of one failed input: HubSpot's message.
func itemError(j *upsertJob, e apiError) error {
	return connectors.Permanent(fmt.Errorf("hubspot rejected contact %s: %s", j.input.ID, e.text()))
}

// sameID compares two values of an id property as HubSpot does: emails
// ignore case.
func sameID(prop, a, b string) bool {
	if prop == "email" {
		return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
	}
	return a == b
}

func setAll(results []connectors.Result, jobs []*upsertJob, err error) {
	for _, j := range jobs {
		results[j.idx].Err = err
	}
}

// resolveContacts finds the object ids of upserted contacts whose results
// did not name them, with one batch read per id property.
func (d *Destination) resolveContacts(ctx context.Context, jobs []*upsertJob, results []connectors.Result) {
	byProp := map[string][]*upsertJob{}
	for _, j := range jobs {
		byProp[j.input.IDProperty] = append(byProp[j.input.IDProperty], j)
	}
	for prop, js := range byProp {
		for start := 0; start < len(js); start += MaxBatchInputs {
			chunk := js[start:min(start+MaxBatchInputs, len(js))]
			ids := make([]map[string]string, len(chunk))
			for i, j := range chunk {
				ids[i] = map[string]string{"id": j.input.ID}
			}
			body := map[string]any{"inputs": ids, "properties": []string{}, "propertiesWithHistory": []string{}}
			if prop != "" {
				body["idProperty"] = prop
				body["properties"] = []string{prop}
			}
			resp, data, err := d.call(connectors.SafeRead(ctx), http.MethodPost, contactsReadPath, body)
			var fail error
			switch {
			case err != nil:
				fail = transportError("reading upserted contacts", err, true)
			case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusMultiStatus:
				var ans batchAnswer
				_ = json.Unmarshal(data, &ans)
				for _, r := range ans.Results {
					for _, j := range chunk {
						if v := r.Properties[cmpOr(prop, "hs_object_id")]; v != "" && sameID(prop, v, j.input.ID) || r.ID == j.input.ID {
							j.contactID = r.ID
						}
					}
				}
			default:
				fail = d.classify("reading upserted contacts", resp, data, true)
			}
			for _, j := range chunk {
				if j.contactID != "" {
					continue
				}
				if fail == nil {
					fail = connectors.Transient(fmt.Errorf("contact %s was upserted but hubspot does not list it yet; its note waits", j.input.ID))
				}
				// The upsert is settled again with the note's attempt; it is
				// idempotent, so re-sending it is harmless.
				results[j.idx].Err = fail
			}
		}
	}
}

// upsertDone is a contact upserted for a response whose note is not made yet.
type upsertDone struct {
	input     string
	contactID string
}

// fingerprint identifies an upsert input's content.
func (j *upsertJob) fingerprint() string {
	b, _ := json.Marshal(j.input)
	return string(b)
}

// rememberUpserted records that j's contact was upserted.
func (d *Destination) rememberUpserted(j *upsertJob) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.upserted[j.it.DeliveryKey] = upsertDone{input: j.fingerprint(), contactID: j.contactID}
}

// upsertedBefore returns the contact id when this process already upserted
// j's input for the same delivery, and "" otherwise.
func (d *Destination) upsertedBefore(j *upsertJob) string {
	if j.note == nil {
		return ""
	}
	d.mu.Lock()
	done, ok := d.upserted[j.it.DeliveryKey]
	d.mu.Unlock()
	if !ok || done.input != j.fingerprint() {
		return ""
	}
	return done.contactID
}

// settleUpserted forgets the upserts whose delivery is settled for good.
func (d *Destination) settleUpserted(jobs []*upsertJob, results []connectors.Result) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, j := range jobs {
		switch c, _ := connectors.Classify(results[j.idx].Err); c {
		case connectors.ClassTransient, connectors.ClassRetryAfter, connectors.ClassAmbiguous, connectors.ClassPaused:
		default:
			delete(d.upserted, j.it.DeliveryKey)
		}
	}
}
