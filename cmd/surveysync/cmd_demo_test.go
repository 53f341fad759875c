package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestDemoIsTheQuickStart runs the README's first command as a newcomer
// would (`surveysync demo`), twice on the same directory: the first run
// delivers the 240 sample responses into the sandbox sheet and writes the
// summary tabs; the second adds nothing, because every response was
// delivered once already.
func TestDemoIsTheQuickStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for run1 := 1; run1 <= 2; run1++ {
		out, stderr, code := run(t, "demo", "--listen", "127.0.0.1:0", "--dir", dir)
		if code != exitOK {
			t.Fatalf("demo run %d exited %d:\n%s\n%s", run1, code, out, stderr)
		}
		for _, want := range []string{
			`tab "Responses": 240 rows under the header`,
			`tab "CSAT by week"`,
			`tab "NPS by month"`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("demo run %d: output lacks %q:\n%s", run1, want, out)
			}
		}
		if !regexp.MustCompile(`responses-to-sheet\s+samples → sheet\s+0\s+0\s+240\s`).MatchString(out) {
			t.Errorf("demo run %d: status does not show 0 pending, 0 uncertain, 240 delivered:\n%s", run1, out)
		}
		if strings.Contains(out, "=HYPERLINK") && !strings.Contains(out, `=HYPERLINK("http`) {
			t.Errorf("demo run %d: the formula-looking comment is not shown as text", run1)
		}
	}
}
