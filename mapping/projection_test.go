package mapping

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/survey"
)

func TestProjectionDecode(t *testing.T) {
	t.Parallel()
	payload := []byte(`{"a": {"b": 1, "c": [1, 2], "d": {"e": "x"}}, "list": [{"k": "n", "v": 1, "w": 2}, {"k": "m", "v": 3}],
		"skip": {"deep": [1, {"x": "\u00e9"}]}, "arr": [[1, 2], [3]], "idx": [{"p": 1, "q": 2}], "whole": {"x": {"y": 1}}}`)
	p := &projection{}
	for _, text := range []string{"a.b", "a.d", "list[k=m].v", "arr[1][0]", "idx.0.p", "whole"} {
		e, err := CompileExpr(text, config.Pos{})
		if err != nil {
			t.Fatal(err)
		}
		p.addExpr(e)
	}
	got, err := decodeProjected(payload, p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a":     map[string]any{"b": json.Number("1"), "d": map[string]any{"e": "x"}},
		"list":  []any{map[string]any{"k": "n", "v": json.Number("1")}, map[string]any{"k": "m", "v": json.Number("3")}},
		"arr":   []any{[]any{json.Number("1"), json.Number("2")}, []any{json.Number("3")}},
		"idx":   []any{map[string]any{"p": json.Number("1")}},
		"whole": map[string]any{"x": map[string]any{"y": json.Number("1")}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("projected decode (-want +got):\n%s", diff)
	}
	// Syntax errors in skipped parts are still errors.
	for _, bad := range []string{`{"a": {"b": 1}, "skip": [1,]}`, `{"skip": "\x"}`, `{"skip": tru}`, `{"skip": 01}`, `{"skip": {"k" 1}}`} {
		if _, err := decodeProjected([]byte(bad), p); err == nil {
			t.Errorf("decodeProjected(%s) succeeded", bad)
		}
	}
}

// FuzzProjection checks that an expression sees the same value whether the
// payload was decoded whole or only as far as the expression reaches.
func FuzzProjection(f *testing.F) {
	for _, s := range []struct{ payload, expr string }{
		{`{"a": {"b": [1, {"c": 2}]}}`, "a.b[1].c"},
		{`{"answers": [{"field": {"ref": "nps"}, "number": 9}]}`, "answers[field.ref=nps].number"},
		{`{"x": [[1], [2, 3]]}`, "x.1.0"},
		{`{"h": {"a b": "y"}}`, `{{ h["a b"] | upper }} and {{ h | json }}`},
		{`{"t": ["a", "b"]}`, "t | join ,"},
		{`{"key": 1, "p": {"q": null}}`, "payload.key"},
		{`{"a": 1, "a": {"b": 2}}`, "a.b"},
		{`{"l": [{"k": 1}, {"k": "1"}]}`, "l[k=1]"},
		{`{"s": "\ud800", "n": -0.0e1}`, "{{ s }}{{ n }}"},
	} {
		f.Add(s.payload, s.expr)
	}
	f.Fuzz(func(t *testing.T, payload, text string) {
		e, err := CompileExpr(text, config.Pos{})
		if err != nil {
			return
		}
		p := &projection{}
		p.addExpr(e)
		full := &Input{Response: &survey.Response{Key: "k", Payload: []byte(payload)}}
		projected := &Input{Response: &survey.Response{Key: "k", Payload: []byte(payload)}}
		restore := projected.project(p)
		v1, err1 := e.Eval(full)
		v2, err2 := e.Eval(projected)
		restore()
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("whole: %v, %v; projected: %v, %v", v1, err1, v2, err2)
		}
		if err1 != nil {
			if err1.Error() != err2.Error() {
				t.Fatalf("errors differ: whole %q, projected %q", err1, err2)
			}
			return
		}
		if diff := cmp.Diff(v1, v2); diff != "" {
			t.Fatalf("value differs (-whole +projected):\n%s", diff)
		}
	})
}
