package token_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nara-care/nara/identity/token"
)

func setup(t *testing.T, now *time.Time) *token.Signer {
	t.Helper()
	s, err := token.NewSigner([]byte(strings.Repeat("k", 32)), func() time.Time { return *now })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIssueVerify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s := setup(t, &now)
	tok, _, err := s.Issue(token.Claims{SessionID: "s1", Subject: "p1", Kind: token.KindCitizen, Roles: []string{"citizen"}}, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Verify(tok)
	if err != nil || c.Subject != "p1" || c.SessionID != "s1" {
		t.Fatalf("Verify got %+v, %v", c, err)
	}
	now = now.Add(10 * time.Minute)
	if _, err := s.Verify(tok); !errors.Is(err, token.ErrExpired) {
		t.Errorf("Verify after expiry got %v, want ErrExpired", err)
	}
}

func TestVerifyRejectsForgeries(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s := setup(t, &now)
	tok, _, _ := s.Issue(token.Claims{SessionID: "s1", Subject: "p1"}, time.Hour)
	other, _ := token.NewSigner([]byte(strings.Repeat("x", 32)), func() time.Time { return now })
	forged, _, _ := other.Issue(token.Claims{SessionID: "s1", Subject: "p1"}, time.Hour)
	body := strings.Split(tok, ".")
	tests := []string{
		"",
		"Bearer " + tok,
		forged,
		tok[:len(tok)-2],
		body[0] + "." + body[1] + ".",
		strings.Replace(tok, body[1], body[1]+"A", 1),
		"nara1.e30.AAAA",
	}
	for _, tt := range tests {
		if _, err := s.Verify(tt); !errors.Is(err, token.ErrMalformed) {
			t.Errorf("Verify(%q) got %v, want ErrMalformed", tt, err)
		}
	}
}

func TestRefreshTokensAreRandomAndHashed(t *testing.T) {
	t.Parallel()
	a, ha := token.NewRefresh()
	b, _ := token.NewRefresh()
	if a == b || len(a) < 40 || string(token.HashRefresh(a)) != string(ha) {
		t.Errorf("NewRefresh gave %q and %q", a, b)
	}
}
