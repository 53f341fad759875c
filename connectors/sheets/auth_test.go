package sheets_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	emu "github.com/surveysync/surveysync/sandbox/sheetsapi"
)

// credentialFile writes a credentials JSON and returns a secret reference
// to it.
func credentialFile(t *testing.T, v map[string]string) config.Secret {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if v == nil {
		b = []byte("-----BEGIN PRIVATE KEY-----")
	}
	path := filepath.Join(t.TempDir(), "creds.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := config.ParseSecret("${file:"+path+"}", "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func serviceAccountKey(t *testing.T, tokenURI, email string) map[string]string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"type":           "service_account",
		"project_id":     "surveysync-test",
		"private_key_id": "k1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   email,
		"client_id":      "123",
		"token_uri":      tokenURI,
	}
}

func TestServiceAccountCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{RequireAuth: true})
	const email = "surveysync@surveysync-test.iam.gserviceaccount.com"
	cfg := e.config()
	cfg.Credentials = credentialFile(t, serviceAccountKey(t, e.url+"token", email))
	d := e.dest(t, cfg)
	if got, want := d.QuotaKey(), "google_sheets:"+email; got != want {
		t.Errorf("QuotaKey() = %q, want %q", got, want)
	}
	m := mustMapping(t, testMapping)
	if res := d.Deliver(context.Background(), batchOf(m, item(t, m, 1, "r1", `{"rating": 1}`))); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	token := emu.AccessTokenForServiceAccount(email)
	for _, l := range e.srv.Log() {
		if l.User != token {
			t.Fatalf("request %s sent as %q, want the service account's token", l.Operation, l.User)
		}
	}

	// Access revoked: the destination pauses and says what to do.
	e.srv.RevokeToken(token)
	res := d.Deliver(context.Background(), batchOf(m, item(t, m, 2, "r2", `{"rating": 2}`)))
	if errClass(res[0]) != connectors.ClassPaused || !strings.Contains(res[0].Err.Error(), "Google rejected the credentials (401") {
		t.Fatalf("after revoking: %v", res[0].Err)
	}
	if strings.Contains(res[0].Err.Error(), "PRIVATE KEY") {
		t.Fatal("the error shows the key")
	}

	// A process started after the revocation gets no token at all.
	res = e.dest(t, cfg).Deliver(context.Background(), batchOf(m, item(t, m, 2, "r2", `{"rating": 2}`)))
	if errClass(res[0]) != connectors.ClassPaused || !strings.Contains(res[0].Err.Error(), "Google refused to issue an access token (invalid_grant") {
		t.Fatalf("token refused: %v", res[0].Err)
	}
}

func TestAuthorizedUserCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{RequireAuth: true})
	cfg := e.config()
	cfg.Credentials = credentialFile(t, map[string]string{
		"type": "authorized_user", "client_id": "cid", "client_secret": "csecret", "refresh_token": "rtoken", "token_uri": e.url + "token",
	})
	d := e.dest(t, cfg)
	if strings.Contains(d.QuotaKey(), "rtoken") || !strings.HasPrefix(d.QuotaKey(), "google_sheets:user-") {
		t.Errorf("QuotaKey() = %q: want a hash, never the token", d.QuotaKey())
	}
	m := mustMapping(t, testMapping)
	if res := d.Deliver(context.Background(), batchOf(m, item(t, m, 1, "r1", `{"rating": 1}`))); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
}

func TestBadCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{})
	tests := []struct {
		name string
		file map[string]string
		want string
	}{
		{"no type", map[string]string{"client_email": "x"}, `has no "type"`},
		{"external account", map[string]string{"type": "external_account"}, `of type "external_account"; only service_account and authorized_user`},
		{"broken key", map[string]string{"type": "service_account", "private_key": "not a key", "client_email": "a@b"}, "its private_key is not a PEM private key"},
		{"not json", nil, "does not hold JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := e.config()
			cfg.Credentials = credentialFile(t, tt.file)
			_, err := newDestination(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want %q", err, tt.want)
			}
		})
	}
}
