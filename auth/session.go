package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nara-care/nara/access"
	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/identity/token"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/windowlimit"
)

// sessionIssuer turns sessions into tokens and tokens back into principals.
type sessionIssuer struct {
	store             *store.Store
	signer            *token.Signer
	protector         *pnr.Protector
	accessTTL         time.Duration
	citizenSessionTTL time.Duration
	staffSessionTTL   time.Duration
	now               func() time.Time
	sessions          *sessionCache
	custody           *rpc.Custody
}

func (i *sessionIssuer) citizenMe(ctx context.Context, person store.Person) (*authv1.Me, []string, error) {
	children, err := i.store.ChildrenUnder(ctx, person.ID, i.custody.ChildrenBornAfter())
	if err != nil {
		return nil, nil, err
	}
	roles := []string{string(access.RoleCitizen)}
	me := &authv1.Me{
		Subject:     person.ID,
		DisplayName: strings.TrimSpace(person.GivenName + " " + person.Surname),
		Roles:       []authv1.Role{authv1.Role_ROLE_CITIZEN},
	}
	if len(children) > 0 {
		roles = append(roles, string(access.RoleGuardian))
		me.Roles = append(me.Roles, authv1.Role_ROLE_GUARDIAN)
	}
	for _, p := range append([]store.Person{person}, children...) {
		me.CanActFor = append(me.CanActFor, &authv1.Person{
			Id: p.ID, GivenName: p.GivenName, Surname: p.Surname,
			PersonalNumberMasked: maskedNumber(i.protector, p.PNRSealed),
		})
	}
	return me, roles, nil
}

// citizenSession issues the tokens of a citizen session.
func (i *sessionIssuer) citizenSession(ctx context.Context, person store.Person, sess store.Session, refresh string) (*authv1.Session, error) {
	me, roles, err := i.citizenMe(ctx, person)
	if err != nil {
		return nil, err
	}
	return i.issue(sess, refresh, me, token.Claims{
		SessionID: sess.ID, Subject: person.ID, Kind: token.KindCitizen, Name: me.DisplayName, Roles: roles,
	})
}

func (i *sessionIssuer) issue(sess store.Session, refresh string, me *authv1.Me, c token.Claims) (*authv1.Session, error) {
	tok, claims, err := i.signer.Issue(c, i.accessTTL)
	if err != nil {
		return nil, err
	}
	return &authv1.Session{
		SessionId:             sess.ID,
		AccessToken:           tok,
		AccessTokenExpiresAt:  timestamppb.New(claims.ExpiresAt),
		RefreshToken:          refresh,
		RefreshTokenExpiresAt: timestamppb.New(sess.ExpiresAt),
		Me:                    me,
	}, nil
}

// staffAssignments decodes the care assignments stored with a staff session.
func staffAssignments(sess store.Session) []access.Assignment {
	var as []access.Assignment
	if len(sess.Assignments) > 0 {
		_ = json.Unmarshal(sess.Assignments, &as) // written by this package; never invalid
	}
	return as
}

// Authenticate implements Authenticator with the session's access token.
func (i *sessionIssuer) Authenticate(ctx context.Context, h http.Header) (access.Principal, bool, error) {
	v := h.Get("Authorization")
	if v == "" {
		return access.Principal{}, false, nil
	}
	raw, ok := strings.CutPrefix(v, "Bearer ")
	if !ok {
		return access.Principal{}, false, rpc.Fail(connect.CodeUnauthenticated, "the Authorization header must be \"Bearer <access token>\"")
	}
	c, err := i.signer.Verify(strings.TrimSpace(raw))
	switch {
	case errors.Is(err, token.ErrExpired):
		return access.Principal{}, false, rpc.Fail(connect.CodeUnauthenticated, "the access token has expired; refresh the session")
	case err != nil:
		return access.Principal{}, false, rpc.Fail(connect.CodeUnauthenticated, "the access token is not valid; log in again")
	}
	sess, err := i.sessions.session(ctx, i.store, c.SessionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!sess.RevokedAt.IsZero() || !sess.ExpiresAt.After(i.now()))) {
		return access.Principal{}, false, rpc.Fail(connect.CodeUnauthenticated, "the session has ended; log in again")
	} else if err != nil {
		return access.Principal{}, false, err
	}
	// The token must name the session's own owner, so a token can never
	// borrow another person's live session.
	if (c.Kind == token.KindCitizen && sess.PersonID != c.Subject) || (c.Kind == token.KindStaff && sess.StaffHSAID != c.Subject) ||
		(c.Kind != token.KindCitizen && c.Kind != token.KindStaff) {
		return access.Principal{}, false, rpc.Fail(connect.CodeUnauthenticated, "the access token is not valid; log in again")
	}
	p := access.Principal{Subject: c.Subject, DisplayName: c.Name, SessionID: c.SessionID}
	for _, r := range c.Roles {
		p.Roles = append(p.Roles, access.Role(r))
	}
	switch c.Kind {
	case token.KindCitizen:
		p.PersonID = c.Subject
	case token.KindStaff:
		p.HSAID = c.Subject
		if c.AssignmentID != "" {
			for _, a := range staffAssignments(sess) {
				if a.ID == c.AssignmentID {
					p.Assignment = &a
				}
			}
		}
	}
	return p, true, nil
}

