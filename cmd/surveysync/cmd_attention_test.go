package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExitThreeNeedsAttention checks exit status 3: a backfill whose
// mapping cannot render one record delivers the others, dead-letters that
// one and exits 3; `status --check` then exits 3 too, while `status` alone
// exits 0.
func TestExitThreeNeedsAttention(t *testing.T) {
	t.Parallel()
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer receiver.Close()
	dir := t.TempDir()
	files := map[string]string{
		"surveysync.yaml": `store: sqlite:./data/ledger.db
listen: 127.0.0.1:0
sources:
  imports: {type: file, paths: [./inbox/*.jsonl], key: id, submitted_at: at}
destinations:
  crm: {type: http, endpoint: "` + receiver.URL + `"}
syncs:
  - {name: to-crm, source: imports, mapping: m.yaml, to: crm}
`,
		"m.yaml": "request:\n  method: POST\n  path: /csat\n  body: {agent: \"{{ agent }}\", rating: \"{{ rating }}\"}\n",
		"history.jsonl": `{"id": "1", "at": "2026-11-01T10:00:00Z", "agent": "Maria", "rating": 5}
{"id": "2", "at": "2026-11-01T11:00:00Z", "rating": 4}
{"id": "3", "at": "2026-11-01T12:00:00Z", "agent": "Tom", "rating": 3}
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "surveysync.yaml")

	out, stderr, code := run(t, "backfill", "--yes", "--source", "imports", "--config", cfg, filepath.Join(dir, "history.jsonl"))
	if code != exitAttention {
		t.Fatalf("backfill exited %d, want 3:\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"2 new", "1 dead-lettered", "needs attention"} {
		if !strings.Contains(out, want) {
			t.Errorf("backfill output lacks %q:\n%s", want, out)
		}
	}
	if _, stderr, code := run(t, "status", "--config", cfg); code != exitOK {
		t.Errorf("status exited %d, want 0:\n%s", code, stderr)
	}
	out, stderr, code = run(t, "status", "--check", "--json", "--config", cfg)
	if code != exitAttention || !strings.Contains(out, `"dead": 1`) {
		t.Errorf("status --check exited %d, want 3 with one dead letter:\n%s\n%s", code, out, stderr)
	}
}
