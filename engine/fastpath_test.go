package engine

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decodePath is the reference for the picker: the value at keys in a
// payload decoded in full, as pick reports it (objects and arrays count as
// missing).
func decodePath(t *testing.T, payload []byte, keys []string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("reference decode of %s: %v", payload, err)
	}
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	switch v.(type) {
	case map[string]any, []any:
		return nil
	}
	return v
}

func TestFieldPickerMatchesFullDecoding(t *testing.T) {
	t.Parallel()
	paths := [][]string{{"score"}, {"contact", "email"}, {"agent"}, {"a", "b", "c"}, {"esc\"aped"}}
	picker := newFieldPicker(paths)
	payloads := []string{
		`{"score":9,"contact":{"email":"ana@example.com"},"agent":"Maria"}`,
		`{"score":"7","agent":"Tom","contact":{"email":null}}`,
		`  {"agent" : "Lea" , "score" : -1.5e2 , "contact" : { "name" : "x" } }  `,
		`{"score":true,"agent":false,"contact":"not an object"}`,
		`{"score":[1,2],"agent":{"name":"Maria"},"contact":{"email":["a","b"]}}`,
		`{"agent":"Ma\"ria \u00e9\n","score":"\u0039","esc\"aped":"yes"}`,
		`{"score":1,"score":2,"agent":"first","agent":"second"}`,
		`{"a":{"b":{"c":"deep","d":[{"c":1}]}},"x":{"score":5}}`,
		`{"a":{"b":"not an object"},"score":0}`,
		`{}`,
		`{"score":null,"agent":"😀","contact":{"email":"x","email":"y"}}`,
		`{"nested":{"deeper":[{"score":3}]},"score":10}`,
		`{"agent":"ends with a backslash \\","score":1}`,
		`{"agent":"q\"\\\"x","score":"2","contact":{"email":"\\"}}`,
		`{"k\\":"v","agent":"\"quoted\"","score":3}`,
	}
	for _, p := range payloads {
		out := make([]any, len(paths))
		if !picker.pick([]byte(p), out) {
			t.Errorf("pick(%s) failed on valid JSON", p)
			continue
		}
		want := make([]any, len(paths))
		for i, keys := range paths {
			want[i] = decodePath(t, []byte(p), keys)
		}
		if diff := cmp.Diff(want, out); diff != "" {
			t.Errorf("pick(%s) (-full decoding +picker):\n%s", p, diff)
		}
	}
}

func TestFieldPickerRejectsMalformedJSON(t *testing.T) {
	t.Parallel()
	picker := newFieldPicker([][]string{{"score"}, {"agent"}})
	for _, p := range []string{
		``, `[]`, `{"score":}`, `{"score":1`, `{"score":1,}`, `{"score" 1}`,
		`{"score":"open}`, `{"score":tru}`, `{"score":1e999}`, `{"score":--1}`,
		`{"agent":{"x":[1,2}}`, `{score:1}`,
	} {
		fields := make([]pickedField, 2)
		if picker.pickFields([]byte(p), fields) {
			t.Errorf("pickFields(%q) succeeded, want false (the general path decides)", p)
		}
	}
}

func TestScoreCollectorTextsAreCopies(t *testing.T) {
	t.Parallel()
	picker := newFieldPicker([][]string{{"agent"}})
	c := &scoreCollector{texts: map[string]string{}}
	payload := []byte(`{"agent":"Maria"}`)
	fields := make([]pickedField, 1)
	if !picker.pickFields(payload, fields) {
		t.Fatal("pickFields failed")
	}
	got := c.text(&fields[0])
	// The store reuses payload memory after the batch: a kept text must
	// not change with it.
	copy(payload, `{"agent":"Xxxxx"}`)
	if got != "Maria" {
		t.Errorf("text after the payload was reused = %q, want Maria", got)
	}
}

// BenchmarkFieldPicker picks a score job's three fields out of a typical
// stored response.
func BenchmarkFieldPicker(b *testing.B) {
	payload := []byte(`{"id":"r0000042","score":7,"csat":"3","agent":"Maria","channel":"WhatsApp","contact":{"email":"c42@example.com"},"comment":"Quick and friendly, thanks!"}`)
	picker := newFieldPicker([][]string{{"score"}, {"contact", "email"}, {"agent"}})
	fields := make([]pickedField, 3)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if !picker.pickFields(payload, fields) {
			b.Fatal("pick failed")
		}
	}
}
