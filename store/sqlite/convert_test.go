package sqlite

import (
	"encoding/json"
	"testing"
)

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"Responses!A2:F2", "Responses!A2:F2"},
		{`say "hi" \ bye`, `say "hi" \ bye`},
		{"tab\tnew\nline\x00nul\x1f", "tab\tnew\nline\x00nul\x1f"},
		{"émoji 😀 and </script>", "émoji 😀 and </script>"},
		{"bad \xff byte", "bad \ufffd byte"},
		{"", ""},
	}
	for _, tc := range cases {
		enc := appendJSONString(nil, tc.in)
		var got string
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Errorf("appendJSONString(%q) = %s: not JSON: %v", tc.in, enc, err)
			continue
		}
		if got != tc.want {
			t.Errorf("appendJSONString(%q) decodes to %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("Responses!A2")
	f.Add("\"\\\x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		enc := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("appendJSONString(%q) = %s: not JSON: %v", s, enc, err)
		}
		want, _ := json.Marshal(s)
		var wantS string
		json.Unmarshal(want, &wantS)
		if got != wantS {
			t.Fatalf("appendJSONString(%q) decodes to %q, encoding/json to %q", s, got, wantS)
		}
	})
}
