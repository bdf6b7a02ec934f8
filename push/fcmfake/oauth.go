package fcmfake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// jwtBearerGrant is the grant type of RFC 7523, the one service accounts use.
const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer" //nolint:gosec // G101: a grant type, not a credential

// clockSkew is how far a client's clock may be off before its assertion is refused.
const clockSkew = 5 * time.Minute

// isMessagingScope tells whether scope lets its holder call messages:send, as FCM requires of
// at least one scope in an assertion.
func isMessagingScope(scope string) bool {
	switch scope {
	case "https://www.googleapis.com/auth/firebase.messaging",
		"https://www.googleapis.com/auth/cloud-platform":
		return true
	}
	return false
}

// grantError is an OAuth 2.0 error response (RFC 6749 section 5.2), in the words Google uses.
type grantError struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *grantError) Error() string { return e.Code + ": " + e.Description }

func invalidGrant(desc string) *grantError {
	return &grantError{Code: "invalid_grant", Description: desc}
}

// handleToken is the OAuth 2.0 token endpoint: it trades a service-account JWT for an access
// token that messages:send accepts.
func (f *Fake) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, &grantError{Code: "invalid_request", Description: "Malformed request body."})
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != jwtBearerGrant {
		writeJSON(w, http.StatusBadRequest, &grantError{Code: "unsupported_grant_type", Description: "Invalid grant_type: " + gt})
		return
	}
	if err := f.verifyAssertion(r.PostForm.Get("assertion"), f.audience(r), time.Now()); err != nil {
		var ge *grantError
		if !errors.As(err, &ge) {
			ge = invalidGrant(err.Error())
		}
		writeJSON(w, http.StatusBadRequest, ge)
		return
	}
	token, err := newAccessToken()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, &grantError{Code: "server_error", Description: "Could not mint a token."})
		return
	}
	f.accessTokens.Store(token, time.Now().Add(tokenLifetime))
	f.grants.Add(1)
	writeJSON(w, http.StatusOK, struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}{token, int(tokenLifetime / time.Second), "Bearer"})
}

// audience is the token endpoint's own URL, which Google requires as the assertion's aud.
func (f *Fake) audience(r *http.Request) string {
	if f.baseURL != "" {
		return f.baseURL + TokenPath
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + TokenPath
}

// verifyAssertion checks a JWT-bearer assertion the way Google's token endpoint does: RS256
// signed by the service account's key, issued by its e-mail, for this endpoint, asking for a
// messaging scope, and valid now for at most an hour.
func (f *Fake) verifyAssertion(assertion, aud string, now time.Time) error {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return invalidGrant("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
	}
	var header struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return invalidGrant("Invalid JWT header.")
	}
	if header.Alg != "RS256" {
		return invalidGrant("Invalid JWT: unsupported signing algorithm " + header.Alg + ".")
	}
	if header.Kid != "" && header.Kid != f.keyID {
		return invalidGrant("Invalid JWT Signature.")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return invalidGrant("Invalid JWT Signature.")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&f.key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		return invalidGrant("Invalid JWT Signature.")
	}
	var claims struct {
		Iss   string `json:"iss"`
		Scope string `json:"scope"`
		Aud   string `json:"aud"`
		Iat   int64  `json:"iat"`
		Exp   int64  `json:"exp"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return invalidGrant("Invalid JWT claims.")
	}
	switch {
	case claims.Iss != f.clientEmail:
		return invalidGrant("Invalid JWT: iss is not a service account of this project.")
	case claims.Aud != aud:
		return invalidGrant("Invalid JWT: Failed audience check. The right audience is " + aud)
	case !slices.ContainsFunc(strings.Fields(claims.Scope), isMessagingScope):
		return &grantError{Code: "invalid_scope", Description: "Invalid OAuth scope or ID token audience provided."}
	case claims.Iat == 0 || claims.Exp == 0:
		return invalidGrant("Invalid JWT: iat and exp are required.")
	case time.Unix(claims.Iat, 0).After(now.Add(clockSkew)),
		!time.Unix(claims.Exp, 0).After(now.Add(-clockSkew)),
		time.Duration(claims.Exp-claims.Iat)*time.Second > tokenLifetime:
		return invalidGrant("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func newAccessToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "ya29.fake-" + base64.RawURLEncoding.EncodeToString(b), nil
}

// authorized tells whether r carries a bearer token the fake granted and that has not expired.
func (f *Fake) authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	exp, ok := f.accessTokens.Load(token)
	return ok && time.Now().Before(exp.(time.Time))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "fcmfake: encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
