package connectors

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeClock is a settable clock for a Bucket's now field.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		base, limit time.Duration
		// floors[n-1] is the wait without jitter for the nth failure.
		floors []time.Duration
	}{
		{
			name: "google defaults", base: time.Second, limit: 64 * time.Second,
			floors: []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 64 * time.Second, 64 * time.Second, 64 * time.Second},
		},
		{
			name: "short base", base: 100 * time.Millisecond, limit: time.Second,
			floors: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second},
		},
		{
			name: "cap that is not a power of two", base: 3 * time.Second, limit: 10 * time.Second,
			floors: []time.Duration{3 * time.Second, 6 * time.Second, 10 * time.Second, 10 * time.Second},
		},
		{
			name: "base above the cap", base: 5 * time.Second, limit: 2 * time.Second,
			floors: []time.Duration{2 * time.Second, 2 * time.Second},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rnd := rand.New(rand.NewPCG(1, 2))
			// Jitter is up to one second, or up to base when base is shorter.
			span := min(tc.base, time.Second)
			for i, floor := range tc.floors {
				n := i + 1
				lo, hi := time.Duration(1<<62), time.Duration(0)
				for range 500 {
					d := Backoff(n, tc.base, tc.limit, rnd)
					lo, hi = min(lo, d), max(hi, d)
					if d < floor || d >= floor+span {
						t.Fatalf("Backoff(%d) = %s, want within [%s, %s)", n, d, floor, floor+span)
					}
				}
				// The jitter really varies and uses most of its range.
				if hi-lo < span/2 {
					t.Errorf("Backoff(%d) ranged over [%s, %s], want jitter spread over about %s", n, lo, hi, span)
				}
				if i > 0 && floor < tc.floors[i-1] {
					t.Fatalf("test table: floors must not decrease")
				}
			}
		})
	}
}

func TestBackoffEdges(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(3, 4))
	// n below 1 is the first failure.
	for _, n := range []int{0, -5} {
		if d := Backoff(n, time.Second, time.Minute, rnd); d < time.Second || d >= 2*time.Second {
			t.Errorf("Backoff(%d) = %s, want the first failure's [1s, 2s)", n, d)
		}
	}
	// A huge failure count neither overflows nor loops for long.
	for _, n := range []int{64, 1000, 1 << 30} {
		if d := Backoff(n, time.Second, 64*time.Second, rnd); d < 64*time.Second || d >= 65*time.Second {
			t.Errorf("Backoff(%d) = %s, want the cap 64s plus jitter", n, d)
		}
	}
	// No base, no jitter, no wait.
	if d := Backoff(3, 0, time.Minute, rnd); d != 0 {
		t.Errorf("Backoff with a zero base = %s, want 0", d)
	}
	// A nil source of randomness is allowed.
	if d := Backoff(2, time.Second, time.Minute, nil); d < 2*time.Second || d >= 3*time.Second {
		t.Errorf("Backoff(2) with nil rnd = %s, want [2s, 3s)", d)
	}
}

func TestClientBackoffLeavesThrottlesToTheBucket(t *testing.T) {
	t.Parallel()
	min, max := 100*time.Millisecond, 5*time.Second
	if d := backoff(min, max, 0, &httpResponse429); d != 0 {
		t.Errorf("backoff after a 429 = %s, want 0 (the bucket's pause does the waiting)", d)
	}
	for attempt := range 8 {
		d := backoff(min, max, attempt, nil)
		floor := min << attempt
		if floor > max {
			floor = max
		}
		if d < floor/2 || d >= (floor+min)/2 {
			t.Errorf("backoff(attempt %d) = %s, want within [%s, %s)", attempt, d, floor/2, (floor+min)/2)
		}
	}
}

func newTestBucket(clock *fakeClock) *Bucket {
	b := NewBucket("test", 0, 0, 1)
	b.now = clock.now
	b.rnd = rand.New(rand.NewPCG(5, 6))
	return b
}

func TestThrottledWithRetryAfter(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	b := newTestBucket(clock)
	start := clock.now()
	if !b.PausedUntil().IsZero() {
		t.Fatal("a new bucket is paused")
	}
	if d := b.Throttled(30 * time.Second); d != 30*time.Second {
		t.Errorf("Throttled(30s) = %s, want 30s", d)
	}
	if got := b.PausedUntil(); !got.Equal(start.Add(30 * time.Second)) {
		t.Errorf("PausedUntil = %s, want start+30s", got)
	}
	// A shorter throttle does not shorten the pause.
	clock.advance(10 * time.Second)
	if d := b.Throttled(5 * time.Second); d != 20*time.Second {
		t.Errorf("Throttled(5s) during a 30s pause = %s, want the 20s left", d)
	}
	// A longer one extends it.
	if d := b.Throttled(time.Minute); d != time.Minute {
		t.Errorf("Throttled(1m) = %s, want 1m", d)
	}
	if got := b.PausedUntil(); !got.Equal(start.Add(70 * time.Second)) {
		t.Errorf("PausedUntil = %s, want start+70s", got.Sub(start))
	}
	// A bad Retry-After cannot park the bucket for hours.
	if d := b.Throttled(6 * time.Hour); d != MaxRetryAfter {
		t.Errorf("Throttled(6h) = %s, want the cap %s", d, MaxRetryAfter)
	}
	clock.advance(MaxRetryAfter + time.Millisecond)
	if !b.PausedUntil().IsZero() {
		t.Errorf("PausedUntil after the pause passed = %s, want zero", b.PausedUntil())
	}
}

