package mapping

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// stdDecode is the reference: encoding/json with UseNumber, refusing
// trailing data like decodePayload does.
func stdDecode(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if rest := raw[dec.InputOffset():]; len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return nil, errTrailing
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errTrailing
	}
	return m, nil
}

var errTrailing = json.Unmarshal([]byte("x"), new(any))

// checkSameDecode compares decodePayload with encoding/json on raw.
func checkSameDecode(t *testing.T, raw []byte) {
	t.Helper()
	want, wantErr := stdDecode(raw)
	got, gotErr := decodePayload(raw)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("decode(%q): encoding/json error %v, decodePayload error %v", raw, wantErr, gotErr)
	}
	if wantErr != nil {
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("decode(%q) (-encoding/json +decodePayload):\n%s", raw, diff)
	}
}

var decodeSeeds = []string{
	`{}`,
	` {"a" : 1 , "b":[ ], "c":{}} `,
	`{"n": [0, -0, 1.5, -2e10, 3E+2, 4e-2, 12345678901234567890]}`,
	`{"s": "plain", "e": "esc \" \\ \/ \b \f \n \r \t \u00e9 \u2028 \ud83d\ude00"}`,
	`{"lone": "\ud800 x \udc00 \ud800\u0041 \ud83d"}`,
	"{\"bad\": \"\xff\xfe ok \xc3\xa9 \xe2\x82\"}",
	"{\"bad_esc\": \"\xff\\n\"}",
	`{"dup": 1, "dup": 2}`,
	`{"lit": [true, false, null]}`,
	`{"deep": [[[[{"a": [[]]}]]]]}`,
	`{"a": 1} x`,
	`{"a": 1}}`,
	`[1]`,
	`null`,
	`{"a": 01}`,
	`{"a": 1.}`,
	`{"a": .5}`,
	`{"a": +1}`,
	`{"a": 1e}`,
	`{"a": -}`,
	`{"a": tru}`,
	`{"a": nul}`,
	`{"a": "\x"}`,
	`{"a": "\u12"}`,
	`{"a": "\ud800\u12"}`,
	"{\"a\": \"tab\there\"}",
	`{"a" 1}`,
	`{"a": 1,}`,
	`{"a": [1,]}`,
	`{a: 1}`,
	`{"a": 1`,
	`{"a": "unterminated`,
	``,
	`   `,
	"{\"a\": \"\u0000\"}",
}

func TestDecodePayloadMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range decodeSeeds {
		checkSameDecode(t, []byte(s))
	}
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	checkSameDecode(t, []byte(`{"a":`+deep+`}`))
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkSameDecode(t, raw)
	})
}
