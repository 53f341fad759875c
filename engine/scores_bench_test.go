package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/store/sqlite"
	"github.com/surveysync/surveysync/survey"
)

// ledger1M opens a ledger holding 1,000,000 responses spread over 2026,
// built once and kept in the temporary directory (building it takes a
// while; SURVEYSYNC_BENCH_DIR moves it).
func ledger1M(b *testing.B) store.Store {
	b.Helper()
	const n = 1_000_000
	dir := os.Getenv("SURVEYSYNC_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "surveysync-bench")
	}
	path := filepath.Join(dir, "ledger-1m-v1.db")
	fresh := false
	if _, err := os.Stat(path + ".done"); err != nil {
		os.RemoveAll(dir)
		fresh = true
	}
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{Synchronous: sqlite.SyncNormal})
	if err != nil {
		b.Fatal(err)
	}
	if fresh {
		agents := []string{"Maria", "Tom", "Aisha", "Kenji", "Lea"}
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var batch []store.Incoming
		for i := range n {
			payload := fmt.Sprintf(`{"id":"r%07d","score":%d,"csat":"%d","agent":%q,"channel":"WhatsApp","contact":{"email":"c%d@example.com"},"comment":"Quick and friendly, thanks!"}`,
				i, i%11, 1+i%5, agents[i%5], i%40000)
			batch = append(batch, store.Incoming{Response: survey.Response{Source: "in", Key: fmt.Sprintf("r%07d", i), SubmittedAt: start.Add(time.Duration(i) * 31 * time.Second), Payload: []byte(payload)}})
			if len(batch) == 5000 {
				if _, err := st.Ingest(context.Background(), batch, nil); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		if err := os.WriteFile(path+".done", nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// BenchmarkScoreJob1M recomputes score jobs over 1,000,000 stored responses
// (one per 31 s through 2026). The goal is ≤ 1 s per job.
func BenchmarkScoreJob1M(b *testing.B) {
	st := ledger1M(b)
	defer st.Close()
	jobs := map[string]string{
		"nps-by-week-and-agent": `  - {name: j, schedule: "@daily", source: in, metric: nps, field: score, group_by: [agent], period: week, periods: 60}
`,
		"csat-by-day-one-per-contact": `  - {name: j, schedule: "@daily", source: in, metric: csat, field: csat, contact: contact.email, one_per_contact: true, period: day, periods: 400}
`,
	}
	for name, job := range jobs {
		b.Run(name, func(b *testing.B) {
			plan, _ := scorePlan(b, job)
			sp := plan.ScoreJob("j")
			asOf := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
			b.ResetTimer()
			for range b.N {
				rep, err := engine.ComputeScores(context.Background(), st, sp, asOf)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Scanned != 1_000_000 {
					b.Fatalf("scanned %d, want 1,000,000", rep.Scanned)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/job")
		})
	}
}