func TestThrottledWithoutRetryAfterBacksOff(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	b := newTestBucket(clock)
	b.SetThrottleBackoff(10*time.Millisecond, 40*time.Millisecond)
	floors := []time.Duration{10, 20, 40, 40, 40}
	for i, f := range floors {
		floor := f * time.Millisecond
		// Let the previous pause pass, so each wait is the strike's own.
		clock.advance(time.Second)
		d := b.Throttled(0)
		if d < floor || d >= floor+10*time.Millisecond {
			t.Errorf("strike %d: paused %s, want within [%s, %s)", i+1, d, floor, floor+10*time.Millisecond)
		}
	}
	// A success resets the strikes.
	b.OK()
	clock.advance(time.Second)
	if d := b.Throttled(0); d < 10*time.Millisecond || d >= 20*time.Millisecond {
		t.Errorf("after OK: paused %s, want the first strike's [10ms, 20ms)", d)
	}
	// A throttle that names its wait does not count as a strike.
	b.OK()
	clock.advance(time.Second)
	b.Throttled(time.Second)
	clock.advance(2 * time.Second)
	if d := b.Throttled(0); d >= 20*time.Millisecond {
		t.Errorf("after a Retry-After throttle: paused %s, want the first strike's wait", d)
	}
	// Zero settings keep what was set.
	b.SetThrottleBackoff(0, 0)
	b.OK()
	clock.advance(time.Second)
	if d := b.Throttled(0); d < 10*time.Millisecond || d >= 20*time.Millisecond {
		t.Errorf("after SetThrottleBackoff(0, 0): paused %s, want the 10ms base kept", d)
	}
}

func TestDefaultThrottleBackoff(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	b := newTestBucket(clock)
	var last time.Duration
	for i := range 12 {
		clock.advance(2 * time.Minute)
		last = b.Throttled(0)
		if i == 0 && (last < time.Second || last >= 2*time.Second) {
			t.Errorf("first strike: %s, want [1s, 2s)", last)
		}
	}
	if last < DefaultMaxBackoff || last >= DefaultMaxBackoff+time.Second {
		t.Errorf("12th strike: %s, want the 64s cap plus up to 1s of jitter", last)
	}
}

// TestWaitHoldsEveryRequestUntilThePauseEnds runs in a synctest bubble, so
// the bucket's timers use the bubble's fake clock.
func TestWaitHoldsEveryRequestUntilThePauseEnds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := NewBucket("shared", 0, 0, 1)
		start := time.Now()
		b.Throttled(10 * time.Second)
		var mu sync.Mutex
		var released []time.Duration
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if err := b.Wait(context.Background()); err != nil {
					t.Error(err)
				}
				mu.Lock()
				released = append(released, time.Since(start))
				mu.Unlock()
			})
		}
		synctest.Wait()
		mu.Lock()
		if len(released) != 0 {
			t.Errorf("%d waiters passed a paused bucket", len(released))
		}
		mu.Unlock()
		// A throttle during the pause extends it for every waiter.
		time.Sleep(4 * time.Second)
		b.Throttled(20 * time.Second)
		wg.Wait()
		for _, d := range released {
			if d != 24*time.Second {
				t.Errorf("a waiter passed after %s, want 24s (4s, then a 20s throttle)", d)
			}
		}
		// Once the pause is over, Wait does not block.
		before := time.Now()
		if err := b.Wait(context.Background()); err != nil || time.Since(before) != 0 {
			t.Errorf("Wait on a free bucket = %v after %s", err, time.Since(before))
		}
	})
}

func TestWaitEndsWithItsContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := NewBucket("shared", 0, 0, 1)
		b.Throttled(time.Minute)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		err := b.Wait(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait = %v, want the context's deadline", err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("Wait returned after %s, want 5s", d)
		}
	})
}

func TestWaitPacesToTheRate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// Two requests per second, burst of one.
		b := NewBucket("paced", 2, time.Second, 1)
		start := time.Now()
		var got []time.Duration
		for range 5 {
			if err := b.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			got = append(got, time.Since(start))
		}
		want := []time.Duration{0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2 * time.Second}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("request %d passed at %s, want %s (all: %v)", i, got[i], want[i], got)
				break
			}
		}
	})
}

func TestClientsShareBucketsByName(t *testing.T) {
	t.Parallel()
	c := NewClients(nil, nil)
	a := c.Bucket("sheets:writes:sa@x", 60, time.Minute, 1)
	b := c.Bucket("sheets:writes:sa@x", 1, time.Second, 5)
	other := c.Bucket("sheets:reads:sa@x", 60, time.Minute, 1)
	if a != b {
		t.Error("two requests for one bucket name got different buckets")
	}
	if a == other {
		t.Error("two bucket names share one bucket")
	}
	if a.Name() != "sheets:writes:sa@x" {
		t.Errorf("Name = %q", a.Name())
	}
	if n := len(c.Buckets()); n != 2 {
		t.Errorf("Buckets lists %d, want 2", n)
	}
}
