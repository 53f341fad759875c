package connectors

import (
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/net/http/httpguts"

	"github.com/surveysync/surveysync/config"
)

// AuthConfig adds credentials to requests of HTTP connectors. At most one of
// its parts is set; every credential is a secret reference.
type AuthConfig struct {
	// Bearer sends Authorization: Bearer <token>.
	Bearer config.Secret `yaml:"bearer"`
	// Basic sends HTTP basic credentials.
	Basic *BasicAuth `yaml:"basic"`
	// Header sends a custom header whose value is a secret.
	Header *SecretHeader `yaml:"header"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username string        `yaml:"username"`
	Password config.Secret `yaml:"password"`
}

// SecretHeader is a header whose value is a secret, such as X-Api-Key.
type SecretHeader struct {
	Name  string        `yaml:"name"`
	Value config.Secret `yaml:"value"`
}

// Validate checks that at most one credential is set and that it is whole.
func (a *AuthConfig) Validate() error {
	var errs []error
	n := 0
	if a.Bearer.IsSet() {
		n++
	}
	if a.Basic != nil {
		n++
		if a.Basic.Username == "" || !a.Basic.Password.IsSet() {
			errs = append(errs, errors.New("auth.basic: set username and password"))
		}
	}
	if a.Header != nil {
		n++
		if a.Header.Name == "" || !a.Header.Value.IsSet() {
			errs = append(errs, errors.New("auth.header: set name and value"))
		} else if !httpguts.ValidHeaderFieldName(a.Header.Name) {
			errs = append(errs, fmt.Errorf("auth.header.name: %q is not a valid header name", a.Header.Name))
		}
	}
	if n > 1 {
		errs = append(errs, errors.New("auth: choose one of bearer, basic and header"))
	}
	return errors.Join(errs...)
}

// Apply resolves the secrets and adds the credential to h.
func (a *AuthConfig) Apply(h http.Header) error {
	switch {
	case a.Bearer.IsSet():
		tok, err := a.Bearer.Resolve()
		if err != nil {
			return err
		}
		h.Set("Authorization", "Bearer "+tok)
	case a.Basic != nil:
		pw, err := a.Basic.Password.Resolve()
		if err != nil {
			return err
		}
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(a.Basic.Username, pw)
		h.Set("Authorization", r.Header.Get("Authorization"))
	case a.Header != nil:
		v, err := a.Header.Value.Resolve()
		if err != nil {
			return err
		}
		h.Set(a.Header.Name, v)
	}
	return nil
}
