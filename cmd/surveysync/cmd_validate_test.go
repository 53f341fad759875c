package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes the command line in-process and returns its output and exit status.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = execute(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestValidateEveryExample(t *testing.T) {
	t.Parallel()
	configs, err := filepath.Glob("../../examples/*/surveysync.yaml")
	if err != nil || len(configs) == 0 {
		t.Fatalf("no example configurations found: %v", err)
	}
	for _, cfg := range configs {
		t.Run(filepath.Base(filepath.Dir(cfg)), func(t *testing.T) {
			t.Parallel()
			_, stderr, code := run(t, "validate", "--config", cfg)
			if code != exitOK {
				t.Errorf("validate exited %d:\n%s", code, stderr)
			}
		})
	}
}

func TestValidateReportsEveryMistakeInEveryFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"surveysync.yaml": `sources:
  hook:
    type: webhook
    path: /hooks/x
    auth: {token: {header: X-Token, value: "${env:VALIDATE_TEST_TOKEN}"}}
    key: id
destinations:
  out:
    type: http
    endpoint: http://127.0.0.1:9/
    concurency: 4
syncs:
  - {source: hook, mapping: mappings/out.yaml, to: out}
`,
		"mappings/out.yaml": `request:
  method: POTS
  path: /effects
  body:
    score: "{{ score | lowr }}"
`,
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, stderr, code := run(t, "validate", "--config", filepath.Join(dir, "surveysync.yaml"))
	if code != exitFailure {
		t.Fatalf("validate exited %d, want 1:\n%s", code, stderr)
	}
	for _, want := range []string{
		"surveysync.yaml:11:5: destinations.out: unknown key \"concurency\"; did you mean \"concurrency\"?",
		"mappings/out.yaml:2:11:",
		"mappings/out.yaml:5:12:",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("missing %q in:\n%s", want, stderr)
		}
	}
	if n := strings.Count(stderr, "\n"); n < 4 {
		t.Errorf("expected three errors, a warning and a summary, got:\n%s", stderr)
	}
	t.Logf("validate printed:\n%s", stderr)
}

func TestUsageErrorsExitTwo(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"validate", "--no-such-flag"},
		{"nonsense"},
		{"preview"},
		{"replay"},
		{"status", "extra-arg"},
	} {
		if _, stderr, code := run(t, args...); code != exitUsage {
			t.Errorf("%v exited %d, want 2:\n%s", args, code, stderr)
		}
	}
}

// TestValidateSampleAsksTheDestination checks that validate --sample
// reports, at the mapping's request, a rendered request the destination
// would refuse to send (here a misspelt key HubSpot's upsert does not
// know), and that a JSON Lines sample is read by its first record.
func TestValidateSampleAsksTheDestination(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"surveysync.yaml": `sources:
  hook:
    type: webhook
    path: /hooks/x
    auth: {token: {header: X-Token, value: "${file:token}"}}
    key: id
destinations:
  hs:
    type: hubspot
    token: "${file:token}"
    endpoint: http://127.0.0.1:9
syncs:
  - {source: hook, mapping: contact.yaml, to: hs}
`,
		"token": "not-a-real-token",
		"contact.yaml": `request:
  method: POST
  path: /crm/v3/objects/contacts/batch/upsert
  body:
    id: "{{ email }}"
    idProperty: email
    propertes: {last_csat: "{{ rating }}"}
`,
		"samples.jsonl": `{"id": "r1", "email": "ana@example.com", "rating": 4}
{"id": "r2", "email": "bo@example.com", "rating": 5}
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, stderr, code := run(t, "validate", "--config", filepath.Join(dir, "surveysync.yaml"), "--sample", filepath.Join(dir, "samples.jsonl"))
	if code != exitFailure {
		t.Fatalf("validate exited %d, want 1:\n%s", code, stderr)
	}
	want := `contact.yaml:3:9: destination hs would refuse the sample: upsert input: unknown key "propertes"`
	if !strings.Contains(stderr, want) {
		t.Errorf("missing %q in:\n%s", want, stderr)
	}

	fixed := strings.Replace(files["contact.yaml"], "propertes", "properties", 1)
	if err := os.WriteFile(filepath.Join(dir, "contact.yaml"), []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = run(t, "validate", "--config", filepath.Join(dir, "surveysync.yaml"), "--sample", filepath.Join(dir, "samples.jsonl"))
	if code != exitOK {
		t.Errorf("validate of the fixed mapping exited %d:\n%s", code, stderr)
	}
}

// TestValidateConsoleToken checks that a console token this machine cannot
// resolve is a warning, like every other secret, while a non-loopback
// listener without any token is an error.
func TestValidateConsoleToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("m.yaml", "request:\n  method: POST\n  path: /x\n  body: {a: \"{{ id }}\"}\n")
	base := `listen: 0.0.0.0:8080
sources:
  hook: {type: webhook, path: /h, auth: {token: {header: X-T, value: "${file:t}"}}, key: id}
destinations:
  out: {type: http, endpoint: "http://127.0.0.1:9/"}
syncs:
  - {source: hook, mapping: m.yaml, to: out}
`
	write("t", "a-long-enough-webhook-token")
	write("unresolved.yaml", base+"console: {token: \"${env:SURVEYSYNC_TEST_UNSET_CONSOLE_TOKEN}\"}\n")
	write("missing.yaml", base)

	_, stderr, code := run(t, "validate", "--config", filepath.Join(dir, "unresolved.yaml"))
	if code != exitOK || !strings.Contains(stderr, "warning: ") || !strings.Contains(stderr, "SURVEYSYNC_TEST_UNSET_CONSOLE_TOKEN") {
		t.Errorf("unresolvable console token: exit %d, want 0 with a warning:\n%s", code, stderr)
	}
	_, stderr, code = run(t, "validate", "--config", filepath.Join(dir, "missing.yaml"))
	if code != exitFailure || !strings.Contains(stderr, "console.token is required") {
		t.Errorf("no console token on 0.0.0.0: exit %d, want 1 naming console.token:\n%s", code, stderr)
	}
}

// TestValidateSampleChecksScoreJobs checks that validate --sample warns,
// at the job's field, when the sample has no value where a score job reads
// its rating (a misspelt field would otherwise only show as empty scores).
func TestValidateSampleChecksScoreJobs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := "../../examples/quickstart"
	for _, name := range []string{"surveysync.yaml", "mappings/responses-sheet.yaml", "samples/responses.jsonl"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "surveysync.yaml" {
			b = []byte(strings.Replace(string(b), "field: nps", "field: npz", 1))
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, stderr, code := run(t, "validate", "--config", filepath.Join(dir, "surveysync.yaml"), "--sample", filepath.Join(dir, "samples/responses.jsonl"))
	if code != exitOK {
		t.Fatalf("validate exited %d, want 0 (a warning):\n%s", code, stderr)
	}
	if want := "score job nps-monthly: the sample has no rating at npz"; !strings.Contains(stderr, want) {
		t.Errorf("missing %q in:\n%s", want, stderr)
	}
}