// sessionService lets users manage their own sessions.
type sessionService struct {
	store  *store.Store
	issuer *sessionIssuer
	staff  *clinicianAuthService
	limits RateLimits
	// unverified counts refreshes with tokens that are not a session's own,
	// per client address.
	unverified *windowlimit.Limiter
}

func (s *sessionService) RefreshSession(ctx context.Context, req *authv1.RefreshSessionRequest) (*authv1.RefreshSessionResponse, error) {
	// Only a session's own token counts against the session (in the store,
	// once verified). Anyone can name a device, so attempts with tokens that
	// are not a session's own count against the address they come from.
	ip := rpc.ClientIP(ctx).String()
	if s.unverified.Blocked(ip) > 0 {
		return nil, rpc.Fail(connect.CodeResourceExhausted, "too many refreshes with unknown refresh tokens from your network; log in again later")
	}
	refresh, newHash := token.NewRefresh()
	sess, err := s.store.SessionRefresh(ctx, token.HashRefresh(req.RefreshToken), newHash, req.DeviceId,
		store.Limit{N: s.limits.RefreshesPerDevicePerHour, Window: time.Hour})
	switch {
	case errors.Is(err, store.ErrTokenReused):
		s.issuer.sessions.dropAll() // which session was revoked is not known here
	case errors.Is(err, store.ErrTokenUnverified):
		s.unverified.Take(ip)
	case err == nil:
		s.issuer.sessions.drop(sess.ID)
	}
	switch {
	case errors.Is(err, store.ErrRateLimited):
		return nil, rpc.FailWith(err, connect.CodeResourceExhausted, "too many session refreshes from this device; wait and try again")
	case err != nil:
		// A reused token or an ended session: toConnect answers Unauthenticated.
		return nil, err
	}
	var session *authv1.Session
	if sess.PersonID != "" {
		person, err := s.store.PersonGet(ctx, sess.PersonID)
		if err != nil {
			return nil, err
		}
		session, err = s.issuer.citizenSession(ctx, person, sess, refresh)
		if err != nil {
			return nil, err
		}
	} else {
		session, err = s.staff.staffSession(ctx, sess, refresh)
		if err != nil {
			return nil, err
		}
	}
	return &authv1.RefreshSessionResponse{Session: session}, nil
}

func (s *sessionService) GetMe(ctx context.Context, _ *authv1.GetMeRequest) (*authv1.GetMeResponse, error) {
	p, _ := access.FromContext(ctx)
	if p.PersonID != "" {
		person, err := s.store.PersonGet(ctx, p.PersonID)
		if err != nil {
			return nil, err
		}
		me, _, err := s.issuer.citizenMe(ctx, person)
		if err != nil {
			return nil, err
		}
		return &authv1.GetMeResponse{Me: me}, nil
	}
	sess, err := s.store.SessionGet(ctx, p.SessionID)
	if err != nil {
		return nil, err
	}
	me, _, err := s.staff.staffMe(ctx, sess)
	if err != nil {
		return nil, err
	}
	return &authv1.GetMeResponse{Me: me}, nil
}

func (s *sessionService) ListSessions(ctx context.Context, _ *authv1.ListSessionsRequest) (*authv1.ListSessionsResponse, error) {
	p, _ := access.FromContext(ctx)
	ss, err := s.store.SessionListActive(ctx, p.PersonID, p.HSAID)
	if err != nil {
		return nil, err
	}
	res := &authv1.ListSessionsResponse{}
	for _, sess := range ss {
		res.Sessions = append(res.Sessions, &authv1.SessionInfo{
			SessionId:  sess.ID,
			DeviceName: sess.DeviceName,
			Platform:   rpc.PlatformFromName[authv1.Platform](sess.Platform),
			CreatedAt:  timestamppb.New(sess.CreatedAt),
			LastUsedAt: timestamppb.New(sess.LastUsedAt),
			Current:    sess.ID == p.SessionID,
		})
	}
	return res, nil
}

func (s *sessionService) SignOut(ctx context.Context, req *authv1.SignOutRequest) (*authv1.SignOutResponse, error) {
	p, _ := access.FromContext(ctx)
	id := req.SessionId
	if id == "" {
		id = p.SessionID
	}
	if err := s.store.SessionRevoke(ctx, id, p.PersonID, p.HSAID, "signed out"); err != nil {
		return nil, rpc.NotFoundAs(err, "you have no session %q", id)
	}
	s.issuer.sessions.drop(id)
	return &authv1.SignOutResponse{}, nil
}

func (s *sessionService) SignOutEverywhere(ctx context.Context, _ *authv1.SignOutEverywhereRequest) (*authv1.SignOutEverywhereResponse, error) {
	p, _ := access.FromContext(ctx)
	n, err := s.store.SessionRevokeAll(ctx, p.PersonID, p.HSAID, "signed out everywhere")
	if err != nil {
		return nil, err
	}
	s.issuer.sessions.dropAll()
	return &authv1.SignOutEverywhereResponse{SessionsEnded: int32(n)}, nil
}
