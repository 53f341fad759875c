package webhook

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/surveysync/surveysync/config"
)

func fuzzVerifiers(t testing.TB) []*verifier {
	t.Helper()
	t.Setenv("FUZZ_WEBHOOK_SECRET", "fuzz-secret-value")
	sec, err := config.ParseSecret("${env:FUZZ_WEBHOOK_SECRET}", "")
	if err != nil {
		t.Fatal(err)
	}
	var out []*verifier
	for _, a := range []*Auth{
		{Preset: "typeform", Secret: sec},
		{Signature: &Signature{Header: "X-Sig", Encoding: "hex", Secret: sec}},
		{Signature: &Signature{Header: "X-Sig", Algorithm: "sha1", Encoding: "base64", Prefix: "v1=", Secret: sec}},
		{Token: &Token{Header: "Authorization", Value: sec}},
	} {
		if err := a.validate(); err != nil {
			t.Fatal(err)
		}
		v, err := newVerifier(a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// FuzzVerify checks that verification never panics and accepts a request
// only with the exact signature of its body (or the exact token).
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"event_type":"form_response"}`), "sha256=abc", false)
	f.Add([]byte(""), "", true)
	f.Add([]byte("\x00\xff"), "Bearer fuzz-secret-value", false)
	f.Add([]byte(`{"a":1}`), "v1=", true)
	vs := fuzzVerifiers(f)
	f.Fuzz(func(t *testing.T, body []byte, header string, useRight bool) {
		for _, v := range vs {
			h := http.Header{}
			var name string
			if v.sig != nil {
				name = v.sig.Header
			} else {
				name = v.token.Header
			}
			want := ""
			if v.sig != nil {
				want = Sign(v.sig, v.key, body)
			} else {
				want = string(v.want)
			}
			value := header
			if useRight {
				value = want
			}
			h.Set(name, value)
			err := v.verify(h, body)
			if useRight && err != nil {
				t.Fatalf("the right credential was refused: %v", err)
			}
			if err == nil && !genuine(v, value, body) {
				t.Fatalf("accepted %q for body %q", value, body)
			}
		}
	})
}

// genuine independently decides whether value is the right credential for
// body: the same MAC bytes (any encoding variant that decodes to them), or
// the token (with an optional Bearer prefix).
func genuine(v *verifier, value string, body []byte) bool {
	if v.sig == nil {
		value = strings.TrimSpace(value)
		if len(value) > 7 && strings.EqualFold(value[:7], "bearer ") {
			value = strings.TrimSpace(value[7:])
		}
		return value == string(v.want)
	}
	value = strings.TrimSpace(value)
	if !strings.HasPrefix(value, v.sig.Prefix) {
		return false
	}
	enc := strings.TrimPrefix(value, v.sig.Prefix)
	var got []byte
	var err error
	if v.sig.Encoding == "base64" {
		got, err = base64.StdEncoding.DecodeString(enc)
	} else {
		got, err = hex.DecodeString(strings.ToLower(enc))
	}
	if err != nil {
		return false
	}
	mac := hmac.New(v.newHash, v.key)
	mac.Write(body)
	return bytes.Equal(got, mac.Sum(nil))
}
