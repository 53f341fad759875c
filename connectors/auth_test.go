package connectors_test

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
)

// secretFile writes value to a file in dir and returns a ${file:...}
// reference to it.
func secretFile(t *testing.T, dir, name, value string) config.Secret {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := config.ParseSecret("${file:"+name+"}", dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuthValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok := secretFile(t, dir, "tok", "t0ken-value")
	tests := []struct {
		name string
		auth connectors.AuthConfig
		want []string
	}{
		{"none", connectors.AuthConfig{}, nil},
		{"bearer", connectors.AuthConfig{Bearer: tok}, nil},
		{"basic", connectors.AuthConfig{Basic: &connectors.BasicAuth{Username: "ops", Password: tok}}, nil},
		{"header", connectors.AuthConfig{Header: &connectors.SecretHeader{Name: "X-Api-Key", Value: tok}}, nil},
		{"basic without password", connectors.AuthConfig{Basic: &connectors.BasicAuth{Username: "ops"}}, []string{"auth.basic: set username and password"}},
		{"basic without username", connectors.AuthConfig{Basic: &connectors.BasicAuth{Password: tok}}, []string{"auth.basic: set username and password"}},
		{"header without name", connectors.AuthConfig{Header: &connectors.SecretHeader{Value: tok}}, []string{"auth.header: set name and value"}},
		{"header without value", connectors.AuthConfig{Header: &connectors.SecretHeader{Name: "X-Api-Key"}}, []string{"auth.header: set name and value"}},
		{"two at once", connectors.AuthConfig{Bearer: tok, Header: &connectors.SecretHeader{Name: "X", Value: tok}}, []string{"auth: choose one of bearer, basic and header"}},
		{
			"three at once, one incomplete",
			connectors.AuthConfig{Bearer: tok, Basic: &connectors.BasicAuth{}, Header: &connectors.SecretHeader{Name: "X", Value: tok}},
			[]string{"auth.basic: set username and password", "auth: choose one of bearer, basic and header"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.auth.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Validate errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuthApply(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok := secretFile(t, dir, "tok", "t0ken-value")
	pw := secretFile(t, dir, "pw", "p:ss wörd")
	missing, err := config.ParseSecret("${file:absent}", dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		auth connectors.AuthConfig
		want http.Header
	}{
		{"none", connectors.AuthConfig{}, http.Header{}},
		{"bearer", connectors.AuthConfig{Bearer: tok}, http.Header{"Authorization": {"Bearer t0ken-value"}}},
		{"basic", connectors.AuthConfig{Basic: &connectors.BasicAuth{Username: "ops", Password: pw}}, http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("ops:p:ss wörd"))}}},
		{"header", connectors.AuthConfig{Header: &connectors.SecretHeader{Name: "x-api-key", Value: tok}}, http.Header{"X-Api-Key": {"t0ken-value"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if err := tc.auth.Apply(h); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, h); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("unresolvable secret", func(t *testing.T) {
		t.Parallel()
		for _, a := range []connectors.AuthConfig{
			{Bearer: missing},
			{Basic: &connectors.BasicAuth{Username: "ops", Password: missing}},
			{Header: &connectors.SecretHeader{Name: "X", Value: missing}},
		} {
			h := http.Header{}
			err := a.Apply(h)
			if err == nil || !strings.Contains(err.Error(), "${file:absent}") {
				t.Errorf("Apply = %v, want an error naming the reference", err)
			}
			if len(h) != 0 {
				t.Errorf("a failed Apply set headers %v", h)
			}
		}
	})
	t.Run("the value never shows in the configuration's text", func(t *testing.T) {
		t.Parallel()
		a := connectors.AuthConfig{Bearer: tok}
		if err := a.Apply(http.Header{}); err != nil {
			t.Fatal(err)
		}
		if s := a.Bearer.String(); strings.Contains(s, "t0ken-value") {
			t.Errorf("the secret prints as %q", s)
		}
		if r := config.Redact("sent t0ken-value"); strings.Contains(r, "t0ken-value") {
			t.Errorf("a resolved secret is not redacted: %q", r)
		}
	})
}
