package console

import "testing"

func TestRenderPayload(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"escaped markup reads as written", `{"c":"\u003cb\u003e \u0026 \u003C/b\u003E"}`, "{\n  \"c\": \"<b> & </b>\"\n}"},
		{"an escaped backslash stays", `{"c":"\\u003c"}`, "{\n  \"c\": \"\\\\u003c\"\n}"},
		{"other escapes stay", `{"c":"\u00e9\n\"q\""}`, "{\n  \"c\": \"\\u00e9\\n\\\"q\\\"\"\n}"},
		{"raw markup stays raw (the template escapes it)", `{"c":"<script>x</script>"}`, "{\n  \"c\": \"<script>x</script>\"\n}"},
		{"not JSON", `<b>not json`, `<b>not json`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := renderPayload([]byte(tc.in)); got != tc.want {
				t.Errorf("renderPayload(%s) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
