package sheetsapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// serveToken is a TEST-ONLY stand-in for https://oauth2.googleapis.com/token,
// so credential files whose token_uri points at the sandbox work without a
// network. It answers the JWT-bearer grant (service-account keys) and the
// refresh_token grant (authorized-user files) with a fake access token. It
// does NOT verify signatures or client secrets: never expose it beyond
// a test or a local sandbox.
//
// The token is derived from the service account's email (the JWT "iss") or
// from the refresh token, so each identity gets its own stable token and
// therefore its own per-user quota bucket.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "token requests must be POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "cannot parse the form body")
		return
	}
	var subject string
	switch grant := r.PostForm.Get("grant_type"); grant {
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		assertion := r.PostForm.Get("assertion")
		if assertion == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "missing assertion")
			return
		}
		iss, ok := jwtIssuer(assertion)
		if !ok {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: cannot read the claims.")
			return
		}
		subject = "sa:" + iss
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if rt == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "missing refresh_token")
			return
		}
		subject = "rt:" + rt
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+grant)
		return
	}
	s.mu.RLock()
	revoked := s.revoked[accessTokenFor(subject)]
	s.mu.RUnlock()
	if revoked {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": accessTokenFor(subject),
		"token_type":   "Bearer",
		"expires_in":   3599,
	})
}

// accessTokenFor is the fake access token issued for an identity.
func accessTokenFor(subject string) string {
	sum := sha256.Sum256([]byte(subject))
	return "ya29.sandbox-" + hex.EncodeToString(sum[:12])
}

// AccessTokenForServiceAccount returns the access token /token issues for a
// service account email, so a test can revoke it or find it in the log.
func AccessTokenForServiceAccount(email string) string { return accessTokenFor("sa:" + email) }

// jwtIssuer reads the "iss" claim of a JWT without verifying it.
func jwtIssuer(jwt string) (string, bool) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Iss == "" {
		return "", false
	}
	return claims.Iss, true
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}
