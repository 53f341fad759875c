package connectors

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxBackoff caps the backoff after throttles that name no wait,
// following Google's truncated exponential backoff (maximum 64 s).
const DefaultMaxBackoff = 64 * time.Second

// MaxRetryAfter caps a Retry-After header, so that a bad value cannot park a
// destination for hours.
const MaxRetryAfter = 15 * time.Minute

// Bucket paces the requests that share one quota, such as the Sheets write
// requests of one credential, across every sync, score job and backfill in
// the process. It is a token bucket plus a pause: a throttle (429) stops the
// whole bucket until the Retry-After passes, or for a truncated exponential
// backoff with jitter when the API names no wait.
type Bucket struct {
	name    string
	limiter *rate.Limiter
	now     func() time.Time
	base    time.Duration
	maxWait time.Duration

	mu      sync.Mutex
	until   time.Time
	strikes int
	rnd     *rand.Rand
}

// NewBucket returns a bucket allowing n requests per interval (0 means no
// pacing, only pauses), with a burst of burst requests (at least 1).
func NewBucket(name string, n int, per time.Duration, burst int) *Bucket {
	lim := rate.NewLimiter(rate.Inf, 1)
	if n > 0 && per > 0 {
		lim = rate.NewLimiter(rate.Limit(float64(n)/per.Seconds()), max(burst, 1))
	}
	return &Bucket{
		name:    name,
		limiter: lim,
		now:     time.Now,
		base:    time.Second,
		maxWait: DefaultMaxBackoff,
		rnd:     rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
}

// Name returns the bucket's name, as shown in status and metrics.
func (b *Bucket) Name() string { return b.name }

// Wait blocks until the bucket is not paused and a request may be sent.
func (b *Bucket) Wait(ctx context.Context) error {
	for {
		if err := b.waitPause(ctx); err != nil {
			return err
		}
		if err := b.limiter.Wait(ctx); err != nil {
			return err
		}
		// A throttle may have paused the bucket while this request waited
		// for its token: then it waits for the pause too.
		b.mu.Lock()
		paused := b.until.After(b.now())
		b.mu.Unlock()
		if !paused {
			return nil
		}
	}
}

func (b *Bucket) waitPause(ctx context.Context) error {
	for {
		b.mu.Lock()
		d := b.until.Sub(b.now())
		b.mu.Unlock()
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Throttled records a throttle answer. retryAfter is the wait the API asked
// for (0 when it named none). It pauses the whole bucket and returns how
// long for.
func (b *Bucket) Throttled(retryAfter time.Duration) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	var d time.Duration
	if retryAfter > 0 {
		d = min(retryAfter, MaxRetryAfter)
	} else {
		// Requests in flight together get their 429s together; while the
		// bucket is already paused they are one throttle, not many, so the
		// backoff grows once per pause rather than once per answer.
		if !b.until.After(b.now()) {
			b.strikes++
		}
		d = Backoff(max(b.strikes, 1), b.base, b.maxWait, b.rnd)
	}
	if until := b.now().Add(d); until.After(b.until) {
		b.until = until
	}
	return b.until.Sub(b.now())
}

// SetThrottleBackoff sets the first wait after a throttle that names no
// wait (default 1s) and its cap (default 64s).
func (b *Bucket) SetThrottleBackoff(base, limit time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if base > 0 {
		b.base = base
	}
	if limit > 0 {
		b.maxWait = limit
	}
}

// OK records a successful answer, which resets the backoff.
func (b *Bucket) OK() {
	b.mu.Lock()
	b.strikes = 0
	b.mu.Unlock()
}

// PausedUntil returns when the current pause ends (zero time if none).
func (b *Bucket) PausedUntil() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until.Before(b.now()) {
		return time.Time{}
	}
	return b.until
}

// Backoff returns the truncated exponential backoff for the nth consecutive
// failure (n ≥ 1): base·2^(n−1) capped at limit, plus random jitter of up to
// one second (or of up to base, when base is shorter), the algorithm Google
// documents for its APIs. rnd may be nil.
func Backoff(n int, base, limit time.Duration, rnd *rand.Rand) time.Duration {
	if n < 1 {
		n = 1
	}
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	span := int64(min(base, time.Second))
	if span <= 0 {
		return d
	}
	var jitter int64
	if rnd != nil {
		jitter = rnd.Int64N(span)
	} else {
		jitter = rand.Int64N(span)
	}
	return d + time.Duration(jitter)
}
