package config

import (
	"fmt"
	"testing"
)

// TestRememberSecretKeepsTheLatest checks that values added at run time
// (refreshed access tokens) are masked, and that only the latest 64 are
// kept, so the redactor does not grow for the life of the daemon.
func TestRememberSecretKeepsTheLatest(t *testing.T) {
	first := "access-token-0000-aaaaaaaaaaaa"
	RememberSecret(first)
	if got := Redact("Bearer " + first); got != "Bearer [redacted]" {
		t.Fatalf("Redact = %q, want the token masked", got)
	}
	for i := range maxRuntimeSecrets {
		RememberSecret(fmt.Sprintf("access-token-%04d-bbbbbbbbbbbb", i+1))
	}
	if got := Redact("Bearer " + first); got != "Bearer "+first {
		t.Errorf("the oldest runtime token is still kept after %d newer ones: %q", maxRuntimeSecrets, got)
	}
	last := fmt.Sprintf("access-token-%04d-bbbbbbbbbbbb", maxRuntimeSecrets)
	if got := Redact(last); got != "[redacted]" {
		t.Errorf("the latest runtime token is not masked: %q", got)
	}
}
