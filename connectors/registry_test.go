package connectors_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	_ "github.com/surveysync/surveysync/connectors/all"
)

// plugins parses a sources: or destinations: section body (name → entry).
func plugins(t *testing.T, file, src string) config.Plugins {
	t.Helper()
	n, err := config.Parse(file, []byte(src))
	if err != nil {
		t.Fatalf("%s does not parse: %v", file, err)
	}
	if n.Kind != config.MapNode {
		t.Fatalf("%s: want a mapping of name → entry, got %s", file, n.Kind)
	}
	var ps config.Plugins
	if err := config.Decode(n, &ps); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return ps
}

// errorLines formats a list as "line:col: message" lines, in file order.
func errorLines(errs config.ErrorList) []string {
	errs.Sort()
	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg))
	}
	return out
}

// TestEveryConnectorSampleIsValid is the registry-wide invariant: every
// registered source and destination documents itself with a sample that is
// a valid configuration of its own type, and hands out a fresh
// configuration on every call.
func TestEveryConnectorSampleIsValid(t *testing.T) {
	t.Parallel()
	type spec struct {
		kind, typ, sample string
		fresh             func() connectors.Config
		configure         func(*config.Plugin) (connectors.Config, config.ErrorList)
	}
	var specs []spec
	for _, s := range connectors.Sources() {
		specs = append(specs, spec{"source", s.Type, s.Sample, s.Config, func(p *config.Plugin) (connectors.Config, config.ErrorList) {
			_, c, errs := connectors.ConfigureSource(p)
			return c, errs
		}})
	}
	for _, s := range connectors.Destinations() {
		specs = append(specs, spec{"destination", s.Type, s.Sample, s.Config, func(p *config.Plugin) (connectors.Config, config.ErrorList) {
			_, c, errs := connectors.ConfigureDestination(p)
			return c, errs
		}})
	}
	// connectors/all registers at least these; a connector dropped from it
	// would silently lose this check.
	for _, want := range []string{"source file", "source http_poll", "source webhook", "destination http", "destination google_sheets"} {
		found := false
		for _, s := range specs {
			found = found || s.kind+" "+s.typ == want
		}
		if !found {
			t.Errorf("%s is not registered by connectors/all", want)
		}
	}
	for _, s := range specs {
		t.Run(s.kind+"/"+s.typ, func(t *testing.T) {
			t.Parallel()
			if strings.TrimSpace(s.sample) == "" {
				t.Fatal("no sample.yaml")
			}
			ps := plugins(t, s.typ+"/sample.yaml", s.sample)
			if len(ps) == 0 {
				t.Fatal("the sample holds no entry")
			}
			for _, p := range ps {
				if p.Type != s.typ {
					t.Errorf("entry %s has type %q, want %q", p.Name, p.Type, s.typ)
					continue
				}
				cfg, errs := s.configure(p)
				for _, e := range errs {
					if !e.Warning {
						t.Errorf("entry %s: %v", p.Name, e)
					} else if !strings.Contains(e.Msg, "secret") {
						t.Errorf("entry %s: a warning that is not about a secret: %v", p.Name, e)
					}
				}
				if cfg == nil {
					t.Errorf("entry %s: no configuration", p.Name)
				}
			}
			a, b := s.fresh(), s.fresh()
			if a == nil || reflect.ValueOf(a).Kind() != reflect.Pointer {
				t.Fatalf("Config() = %T, want a pointer to a fresh configuration", a)
			}
			if shared := sharedReferences(reflect.ValueOf(a), reflect.ValueOf(b), "Config()"); len(shared) > 0 {
				t.Errorf("two Config() calls share memory, so one entry's settings could leak into another's: %s", strings.Join(shared, ", "))
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("two Config() calls return different defaults")
			}
		})
	}
}

