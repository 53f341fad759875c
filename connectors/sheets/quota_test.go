package sheets_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/connectors/sheets"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/sandbox/fault"
	emu "github.com/surveysync/surveysync/sandbox/sheetsapi"
)

// TestThrottleStormThenBudget answers every write with 429 for 90 seconds
// of emulator time, then checks that nothing was dropped, that the
// credential's write bucket backed off (truncated at 64 s) instead of
// hammering, and that afterwards requests stay within the configured
// budget of 60 writes and 60 reads a minute.
//
// Time: the test runs in a testing/synctest bubble, so the destination's
// quota buckets, its backoff and this test's waits use the bubble's fake
// clock and 90 s pass in well under a second. The emulator cannot run in the
// bubble: the destination's HTTP client comes from connectors.Clients,
// which always dials real TCP, and a bubble whose goroutines wait on
// sockets never advances its clock. So the emulator is served outside the
// bubble over loopback, with keep-alives off (no idle connection keeps a
// bubble goroutine on a socket between requests), and its clock is the
// bubble's clock, published by a bubble goroutine every 5 ms. While a
// request is in flight the bubble's clock stands still, so the emulator's
// timestamps and quota windows agree with the destination's to 5 ms.
//
// The delivery loop is a small harness doing what engine/dispatch.go does
// with results (retry-after waits, ambiguous marks uncertain), because the
// engine's SQLite ledger has no business inside a fake-time bubble.
// bubbleEmulator is an emulator served outside any synctest bubble, whose
// clock a bubble publishes (see TestThrottleStormThenBudget).
type bubbleEmulator struct {
	srv    *emu.Server
	url    string
	faults *fault.Injector
	now    atomic.Pointer[time.Time]
}

const bubbleSheet = "storm"

func newBubbleEmulator(t *testing.T) *bubbleEmulator {
	b := &bubbleEmulator{faults: fault.New(fault.Config{Seed: 1})}
	start := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	b.now.Store(&start)
	b.srv = emu.New(emu.Options{
		Now:    func() time.Time { return *b.now.Load() },
		Faults: b.faults,
		Quotas: &emu.Quotas{ReadPerUser: 60, WritePerUser: 60},
		Seed:   3,
	})
	ts := httptest.NewUnstartedServer(b.srv.Handler())
	ts.Config.SetKeepAlivesEnabled(false)
	ts.Start()
	t.Cleanup(func() { ts.Close(); b.srv.Close() })
	b.url = ts.URL + "/"
	must(t, b.srv.CreateSpreadsheetWithID(bubbleSheet, "Storm", "Responses"))
	must(t, b.srv.SetRow(bubbleSheet, "Responses", 0, []any{"Response ID", "Submitted", "Rating", "Promoter", "Comment"}))
	return b
}

// publishClock runs in the bubble: it gives the emulator the bubble's time
// every 5 ms until stop is called.
func (b *bubbleEmulator) publishClock() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			now := time.Now()
			b.now.Store(&now)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); <-done }
}

// config is the destination's configuration: Google's default budget of
// 60 writes and 60 reads a minute, and the default timeout, 120 s, which
// outlasts the longest bucket pause.
func (b *bubbleEmulator) config() *sheets.Config {
	cfg := sheets.DefaultConfig()
	cfg.Spreadsheet, cfg.Endpoint = bubbleSheet, b.url
	cfg.BatchRows = 20
	return cfg
}

func TestThrottleStormThenBudget(t *testing.T) {
	b := newBubbleEmulator(t)
	srv, faults, id := b.srv, b.faults, bubbleSheet

	var stormStart, stormEnd time.Time
	var delivered map[string]int
	ended := make(chan time.Time, 1)
	synctest.Test(t, func(t *testing.T) {
		stopClock := b.publishClock()
		cfg := b.config()
		d, err := newDestination(cfg)
		must(t, err)
		defer d.Close()

		m := mustMapping(t, testMapping)
		rs := makeResponses("r", 600)
		var items []*connectors.Item
		for i, r := range rs {
			items = append(items, responseItem(t, m, int64(i+1), r))
		}

		// The storm: every write answered 429 for 90 s.
		stormStart = time.Now()
		faults.Set(fault.Config{Rate429: 1, Seed: 1})
		go func() {
			time.Sleep(90 * time.Second)
			faults.Set(fault.Config{Seed: 1})
			ended <- time.Now()
		}()

		delivered = dispatch(t, d, m, items, cfg.BatchRows)
		stormEnd = <-ended
		stopClock()
		synctest.Wait()
	})

	for _, r := range makeResponses("r", 600) {
		if delivered[r.ID] != 1 {
			t.Fatalf("%s delivered %d times", r.ID, delivered[r.ID])
		}
	}
	checkRows(t, srv.Values(id, "Responses"), makeResponses("r", 600))

	log := withoutFormats(srv.Log())
	if blind := emu.BlindAppendRetries(log); len(blind) > 0 {
		t.Fatalf("blind append retries: %+v", blind[0])
	}
	var writes, reads []time.Time
	throttled, lastThrottled := 0, time.Time{}
	for _, l := range log {
		if l.QuotaLimit != "" {
			t.Errorf("the emulator's own quota %s refused request %d at %s: the budget was exceeded", l.QuotaLimit, l.Seq, l.Time.Sub(stormStart))
		}
		if l.Fault == emu.FaultTooMany {
			throttled++
			lastThrottled = l.Time
		}
		if l.Method == "GET" {
			reads = append(reads, l.Time)
		} else {
			writes = append(writes, l.Time)
		}
	}
	if throttled == 0 || lastThrottled.Before(stormStart.Add(60*time.Second)) {
		t.Fatalf("the storm did not last: %d throttled writes, the last at %s", throttled, lastThrottled.Sub(stormStart))
	}
	// During the storm the bucket backs off; the waits are truncated at
	// 64 s (plus up to 1 s of jitter and the 5 ms clock step).
	for i := 1; i < len(writes); i++ {
		if gap := writes[i].Sub(writes[i-1]); gap > 65*time.Second+10*time.Millisecond {
			t.Errorf("%s between writes %d and %d: backoff not truncated at 64 s", gap, i-1, i)
		}
	}
	if attempts := countBefore(writes, stormEnd); attempts > 12 {
		t.Errorf("%d write attempts in the 90 s storm: the bucket hammered instead of backing off", attempts)
	}
	// Afterwards, no 60-second window holds more than the budget.
	for name, times := range map[string][]time.Time{"writes": writes, "reads": reads} {
		if n := maxInWindow(times, stormEnd, time.Minute); n > 60 {
			t.Errorf("%d %s in one minute after the storm; the budget is 60", n, name)
		}
	}
	t.Logf("storm %s: %d throttled writes; %d writes and %d reads in all, the last %s after the storm began",
		stormEnd.Sub(stormStart), throttled, len(writes), len(reads), writes[len(writes)-1].Sub(stormStart).Round(time.Second))
}

