package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.TrimLeft(content, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadReportsEveryMistakeWithItsPosition(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "m.yaml", "sheet: X\n")
	path := write(t, dir, "surveysync.yaml", `
store: sqlite:./data/x.db
listen: 127.0.0.1:8080
sources:
  hook:
    type: webhook
destinations:
  sheet:
    type: google_sheets
syncs:
  - source: hook
    mapping: m.yaml
    to: shet
    filtr: x
  - source: nope
    mapping: missing.yaml
    to: sheet
scores:
  - name: weekly
    schedule: "CRON_TZ=UTC 0 6 * * MON"
    source: hook
    metric: nsp
    field: "{{ score }}"
    timezone: Mars/Olympus
dispatch:
  batch_size: ten
  backoff_max: 10ms
`)
	_, errs := Load(path)
	var got []string
	for _, e := range errs {
		got = append(got, strings.TrimPrefix(e.Error(), dir+"/"))
	}
	want := []string{
		`surveysync.yaml:12:9: sync: destination "shet" is not defined; did you mean "sheet"?`,
		`surveysync.yaml:13:5: syncs[0]: unknown key "filtr"; did you mean "filter"?`,
		`surveysync.yaml:14:13: sync: source "nope" is not defined (defined: hook)`,
		`surveysync.yaml:15:14: sync: mapping file missing.yaml: cannot read ` + filepath.Join(dir, "missing.yaml") + `: no such file or directory`,
		`surveysync.yaml:19:15: schedule "CRON_TZ=UTC 0 6 * * MON": a TZ= or CRON_TZ= prefix is not allowed; set the zone with the timezone key instead`,
		`surveysync.yaml:21:13: metric "nsp": want csat, nps or ces`,
		`surveysync.yaml:23:15: timezone "Mars/Olympus" is not a known IANA zone such as Europe/Berlin`,
		`surveysync.yaml:25:15: dispatch.batch_size: expected a whole number, got "ten"`,
		`surveysync.yaml:26:16: dispatch.backoff_max (10ms) is shorter than dispatch.backoff_min (1s)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestLoadDefaultsAndSyncNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "m.yaml", "sheet: X\n")
	path := write(t, dir, "surveysync.yaml", `
sources:
  hook: {type: webhook}
destinations:
  out: {type: http, endpoint: "http://example.com"}
syncs:
  - {source: hook, mapping: m.yaml, to: out}
`)
	cfg, errs := Load(path)
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	if cfg.Syncs[0].Name != "hook-to-out" {
		t.Errorf("default sync name %q, want hook-to-out", cfg.Syncs[0].Name)
	}
	if cfg.Listen != "127.0.0.1:8080" || !cfg.LoopbackListen() {
		t.Errorf("listen %q, want the loopback default", cfg.Listen)
	}
	driver, loc, err := cfg.StoreDriver()
	if err != nil || driver != "sqlite" || loc != filepath.Join(dir, "data/surveysync.db") {
		t.Errorf("store = %s %s %v, want sqlite in the config's directory", driver, loc, err)
	}
	if cfg.Dispatch.BackoffMax != 64*time.Second || cfg.Dispatch.BatchSize != 500 {
		t.Errorf("dispatch defaults = %+v", cfg.Dispatch)
	}
	if got := cfg.Destinations.Get("out").Body.Get("endpoint").Value; got != "http://example.com" {
		t.Errorf("destination body lost its endpoint: %q", got)
	}
}

func TestDuplicateNamesAndKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "m.yaml", "sheet: X\n")
	path := write(t, dir, "surveysync.yaml", `
sources:
  x: {type: webhook}
destinations:
  x: {type: http}
syncs:
  - {name: s, source: x, mapping: m.yaml, to: x}
  - {name: s, source: x, mapping: m.yaml, to: x}
`)
	_, errs := Load(path)
	msg := errs.Error()
	for _, want := range []string{
		`surveysync.yaml:4:3: destination "x" has the same name as the source at line 2`,
		`surveysync.yaml:7:6: sync "s" is defined twice (first at line 6)`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("want %q in:\n%s", want, msg)
		}
	}
	path = write(t, dir, "dup.yaml", "listen: a\nlisten: b\n")
	_, errs = Load(path)
	if msg := errs.Error(); !strings.Contains(msg, "dup.yaml:2:1:") || !strings.Contains(msg, `"listen" already defined`) {
		t.Errorf("want a positioned duplicate key error, got:\n%s", msg)
	}
}

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "token", "file-secret-value\n")
	t.Setenv("CONFIG_TEST_TOKEN", "env-secret-value")
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "${env:CONFIG_TEST_TOKEN}", want: "env-secret-value"},
		{in: "Bearer ${env:CONFIG_TEST_TOKEN}", want: "Bearer env-secret-value"},
		{in: "${file:./token}", want: "file-secret-value"},
		{in: "hunter2-literal", wantErr: "a literal secret is not allowed"},
		{in: "${env:}", wantErr: "empty secret reference"},
		{in: "${vault:x}", wantErr: "a literal secret is not allowed"},
		{in: "${env:X} ${bad", wantErr: "malformed secret reference"},
		{in: "${env:CONFIG_TEST_UNSET_VAR}", wantErr: "environment variable CONFIG_TEST_UNSET_VAR is not set"},
		{in: "${file:./nope}", wantErr: "cannot read"},
	}
	for _, tc := range tests {
		s, err := ParseSecret(tc.in, dir)
		if err == nil {
			var v string
			v, err = s.Resolve()
			if err == nil && v != tc.want {
				t.Errorf("%s resolved to %q, want %q", tc.in, v, tc.want)
			}
			if s.String() != tc.in {
				t.Errorf("%s prints as %q; a secret must print as its reference", tc.in, s.String())
			}
		}
		if tc.wantErr == "" && err != nil {
			t.Errorf("%s: %v", tc.in, err)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: error %v, want one containing %q", tc.in, err, tc.wantErr)
		}
	}
	if got := Redact("token=env-secret-value and file-secret-value"); got != "token=[redacted] and [redacted]" {
		t.Errorf("Redact = %q", got)
	}
}

func TestDecodeIntoStructsReportsAllErrors(t *testing.T) {
	t.Parallel()
	type inner struct {
		N int           `yaml:"n"`
		D time.Duration `yaml:"d"`
	}
	type outer struct {
		Name  string            `yaml:"name,required"`
		In    inner             `yaml:"in"`
		List  []string          `yaml:"list"`
		Map   map[string]int    `yaml:"map"`
		Flag  bool              `yaml:"flag"`
		Extra map[string]string `yaml:"extra"`
	}
	n, err := Parse("f.yaml", []byte("in: {n: x, d: 5 parsecs, zz: 1}\nlist: one\nmap: {a: 1, b: two}\nflag: maybe\n"))
	if err != nil {
		t.Fatal(err)
	}
	var o outer
	derr := Decode(n, &o)
	var got []string
	for _, e := range AsList(derr) {
		got = append(got, e.Error())
	}
	want := []string{
		`f.yaml:1:9: in.n: expected a whole number, got "x"`,
		`f.yaml:1:15: in.d: "5 parsecs" is not a duration; write it like 30s, 5m or 1h30m`,
		`f.yaml:1:26: in: unknown key "zz" (known keys: d, n)`,
		`f.yaml:3:16: map.b: expected a whole number, got "two"`,
		`f.yaml:4:7: flag: expected true or false, got "maybe"`,
		`f.yaml:1:1: missing required key "name"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"one"}, o.List); diff != "" {
		t.Errorf("a single string decodes as a list of one (-want +got):\n%s", diff)
	}
}

func TestParseRefusesWhatItCannotPosition(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"a: &x 1\nb: *x\n",
		"a: {b: 1}\nc:\n  <<: {d: 2}\n",
		"a: 1\n---\nb: 2\n",
		"a: [1, 2\n",
	} {
		if _, err := Parse("f.yaml", []byte(src)); err == nil || !strings.HasPrefix(err.Error(), "f.yaml:") {
			t.Errorf("%q: error %v, want a positioned error", src, err)
		}
	}
}
