package engine_test

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/sandbox/sheetsapi"
	"github.com/surveysync/surveysync/survey"
)

// TestScoreSummaryTabIsIdempotent writes a score job's summary tab into the
// Sheets emulator twice: the tab holds the same rows after two runs as after
// one, a run over fewer periods leaves no stale rows below, and the values
// in the tab are the ones `scores --json` prints (engine.ComputeScores).
func TestScoreSummaryTabIsIdempotent(t *testing.T) {
	t.Parallel()
	emu := sheetsapi.New(sheetsapi.Options{})
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()
	if err := emu.CreateSpreadsheetWithID("scores-test", "Scores", "Sheet1"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"rows.yaml": "sheet: Responses\nkey: Key\ncolumns:\n  Key: \"{{ key }}\"\n",
		"surveysync.yaml": fmt.Sprintf(`store: sqlite:./ledger.db
sources:
  in: {type: file, paths: [./none/*.jsonl], key: id, submitted_at: at}
destinations:
  sheet: {type: google_sheets, spreadsheet: scores-test, endpoint: %q, quota: {writes_per_minute: 6000, reads_per_minute: 6000}}
syncs:
  - {name: s, source: in, mapping: rows.yaml, to: sheet, paused: true}
scores:
  - name: nps
    schedule: "0 6 * * MON"
    timezone: Europe/Berlin
    source: in
    metric: nps
    field: score
    group_by: [agent]
    period: week
    periods: %%d
    to: sheet
    sheet: NPS by week
`, srv.URL+"/"),
	}
	write := func(periods int) {
		for name, content := range files {
			if name == "surveysync.yaml" {
				content = fmt.Sprintf(content, periods)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(4)
	plan := loadPlan(t, dir)
	ctx := context.Background()
	e, err := engine.New(ctx, plan, engine.Options{Parts: engine.Parts{NoHTTP: true, NoSources: true, NoDispatch: true, NoScores: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	sink, _ := e.Sink("in")
	var rs []survey.Response
	start := time.Date(2026, 10, 26, 9, 0, 0, 0, time.UTC)
	for i := range 400 {
		at := start.Add(time.Duration(i) * 2 * time.Hour)
		rs = append(rs, survey.Response{Source: "in", Key: fmt.Sprintf("r%d", i), SubmittedAt: at,
			Payload: []byte(fmt.Sprintf(`{"id":"r%d","score":%d,"agent":%q}`, i, (i*7)%11, []string{"Maria", "Tom", "Aisha"}[i%3]))})
	}
	if _, err := sink.Ingest(ctx, rs, nil); err != nil {
		t.Fatal(err)
	}
	slot := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	if err := e.RunScoreJob(ctx, "nps", slot); err != nil {
		t.Fatal(err)
	}
	once := emu.Values("scores-test", "NPS by week")
	if err := e.RunScoreJob(ctx, "nps", slot); err != nil {
		t.Fatal(err)
	}
	twice := emu.Values("scores-test", "NPS by week")
	if diff := cmp.Diff(once, twice); diff != "" {
		t.Errorf("the tab changed on a second identical run (-once +twice):\n%s", diff)
	}
	rep, err := engine.ComputeScores(ctx, e.Store(), e.Plan().ScoreJob("nps"), slot)
	if err != nil {
		t.Fatal(err)
	}
	if len(twice) != len(rep.Rows)+1 {
		t.Fatalf("the tab has %d rows under its header, scores --json has %d", len(twice)-1, len(rep.Rows))
	}
	header := twice[0]
	col := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %q in %v", name, header)
		return -1
	}
	for i, r := range rep.Rows {
		row := twice[i+1]
		if row[col("Period")] != r.Period || row[col("agent")] != r.Segment["agent"] {
			t.Errorf("row %d is %v, want period %s agent %s", i+1, row, r.Period, r.Segment["agent"])
		}
		if got, want := num(row[col("Score")]), math.Round(*r.Score*100)/100; got != want {
			t.Errorf("row %d score %v, scores --json says %v", i+1, got, want)
		}
		if got := num(row[col("n")]); got != float64(r.N) {
			t.Errorf("row %d n %v, scores --json says %d", i+1, got, r.N)
		}
	}

	// A run over fewer periods writes fewer rows and clears the rest.
	write(2)
	if err := e.Reload(loadPlan(t, dir)); err != nil {
		t.Fatal(err)
	}
	if err := e.RunScoreJob(ctx, "nps", slot); err != nil {
		t.Fatal(err)
	}
	shorter := emu.Values("scores-test", "NPS by week")
	rep2, _ := engine.ComputeScores(ctx, e.Store(), e.Plan().ScoreJob("nps"), slot)
	if len(shorter) != len(rep2.Rows)+1 || len(shorter) >= len(twice) {
		t.Errorf("after a shorter run the tab has %d rows, want %d (and fewer than %d)", len(shorter)-1, len(rep2.Rows), len(twice)-1)
	}
}

func num(v any) float64 {
	switch t := v.(type) {
	case float64:
		return t
	case string:
		f, _ := strconv.ParseFloat(t, 64)
		return f
	}
	return math.NaN()
}
