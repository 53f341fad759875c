package sqlite

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// benchPayload is a survey response of a typical size (about 400 bytes).
const benchPayload = `{"event_id":"%d","type":"survey_response","survey":"post-chat CSAT","rating":4,` +
	`"comment":"The agent solved my problem quickly, thank you","contact":{"email":"person%d@example.com",` +
	`"name":"A Person","phone":"+49 30 1234567"},"agent":"agent-17","channel":"whatsapp",` +
	`"conversation":{"id":"conv-%d","started_at":"2026-03-02T08:51:00Z","tags":["billing","priority"]}}`

// benchResponse is response i of a benchmark.
func benchResponse(i int) survey.Response {
	return survey.Response{
		Source:      "respondio",
		Key:         fmt.Sprintf("conv-%d", i),
		SubmittedAt: time.Unix(1_770_000_000+int64(i), 0),
		Payload:     []byte(fmt.Sprintf(benchPayload, i, i, i)),
	}
}

// openBench opens a store for a benchmark.
func openBench(b *testing.B, sync Synchronous) *Store {
	b.Helper()
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "ledger.db"), Options{Synchronous: sync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perItem reports wall and CPU microseconds per item of work.
type perItem struct {
	b       *testing.B
	cpu0    time.Duration
	wall0   time.Time
	items   int
	paused  time.Duration
	pausedC time.Duration
	p0      time.Time
	pc0     time.Duration
}

func startPerItem(b *testing.B) *perItem {
	return &perItem{b: b, cpu0: cpuTime(), wall0: time.Now()}
}

// pause excludes setup work from the figures, like b.StopTimer.
func (p *perItem) pause() { p.b.StopTimer(); p.p0, p.pc0 = time.Now(), cpuTime() }

// resume ends a pause.
func (p *perItem) resume() {
	p.paused += time.Since(p.p0)
	p.pausedC += cpuTime() - p.pc0
	p.b.StartTimer()
}

// report reports µs/unit and cpu-µs/unit over the items done.
func (p *perItem) report(unit string) {
	if p.items == 0 {
		return
	}
	wall := time.Since(p.wall0) - p.paused
	cpu := cpuTime() - p.cpu0 - p.pausedC
	p.b.ReportMetric(float64(wall.Microseconds())/float64(p.items), "µs/"+unit)
	p.b.ReportMetric(float64(cpu.Microseconds())/float64(p.items), "cpu-µs/"+unit)
}

// BenchmarkIngest ingests new responses routed to two syncs, in batches of
// one (a lone webhook) and of 100 (group commit under load); and, with
// syncs=0, routed nowhere: the floor of storing a response durably, which
// every delivery's own rows come on top of.
func BenchmarkIngest(b *testing.B) {
	for _, sync := range []Synchronous{SyncFull, SyncNormal} {
		for _, size := range []int{1, 100} {
			b.Run(fmt.Sprintf("sync=%s/batch=%d", sync, size), func(b *testing.B) { benchIngest(b, sync, size, []string{"sheet", "crm"}) })
		}
		b.Run(fmt.Sprintf("sync=%s/batch=100/syncs=0", sync), func(b *testing.B) { benchIngest(b, sync, 100, nil) })
	}
}

// benchIngest ingests batches of size new responses routed to syncs.
func benchIngest(b *testing.B, sync Synchronous, size int, syncs []string) {
	s := openBench(b, sync)
	batch := make([]store.Incoming, size)
	next := 0
	p := startPerItem(b)
	for b.Loop() {
		for i := range batch {
			batch[i] = store.Incoming{Response: benchResponse(next), Syncs: syncs}
			next++
		}
		if _, err := s.Ingest(b.Context(), batch, nil); err != nil {
			b.Fatal(err)
		}
		p.items += size
	}
	p.report("response")
}

// fill ingests n new responses for one sync, in batches of 1000.
func fill(b *testing.B, s *Store, from, n int) {
	b.Helper()
	batch := make([]store.Incoming, 0, 1000)
	for i := from; i < from+n; i++ {
		batch = append(batch, store.Incoming{Response: benchResponse(i), Syncs: []string{"sheet"}})
		if len(batch) == cap(batch) || i == from+n-1 {
			if _, err := s.Ingest(b.Context(), batch, nil); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// claimSettle claims up to 500 deliveries and settles them delivered.
func claimSettle(b *testing.B, s *Store, lease store.Lease) int {
	b.Helper()
	ds, err := s.Claim(b.Context(), store.ClaimRequest{Sync: "sheet", Lease: lease, Limit: 500})
	if err != nil {
		b.Fatal(err)
	}
	outcomes := make([]store.Outcome, len(ds))
	for i, d := range ds {
		outcomes[i] = store.Outcome{ID: d.ID, State: store.Delivered, Ref: "Responses!A2:F2"}
	}
	if err := s.Settle(b.Context(), lease, outcomes); err != nil {
		b.Fatal(err)
	}
	return len(ds)
}

// BenchmarkClaimSettle claims 500 deliveries and settles them, as a
// dispatcher does for one Sheets append.
func BenchmarkClaimSettle(b *testing.B) {
	for _, sync := range []Synchronous{SyncFull, SyncNormal} {
		b.Run("sync="+string(sync), func(b *testing.B) {
			s := openBench(b, sync)
			lease, err := s.AcquireLease(b.Context(), "sheet", "bench", time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			filled := 0
			p := startPerItem(b)
			for b.Loop() {
				n := claimSettle(b, s, lease)
				if n < 500 {
					p.pause()
					fill(b, s, filled, 50_000)
					filled += 50_000
					p.resume()
					n += claimSettle(b, s, lease)
				}
				p.items += n
			}
			p.report("delivery")
		})
	}
}

// backlog adds n pending deliveries of sync "sheet" directly in SQL, which
// is much faster than ingesting them.
func backlog(b *testing.B, s *Store, n int) {
	b.Helper()
	payload := fmt.Sprintf(benchPayload, 0, 0, 0)
	_, err := s.maint.ExecContext(b.Context(), `
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1)
INSERT INTO responses (source, key, hash, version, submitted_at, received_at, updated_at, payload)
SELECT 'backlog', 'b' || i, 'h' || i, 1, i, 1, 1, ?2 FROM seq;
INSERT INTO deliveries (sync, response_id, state, next_at, planned_at)
SELECT 'sheet', id, 'pending', 1, 1 FROM responses WHERE source = 'backlog';
INSERT INTO deliveries (sync, response_id, state, next_at, planned_at, settled_at)
SELECT 'crm', id, 'delivered', 1, 1, 1 FROM responses WHERE source = 'backlog';`, n, payload)
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkClaimSettleBacklog is BenchmarkClaimSettle with a backlog of
// 1,000,000 pending deliveries (and as many delivered ones): claiming must
// not slow down with the backlog.
func BenchmarkClaimSettleBacklog(b *testing.B) {
	s := openBench(b, SyncFull)
	backlog(b, s, 1_000_000)
	lease, err := s.AcquireLease(b.Context(), "sheet", "bench", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	p := startPerItem(b)
	for b.Loop() {
		p.items += claimSettle(b, s, lease)
	}
	p.report("delivery")
}

// BenchmarkStatsBacklog reads Stats over a backlog of 1,000,000 pending
// and 1,000,000 delivered deliveries.
func BenchmarkStatsBacklog(b *testing.B) {
	s := openBench(b, SyncFull)
	backlog(b, s, 1_000_000)
	since := time.Now().Add(-time.Hour)
	for b.Loop() {
		if _, err := s.Stats(b.Context(), since); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIngestToSettle is the store's whole share of one response's
// trip: ingested in batches of 100 routed to one sync, then claimed and
// settled 500 at a time.
func BenchmarkIngestToSettle(b *testing.B) {
	for _, sync := range []Synchronous{SyncFull, SyncNormal} {
		b.Run("sync="+string(sync), func(b *testing.B) {
			s := openBench(b, sync)
			lease, err := s.AcquireLease(b.Context(), "sheet", "bench", time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			batch := make([]store.Incoming, 100)
			next := 0
			p := startPerItem(b)
			for b.Loop() {
				for range 5 {
					for i := range batch {
						batch[i] = store.Incoming{Response: benchResponse(next), Syncs: []string{"sheet"}}
						next++
					}
					if _, err := s.Ingest(b.Context(), batch, nil); err != nil {
						b.Fatal(err)
					}
				}
				if n := claimSettle(b, s, lease); n != 500 {
					b.Fatalf("settled %d, want 500", n)
				}
				p.items += 500
			}
			p.report("response")
		})
	}
}
