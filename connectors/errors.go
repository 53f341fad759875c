package connectors

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Class says what the engine does after a failed delivery.
type Class string

// The error classes.
const (
	// ClassPermanent will not succeed by retrying (a 4xx other than 408 and
	// 429, a rejected value): the delivery is dead-lettered with the reason
	// and can be replayed after the cause is fixed.
	ClassPermanent Class = "permanent"
	// ClassRetryAfter is a throttle: the whole quota bucket waits, then the
	// delivery is retried.
	ClassRetryAfter Class = "retry_after"
	// ClassTransient is a failure known not to have been applied (connection
	// refused, a 5xx on an idempotent request): retried with backoff.
	ClassTransient Class = "transient"
	// ClassAmbiguous is a failure that may have been applied (a timeout or
	// reset after the request was sent, a 5xx on a non-idempotent write):
	// the next attempt reconciles before re-sending.
	ClassAmbiguous Class = "ambiguous"
	// ClassPaused is a problem with the destination as a whole (credentials
	// revoked, a tab or header missing, the cell limit near): the
	// destination stops, keeps its backlog and is probed until fixed.
	ClassPaused Class = "paused"
	// ClassRender is a mapping that cannot render this response (a missing
	// field, a value that is not a number): dead-lettered like permanent.
	ClassRender Class = "render"
)

// classified is an error with a class.
type classified struct {
	class Class
	after time.Duration
	err   error
}

func (e *classified) Error() string { return e.err.Error() }
func (e *classified) Unwrap() error { return e.err }

// Permanent marks err as permanent.
func Permanent(err error) error { return &classified{class: ClassPermanent, err: err} }

// Transient marks err as transient.
func Transient(err error) error { return &classified{class: ClassTransient, err: err} }

// Ambiguous marks err as an unknown outcome.
func Ambiguous(err error) error { return &classified{class: ClassAmbiguous, err: err} }

// RetryAfter marks err as a throttle to wait out for d (0: the engine picks a
// backoff).
func RetryAfter(d time.Duration, err error) error {
	return &classified{class: ClassRetryAfter, after: d, err: err}
}

// Paused marks err as a problem with the whole destination; its message
// should tell an ops person what to fix.
func Paused(err error) error { return &classified{class: ClassPaused, err: err} }

// Pausedf is Paused with a formatted message.
func Pausedf(format string, args ...any) error { return Paused(fmt.Errorf(format, args...)) }

// Render marks err as a mapping that cannot render a response.
func Render(err error) error { return &classified{class: ClassRender, err: err} }

// Classify returns err's class and, for ClassRetryAfter, the wait. An error
// without a class is ambiguous, a context cancellation included (a request
// cut off may have been sent), because treating an unknown failure as "not
// applied" is how peers duplicate rows. A connection refused by the
// network-safety guard (a DialRefusedError) is paused however a connector
// classified it: nothing was sent, and only a change of configuration lets
// it through, so retrying would only repeat the refusal.
func Classify(err error) (Class, time.Duration) {
	if err == nil {
		return "", 0
	}
	var refused *DialRefusedError
	if errors.As(err, &refused) {
		return ClassPaused, 0
	}
	var c *classified
	if errors.As(err, &c) {
		return c.class, c.after
	}
	return ClassAmbiguous, 0
}

// IsCanceled reports whether err comes from a cancelled or expired context.
func IsCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
