package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strings"

	"github.com/surveysync/surveysync/config"
)

// Auth says how a webhook request proves it comes from the survey tool.
// Exactly one of Signature and Token is set, unless Preset fills Signature.
type Auth struct {
	// Preset fills Signature with a survey tool's scheme: "typeform"
	// (Typeform-Signature: sha256=<base64 HMAC-SHA256>).
	Preset string `yaml:"preset"`
	// Signature checks an HMAC of the raw body.
	Signature *Signature `yaml:"signature"`
	// Token checks a shared token in a header; use it for senders that can
	// only add headers, such as respond.io's HTTP Request step.
	Token *Token `yaml:"token"`
	// Secret is the HMAC key when Preset is used.
	Secret config.Secret `yaml:"secret"`
}

// Signature is an HMAC signature of the raw request body in a header.
type Signature struct {
	// Header carries the signature, such as Typeform-Signature.
	Header string `yaml:"header"`
	// Algorithm is sha256 (default) or sha1.
	Algorithm string `yaml:"algorithm"`
	// Encoding is base64 or hex (default hex).
	Encoding string `yaml:"encoding"`
	// Prefix precedes the encoded signature, such as "sha256=".
	Prefix string `yaml:"prefix"`
	// Secret is the HMAC key, as a secret reference.
	Secret config.Secret `yaml:"secret"`
}

// Token is a shared secret sent in a header.
type Token struct {
	// Header carries the token, such as X-Webhook-Token. With Authorization,
	// a "Bearer " prefix is accepted.
	Header string `yaml:"header"`
	// Value is the expected token, as a secret reference.
	Value config.Secret `yaml:"value"`
}

func (a *Auth) validate() error {
	var errs []error
	if a.Preset != "" {
		switch a.Preset {
		case "typeform":
			if a.Signature != nil || a.Token != nil {
				errs = append(errs, errors.New("auth.preset: use a preset or signature/token, not both"))
			}
			if !a.Secret.IsSet() {
				errs = append(errs, errors.New("auth.secret: the typeform preset needs the webhook's secret, such as \"${env:TYPEFORM_SECRET}\""))
			}
			a.Signature = &Signature{Header: "Typeform-Signature", Algorithm: "sha256", Encoding: "base64", Prefix: "sha256=", Secret: a.Secret}
		default:
			errs = append(errs, fmt.Errorf("auth.preset: unknown preset %q (known: typeform)", a.Preset))
		}
	} else if a.Secret.IsSet() {
		errs = append(errs, errors.New("auth.secret: only used with a preset; put the secret under signature or token"))
	}
	switch {
	case a.Signature == nil && a.Token == nil:
		errs = append(errs, errors.New("auth: set signature, token or a preset; unauthenticated webhooks are refused"))
	case a.Signature != nil && a.Token != nil:
		errs = append(errs, errors.New("auth: set signature or token, not both"))
	}
	if s := a.Signature; s != nil {
		if s.Header == "" {
			errs = append(errs, errors.New("auth.signature.header: name the header that carries the signature"))
		}
		switch s.Algorithm {
		case "", "sha256", "sha1":
		default:
			errs = append(errs, fmt.Errorf("auth.signature.algorithm: %q: want sha256 or sha1", s.Algorithm))
		}
		switch s.Encoding {
		case "", "hex", "base64":
		default:
			errs = append(errs, fmt.Errorf("auth.signature.encoding: %q: want hex or base64", s.Encoding))
		}
		if !s.Secret.IsSet() {
			errs = append(errs, errors.New("auth.signature.secret: set the HMAC secret, such as \"${env:WEBHOOK_SECRET}\""))
		}
	}
	if t := a.Token; t != nil {
		if t.Header == "" {
			errs = append(errs, errors.New("auth.token.header: name the header that carries the token"))
		}
		if !t.Value.IsSet() {
			errs = append(errs, errors.New("auth.token.value: set the token, such as \"${env:WEBHOOK_TOKEN}\""))
		}
	}
	return errors.Join(errs...)
}

// verifier checks requests against resolved secrets.
type verifier struct {
	sig     *Signature
	key     []byte
	newHash func() hash.Hash
	token   *Token
	want    []byte
}

func newVerifier(a *Auth) (*verifier, error) {
	v := &verifier{sig: a.Signature, token: a.Token}
	if s := a.Signature; s != nil {
		key, err := s.Secret.Resolve()
		if err != nil {
			return nil, err
		}
		v.key = []byte(key)
		v.newHash = sha256.New
		if s.Algorithm == "sha1" {
			v.newHash = sha1.New
		}
	}
	if t := a.Token; t != nil {
		val, err := t.Value.Resolve()
		if err != nil {
			return nil, err
		}
		v.want = []byte(val)
	}
	return v, nil
}

// errUnauthorized is returned for a missing or wrong signature or token;
// its text never says which part was wrong.
var errUnauthorized = errors.New("signature or token missing or wrong")

// verify checks the request's signature over body, or its token, in
// constant time.
func (v *verifier) verify(h http.Header, body []byte) error {
	if v.sig != nil {
		got := strings.TrimSpace(h.Get(v.sig.Header))
		if !strings.HasPrefix(got, v.sig.Prefix) {
			return errUnauthorized
		}
		got = strings.TrimPrefix(got, v.sig.Prefix)
		var sig []byte
		var err error
		if v.sig.Encoding == "base64" {
			sig, err = base64.StdEncoding.DecodeString(got)
		} else {
			sig, err = hex.DecodeString(strings.ToLower(got))
		}
		if err != nil {
			return errUnauthorized
		}
		mac := hmac.New(v.newHash, v.key)
		mac.Write(body)
		if !hmac.Equal(sig, mac.Sum(nil)) {
			return errUnauthorized
		}
		return nil
	}
	got := strings.TrimSpace(h.Get(v.token.Header))
	if strings.EqualFold(v.token.Header, "Authorization") {
		if len(got) > 7 && strings.EqualFold(got[:7], "bearer ") {
			got = strings.TrimSpace(got[7:])
		}
	}
	if subtle.ConstantTimeCompare([]byte(got), v.want) != 1 {
		return errUnauthorized
	}
	return nil
}

// Sign returns the header value a sender would put on body with this
// signature scheme and key; for tests and the sandbox's webhook sender.
func Sign(s *Signature, key, body []byte) string {
	newHash := sha256.New
	if s.Algorithm == "sha1" {
		newHash = sha1.New
	}
	mac := hmac.New(newHash, key)
	mac.Write(body)
	sum := mac.Sum(nil)
	if s.Encoding == "base64" {
		return s.Prefix + base64.StdEncoding.EncodeToString(sum)
	}
	return s.Prefix + hex.EncodeToString(sum)
}
