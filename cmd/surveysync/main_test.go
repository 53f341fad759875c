package main

import (
	"os"
	"strings"
	"testing"
)

// TestMain lets the daemons these tests start run as root: CI machines and
// containers often run tests as root, and `run` refuses root without
// SURVEYSYNC_ALLOW_ROOT=1 (TestRunRefusesRoot checks the refusal itself).
func TestMain(m *testing.M) {
	if err := os.Setenv(allowRootEnv, "1"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// TestRunRefusesRoot checks that run refuses to start as root without the
// override, saying how to proceed, and starts nothing.
func TestRunRefusesRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the refusal applies to root only, and this test runs as an unprivileged user")
	}
	t.Setenv(allowRootEnv, "")
	_, stderr, code := run(t, "run", "--config", "../../examples/quickstart/surveysync.yaml")
	if code != exitFailure {
		t.Errorf("run as root exited %d, want 1:\n%s", code, stderr)
	}
	for _, want := range []string{"refusing to run as root", "--allow-root", "nothing was started"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the refusal lacks %q:\n%s", want, stderr)
		}
	}
}
