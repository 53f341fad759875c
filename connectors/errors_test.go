package connectors_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/surveysync/surveysync/connectors"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	base := errors.New("boom")
	tests := []struct {
		name  string
		err   error
		class connectors.Class
		after time.Duration
	}{
		{"nil", nil, "", 0},
		{"plain error is ambiguous", base, connectors.ClassAmbiguous, 0},
		// A request cut off by a cancelled context may have been sent:
		// the engine reconciles it (see engine/dispatch.go).
		{"cancellation is ambiguous", context.Canceled, connectors.ClassAmbiguous, 0},
		{"deadline is ambiguous", fmt.Errorf("POST /x: %w", context.DeadlineExceeded), connectors.ClassAmbiguous, 0},
		{"permanent", connectors.Permanent(base), connectors.ClassPermanent, 0},
		{"transient", connectors.Transient(base), connectors.ClassTransient, 0},
		{"ambiguous", connectors.Ambiguous(base), connectors.ClassAmbiguous, 0},
		{"retry after", connectors.RetryAfter(42*time.Second, base), connectors.ClassRetryAfter, 42 * time.Second},
		{"retry after without a wait", connectors.RetryAfter(0, base), connectors.ClassRetryAfter, 0},
		{"paused", connectors.Paused(base), connectors.ClassPaused, 0},
		{"pausedf", connectors.Pausedf("tab %q is missing", "Responses"), connectors.ClassPaused, 0},
		{"render", connectors.Render(base), connectors.ClassRender, 0},
		{"wrapped once", fmt.Errorf("delivering: %w", connectors.Permanent(base)), connectors.ClassPermanent, 0},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", connectors.RetryAfter(time.Minute, base))), connectors.ClassRetryAfter, time.Minute},
		{"joined", errors.Join(errors.New("context"), connectors.Transient(base)), connectors.ClassTransient, 0},
		// The outermost class wins: a connector that reclassifies an error
		// (a 5xx it knows is safe) is believed.
		{"reclassified", connectors.Transient(connectors.Ambiguous(base)), connectors.ClassTransient, 0},
		{"classified cancellation", connectors.Transient(context.Canceled), connectors.ClassTransient, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			class, after := connectors.Classify(tc.err)
			if class != tc.class || after != tc.after {
				t.Errorf("Classify(%v) = %q, %v; want %q, %v", tc.err, class, after, tc.class, tc.after)
			}
		})
	}
}

func TestClassifiedErrorsKeepTheirCause(t *testing.T) {
	t.Parallel()
	for _, wrap := range []func(error) error{
		connectors.Permanent, connectors.Transient, connectors.Ambiguous, connectors.Paused, connectors.Render,
		func(err error) error { return connectors.RetryAfter(time.Second, err) },
	} {
		err := wrap(fmt.Errorf("reading answer: %w", io.ErrUnexpectedEOF))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%v does not unwrap to its cause", err)
		}
		if err.Error() != "reading answer: unexpected EOF" {
			t.Errorf("message = %q, want the cause's message unchanged", err.Error())
		}
	}
	if got := connectors.Pausedf("tab %q is missing", "Scores").Error(); got != `tab "Scores" is missing` {
		t.Errorf("Pausedf message = %q", got)
	}
}

func TestIsCanceled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("x"), false},
		{context.Canceled, true},
		{context.DeadlineExceeded, true},
		{fmt.Errorf("POST /x: %w", context.DeadlineExceeded), true},
		{connectors.Ambiguous(fmt.Errorf("no answer: %w", context.Canceled)), true},
	}
	for _, tc := range tests {
		if got := connectors.IsCanceled(tc.err); got != tc.want {
			t.Errorf("IsCanceled(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
