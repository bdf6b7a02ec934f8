package auth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/identity/oidc"
	"github.com/nara-care/nara/identity/token"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// StaffProvider is the staff identity provider; the production one is
// *oidc.Client against the region's IdP.
type StaffProvider interface {
	Start() (oidc.LoginStart, error)
	Complete(ctx context.Context, code, verifier, nonce string) (oidc.Identity, error)
}

// staffLoginMaxAge is how long a started staff login may take.
const staffLoginMaxAge = 10 * time.Minute

// staffRoles are the roles the IdP may grant; anything else is ignored.
var staffRoles = []access.Role{
	access.RoleSupportFirstLine, access.RoleSupportSecondLine, access.RoleUnitAdmin, access.RoleRegionAdmin,
}

// clinicianAuthService logs staff in with SITHS through OIDC.
type clinicianAuthService struct {
	store  *store.Store
	logger *slog.Logger
	idp    StaffProvider
	issuer *sessionIssuer
	limits RateLimits
	now    func() time.Time
}

func (s *clinicianAuthService) StartStaffLogin(ctx context.Context, req *authv1.StartStaffLoginRequest) (*authv1.StartStaffLoginResponse, error) {
	// Anyone may start a login, and each start is a row until it completes
	// or expires: starts are counted per address, as citizens' are.
	if err := s.store.RateLimitTake(ctx, "staff-login-start:ip:"+rpc.ClientIP(ctx).String(), time.Minute, s.limits.LoginStartsPerIPPerMinute); err != nil {
		return nil, rateLimited(err, "too many login attempts from your network; wait a minute and try again")
	}
	start, err := s.idp.Start()
	if err != nil {
		return nil, err
	}
	if err := s.store.StaffLoginCreate(ctx, store.StaffLogin{
		State: start.State, Nonce: start.Nonce, Verifier: start.Verifier,
		DeviceID: req.Device.Id, DeviceName: req.Device.Name, Platform: cmp.Or(rpc.PlatformName(req.Device.Platform), "web"),
	}, staffLoginMaxAge); err != nil {
		return nil, err
	}
	return &authv1.StartStaffLoginResponse{AuthorizationUrl: start.URL, State: start.State}, nil
}

func (s *clinicianAuthService) CompleteStaffLogin(ctx context.Context, req *authv1.CompleteStaffLoginRequest) (*authv1.CompleteStaffLoginResponse, error) {
	login, err := s.store.StaffLoginTake(ctx, req.State, staffLoginMaxAge)
	if errors.Is(err, store.ErrNotFound) {
		return nil, rpc.FailWith(err, connect.CodeFailedPrecondition, "this login is unknown, expired or already used; start a new one")
	} else if err != nil {
		return nil, err
	}
	if login.DeviceID != req.Device.Id {
		return nil, rpc.Fail(connect.CodeFailedPrecondition, "this login was started on another device; start a new one")
	}
	id, err := s.idp.Complete(ctx, req.Code, login.Verifier, login.Nonce)
	switch {
	case errors.Is(err, oidc.ErrIdPUnreachable):
		return nil, rpc.FailWith(err, connect.CodeUnavailable, "the identity provider cannot be reached; try again in a moment")
	case errors.Is(err, oidc.ErrMissingClaim):
		return nil, rpc.FailWith(err, connect.CodePermissionDenied, "your login does not carry an HSA-id; contact your HSA administrator")
	case err != nil:
		return nil, rpc.FailWith(err, connect.CodeUnauthenticated, "the identity provider did not confirm the login; log in again")
	}
	assignments := make([]access.Assignment, 0, len(id.Assignments))
	for _, a := range id.Assignments {
		assignments = append(assignments, access.Assignment{
			ID: a.ID, Purpose: a.Purpose, CareUnitHSAID: a.CareUnitHSAID, CareUnitName: a.CareUnitName,
			CareProviderHSAID: a.CareProviderHSAID, CareProviderName: a.CareProviderName, ValidFrom: a.ValidFrom, ValidTo: a.ValidTo,
		})
	}
	raw, err := json.Marshal(assignments)
	if err != nil {
		return nil, err
	}
	var roles []string
	for _, r := range staffRoles {
		if id.HasRole(string(r)) {
			roles = append(roles, string(r))
		}
	}
	refresh, refreshHash := token.NewRefresh()
	sess, err := s.store.StaffSessionCreate(ctx, id.HSAID, id.Name, roles, store.Session{
		DeviceID: login.DeviceID, DeviceName: login.DeviceName, Platform: login.Platform,
		Assignments: raw, ExpiresAt: s.now().Add(s.issuer.staffSessionTTL),
	}, refreshHash)
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "staff logged in", slog.String("hsa_id", id.HSAID), slog.String("session_id", sess.ID))
	session, err := s.staffSession(ctx, sess, refresh)
	if err != nil {
		return nil, err
	}
	return &authv1.CompleteStaffLoginResponse{Session: session}, nil
}

