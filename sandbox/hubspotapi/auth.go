package hubspotapi

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// tokenAccepted reports whether token is one of the configured tokens, or
// any token when none are configured.
func (s *Server) tokenAccepted(token string) bool {
	if len(s.opts.Tokens) == 0 {
		return true
	}
	ok := false
	for _, t := range s.opts.Tokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			ok = true
		}
	}
	return ok
}

// authenticate answers 401 INVALID_AUTHENTICATION unless the request carries
// an accepted bearer token.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r)
		switch {
		case !ok:
			writeError(w, http.StatusUnauthorized, categoryAuth,
				"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
		case !s.tokenAccepted(token):
			writeError(w, http.StatusUnauthorized, categoryAuth,
				"The access token provided is invalid or has been revoked.")
		default:
			next.ServeHTTP(w, r)
		}
	})
}
