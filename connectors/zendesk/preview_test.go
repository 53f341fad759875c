package zendesk

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/connectors/internal/batchtest"
	"github.com/surveysync/surveysync/sandbox/zendeskapi"
)

// TestPreviewWireIsWhatDeliverSends previews batches, delivers them to the
// emulator, and checks that the previewed requests are the ones sent (job
// status polls aside) and that the previewed refusals are Deliver's.
func TestPreviewWireIsWhatDeliverSends(t *testing.T) {
	cases := []struct {
		name     string
		mapping  string
		payloads []string
		want     []string
		refused  []int
	}{
		{
			name:    "field updates in bulk, a ticket named twice in a later job",
			mapping: fieldsMapping,
			payloads: []string{
				`{"ticket_id": 1, "score": 4, "band": "promoter"}`,
				`{"ticket_id": 2, "score": 5, "band": "promoter"}`,
				`{"ticket_id": 1, "score": 2, "band": "detractor"}`,
				`{"ticket_id": "x", "score": 2, "band": "detractor"}`,
			},
			want:    []string{"PUT /api/v2/tickets/update_many.json", "PUT /api/v2/tickets/update_many.json"},
			refused: []int{3},
		},
		{
			name:    "comments one request each",
			mapping: commentMapping,
			payloads: []string{
				`{"ticket_id": 1, "score": 4, "comment": "ok <script>x</script>"}`,
				`{"ticket_id": 2, "score": 5, "comment": "great"}`,
			},
			want: []string{"PUT /api/v2/tickets/1.json", "PUT /api/v2/tickets/2.json"},
		},
		{
			name:     "ticket creation with an idempotency key",
			mapping:  createMapping,
			payloads: []string{`{"email": "ana@example.com", "score": 1, "comment": "late again"}`},
			want:     []string{"POST /api/v2/tickets.json"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, ts := emulator(t, 3, zendeskapi.Options{})
			d := destination(t, ts.URL, nil)
			b := batchtest.Requests(t, tc.mapping, tc.payloads...)
			reqs, errs := d.cfg.PreviewWire(b.Items)
			res := deliver(t, d, b)
			var refused []int
			for i := range res {
				if (errs[i] == nil) != (res[i].Err == nil) {
					t.Errorf("item %d: preview error %v, delivery error %v", i, errs[i], res[i].Err)
				}
				if errs[i] != nil {
					refused = append(refused, i)
				}
			}
			if diff := cmp.Diff(tc.refused, refused); diff != "" {
				t.Errorf("refused items (-want +got):\n%s", diff)
			}
			base, _ := url.Parse(ts.URL)
			var previewed, sent []string
			for _, r := range reqs {
				u, err := url.Parse(r.URL)
				if err != nil || u.Host != base.Host {
					t.Errorf("previewed URL %q is not on the endpoint %s", r.URL, ts.URL)
				}
				previewed = append(previewed, r.Method+" "+u.Path)
				if r.Method == http.MethodPost && r.Header.Get("Idempotency-Key") == "" {
					t.Errorf("previewed ticket creation has no Idempotency-Key")
				}
				if t2, ok := r.Body.(map[string]any)["ticket"].(map[string]any); ok && r.Method == http.MethodPut {
					if c, ok := t2["comment"].(map[string]any); ok && !strings.Contains(c["body"].(string), markerPrefix) {
						t.Errorf("previewed comment %q carries no delivery key", c["body"])
					}
				}
			}
			for _, e := range s.Log() {
				if e.Method != http.MethodGet {
					sent = append(sent, e.Method+" "+e.Path)
				}
			}
			slices.Sort(previewed)
			slices.Sort(sent)
			if diff := cmp.Diff(tc.want, previewed); diff != "" {
				t.Errorf("previewed requests (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(previewed, sent); diff != "" {
				t.Errorf("previewed vs sent (-previewed +sent):\n%s", diff)
			}
		})
	}
}
