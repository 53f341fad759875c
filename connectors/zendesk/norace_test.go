//go:build !race

package zendesk_test

import "time"

// attemptTimeout is the per-attempt timeout of the acceptance runs.
const attemptTimeout = 150 * time.Millisecond
