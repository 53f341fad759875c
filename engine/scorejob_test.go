package engine_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/store/sqlite"
	"github.com/surveysync/surveysync/survey"
)

func scorePlan(t testing.TB, job string) (*engine.Plan, string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"m.yaml": "request: {method: POST, path: /x, body: {k: \"{{ key }}\"}}\n",
		"surveysync.yaml": `store: sqlite:./ledger.db
sources:
  in: {type: file, paths: [./none/*.jsonl], key: id, submitted_at: at}
destinations:
  out: {type: http, endpoint: "http://127.0.0.1:9"}
syncs:
  - {name: s, source: in, mapping: m.yaml, to: out}
scores:
` + job,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, errs := config.Load(filepath.Join(dir, "surveysync.yaml"))
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	plan, errs := engine.Compile(cfg)
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	return plan, dir
}

func TestComputeScoresFromTheLedger(t *testing.T) {
	t.Parallel()
	plan, dir := scorePlan(t, `  - name: nps-weekly
    schedule: "0 6 * * MON"
    timezone: Europe/Berlin
    source: in
    metric: nps
    field: score
    map: {"ten": 10}
    group_by: [agent]
    period: week
    periods: 2
`)
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "ledger.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var items []struct{ score, agent string }
	// Week of 2026-11-16 (Berlin): 50 promoters, 30 passives, 20 detractors for Maria.
	for i := range 100 {
		s := "9"
		switch {
		case i >= 80:
			s = "3"
		case i >= 50:
			s = "7"
		case i%2 == 0:
			s = `"ten"`
		}
		items = append(items, struct{ score, agent string }{s, "Maria"})
	}
	batch := []survey.Response{}
	week := time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC)
	for i, it := range items {
		batch = append(batch, survey.Response{
			Source: "in", Key: fmt.Sprintf("r%d", i), SubmittedAt: week.Add(time.Duration(i) * time.Minute),
			Payload: []byte(fmt.Sprintf(`{"id":"r%d","score":%s,"agent":%q}`, i, it.score, it.agent)),
		})
	}
	// One out-of-scale rating, one without a rating, and one from an older week.
	batch = append(batch,
		survey.Response{Source: "in", Key: "bad", SubmittedAt: week, Payload: []byte(`{"score":11,"agent":"Maria"}`)},
		survey.Response{Source: "in", Key: "none", SubmittedAt: week, Payload: []byte(`{"agent":"Maria"}`)},
		survey.Response{Source: "in", Key: "old", SubmittedAt: week.AddDate(0, 0, -14), Payload: []byte(`{"score":0,"agent":"Tom"}`)},
	)
	var in []storeIncoming
	for _, r := range batch {
		in = append(in, storeIncoming{Response: r})
	}
	if _, err := st.Ingest(context.Background(), in, nil); err != nil {
		t.Fatal(err)
	}
	sp := plan.ScoreJob("nps-weekly")
	rep, err := engine.ComputeScores(context.Background(), st, sp, time.Date(2026, 11, 23, 6, 0, 0, 0, sp.Location))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scanned != 102 || rep.NoRating != 1 {
		t.Errorf("scanned %d (want 102: the old week is outside the 2-period window), no rating %d (want 1)", rep.Scanned, rep.NoRating)
	}
	if len(rep.Rows) != 1 {
		t.Fatalf("rows = %+v, want one (Maria, week 2026-W47)", rep.Rows)
	}
	r := rep.Rows[0]
	if r.Period != "2026-W47" || r.Segment["agent"] != "Maria" || r.N != 100 || r.Invalid != 1 {
		t.Errorf("row = %+v", r)
	}
	wantMoE := 1.96 * math.Sqrt((0.5+0.2-0.09)/100) * 100
	if r.Score == nil || *r.Score != 30 || r.MarginOfError == nil || math.Abs(*r.MarginOfError-wantMoE) > 1e-9 {
		t.Errorf("NPS = %v ± %v, want 30 ± %.4f", deref(r.Score), deref(r.MarginOfError), wantMoE)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

type storeIncoming = store.Incoming

// TestScoreJobWithAFieldNoResponseHasWritesNothing checks that a job whose
// field matches no response (a typo: "scroe") fails instead of replacing
// its summary with an empty one, and records no run.
func TestScoreJobWithAFieldNoResponseHasWritesNothing(t *testing.T) {
	t.Parallel()
	plan, dir := scorePlan(t, `  - name: nps
    schedule: "@daily"
    timezone: Europe/Berlin
    source: in
    metric: nps
    field: scroe
    period: day
`)
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "ledger.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var in []storeIncoming
	for i := range 5 {
		in = append(in, storeIncoming{Response: survey.Response{Source: "in", Key: fmt.Sprint(i), SubmittedAt: at,
			Payload: []byte(fmt.Sprintf(`{"id":"%d","score":9}`, i))}})
	}
	if _, err := st.Ingest(context.Background(), in, nil); err != nil {
		t.Fatal(err)
	}
	sp := plan.ScoreJob("nps")
	slot := time.Date(2026, 11, 23, 0, 0, 0, 0, sp.Location)
	err = engine.RunScoreJob(context.Background(), st, nil, sp, slot, time.Now)
	want := "score job nps: none of the 5 responses read has a value at field scroe; check the job's field (nothing was written)"
	if err == nil || err.Error() != want {
		t.Fatalf("RunScoreJob = %v, want %q", err, want)
	}
	last, err := st.LastScoreRun(context.Background(), "nps")
	if err != nil || !last.ScheduledFor.IsZero() {
		t.Errorf("a run was recorded (%+v, %v)", last, err)
	}
}