func (s *clinicianAuthService) SelectAssignment(ctx context.Context, req *authv1.SelectAssignmentRequest) (*authv1.SelectAssignmentResponse, error) {
	p, _ := access.FromContext(ctx)
	if p.HSAID == "" {
		return nil, rpc.Fail(connect.CodePermissionDenied, "only staff act within care assignments")
	}
	sess, err := s.store.SessionGet(ctx, p.SessionID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(staffAssignments(sess), func(a access.Assignment) bool { return a.ID == req.AssignmentId })
	if i < 0 {
		return nil, rpc.Fail(connect.CodePermissionDenied, "you have no care assignment %q; your login carries the assignments listed by GetMe", req.AssignmentId)
	}
	a := staffAssignments(sess)[i]
	if err := a.AllowsCare(s.now()); err != nil {
		return nil, rpc.FailWith(err, connect.CodePermissionDenied, "%s", err.Error())
	}
	if err := s.store.SessionSelectAssignment(ctx, sess.ID, a.ID); err != nil {
		return nil, err
	}
	s.issuer.sessions.drop(sess.ID)
	sess.SelectedAssignment = a.ID
	session, err := s.staffSession(ctx, sess, "")
	if err != nil {
		return nil, err
	}
	return &authv1.SelectAssignmentResponse{Session: session}, nil
}

// staffMe describes a staff session; roles are recomputed so that a
// clinician with no usable assignment is not a clinician.
func (s *clinicianAuthService) staffMe(ctx context.Context, sess store.Session) (*authv1.Me, []string, error) {
	name, roles, err := s.store.StaffGet(ctx, sess.StaffHSAID)
	if err != nil {
		return nil, nil, err
	}
	me := &authv1.Me{Subject: sess.StaffHSAID, DisplayName: name, SelectedAssignmentId: sess.SelectedAssignment}
	now := s.now()
	clinician := false
	for _, a := range staffAssignments(sess) {
		reason := a.AllowsCare(now)
		clinician = clinician || reason == nil
		pa := &authv1.CareAssignment{
			Id: a.ID, Purpose: a.Purpose, CareUnitHsaId: a.CareUnitHSAID, CareUnitName: a.CareUnitName,
			CareProviderHsaId: a.CareProviderHSAID, CareProviderName: a.CareProviderName,
			ValidFrom: rpc.TimestampOrNil(a.ValidFrom), ValidTo: rpc.TimestampOrNil(a.ValidTo), Usable: reason == nil,
		}
		if reason != nil {
			pa.UnusableReason = reason.Error()
		}
		me.Assignments = append(me.Assignments, pa)
	}
	if clinician {
		roles = append([]string{string(access.RoleClinician)}, roles...)
	}
	for _, r := range roles {
		me.Roles = append(me.Roles, roleToProto(access.Role(r)))
	}
	return me, roles, nil
}

// staffSession issues the tokens of a staff session.
func (s *clinicianAuthService) staffSession(ctx context.Context, sess store.Session, refresh string) (*authv1.Session, error) {
	me, roles, err := s.staffMe(ctx, sess)
	if err != nil {
		return nil, err
	}
	session, err := s.issuer.issue(sess, refresh, me, token.Claims{
		SessionID: sess.ID, Subject: sess.StaffHSAID, Kind: token.KindStaff, Name: me.DisplayName, Roles: roles,
		AssignmentID: sess.SelectedAssignment,
	})
	if err != nil {
		return nil, err
	}
	if refresh == "" {
		session.RefreshTokenExpiresAt = nil
	}
	return session, nil
}

func roleToProto(r access.Role) authv1.Role {
	switch r {
	case access.RoleCitizen:
		return authv1.Role_ROLE_CITIZEN
	case access.RoleGuardian:
		return authv1.Role_ROLE_GUARDIAN
	case access.RoleClinician:
		return authv1.Role_ROLE_CLINICIAN
	case access.RoleSupportFirstLine:
		return authv1.Role_ROLE_SUPPORT_FIRST_LINE
	case access.RoleSupportSecondLine:
		return authv1.Role_ROLE_SUPPORT_SECOND_LINE
	case access.RoleUnitAdmin:
		return authv1.Role_ROLE_UNIT_ADMIN
	case access.RoleRegionAdmin:
		return authv1.Role_ROLE_REGION_ADMIN
	}
	return authv1.Role_ROLE_UNSPECIFIED
}
