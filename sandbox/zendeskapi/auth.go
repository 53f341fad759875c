package zendeskapi

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// identity is who a request claims to be.
type identity struct {
	user   string // agent email, or "oauth" for bearer tokens
	token  string
	bearer bool
}

// identify reads an "email/token:TOKEN" basic credential or a bearer token;
// ok is false when the request carries neither in a well-formed way.
// Password basic authentication is not accepted.
func identify(r *http.Request) (identity, bool) {
	auth := r.Header.Get("Authorization")
	if scheme, token, found := strings.Cut(auth, " "); found && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(token)
		return identity{user: "oauth", token: token, bearer: true}, token != ""
	}
	user, token, found := r.BasicAuth()
	if !found {
		return identity{}, false
	}
	email, isToken := strings.CutSuffix(user, "/token")
	email = strings.ToLower(strings.TrimSpace(email))
	return identity{user: email, token: token}, isToken && email != "" && token != ""
}

// accepted reports whether id is one of the configured credentials, or any
// well-formed one when none are configured.
func (s *Server) accepted(id identity) bool {
	if len(s.opts.Credentials) == 0 && len(s.opts.BearerTokens) == 0 {
		return true
	}
	match := false
	if id.bearer {
		for _, t := range s.opts.BearerTokens {
			if subtle.ConstantTimeCompare([]byte(t), []byte(id.token)) == 1 {
				match = true
			}
		}
		return match
	}
	for _, c := range s.opts.Credentials {
		if strings.EqualFold(c.Email, id.user) && subtle.ConstantTimeCompare([]byte(c.Token), []byte(id.token)) == 1 {
			match = true
		}
	}
	return match
}

// authenticate answers 401 unless the request carries accepted credentials.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, wellFormed := identify(r)
		if !wellFormed || !s.accepted(id) {
			textReply(http.StatusUnauthorized, "Couldn't authenticate you").write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}
