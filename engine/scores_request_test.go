package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/survey"
)

// TestScoreJobSendsOneRequestPerSegment checks a score job's CRM output: one
// request per segment with the newest period's score, through the
// destination's request mapping (for example a company property "NPS, last
// 30 days"), and the same requests again on a second run (they set fields,
// so repeating them changes nothing).
func TestScoreJobSendsOneRequestPerSegment(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		m["path"] = r.URL.Path
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	dir := t.TempDir()
	files := map[string]string{
		"rows.yaml": "request: {method: POST, path: /x, body: {k: \"{{ key }}\"}}\n",
		"company.yaml": `request:
  method: PATCH
  path: "/companies/{{ segment.company }}"
  body:
    properties:
      nps_last_30_days: "{{ score }}"
      nps_responses: "{{ n }}"
      nps_period: "{{ period }}"
`,
		"surveysync.yaml": fmt.Sprintf(`store: sqlite:./ledger.db
sources:
  in: {type: file, paths: [./none/*.jsonl], key: id, submitted_at: at}
destinations:
  crm: {type: http, endpoint: %q, idempotent: true}
syncs:
  - {name: s, source: in, mapping: rows.yaml, to: crm, paused: true}
scores:
  - name: nps-30d
    schedule: "@daily"
    source: in
    metric: nps
    field: score
    group_by: [company]
    period: rolling_30d
    to: crm
    request: company.yaml
`, srv.URL),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	plan := loadPlan(t, dir)
	ctx := context.Background()
	e, err := engine.New(ctx, plan, engine.Options{Parts: engine.Parts{NoHTTP: true, NoSources: true, NoDispatch: true, NoScores: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	sink, _ := e.Sink("in")
	slot := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	var rs []survey.Response
	for i, score := range []int{10, 9, 3, 10, 7, 0, 9, 9} {
		company := []string{"acme", "globex"}[i%2]
		rs = append(rs, survey.Response{Source: "in", Key: fmt.Sprint(i), SubmittedAt: slot.Add(-time.Duration(i+1) * 24 * time.Hour),
			Payload: []byte(fmt.Sprintf(`{"id":"%d","score":%d,"company":%q}`, i, score, company))})
	}
	if _, err := sink.Ingest(ctx, rs, nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := e.RunScoreJob(ctx, "nps-30d", slot); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(got, func(i, j int) bool { return fmt.Sprint(got[i]["path"]) < fmt.Sprint(got[j]["path"]) })
	// acme: 10, 3, 7, 9 → 2 promoters, 1 detractor of 4 → 25; globex: 9, 10, 0, 9 → 3 and 1 → 50.
	// A leaf that is one whole expression keeps its type: numbers stay numbers.
	props := func(score, n float64) map[string]any {
		return map[string]any{"nps_last_30_days": score, "nps_responses": n, "nps_period": "2026-10-24T00:00:00Z/2026-11-23T00:00:00Z"}
	}
	want := []map[string]any{
		{"path": "/companies/acme", "properties": props(25, 4)},
		{"path": "/companies/acme", "properties": props(25, 4)},
		{"path": "/companies/globex", "properties": props(50, 4)},
		{"path": "/companies/globex", "properties": props(50, 4)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}
