package sheets

import (
	"errors"
	"net/http"
	"sync/atomic"

	"golang.org/x/oauth2"

	"github.com/surveysync/surveysync/connectors"
)

// refusals carries a connection refused to the token client over to the
// token source's error. Google's service-account token source formats the
// transport error as text (oauth2/jwt uses %v), which would turn a refused
// connection, a configuration problem that pauses the destination, into a
// transient failure retried for ever.
type refusals struct {
	last atomic.Pointer[connectors.DialRefusedError]
}

// transport records the refusals of base.
func (r *refusals) transport(base http.RoundTripper) http.RoundTripper {
	return refusalTransport{base: base, r: r}
}

// tokens returns src whose errors keep the refusal met while fetching.
func (r *refusals) tokens(src oauth2.TokenSource) oauth2.TokenSource {
	if src == nil {
		return nil
	}
	return refusalTokens{src: src, r: r}
}

type refusalTransport struct {
	base http.RoundTripper
	r    *refusals
}

func (t refusalTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	var refused *connectors.DialRefusedError
	if errors.As(err, &refused) {
		t.r.last.Store(refused)
	}
	return resp, err
}

type refusalTokens struct {
	src oauth2.TokenSource
	r   *refusals
}

// Token fetches a token. The client's ReuseTokenSource calls it one at a
// time, so the refusal recorded during the call is this call's.
func (s refusalTokens) Token() (*oauth2.Token, error) {
	s.r.last.Store(nil)
	tok, err := s.src.Token()
	refused := s.r.last.Swap(nil)
	if err != nil && refused != nil && !errors.As(err, new(*connectors.DialRefusedError)) {
		err = &tokenRefused{err: err, refused: refused}
	}
	return tok, err
}

// tokenRefused is a token error whose cause, a refused connection, was
// lost in its text.
type tokenRefused struct {
	err     error
	refused *connectors.DialRefusedError
}

func (e *tokenRefused) Error() string   { return e.err.Error() }
func (e *tokenRefused) Unwrap() []error { return []error{e.err, e.refused} }
