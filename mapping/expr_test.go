package mapping

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/survey"
)

func testInput(t *testing.T, payload string) *Input {
	t.Helper()
	return &Input{
		Response: &survey.Response{Source: "src", Key: "k1", SubmittedAt: time.Date(2024, 5, 1, 10, 3, 12, 0, time.UTC), Payload: json.RawMessage(payload)},
		Sync:     "s", Version: 1,
	}
}

func TestCompileExprErrors(t *testing.T) {
	t.Parallel()
	pos := config.Pos{File: "f.yaml", Line: 3, Col: 7}
	tests := []struct {
		text, want string
	}{
		{"{{ }}", "the expression is empty"},
		{"{{ a | lowr }}", `unknown pipe "lowr"; did you mean "lower"?`},
		{"{{ a | bogus_pipe_name }}", "known pipes: bool, default"},
		{"{{ a | truncate }}", "pipe truncate takes 1 argument, got 0 (write truncate <characters>)"},
		{"{{ a | replace x }}", "pipe replace takes 2 arguments, got 1"},
		{"{{ a | lower x }}", "pipe lower takes no arguments, got 1"},
		{"{{ a | format_time }}", "pipe format_time takes 1 to 2 arguments, got 0"},
		{"{{ a | truncate -1 }}", "-1 is not a whole number of characters"},
		{"{{ a | map nope }}", `unknown value map "nope"`},
		{"{{ a | format_time 'YYYY Q' }}", ""},
		{"{{ a | format_time 'YYYY-MM-DD' Mars/Olympus }}", `time zone "Mars/Olympus" is not a known IANA zone`},
		{"{{ a b }}", `unexpected "b" after a; separate pipes with |`},
		{"{{ a |  }}", "expected a pipe name after |"},
		{"{{ a", "{{ is never closed with }}"},
		{"{{ a {{ b }}", "{{ opened inside another {{ }}"},
		{"{{ a[ }}", "unclosed ["},
		{"{{ a[. }}", "expected a field name after ["},
		{"{{ a[x }}", "expected a number"},
		{"{{ a[x=] }}", "expected a value after ="},
		{"{{ a[0 }}", "expected ] to close ["},
		{"{{ a. }}", "expected a field name after '.'"},
		{"{{ 'open }}", "unclosed ' quote"},
		{"{{ a | default \"x }}", "unclosed \" quote"},
		{"{{ a | unless_prefix '' }}", "the prefix is empty"},
		{"{{ a | split '' }}", "the separator is empty"},
		{"a |", "expected a pipe name after |"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			_, err := CompileExpr(tt.text, pos)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CompileExpr(%q) = %v, want no error", tt.text, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CompileExpr(%q) succeeded, want error containing %q", tt.text, tt.want)
			}
			var list config.ErrorList
			if !errors.As(err, &list) || len(list) != 1 || list[0].Pos != pos {
				t.Fatalf("error %v is not one config.Error at %v", err, pos)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CompileExpr(%q) error = %q, want it to contain %q", tt.text, err, tt.want)
			}
		})
	}
}

