//go:build race

package hubspot_test

import "time"

// attemptTimeout is the per-attempt timeout of the acceptance runs: the race
// detector slows the emulator's OpenAPI validation down several times.
const attemptTimeout = 400 * time.Millisecond
