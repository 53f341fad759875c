package sheetsapi

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2/google"
	"google.golang.org/api/option"
	"google.golang.org/api/sheets/v4"
)

// serviceAccountJSON builds a key file whose token_uri points at the sandbox.
func serviceAccountJSON(t *testing.T, tokenURI, email string) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "sandbox", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": email, "client_id": "1", "token_uri": tokenURI,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTokenEndpointServiceAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{RequireAuth: true})
	id := e.srv.CreateSpreadsheet("S")
	const email = "sync@sandbox.iam.gserviceaccount.com"
	keyJSON := serviceAccountJSON(t, e.ts.URL+"/token", email)

	tests := []struct {
		name string
		auth func(t *testing.T) option.ClientOption
	}{
		{"WithAuthCredentialsJSON", func(t *testing.T) option.ClientOption {
			// The new auth library honours token_uri from the key file.
			return option.WithAuthCredentialsJSON(option.ServiceAccount, keyJSON)
		}},
		{"oauth2/google JWT config", func(t *testing.T) option.ClientOption {
			cfg, err := google.JWTConfigFromJSON(keyJSON, sheets.SpreadsheetsScope)
			if err != nil {
				t.Fatal(err)
			}
			return option.WithTokenSource(cfg.TokenSource(e.ctx))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := sheets.NewService(e.ctx, option.WithEndpoint(e.ts.URL+"/"), tt.auth(t))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Spreadsheets.Get(id).Context(e.ctx).Do(); err != nil {
				t.Fatalf("get with a service-account token: %v", err)
			}
			if got := lastEntry(t, e.srv, OpGet).User; got != AccessTokenForServiceAccount(email) {
				t.Errorf("request user = %q, want the token issued for %s", got, email)
			}
		})
	}
}

func TestTokenEndpointGrants(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	post := func(form url.Values) (int, map[string]any) {
		res, err := http.Post(e.ts.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, body
	}
	status, body := post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"1//abc"}, "client_id": {"x"}, "client_secret": {"y"}})
	if status != 200 || body["token_type"] != "Bearer" || body["access_token"] == "" || body["expires_in"] != 3599.0 {
		t.Errorf("refresh_token grant: %d %v", status, body)
	}
	status, body = post(url.Values{"grant_type": {"password"}})
	if status != 400 || body["error"] != "unsupported_grant_type" {
		t.Errorf("unsupported grant: %d %v", status, body)
	}
	status, body = post(url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"not-a-jwt"}})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("bad assertion: %d %v", status, body)
	}
}