func TestExprEval(t *testing.T) {
	t.Parallel()
	payload := `{
		"contact": {"email": "Jane@Example.com", "tags": ["a", "b"]},
		"answers": [
			{"field": {"ref": "nps", "id": 7}, "number": 9},
			{"field": {"ref": "why"}, "text": "fast"},
			{"field": {"ref": "nps"}, "number": 1}
		],
		"hidden": {"first name": "Jane", "a.b": "dotted", "it's": "quote"},
		"ratings": [[1, 2], [3, 4]],
		"key": "payload key",
		"n": 12345678901234567890,
		"nothing": null,
		"$var": "dollar",
		"résumé": "accent"
	}`
	tests := []struct {
		text string
		want any
	}{
		{"contact.email", "Jane@Example.com"},
		{"{{ contact.email }}", "Jane@Example.com"},
		{"{{contact.email|lower}}", "jane@example.com"},
		{"answers[field.ref=nps].number", json.Number("9")},
		{"answers[field.ref = 'why'].text", "fast"},
		{"answers[field.id=7].number", json.Number("9")},
		{`answers[field.ref="nps"].number`, json.Number("9")},
		{"answers[1].text", "fast"},
		{"answers[-1].number", json.Number("1")},
		{"answers.1.text", "fast"},
		{`hidden["first name"]`, "Jane"},
		{"hidden['a.b']", "dotted"},
		{`hidden["it's"]`, "quote"},
		{"ratings[1][0]", json.Number("3")},
		{"key", "k1"},
		{"payload.key", "payload key"},
		{"source", "src"},
		{"version", json.Number("1")},
		{"sync", "s"},
		{"n", json.Number("12345678901234567890")},
		{"nothing", nil},
		{"$var", "dollar"},
		{"résumé", "accent"},
		{"contact.tags", []any{"a", "b"}},
		{"{{ contact.tags | join '+' }} and {{ nothing }}!", "a+b and !"},
		{"{{ answers | len }} answers", "3 answers"},
		{"{{ missing | optional }}", nil},
		{"x {{ missing | optional }} y", "x  y"},
		{"'literal' | upper", "LITERAL"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			e, err := CompileExpr(tt.text, config.Pos{File: "f", Line: 1, Col: 1})
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Eval(testInput(t, payload))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Eval(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestExprEvalMissing(t *testing.T) {
	t.Parallel()
	payload := `{"contact": "text", "list": [], "placeholder": "$contact.city", "answers": [{"field": {"ref": "a"}}]}`
	tests := []struct {
		text, path, msg string
	}{
		{"contact.email", "contact.email", "field contact.email is missing from the response"},
		{"nope", "nope", "field nope is missing from the response"},
		{"list[0]", "list[0]", "field list[0] is missing from the response"},
		{"list | first", "list", "field list is missing from the response (first of an empty list)"},
		{"answers[field.ref=b].text", "answers[field.ref=b].text", "field answers[field.ref=b].text is missing from the response"},
		{"placeholder | unless_prefix $", "placeholder", `field placeholder is missing from the response (it holds the unfilled placeholder "$contact.city")`},
		{"{{ a }} and {{ b }}", "a", "field a is missing from the response"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			pos := config.Pos{File: "m.yaml", Line: 4, Col: 9}
			e, err := CompileExpr(tt.text, pos)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.Eval(testInput(t, payload))
			var re *RenderError
			if !errors.As(err, &re) {
				t.Fatalf("Eval error = %v, want *RenderError", err)
			}
			want := &RenderError{Pos: pos, Path: tt.path, Msg: tt.msg}
			if diff := cmp.Diff(want, re); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got, want := re.Error(), "m.yaml:4:9: "+tt.msg; got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
		})
	}
}

func TestBuiltinsWithoutResponse(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	in := &Input{Now: now}
	for _, name := range []string{"key", "source", "submitted_at", "received_at", "delivery_key", "sync", "anything"} {
		e, err := CompileExpr(name, config.Pos{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Eval(in); err == nil {
			t.Errorf("%s: want a missing-field error without a response", name)
		}
	}
	e, _ := CompileExpr("now", config.Pos{})
	if got, err := e.Eval(in); err != nil || got != now {
		t.Errorf("now = %v, %v; want %v", got, err, now)
	}
	e, _ = CompileExpr("payload | len", config.Pos{})
	if got, err := e.Eval(in); err != nil || got != json.Number("0") {
		t.Errorf("payload | len = %v, %v; want 0", got, err)
	}
}

func TestBadPayload(t *testing.T) {
	t.Parallel()
	e, _ := CompileExpr("a", config.Pos{File: "m.yaml", Line: 1, Col: 1})
	for _, payload := range []string{`[1]`, `{"a": 1`, `"text"`, `{"a": 1} trailing`} {
		_, err := e.Eval(testInput(t, payload))
		if err == nil || !strings.Contains(err.Error(), "decoding response payload") {
			t.Errorf("payload %s: error = %v, want a decoding error", payload, err)
		}
	}
}

func TestPipeRenderErrors(t *testing.T) {
	t.Parallel()
	payload := `{"word": "great", "list": [1], "obj": {"a": 1}, "half": 4.5, "when": "someday"}`
	tests := []struct {
		text, want string
	}{
		{"word | number", `number: "great" is not a number`},
		{"half | integer", "integer: 4.5 is not a whole number"},
		{"word | bool", `bool: "great" is not true or false`},
		{"list | lower", "lower: needs a single value, got a list"},
		{"obj | join ,", "join: needs a list, got an object"},
		{"obj | split ,", "split: needs text, got an object"},
		{"word | pluck a", "pluck: needs a list, got text"},
		{"half | len", "len: needs text, a list or an object, got a number"},
		{"word | map emoji_5", `map: "great" is not in the emoji_5 map`},
		{"when | format_time YYYY", `format_time: "someday" is not a date or time`},
		{"when | unix", `unix: "someday" is not a date or time`},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			e, err := CompileExpr(tt.text, config.Pos{File: "m.yaml", Line: 2, Col: 3})
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.Eval(testInput(t, payload))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Eval(%q) error = %v, want it to contain %q", tt.text, err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "m.yaml:2:3: ") {
				t.Errorf("error %q is not positioned", err)
			}
		})
	}
}
