package hubspot

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/connectors/internal/batchtest"
	"github.com/surveysync/surveysync/sandbox/hubspotapi"
)

// TestPreviewWireIsWhatDeliverSends previews a batch, delivers it to the
// emulator, and checks that the previewed requests are the ones sent, and
// that the response refused in the preview is the one Deliver refuses.
func TestPreviewWireIsWhatDeliverSends(t *testing.T) {
	s, ts := emulator(t, hubspotapi.Options{})
	d := destination(t, ts.URL, nil)
	b := batchtest.Requests(t, upsertMapping,
		`{"email": "Ana@Example.com", "rating": 4, "note": "first"}`,
		`{"email": "bo@example.com", "rating": 5}`,
		`{"email": "ana@example.com", "rating": 2, "note": "second <b>bold</b>"}`,
		`{"email": "", "rating": 3}`,
	)
	reqs, errs := d.cfg.PreviewWire(b.Items)
	res := deliver(t, d, b)
	for i := range res {
		if (errs[i] == nil) != (res[i].Err == nil) {
			t.Errorf("item %d: preview error %v, delivery error %v", i, errs[i], res[i].Err)
		}
	}
	if errs[3] == nil || !strings.Contains(errs[3].Error(), "id rendered empty") {
		t.Errorf("item 3: preview error %v, want the empty id named", errs[3])
	}

	var previewed, sent []string
	for _, r := range reqs {
		u, err := url.Parse(r.URL)
		if err != nil || u.Host != strings.TrimPrefix(ts.URL, "http://") {
			t.Errorf("previewed URL %q is not on the endpoint %s", r.URL, ts.URL)
		}
		previewed = append(previewed, r.Method+" "+u.Path)
	}
	for _, e := range s.Log() {
		sent = append(sent, e.Method+" "+e.Path)
	}
	slices.Sort(previewed)
	slices.Sort(sent)
	// Two upserts (Ana twice goes in two rounds) and two notes.
	want := []string{"POST " + UpsertPath, "POST " + UpsertPath, "POST " + NotesPath, "POST " + NotesPath}
	if diff := cmp.Diff(want, previewed); diff != "" {
		t.Errorf("previewed requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(previewed, sent); diff != "" {
		t.Errorf("previewed vs sent (-previewed +sent):\n%s", diff)
	}

	first := reqs[0].Body.(map[string]any)["inputs"].([]upsertInput)
	if len(first) != 2 || first[0].ID != "ana@example.com" || first[0].Properties["last_csat"] != "4" || first[0].ObjectWriteTraceID != b.Items[0].DeliveryKey {
		t.Errorf("first upsert inputs = %+v; want ana and bo, values as text, the delivery key as trace id", first)
	}
	for _, r := range reqs {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL, NotesPath) {
			body := r.Body.(noteSpec).Properties["hs_note_body"]
			if !markerPattern.MatchString(body) {
				t.Errorf("previewed note body %q does not end with its delivery key", body)
			}
		}
	}
}
