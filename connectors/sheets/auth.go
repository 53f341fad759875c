package sheets

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/surveysync/surveysync/config"
)

// identity is who the destination acts as: its token source (nil for an
// unauthenticated sandbox), a stable id for the quota buckets and the
// dispatch lease (never a secret), the service account's email for
// messages that ask to share the spreadsheet with it, and the token URL its
// credentials file names (empty when it names none: Google's own).
type identity struct {
	tokens   oauth2.TokenSource
	id       string
	email    string
	tokenURL string
}

// credentialFile holds the fields of a credentials JSON that matter here.
type credentialFile struct {
	Type         string `json:"type"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	ClientID     string `json:"client_id"`
	RefreshToken string `json:"refresh_token"`
	TokenURI     string `json:"token_uri"`
}

// resolveIdentity builds the credential. ctx carries the HTTP client used
// for token requests and must outlive the destination.
func resolveIdentity(ctx context.Context, cfg *Config) (identity, error) {
	switch {
	case cfg.ADC:
		creds, err := google.FindDefaultCredentials(ctx, cfg.Scopes...)
		if err != nil {
			return identity{}, fmt.Errorf("adc: no Application Default Credentials found (set GOOGLE_APPLICATION_CREDENTIALS or run gcloud auth application-default login): %w", err)
		}
		id := identity{tokens: creds.TokenSource, id: "adc"}
		if len(creds.JSON) > 0 {
			var f credentialFile
			if json.Unmarshal(creds.JSON, &f) == nil {
				id.id, id.email, id.tokenURL = fileID(f), f.ClientEmail, f.TokenURI
			}
		}
		return id, nil
	case cfg.Credentials.IsSet():
		return fromSecret(ctx, cfg.Credentials, cfg.Scopes)
	default:
		// An endpoint without credentials: the sandbox or a proxy that
		// authenticates by itself.
		u, _ := url.Parse(cfg.endpoint())
		return identity{id: "anonymous@" + u.Host}, nil
	}
}

// fromSecret reads a service-account key or an authorized-user file.
func fromSecret(ctx context.Context, s config.Secret, scopes []string) (identity, error) {
	text, err := s.Resolve()
	if err != nil {
		return identity{}, fmt.Errorf("credentials: %w", err)
	}
	var f credentialFile
	if err := json.Unmarshal([]byte(text), &f); err != nil {
		// Never quote the content: it is a secret.
		return identity{}, fmt.Errorf("credentials: %s does not hold JSON; it must be a service-account key or an authorized-user file downloaded from Google", s)
	}
	var typ google.CredentialsType
	switch f.Type {
	case string(google.ServiceAccount):
		typ = google.ServiceAccount
	case string(google.AuthorizedUser):
		typ = google.AuthorizedUser
	case "":
		return identity{}, fmt.Errorf("credentials: %s has no \"type\"; it must be a service-account key (\"type\": \"service_account\") or an authorized-user file (\"type\": \"authorized_user\")", s)
	default:
		return identity{}, fmt.Errorf("credentials: %s is of type %q; only service_account and authorized_user files are accepted (use adc: true for other kinds)", s, f.Type)
	}
	if typ == google.ServiceAccount {
		// The key is only parsed when the first token is fetched; a broken
		// key is a configuration mistake, reported at start.
		if err := checkPrivateKey(f.PrivateKey); err != nil {
			return identity{}, fmt.Errorf("credentials: %s: its private_key is not a PEM private key (%v); download a new key for %s", s, err, f.ClientEmail)
		}
	}
	creds, err := google.CredentialsFromJSONWithType(ctx, []byte(text), typ, scopes...)
	if err != nil {
		return identity{}, fmt.Errorf("credentials: %s: %w", s, err)
	}
	return identity{tokens: creds.TokenSource, id: fileID(f), email: f.ClientEmail, tokenURL: f.TokenURI}, nil
}

// fileID names a credential without revealing it: a service account by its
// email, a user by a short hash of its refresh token.
func fileID(f credentialFile) string {
	if f.ClientEmail != "" {
		return f.ClientEmail
	}
	sum := sha256.Sum256([]byte(f.ClientID + "\x00" + f.RefreshToken))
	return "user-" + hex.EncodeToString(sum[:6])
}

// checkPrivateKey parses a service account's PEM key as the token source
// will.
func checkPrivateKey(key string) error {
	block, _ := pem.Decode([]byte(key))
	if block == nil {
		return errors.New("no PEM block")
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return nil
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
		return errors.New("neither PKCS #8 nor PKCS #1")
	}
	return nil
}