// sharedReferences lists the places where a and b, two values of one type,
// point at the same memory: the same pointer, map or slice array.
func sharedReferences(a, b reflect.Value, path string) []string {
	var out []string
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return nil
		}
		if a.Pointer() == b.Pointer() && a.Type().Elem().Size() > 0 {
			return []string{path}
		}
		return sharedReferences(a.Elem(), b.Elem(), "(*"+path+")")
	case reflect.Interface:
		if a.IsNil() || b.IsNil() || a.Elem().Type() != b.Elem().Type() {
			return nil
		}
		return sharedReferences(a.Elem(), b.Elem(), path)
	case reflect.Map:
		if a.IsNil() || b.IsNil() {
			return nil
		}
		if a.Pointer() == b.Pointer() {
			return []string{path}
		}
		for _, k := range a.MapKeys() {
			if bv := b.MapIndex(k); bv.IsValid() {
				out = append(out, sharedReferences(a.MapIndex(k), bv, fmt.Sprintf("%s[%v]", path, k))...)
			}
		}
	case reflect.Slice:
		if a.Cap() > 0 && b.Cap() > 0 && a.Pointer() == b.Pointer() {
			return []string{path}
		}
		for i := range min(a.Len(), b.Len()) {
			out = append(out, sharedReferences(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
	case reflect.Array:
		for i := range a.Len() {
			out = append(out, sharedReferences(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
	case reflect.Struct:
		for i := range a.NumField() {
			out = append(out, sharedReferences(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name)...)
		}
	}
	return out
}

func TestConfigureUnknownType(t *testing.T) {
	t.Parallel()
	ps := plugins(t, "surveysync.yaml", `
inbox:
  type: files
  paths: [a.jsonl]
api:
  type: zzz_unheard_of
`)
	_, cfg, errs := connectors.ConfigureSource(ps[0])
	if cfg != nil {
		t.Errorf("an unknown type got a configuration %T", cfg)
	}
	want := []string{`2:1: source "inbox": unknown type "files"; did you mean "file"?`}
	if diff := cmp.Diff(want, errorLines(errs)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	_, _, errs = connectors.ConfigureSource(ps[1])
	lines := errorLines(errs)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], `5:1: source "api": unknown type "zzz_unheard_of" (known: `) ||
		!strings.Contains(lines[0], "file") || !strings.Contains(lines[0], "http_poll") || !strings.Contains(lines[0], "webhook") {
		t.Errorf("errors = %q, want one listing the known source types", lines)
	}
	dps := plugins(t, "surveysync.yaml", "out:\n  type: htp\n  endpoint: http://x\n")
	_, _, errs = connectors.ConfigureDestination(dps[0])
	if diff := cmp.Diff([]string{`1:1: destination "out": unknown type "htp"; did you mean "http"?`}, errorLines(errs)); diff != "" {
		t.Errorf("destination errors (-want +got):\n%s", diff)
	}
}

// TestConfigureErrorPositions checks that every mistake in an entry is
// reported, each once, prefixed with the entry and placed at the key it is
// about: decoding mistakes where they were written, validation mistakes at
// the key their message names (or the entry's name when that key is not
// written).
func TestConfigureErrorPositions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		destination bool
		src         string
		want        []string
	}{
		{
			name: "decode errors",
			src: `in:
  type: file
  pathz: [a.jsonl]
  chunk: many
  watch: often
`,
			want: []string{
				`3:3: sources.in: unknown key "pathz"; did you mean "paths"?`,
				`4:10: sources.in: chunk: expected a whole number, got "many"`,
				`5:10: sources.in: watch: "often" is not a duration; write it like 30s, 5m or 1h30m`,
			},
		},
		{
			name: "every validation error at its key",
			src: `in:
  type: file
  paths: [a.jsonl]
  format: xml
  chunk: 0
  csv:
    delimiter: ";;"
  key: "{{ id | nope }}"
  timezone: Mars/Base
`,
			want: []string{
				`4:11: sources.in: format: "xml": want auto, jsonl, json or csv`,
				`5:10: sources.in: chunk: must be between 1 and 50000`,
				`7:16: sources.in: csv.delimiter: must be one character`,
				`8:8: sources.in: key: expression {{ id | nope }}: unknown pipe "nope" (known pipes: bool, default, first, format_time, integer, join, json, last, len, lower, map, number, optional, pluck, replace, split, string, trim, truncate, unix, unix_ms, unless_prefix, upper)`,
				`9:13: sources.in: timezone: "Mars/Base" is not a known IANA zone such as Europe/Berlin`,
			},
		},
		{
			name: "a missing key is reported at the entry",
			src: `in:
  type: file
  format: jsonl
`,
			want: []string{`1:1: sources.in: paths: list at least one file or glob, such as ./inbox/*.jsonl`},
		},
		{
			name: "positioned errors inside a wrapped list keep their place",
			src: `in:
  type: file
  paths: [a.jsonl]
  accept:
    - {field: event_type, frobnicates: 1}
`,
			want: []string{`5:27: sources.in: accept: filter: unknown key "frobnicates"`},
		},
		{
			name:        "destination errors",
			destination: true,
			src: `out:
  type: http
  endpoint: ftp://example.com
  concurrency: 0
  auth:
    basic: {username: ops}
  status: {success: [2xx, 6xx]}
`,
			want: []string{
				`3:13: destinations.out: endpoint: "ftp://example.com" is not an http(s) URL`,
				`4:16: destinations.out: concurrency: must be between 1 and 64`,
				`6:13: destinations.out: auth.basic: set username and password`,
				`7:12: destinations.out: status: "6xx" is not a status code such as 404 or a class such as 4xx`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ps := plugins(t, "surveysync.yaml", tc.src)
			var errs config.ErrorList
			if tc.destination {
				_, _, errs = connectors.ConfigureDestination(ps[0])
			} else {
				_, _, errs = connectors.ConfigureSource(ps[0])
			}
			got := errorLines(errs)
			// The accept case names a key the filter does not know; the
			// filter lists the keys it knows, which is not this test's business.
			for i, l := range got {
				if before, _, ok := strings.Cut(l, `"frobnicates"`); ok {
					got[i] = before + `"frobnicates"`
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			for _, e := range errs {
				if e.Pos.File != "surveysync.yaml" {
					t.Errorf("%q is not placed in the file", e.Error())
				}
			}
		})
	}
}

func TestLookupAndListings(t *testing.T) {
	t.Parallel()
	if _, ok := connectors.LookupSource("file"); !ok {
		t.Error("LookupSource(file) found nothing")
	}
	if _, ok := connectors.LookupSource("http"); ok {
		t.Error("LookupSource(http) found a destination type")
	}
	d, ok := connectors.LookupDestination("http")
	if !ok {
		t.Fatal("LookupDestination(http) found nothing")
	}
	if len(d.Accepts) == 0 {
		t.Error("the http destination accepts no mapping kind")
	}
	for _, k := range d.Accepts {
		if !d.AcceptsKind(k) {
			t.Errorf("AcceptsKind(%v) = false for a listed kind", k)
		}
	}
	for i, list := range [][]string{typesOf(connectors.Sources()), destinationTypes()} {
		if !sortedUnique(list) {
			t.Errorf("listing %d is not sorted and unique: %q", i, list)
		}
	}
}

func typesOf(specs []connectors.SourceSpec) []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.Type)
	}
	return out
}

func destinationTypes() []string {
	var out []string
	for _, s := range connectors.Destinations() {
		out = append(out, s.Type)
	}
	return out
}

func sortedUnique(list []string) bool {
	for i := 1; i < len(list); i++ {
		if list[i-1] >= list[i] {
			return false
		}
	}
	return true
}

func TestRegisteringTwicePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("registering the file source again did not panic")
		}
	}()
	connectors.RegisterSource(connectors.SourceSpec{Type: "file"})
}
