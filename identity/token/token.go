// Package token issues and verifies Nära's access tokens and makes refresh
// tokens. Access tokens are short-lived and self-contained (HMAC-SHA256
// over JSON claims), so a request is authenticated without a key lookup;
// refresh tokens are random and stored only as hashes.
package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Errors of Verify. Neither says which part of a token was wrong.
var (
	ErrMalformed = errors.New("malformed token")
	ErrExpired   = errors.New("token expired")
)

// Kind says whom a session belongs to.
type Kind string

// Session kinds.
const (
	KindCitizen Kind = "citizen"
	KindStaff   Kind = "staff"
)

// Claims are what an access token asserts.
type Claims struct {
	SessionID string `json:"sid"`
	// Subject is the person id (citizens) or the HSA-id (staff).
	Subject string   `json:"sub"`
	Kind    Kind     `json:"knd"`
	Name    string   `json:"nam,omitempty"`
	Roles   []string `json:"rol,omitempty"`
	// AssignmentID is the care assignment a staff session acts within.
	AssignmentID string    `json:"asg,omitempty"`
	IssuedAt     time.Time `json:"iat"`
	ExpiresAt    time.Time `json:"exp"`
}

// prefix versions the token format so it can change without ambiguity.
const prefix = "nara1."

// Signer issues and verifies access tokens with one key.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a Signer; key must be at least 32 bytes. now may be nil
// for time.Now.
func NewSigner(key []byte, now func() time.Time) (*Signer, error) {
	if len(key) < 32 {
		return nil, errors.New("token: key must be at least 32 bytes")
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, now: now}, nil
}

// Issue returns a signed token for c. IssuedAt is set to now.
func (s *Signer) Issue(c Claims, ttl time.Duration) (string, Claims, error) {
	c.IssuedAt = s.now().UTC().Truncate(time.Second)
	c.ExpiresAt = c.IssuedAt.Add(ttl)
	payload, err := json.Marshal(c)
	if err != nil {
		return "", Claims{}, err
	}
	body := base64.RawURLEncoding.EncodeToString(payload)
	return prefix + body + "." + base64.RawURLEncoding.EncodeToString(s.mac(body)), c, nil
}

func (s *Signer) mac(body string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(prefix + body))
	return m.Sum(nil)
}

// Verify checks a token's signature and expiry and returns its claims.
func (s *Signer) Verify(tok string) (Claims, error) {
	rest, ok := strings.CutPrefix(tok, prefix)
	if !ok || len(tok) > 4096 {
		return Claims{}, ErrMalformed
	}
	body, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return Claims{}, ErrMalformed
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(body)) {
		return Claims{}, ErrMalformed
	}
	payload, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil || c.SessionID == "" {
		return Claims{}, ErrMalformed
	}
	if !s.now().Before(c.ExpiresAt) {
		return Claims{}, ErrExpired
	}
	return c, nil
}

// NewRefresh returns a new random refresh token and the hash to store.
func NewRefresh() (tok string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	tok = "nrt_" + base64.RawURLEncoding.EncodeToString(b)
	return tok, HashRefresh(tok)
}

// HashRefresh returns the stored form of a refresh token.
func HashRefresh(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// Random returns n random bytes as URL-safe text, for login ids and states.
func Random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
