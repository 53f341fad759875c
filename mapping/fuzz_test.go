package mapping

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/survey"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/, where go test runs them as
// ordinary test cases. The seeds added below with f.Add come from the golden
// cases, so the fuzzers start from realistic files.

// FuzzParse feeds arbitrary mapping file source to Parse: it must never
// panic, every failure must be a positioned config.ErrorList, and a mapping
// that loads must render an arbitrary response without panicking.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/mapping.yaml")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err == nil {
			f.Add(src)
		}
	}
	payload := json.RawMessage(`{"key": "k", "rating": "😀", "contact": {"email": "A@B.C"}, "answers": [{"field": {"ref": "nps"}, "number": 9}], "n": 3, "when": 1714557600, "list": ["a", null]}`)
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := Parse("fuzz.yaml", src)
		if err != nil {
			var list config.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("Parse error %v (%T) is not a non-empty config.ErrorList", err, err)
			}
			for _, e := range list {
				if e.Pos.File != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("error without file or message: %#v", e)
				}
			}
			return
		}
		in := &Input{Response: &survey.Response{Source: "s", Key: "k", Payload: payload}, Sync: "y"}
		if _, err := m.Match(in); err != nil {
			return
		}
		switch m.Kind() {
		case SheetRows:
			m.RenderRow(in)
		case Requests:
			if req, err := m.RenderRequest(in); err == nil {
				if _, err := json.Marshal(req.Body); err != nil {
					t.Fatalf("body does not marshal: %v", err)
				}
				if !strings.HasPrefix(req.Path, "/") || strings.HasPrefix(req.Path, "//") {
					t.Fatalf("path %q could change the host", req.Path)
				}
			}
		}
		m.Check(in)
	})
}

// bodyFuzzMapping puts one response field into every kind of place a request
// can carry it.
const bodyFuzzMapping = `request:
  method: POST
  path: /t/{{ s }}
  query: {q: "{{ s }}"}
  body:
    whole: "{{ s }}"
    mixed: "pre {{ s }} post"
    nested: {list: ["{{ s }}", "x{{ s }}"]}
    as_json: "{{ obj | json }}"
    fixed: "\"}, \"x\": \""
`