// TestThrottledBatchRetriesAfter: when the client's own retries of a 429
// run out, the batch's deliveries come back as retry-after, with the wait
// of the credential's write bucket, and nothing is written.
func TestThrottledBatchRetriesAfter(t *testing.T) {
	b := newBubbleEmulator(t)
	synctest.Test(t, func(t *testing.T) {
		stopClock := b.publishClock()
		defer stopClock()
		b.faults.Set(fault.Config{Rate429: 1, Seed: 1})
		d, err := newDestination(b.config())
		must(t, err)
		defer d.Close()
		m := mustMapping(t, testMapping)
		before := time.Now()
		res := d.Deliver(context.Background(), batchOf(m, item(t, m, 1, "r1", `{"rating": 1}`), item(t, m, 2, "r2", `{"rating": 2}`)))
		for _, r := range res {
			class, after := connectors.Classify(r.Err)
			if class != connectors.ClassRetryAfter || after < time.Second || after > 65*time.Second {
				t.Fatalf("result = %s after %s: %v; want retry_after within the bucket's backoff", class, after, r.Err)
			}
		}
		t.Logf("throttled for %s before giving the batch back", time.Since(before))
	})
	if n := len(readTable(b.srv.Values(bubbleSheet, "Responses")).rows); n != 0 {
		t.Errorf("%d rows written while throttled", n)
	}
}

// dispatch delivers items the way engine/dispatch.go settles results: a
// retry-after result waits, an ambiguous one comes back uncertain, a
// transient one backs off; a pause or a dead letter fails the test. It
// returns how often each key was settled as delivered.
func dispatch(t *testing.T, d *sheets.Destination, m *mapping.Mapping, items []*connectors.Item, batch int) map[string]int {
	t.Helper()
	type pending struct {
		it     *connectors.Item
		nextAt time.Time
	}
	queue := make([]*pending, len(items))
	for i, it := range items {
		queue[i] = &pending{it: it}
	}
	delivered := map[string]int{}
	for len(queue) > 0 {
		now := time.Now()
		var b []*connectors.Item
		var idx []int
		next := time.Time{}
		for i, p := range queue {
			if !p.nextAt.After(now) && len(b) < batch {
				b = append(b, p.it)
				idx = append(idx, i)
			} else if next.IsZero() || p.nextAt.Before(next) {
				next = p.nextAt
			}
		}
		if len(b) == 0 {
			time.Sleep(next.Sub(now))
			continue
		}
		res := d.Deliver(context.Background(), batchOf(m, b...))
		done := map[int]bool{}
		for k, r := range res {
			p := queue[idx[k]]
			p.it.Attempt++
			class, after := connectors.Classify(r.Err)
			switch class {
			case "":
				delivered[p.it.ResponseKey]++
				done[idx[k]] = true
			case connectors.ClassRetryAfter:
				p.nextAt = time.Now().Add(max(after, time.Second))
			case connectors.ClassAmbiguous:
				p.it.Uncertain = true
				p.nextAt = time.Now().Add(time.Second)
			case connectors.ClassTransient:
				p.nextAt = time.Now().Add(time.Second)
			default:
				t.Fatalf("%s: %s: %v", p.it.ResponseKey, class, r.Err)
			}
		}
		var rest []*pending
		for i, p := range queue {
			if !done[i] {
				rest = append(rest, p)
			}
		}
		queue = rest
	}
	return delivered
}

func countBefore(times []time.Time, t time.Time) int {
	n := 0
	for _, x := range times {
		if x.Before(t) {
			n++
		}
	}
	return n
}

// maxInWindow is the most times at or after from that fall in one window.
func maxInWindow(times []time.Time, from time.Time, window time.Duration) int {
	var after []time.Time
	for _, x := range times {
		if !x.Before(from) {
			after = append(after, x)
		}
	}
	slices.SortFunc(after, func(a, b time.Time) int { return a.Compare(b) })
	best, j := 0, 0
	for i := range after {
		for after[i].Sub(after[j]) >= window {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}
