package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/surveysync/surveysync/connectors"
)

// noteJob is one response's note.
type noteJob struct {
	idx  int
	it   *connectors.Item
	note *noteSpec
	// contactID is the contact the note is about, when known; it narrows
	// the search for an earlier attempt.
	contactID string
	// existing is the id of the note an earlier attempt created, when found;
	// err is the job's failure before anything was posted.
	existing string
	err      error
}

// contact returns the contact the note is associated with, if one.
func (j *noteJob) contact() string {
	if j.contactID != "" {
		return j.contactID
	}
	if len(j.note.Associations) == 1 {
		return j.note.Associations[0].To.ID
	}
	return ""
}

// markerPrefix starts the line that carries a note's delivery key.
const markerPrefix = "[surveysync "

// noteMarker is the line appended to a note's body: it carries the delivery
// key, so an earlier attempt can be found by searching for the key.
func noteMarker(key string) string { return markerPrefix + key + "]" }

// withMarker appends the marker line to a note body.
func withMarker(body, key string) string {
	return body + "\n\n" + noteMarker(key)
}

// noteToSend is note as posted: it carries the delivery key, in keyProperty
// when one is configured and in a marker line ending the body otherwise.
func noteToSend(note *noteSpec, key, keyProperty string) noteSpec {
	props := maps.Clone(note.Properties)
	if keyProperty != "" {
		props[keyProperty] = key
	} else {
		props["hs_note_body"] = withMarker(props["hs_note_body"], key)
	}
	assoc := note.Associations
	if assoc == nil {
		assoc = []association{}
	}
	return noteSpec{Properties: props, Associations: assoc}
}

// createNotes creates the notes and settles each response on its note's
// outcome. Notes an earlier attempt may have created are looked for first,
// several per search; the others are posted, up to Concurrency at a time.
func (d *Destination) createNotes(ctx context.Context, jobs []*noteJob, results []connectors.Result) {
	var check []*noteJob
	for _, j := range jobs {
		if !j.it.Uncertain && !d.doubts.Unknown(j.it.DeliveryKey) {
			continue
		}
		if err := d.reconcileWait(j.it); err != nil {
			j.err = err
			continue
		}
		check = append(check, j)
	}
	d.findNotes(ctx, check)
	sem := make(chan struct{}, d.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, j := range jobs {
		r := &results[j.idx]
		switch {
		case j.err != nil:
			r.Err = j.err
			continue
		case j.existing != "":
			d.doubts.Known(j.it.DeliveryKey)
			r.Err = nil
			r.Ref = strings.TrimSpace(r.Ref + " note:" + j.existing)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ref, err := d.postNote(ctx, j)
			r.Err = err
			if ref != "" {
				r.Ref = strings.TrimSpace(r.Ref + " " + ref)
			}
		}()
	}
	wg.Wait()
}

// reconcileWait returns an unknown-outcome error while the note of an
// earlier, uncertain attempt may not show in HubSpot's search yet, and nil
// when the note can be looked for (or there is nothing to look for).
func (d *Destination) reconcileWait(it *connectors.Item) error {
	if !it.Uncertain && !d.doubts.Unknown(it.DeliveryKey) {
		return nil
	}
	wait := d.doubts.Since(it.DeliveryKey).Add(d.cfg.ReconcileAfter).Sub(d.now())
	if wait <= 0 {
		return nil
	}
	return connectors.Ambiguous(fmt.Errorf("note for response %s: an earlier attempt may have created it; looking for it in %s, when hubspot's search index shows it",
		it.ResponseKey, wait.Round(time.Millisecond)))
}

// postNote creates one note. It is not marked idempotent: the client never
// re-sends it once it may have reached HubSpot, and an unknown outcome is
// remembered so that the next attempt looks for the note first.
func (d *Destination) postNote(ctx context.Context, j *noteJob) (string, error) {
	key := j.it.DeliveryKey
	what := "note for response " + j.it.ResponseKey
	d.doubts.Sent(key, d.now())
	resp, data, err := d.call(ctx, http.MethodPost, NotesPath, noteToSend(j.note, key, d.cfg.NoteKeyProperty))
	if err != nil {
		err = transportError(what, err, false)
		if c, _ := connectors.Classify(err); c != connectors.ClassAmbiguous {
			d.doubts.Known(key)
		}
		return "", err
	}
	if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
		d.doubts.Known(key)
		var created struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(data, &created)
		return "note:" + created.ID, nil
	}
	err = d.classify(what, resp, data, false)
	if c, _ := connectors.Classify(err); c != connectors.ClassAmbiguous {
		d.doubts.Known(key)
	}
	return "", err
}