// FuzzRenderBody puts arbitrary text (quotes, backslashes, newlines, emoji,
// invalid UTF-8, `"}, "x": "`) into response fields and checks that the body
// always marshals to valid JSON with exactly the mapped keys, and that each
// leaf decodes back to the original text.
//
// JSON can only carry valid UTF-8. Text handed over in Input.Fields is
// repaired by the body builder with strings.ToValidUTF8(s, "\uFFFD"), so that
// is what comes back. Text that arrives in a JSON payload was already made
// valid when the source's JSON was written (encoding/json replaces every bad
// byte with U+FFFD), so for that path the expectation is the payload's own
// round trip of s.
func FuzzRenderBody(f *testing.F) {
	for _, s := range []string{
		"", "plain", `"}, "x": "`, `\`, `\"`, "line\nbreak\r\n\ttab", "😀🙏🏽", "\xff\xfe", "a\xc3", "\x00\x1f\u2028",
		"</script>&<>", "{{ s }}", "..", ".", "/", "%2F", "$contact.email", strings.Repeat("é", 100),
	} {
		f.Add(s)
	}
	m, err := Parse("fuzz.yaml", []byte(bodyFuzzMapping))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ToValidUTF8(s, "\uFFFD")
		direct := &Input{
			Response: &survey.Response{Source: "src", Key: "k"},
			Fields:   map[string]any{"s": s, "obj": map[string]any{"s": s}},
		}
		checkFuzzBody(t, m, direct, s, want)

		raw, err := json.Marshal(map[string]any{"s": s, "obj": map[string]any{"s": s}})
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		if err := json.Unmarshal(mustMarshal(t, s), &stored); err != nil {
			t.Fatal(err)
		}
		viaPayload := &Input{Response: &survey.Response{Source: "src", Key: "k", Payload: raw}}
		checkFuzzBody(t, m, viaPayload, stored, stored)
	})
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkFuzzBody(t *testing.T, m *Mapping, in *Input, s, want string) {
	t.Helper()
	req, err := m.RenderRequest(in)
	if strings.TrimSpace(s) == "" || s == "." || s == ".." {
		if err == nil {
			t.Fatalf("path value %q was accepted: %q", s, req.Path)
		}
		return
	}
	if err != nil {
		t.Fatalf("RenderRequest(%q): %v", s, err)
	}
	raw, err := json.Marshal(req.Body)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if !json.Valid(raw) {
		t.Fatalf("invalid JSON: %s", raw)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("body has %d keys, want 5: %s", len(got), raw)
	}
	check := func(name string, got any, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("%s = %q, want %q", name, got, want)
		}
	}
	check("whole", got["whole"], want)
	check("mixed", got["mixed"], "pre "+want+" post")
	nested, _ := got["nested"].(map[string]any)
	list, _ := nested["list"].([]any)
	if len(nested) != 1 || len(list) != 2 {
		t.Fatalf("nested = %v", got["nested"])
	}
	check("nested.list[0]", list[0], want)
	check("nested.list[1]", list[1], "x"+want)
	check("fixed", got["fixed"], `"}, "x": "`)
	var obj map[string]any
	if err := json.Unmarshal([]byte(got["as_json"].(string)), &obj); err != nil || len(obj) != 1 {
		t.Fatalf("as_json %q: %v", got["as_json"], err)
	}
	// The json pipe marshals the field as it is: encoding/json replaces
	// each bad byte.
	var perByte string
	json.Unmarshal(mustMarshal(t, s), &perByte)
	check("as_json.s", obj["s"], perByte)

	seg := strings.TrimPrefix(req.Path, "/t/")
	if strings.Contains(seg, "/") {
		t.Fatalf("path %q has more than one segment", req.Path)
	}
	if dec, err := url.PathUnescape(seg); err != nil || dec != s {
		t.Fatalf("path segment %q decodes to %q, %v; want %q", seg, dec, err, s)
	}
	if q := req.Query.Get("q"); q != s {
		t.Fatalf("query q = %q, want %q", q, s)
	}
	if !utf8.Valid(raw) {
		t.Fatalf("body is not valid UTF-8")
	}
}

// FuzzExpr feeds arbitrary text to the expression compiler and evaluates
// whatever compiles against a sample response: neither may panic, and errors
// are positioned.
func FuzzExpr(f *testing.F) {
	for _, s := range []string{
		"rating", "{{ rating }}", "{{ contact.email | lower | default 'x' }}", "a[field.ref=nps].number",
		`hidden["first name"]`, "answers[-1]", "{{ a | replace '\"' \"'\" }}", "{{ a | truncate 3 }}",
		"x {{ a }} y {{ b | optional }} z", "{{ 'lit' }}", "{{ a | format_time 'YYYY-MM-DD' UTC }}",
		"{{", "}}", "{{ a | }}", "a[", "a[x=", "{{ a | split , | join ; | len }}", "{{ a | map stars }}",
		"{{ a | unless_prefix $ }}", "{{ \"\\u00e9\" }}", "{{ a | pluck b.c }}",
	} {
		f.Add(s)
	}
	in := &Input{Response: &survey.Response{Source: "s", Key: "k", Payload: json.RawMessage(
		`{"rating": 5, "a": ["x", {"b": {"c": 1}}], "contact": {"email": "E"}, "hidden": {"first name": "J"}, "answers": [1]}`)}}
	f.Fuzz(func(t *testing.T, text string) {
		pos := config.Pos{File: "f.yaml", Line: 2, Col: 5}
		e, err := CompileExpr(text, pos)
		if err != nil {
			var list config.ErrorList
			if !errors.As(err, &list) || len(list) != 1 || list[0].Pos != pos {
				t.Fatalf("error %v is not one error at %v", err, pos)
			}
			return
		}
		if e.String() != text {
			t.Fatalf("String() = %q, want %q", e.String(), text)
		}
		v, err := e.Eval(in)
		if err != nil {
			var re *RenderError
			if errors.As(err, &re) && re.Pos != pos {
				t.Fatalf("render error at %v, want %v", re.Pos, pos)
			}
			return
		}
		if _, err := compactJSON(v); err != nil {
			t.Fatalf("value %#v does not marshal: %v", v, err)
		}
	})
}
