// Package benchtoken gives benchmarks many logged-in citizens without a
// BankID login each: the benchmark creates the sessions in PostgreSQL and
// signs access tokens with the key `nara serve` derives from the same fixed
// NARA_SECRET_KEY, exactly as a completed login would.
package benchtoken

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/identity/secret"
	"github.com/nara-care/nara/identity/token"
)

// masterKey is the benchmarks' NARA_SECRET_KEY. It protects nothing: the
// benchmark databases hold only synthetic people.
var masterKey = base64.StdEncoding.EncodeToString([]byte("nara-benchmark-secret-key-not-for-use-anywhere"))

// Env is the setting that makes `nara serve` accept the tokens a Minter
// signs.
func Env() string { return "NARA_SECRET_KEY=" + masterKey }

// Minter signs citizens' access tokens.
type Minter struct {
	signer *token.Signer
}

// New returns a Minter keyed like a server started with Env.
func New() (*Minter, error) {
	master, err := base64.StdEncoding.DecodeString(masterKey)
	if err != nil {
		return nil, err
	}
	keys, err := secret.Derive(master, "env")
	if err != nil {
		return nil, err
	}
	s, err := token.NewSigner(keys.Token, nil)
	if err != nil {
		return nil, err
	}
	return &Minter{signer: s}, nil
}

// Citizen returns an access token for a citizen's session, valid for ttl.
func (m *Minter) Citizen(sessionID, personID, name string, ttl time.Duration) (string, error) {
	tok, _, err := m.signer.Issue(token.Claims{
		SessionID: sessionID, Subject: personID, Kind: token.KindCitizen, Name: name,
		Roles: []string{string(access.RoleCitizen)},
	}, ttl)
	return tok, err
}

// Staff returns an access token for a staff member's session (hsaID its
// owner), with the given roles, valid for ttl: what a completed staff
// login issues, without a care assignment.
func (m *Minter) Staff(sessionID, hsaID, name string, roles []access.Role, ttl time.Duration) (string, error) {
	rs := make([]string, len(roles))
	for i, r := range roles {
		rs[i] = string(r)
	}
	tok, _, err := m.signer.Issue(token.Claims{
		SessionID: sessionID, Subject: hsaID, Kind: token.KindStaff, Name: name, Roles: rs,
	}, ttl)
	return tok, err
}

// Citizen is one logged-in person.
type Citizen struct {
	PersonID, SessionID, Token string
}

// Querier is a pool, connection or transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Sessions signs a token (valid for ttl) for every row of query, which must
// return a session id and its person id, both as text.
func (m *Minter) Sessions(ctx context.Context, q Querier, ttl time.Duration, query string, args ...any) ([]Citizen, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("benchtoken: %w", err)
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Citizen, error) {
		var c Citizen
		err := row.Scan(&c.SessionID, &c.PersonID)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("benchtoken: %w", err)
	}
	for i := range cs {
		if cs[i].Token, err = m.Citizen(cs[i].SessionID, cs[i].PersonID, "", ttl); err != nil {
			return nil, err
		}
	}
	return cs, nil
}
