//go:build race

package zendesk_test

import "time"

// attemptTimeout is the per-attempt timeout of the acceptance runs: the race
// detector slows the emulator and the engine down several times.
const attemptTimeout = 400 * time.Millisecond
