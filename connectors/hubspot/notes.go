package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
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

// createNotes creates the notes, up to Concurrency at a time, and settles
// each response on its note's outcome.
func (d *Destination) createNotes(ctx context.Context, jobs []*noteJob, results []connectors.Result) {
	sem := make(chan struct{}, d.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ref, err := d.deliverNote(ctx, j)
			r := &results[j.idx]
			r.Err = err
			if ref != "" {
				r.Ref = strings.TrimSpace(r.Ref + " " + ref)
			}
		}()
	}
	wg.Wait()
}

// deliverNote creates one note exactly once: when an earlier attempt may
// have created it, the note is looked for by its key first, and a search
// that finds nothing is trusted only after ReconcileAfter.
func (d *Destination) deliverNote(ctx context.Context, j *noteJob) (string, error) {
	key := j.it.DeliveryKey
	props := maps.Clone(j.note.Properties)
	if d.cfg.NoteKeyProperty != "" {
		props[d.cfg.NoteKeyProperty] = key
	} else {
		props["hs_note_body"] = withMarker(props["hs_note_body"], key)
	}
	contact := j.contactID
	if contact == "" && len(j.note.Associations) == 1 {
		contact = j.note.Associations[0].To.ID
	}
	if j.it.Uncertain || d.noteUnknown(key) {
		if wait := d.unknownSince(key).Add(d.cfg.ReconcileAfter).Sub(d.now()); wait > 0 {
			return "", connectors.Ambiguous(fmt.Errorf("note for response %s: an earlier attempt may have created it; looking for it in %s, when hubspot's search index shows it",
				j.it.ResponseKey, wait.Round(time.Millisecond)))
		}
		id, found, err := d.findNote(ctx, key, contact)
		if err != nil {
			return "", connectors.Ambiguous(fmt.Errorf("note for response %s: an earlier attempt may have created it, and looking for it failed: %w", j.it.ResponseKey, err))
		}
		if found {
			d.forgetNote(key)
			return "note:" + id, nil
		}
		d.forgetNote(key)
	}
	assoc := j.note.Associations
	if assoc == nil {
		assoc = []association{}
	}
	what := "note for response " + j.it.ResponseKey
	d.rememberNote(key, d.now())
	// Not marked idempotent: the client never re-sends it after the request
	// may have reached HubSpot.
	resp, data, err := d.call(ctx, http.MethodPost, NotesPath, noteSpec{Properties: props, Associations: assoc})
	if err != nil {
		err = transportError(what, err, false)
		if c, _ := connectors.Classify(err); c != connectors.ClassAmbiguous {
			d.forgetNote(key)
		}
		return "", err
	}
	if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
		d.forgetNote(key)
		var created struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(data, &created)
		return "note:" + created.ID, nil
	}
	err = d.classify(what, resp, data, false)
	if c, _ := connectors.Classify(err); c != connectors.ClassAmbiguous {
		d.forgetNote(key)
	}
	return "", err
}

// findNote searches for a note carrying key, associated with contact when
// it is known.
func (d *Destination) findNote(ctx context.Context, key, contact string) (string, bool, error) {
	keyProp, op := "hs_note_body", "CONTAINS_TOKEN"
	if d.cfg.NoteKeyProperty != "" {
		keyProp, op = d.cfg.NoteKeyProperty, "EQ"
	}
	filters := []map[string]string{{"propertyName": keyProp, "operator": op, "value": key}}
	if contact != "" {
		filters = append(filters, map[string]string{"propertyName": "associations.contact", "operator": "EQ", "value": contact})
	}
	body := map[string]any{
		"filterGroups": []map[string]any{{"filters": filters}},
		"properties":   []string{keyProp},
		"sorts":        []string{},
		"limit":        20,
		"after":        "0",
	}
	resp, data, err := d.call(connectors.SafeRead(ctx), http.MethodPost, notesSearchPath, body)
	if err != nil {
		return "", false, err
	}
	if resp.StatusCode != http.StatusOK {
		return "", false, d.classify("searching notes", resp, data, true)
	}
	var page struct {
		Results []struct {
			ID         string            `json:"id"`
			Properties map[string]string `json:"properties"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &page); err != nil {
		return "", false, fmt.Errorf("searching notes: unreadable answer: %w", err)
	}
	for _, r := range page.Results {
		v := r.Properties[keyProp]
		if d.cfg.NoteKeyProperty != "" && v == key || d.cfg.NoteKeyProperty == "" && strings.Contains(v, noteMarker(key)) {
			return r.ID, true, nil
		}
	}
	return "", false, nil
}

// rememberNote records that a note is about to be sent.
func (d *Destination) rememberNote(key string, at time.Time) {
	d.mu.Lock()
	d.unknownNotes[key] = at
	d.mu.Unlock()
}

// forgetNote drops the record once the note's fate is known.
func (d *Destination) forgetNote(key string) {
	d.mu.Lock()
	delete(d.unknownNotes, key)
	d.mu.Unlock()
}

// noteUnknown reports whether a note of this process had an unknown outcome.
func (d *Destination) noteUnknown(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.unknownNotes[key]
	return ok
}

// unknownSince returns when the note with an unknown outcome was sent; for
// an attempt of an earlier process, it returns when this one started, which
// is later than that attempt.
func (d *Destination) unknownSince(key string) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if at, ok := d.unknownNotes[key]; ok {
		return at
	}
	return d.started
}
