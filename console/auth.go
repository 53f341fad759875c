package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
)

// cookieName is the console's session cookie.
const cookieName = "surveysync_console"

// sessionLabel is what the session cookie's HMAC signs; a new label ends
// every session.
const sessionLabel = "surveysync console session v1"

// maxFormBytes bounds the body of a console form.
const maxFormBytes = 64 << 10

// equalToken compares a presented token with the configured one in constant
// time (digests first, so the length does not leak either).
func equalToken(got, want string) bool {
	if want == "" || got == "" {
		return false
	}
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// sessionValue is the session cookie's value for token: an HMAC, so the
// cookie never holds the token and changes when the token does.
func sessionValue(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(sessionLabel))
	return hex.EncodeToString(m.Sum(nil))
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	const p = "bearer "
	if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
		return strings.TrimSpace(h[len(p):])
	}
	return ""
}

// presentedSession reports whether r carries the token in an Authorization
// header or a valid session cookie.
func presentedSession(r *http.Request, token string) bool {
	if equalToken(bearer(r), token) {
		return true
	}
	if c, err := r.Cookie(cookieName); err == nil {
		want := sessionValue(token)
		return subtle.ConstantTimeCompare([]byte(c.Value), []byte(want)) == 1
	}
	return false
}

// setSession sets the session cookie.
func setSession(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    sessionValue(token),
		Path:     Prefix,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}

// exchangeQueryToken handles ?token= on a GET: a right token sets the
// session cookie and redirects to the same address without it.
func (c *Console) exchangeQueryToken(w http.ResponseWriter, r *http.Request, rq *request, token string) {
	if !equalToken(token, rq.token) {
		c.unauthorized(w, r, rq, "The token in the address is not the console's token.")
		return
	}
	setSession(w, r, rq.token)
	u := *r.URL
	q := u.Query()
	q.Del("token")
	u.RawQuery = q.Encode()
	u.Scheme, u.Host, u.User = "", "", nil
	http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
}

// login exchanges the token of the login form for a session cookie.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	rq := c.req(r)
	if err := c.csrf.Check(r); err != nil {
		c.fail(w, r, rq, http.StatusForbidden, "Cross-site request refused", "The login form must be sent from the console's own pages.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, rq, http.StatusBadRequest, "Bad form", "The form could not be read.")
		return
	}
	if rq.token == "" {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	if !equalToken(r.PostForm.Get("token"), rq.token) {
		c.unauthorized(w, r, rq, "That is not the console's token.")
		return
	}
	setSession(w, r, rq.token)
	next := r.PostForm.Get("next")
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		next = Prefix
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// unauthorized answers 401 with the login form.
func (c *Console) unauthorized(w http.ResponseWriter, r *http.Request, rq *request, problem string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="surveysync console"`)
	if strings.HasSuffix(r.URL.Path, ".json") {
		writeJSONError(w, http.StatusUnauthorized, "the console token is required")
		return
	}
	next := r.URL.Path
	if q := r.URL.Query(); len(q) > 0 {
		q.Del("token")
		if enc := q.Encode(); enc != "" {
			next += "?" + enc
		}
	}
	v := loginView{page: c.page(rq, "Sign in", ""), Problem: problem, Next: next}
	c.render(w, http.StatusUnauthorized, "login", v)
}

// setSecurityHeaders forbids framing, sniffing, caching, referrers and any
// script or style but the page's own (by nonce).
func setSecurityHeaders(w http.ResponseWriter, nonce string) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+"'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// newNonce returns a fresh CSP nonce.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// pageURL builds a console address with a query.
func pageURL(path string, q url.Values) string {
	if enc := q.Encode(); enc != "" {
		return path + "?" + enc
	}
	return path
}