// Searches look for several keys at once: HubSpot ORs up to six filter
// groups, and the IN operator takes a list of values.
const (
	groupsPerSearch = 6
	valuesPerIn     = 50
)

// findNotes looks for the notes of jobs by their keys and sets each job's
// existing note id, or its error when the search failed. A job whose note is
// not found keeps neither: it is posted.
func (d *Destination) findNotes(ctx context.Context, jobs []*noteJob) {
	size := groupsPerSearch
	if d.cfg.NoteKeyProperty != "" {
		size = valuesPerIn
	}
	var chunks [][]*noteJob
	for start := 0; start < len(jobs); start += size {
		chunks = append(chunks, jobs[start:min(start+size, len(jobs))])
	}
	// The client's per-attempt timeout includes the wait for the search
	// bucket, so only as many searches run at once as the bucket lets
	// through within a quarter of the timeout.
	slots := int(float64(d.cfg.SearchRateLimit) * d.cfg.Timeout.Seconds() / 4)
	sem := make(chan struct{}, max(1, min(slots, d.cfg.Concurrency)))
	var wg sync.WaitGroup
	for _, chunk := range chunks {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			found, err := d.searchNotes(ctx, chunk)
			for _, j := range chunk {
				switch {
				case err != nil:
					j.err = connectors.Ambiguous(fmt.Errorf("note for response %s: an earlier attempt may have created it, and looking for it failed: %w", j.it.ResponseKey, err))
				case found[j.it.DeliveryKey] != "":
					j.existing = found[j.it.DeliveryKey]
				default:
					// Not there after reconcile_after: the earlier attempt
					// was not applied.
					d.doubts.Known(j.it.DeliveryKey)
				}
			}
		}()
	}
	wg.Wait()
}

// searchNotes runs one search for the keys of jobs and returns the note id
// found for each key.
func (d *Destination) searchNotes(ctx context.Context, jobs []*noteJob) (map[string]string, error) {
	keyProp := "hs_note_body"
	var groups []map[string]any
	if d.cfg.NoteKeyProperty != "" {
		keyProp = d.cfg.NoteKeyProperty
		values := make([]string, len(jobs))
		for i, j := range jobs {
			values[i] = j.it.DeliveryKey
		}
		groups = append(groups, map[string]any{"filters": []map[string]any{{"propertyName": keyProp, "operator": "IN", "values": values}}})
	} else {
		for _, j := range jobs {
			// The contact comes first: it narrows the search most cheaply.
			var filters []map[string]any
			if c := j.contact(); c != "" {
				filters = append(filters, map[string]any{"propertyName": "associations.contact", "operator": "EQ", "value": c})
			}
			filters = append(filters, map[string]any{"propertyName": keyProp, "operator": "CONTAINS_TOKEN", "value": j.it.DeliveryKey})
			groups = append(groups, map[string]any{"filters": filters})
		}
	}
	want := map[string]bool{}
	for _, j := range jobs {
		want[j.it.DeliveryKey] = true
	}
	found := map[string]string{}
	after := "0"
	for {
		body := map[string]any{
			"filterGroups": groups,
			"properties":   []string{keyProp},
			"sorts":        []string{},
			"limit":        100,
			"after":        after,
		}
		resp, data, err := d.call(connectors.SafeRead(ctx), http.MethodPost, notesSearchPath, body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, d.classify("searching notes", resp, data, true)
		}
		var page struct {
			Results []struct {
				ID         string            `json:"id"`
				Properties map[string]string `json:"properties"`
			} `json:"results"`
			Paging *struct {
				Next struct {
					After string `json:"after"`
				} `json:"next"`
			} `json:"paging"`
		}
		if err := json.Unmarshal(data, &page); err != nil {
			return nil, fmt.Errorf("searching notes: unreadable answer: %w", err)
		}
		for _, r := range page.Results {
			v := r.Properties[keyProp]
			if d.cfg.NoteKeyProperty != "" {
				if want[v] {
					found[v] = r.ID
				}
				continue
			}
			if m := markerPattern.FindStringSubmatch(v); m != nil && want[m[1]] {
				found[m[1]] = r.ID
			}
		}
		if page.Paging == nil || page.Paging.Next.After == "" || len(found) == len(want) {
			return found, nil
		}
		after = page.Paging.Next.After
	}
}

// markerPattern finds the delivery key in the marker line that ends a note
// body (HubSpot may close HTML tags after it). Only the last line counts:
// survey text above it that imitates a marker is not the note's key.
var markerPattern = regexp.MustCompile(`\[surveysync ([0-9A-Za-z_-]+)\](?:\s|</[a-zA-Z]+>)*$`)
