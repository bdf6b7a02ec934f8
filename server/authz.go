package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/gen/nara/app/v1/appv1connect"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	"github.com/nara-care/nara/gen/nara/help/v1/helpv1connect"
	"github.com/nara-care/nara/gen/nara/patient/v1/patientv1connect"
	"github.com/nara-care/nara/gen/nara/push/v1/pushv1connect"
)

// rule is who may call one RPC.
type rule struct {
	// public RPCs need no login.
	public bool
	// roles lists who may call a non-public RPC; any one suffices. Empty
	// means any logged-in user.
	roles []access.Role
	// care requires a selected care assignment that allows care of
	// patients today.
	care bool
	// scopes limit whose objects the request may name, by its fields;
	// scopeInterceptor applies them once the request is read and valid.
	scopes []scope
}

// A scope limits one string field of an RPC's request, read by name
// through protoreflect, so handlers need not check it.
type scope struct {
	kind  scopeKind
	field protoreflect.Name
}

type scopeKind int

const (
	// unitScope: the field names the unit of the caller's selected care
	// assignment. Another unit is PermissionDenied: the clinician may
	// choose an assignment there.
	unitScope scopeKind = iota + 1
	// patientScope: the field names the caller or a child in their
	// custody; empty, it means the caller. Anyone else is NotFound:
	// whether the person exists is itself private.
	patientScope
)

// inUnit is r for requests whose field names the care unit acted in.
func (r rule) inUnit(field protoreflect.Name) rule {
	r.scopes = append(slices.Clip(r.scopes), scope{kind: unitScope, field: field})
	return r
}

// forPatient is r for requests whose field names the patient acted for.
func (r rule) forPatient(field protoreflect.Name) rule {
	r.scopes = append(slices.Clip(r.scopes), scope{kind: patientScope, field: field})
	return r
}

var (
	publicRule   = rule{public: true}
	loggedInRule = rule{}
	// clinicalRule is for RPCs that touch patient data as a clinician.
	clinicalRule = rule{roles: []access.Role{access.RoleClinician}, care: true}
	// unitRule is clinicalRule within the unit of the selected care
	// assignment, named by the request's unit_hsa_id.
	unitRule = clinicalRule.inUnit("unit_hsa_id")
	// patientRule is for a citizen acting for themselves or a child in
	// their custody, named by the request's patient_id.
	patientRule = anyOf(access.RoleCitizen).forPatient("patient_id")
)

func anyOf(roles ...access.Role) rule { return rule{roles: roles} }

// procedureRules declares the authorization rule of every RPC. An RPC missing
// here is refused for everyone, and a test checks none is missing.
func procedureRules() map[string]rule {
	helpEditors := anyOf(access.RoleSupportSecondLine, access.RoleRegionAdmin, access.RoleUnitAdmin)
	return map[string]rule{
		appv1connect.AppServiceGetConfigProcedure: publicRule,

		helpv1connect.HelpServiceListCategoriesProcedure:   publicRule,
		helpv1connect.HelpServiceListArticlesProcedure:     publicRule,
		helpv1connect.HelpServiceGetArticleProcedure:       publicRule,
		helpv1connect.HelpServiceSearchArticlesProcedure:   publicRule,
		helpv1connect.HelpServiceGetSupportStatusProcedure: publicRule,

		helpv1connect.HelpAdminServiceCreateArticleProcedure:       helpEditors,
		helpv1connect.HelpAdminServiceUpdateArticleProcedure:       helpEditors,
		helpv1connect.HelpAdminServicePublishArticleProcedure:      helpEditors,
		helpv1connect.HelpAdminServiceRetireArticleProcedure:       helpEditors,
		helpv1connect.HelpAdminServiceListArticleVersionsProcedure: helpEditors,
		helpv1connect.HelpAdminServiceListAllArticlesProcedure:     helpEditors,

		authv1connect.CitizenAuthServiceStartLoginProcedure:  publicRule,
		authv1connect.CitizenAuthServiceWatchLoginProcedure:  publicRule,
		authv1connect.CitizenAuthServicePollLoginProcedure:   publicRule,
		authv1connect.CitizenAuthServiceCancelLoginProcedure: publicRule,

		authv1connect.ClinicianAuthServiceStartStaffLoginProcedure:    publicRule,
		authv1connect.ClinicianAuthServiceCompleteStaffLoginProcedure: publicRule,
		authv1connect.ClinicianAuthServiceSelectAssignmentProcedure:   loggedInRule,

		// The refresh token is the credential; no access token is needed.
		authv1connect.SessionServiceRefreshSessionProcedure:    publicRule,
		authv1connect.SessionServiceGetMeProcedure:             loggedInRule,
		authv1connect.SessionServiceListSessionsProcedure:      loggedInRule,
		authv1connect.SessionServiceSignOutProcedure:           loggedInRule,
		authv1connect.SessionServiceSignOutEverywhereProcedure: loggedInRule,

		authv1connect.AccessLogServiceListMyAccessLogProcedure: patientRule,

		patientv1connect.PatientServiceFindPatientProcedure: clinicalRule,

		// Push devices, preferences and the inbox are the citizen's own.
		pushv1connect.DeviceServiceRegisterDeviceProcedure:              anyOf(access.RoleCitizen),
		pushv1connect.DeviceServiceUnregisterDeviceProcedure:            anyOf(access.RoleCitizen),
		pushv1connect.DeviceServiceListDevicesProcedure:                 anyOf(access.RoleCitizen),
		pushv1connect.DeviceServiceRemoveDeviceProcedure:                anyOf(access.RoleCitizen),
		pushv1connect.NotificationServiceGetPreferencesProcedure:        anyOf(access.RoleCitizen),
		pushv1connect.NotificationServiceUpdatePreferencesProcedure:     anyOf(access.RoleCitizen),
		pushv1connect.NotificationServiceListNotificationsProcedure:     anyOf(access.RoleCitizen),
		pushv1connect.NotificationServiceMarkNotificationsReadProcedure: anyOf(access.RoleCitizen),

		// Booking is the citizen's own, or for a child in their custody; an
		// appointment named by id is checked against its patient in the
		// store. The unit's side acts within the unit of the selected care
		// assignment.
		appointmentv1connect.AppointmentServiceListCareUnitsProcedure:          publicRule,
		appointmentv1connect.AppointmentServiceSearchSlotsProcedure:            patientRule,
		appointmentv1connect.AppointmentServiceBookSlotProcedure:               patientRule,
		appointmentv1connect.AppointmentServiceCancelAppointmentProcedure:      anyOf(access.RoleCitizen),
		appointmentv1connect.AppointmentServiceRebookAppointmentProcedure:      anyOf(access.RoleCitizen),
		appointmentv1connect.AppointmentServiceListAppointmentsProcedure:       patientRule,
		appointmentv1connect.AppointmentServiceGetAppointmentCalendarProcedure: anyOf(access.RoleCitizen),
		appointmentv1connect.ScheduleServicePublishSlotsProcedure:              unitRule,
		appointmentv1connect.ScheduleServiceInviteToAppointmentProcedure:       unitRule,
		appointmentv1connect.ScheduleServiceListUnitScheduleProcedure:          unitRule,
		appointmentv1connect.AppointmentServiceRespondToInvitationProcedure:    anyOf(access.RoleCitizen),
		appointmentv1connect.AppointmentServiceReportLateProcedure:             anyOf(access.RoleCitizen),
		appointmentv1connect.AppointmentServiceCreateCalendarFeedProcedure:     anyOf(access.RoleCitizen),
		appointmentv1connect.AppointmentServiceRevokeCalendarFeedProcedure:     anyOf(access.RoleCitizen),
		appointmentv1connect.ScheduleServiceListResourcesProcedure:             unitRule,
		appointmentv1connect.ScheduleServiceCreateResourceProcedure:            unitRule,
		appointmentv1connect.ScheduleServiceListSlotsProcedure:                 unitRule,
		appointmentv1connect.ScheduleServiceUpdateSlotsProcedure:               unitRule,
		appointmentv1connect.ScheduleServiceMoveSlotProcedure:                  unitRule,
		appointmentv1connect.ScheduleServiceReportDelayProcedure:               unitRule,
		appointmentv1connect.ScheduleServiceSetArrivalProcedure:                unitRule,
		appointmentv1connect.ScheduleServiceListUnitNoticesProcedure:           unitRule,
		appointmentv1connect.ScheduleServiceWatchUnitNoticesProcedure:          unitRule,
	}
}

// authzInterceptor authenticates each request and applies its RPC's rule
// before the handler runs.
type authzInterceptor struct {
	auth  Authenticator
	rules map[string]rule
	now   func() time.Time
}

func newAuthzInterceptor(auth Authenticator, rules map[string]rule, now func() time.Time) *authzInterceptor {
	return &authzInterceptor{auth: auth, rules: rules, now: now}
}

func (a *authzInterceptor) authorize(ctx context.Context, procedure string, header http.Header) (context.Context, error) {
	r, ok := a.rules[procedure]
	if !ok {
		return ctx, connect.NewError(connect.CodePermissionDenied, errors.New("this operation is not available"))
	}
	var (
		p             access.Principal
		authenticated bool
	)
	if a.auth != nil {
		var err error
		p, authenticated, err = a.auth.Authenticate(ctx, header)
		if err != nil && !r.public {
			return ctx, err
		}
		// A public RPC answers an app whose token has expired as it would
		// answer anyone: the FAQ must work when the session does not.
		authenticated = authenticated && err == nil
	}
	if authenticated {
		ctx = access.WithPrincipal(ctx, p)
	}
	if r.public {
		return ctx, nil
	}
	if !authenticated {
		return ctx, connect.NewError(connect.CodeUnauthenticated, errors.New("log in to do this"))
	}
	if len(r.roles) > 0 && !p.Has(r.roles...) {
		return ctx, connect.NewError(connect.CodePermissionDenied, errors.New("your role does not allow this operation"))
	}
	if r.care {
		if err := p.Assignment.AllowsCare(a.now()); err != nil {
			return ctx, connect.NewError(connect.CodePermissionDenied, err)
		}
	}
	return ctx, nil
}

func (a *authzInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ctx, err := a.authorize(ctx, req.Spec().Procedure, req.Header())
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (a *authzInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a *authzInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := a.authorize(ctx, conn.Spec().Procedure, conn.RequestHeader())
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// scopeInterceptor applies the scopes of each RPC's rule to its request.
// It runs after authzInterceptor, which puts the principal in the context,
// and after validation, so a malformed request is answered as such first.
type scopeInterceptor struct {
	rules map[string]rule
	// custody lists the patients a citizen may act for: themselves and
	// the children in their custody.
	custody func(ctx context.Context, personID string) ([]string, error)
}

func newScopeInterceptor(rules map[string]rule, custody func(ctx context.Context, personID string) ([]string, error)) *scopeInterceptor {
	return &scopeInterceptor{rules: rules, custody: custody}
}

func (s *scopeInterceptor) check(ctx context.Context, procedure string, msg any) error {
	r := s.rules[procedure]
	if len(r.scopes) == 0 {
		return nil
	}
	m, ok := msg.(proto.Message)
	if !ok {
		return fail(connect.CodePermissionDenied, "this operation is not available")
	}
	p, _ := access.FromContext(ctx)
	for _, sc := range r.scopes {
		v, ok := stringField(m, sc.field)
		if !ok {
			// A rule naming a field the request lacks refuses, as a
			// missing rule does; TestScopedFieldsExist keeps it from
			// happening.
			return fail(connect.CodePermissionDenied, "this operation is not available")
		}
		if err := s.within(ctx, p, sc.kind, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *scopeInterceptor) within(ctx context.Context, p access.Principal, kind scopeKind, v string) error {
	switch kind {
	case unitScope:
		if p.Assignment == nil || p.Assignment.CareUnitHSAID != v {
			return fail(connect.CodePermissionDenied, "your selected care assignment is not for unit %q; choose an assignment at that unit", v)
		}
		return nil
	case patientScope:
		ok := p.PersonID != ""
		if ok && v != "" && v != p.PersonID {
			patients, err := s.custody(ctx, p.PersonID)
			if err != nil {
				return err
			}
			ok = slices.Contains(patients, v)
		}
		if !ok {
			return fail(connect.CodeNotFound, "you cannot act for %q", v)
		}
		return nil
	}
	return fail(connect.CodePermissionDenied, "this operation is not available")
}

// stringField reads the string field name of m; ok is false when m has no
// such field.
func stringField(m proto.Message, name protoreflect.Name) (v string, ok bool) {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName(name)
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() || fd.IsMap() {
		return "", false
	}
	return r.Get(fd).String(), true
}

// checkScopes reports a scope of r whose field the request of procedure
// does not have as a string.
func checkScopes(procedure string, r rule) error {
	if len(r.scopes) == 0 {
		return nil
	}
	service, method, _ := strings.Cut(strings.TrimPrefix(procedure, "/"), "/")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return fmt.Errorf("procedure %s: %w", procedure, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return fmt.Errorf("procedure %s: %s is not a service", procedure, service)
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return fmt.Errorf("procedure %s: no such method", procedure)
	}
	for _, sc := range r.scopes {
		fd := md.Input().Fields().ByName(sc.field)
		if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() || fd.IsMap() {
			return fmt.Errorf("procedure %s: its rule's scope reads %s, which %s has not as a string", procedure, sc.field, md.Input().FullName())
		}
	}
	return nil
}

func (s *scopeInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := s.check(ctx, req.Spec().Procedure, req.Any()); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (s *scopeInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (s *scopeInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if len(s.rules[conn.Spec().Procedure].scopes) == 0 {
			return next(ctx, conn)
		}
		return next(ctx, &scopedConn{StreamingHandlerConn: conn, ctx: ctx, scopes: s})
	}
}

// scopedConn checks each message a stream receives.
type scopedConn struct {
	connect.StreamingHandlerConn
	ctx    context.Context // the stream's own, for the custody lookup
	scopes *scopeInterceptor
}

func (c *scopedConn) Receive(msg any) error {
	if err := c.StreamingHandlerConn.Receive(msg); err != nil {
		return err
	}
	return c.scopes.check(c.ctx, c.Spec().Procedure, msg)
}

// newTimeoutInterceptor bounds unary RPCs so a slow query cannot hold a
// connection forever.
func newTimeoutInterceptor(d time.Duration) connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return next(ctx, req)
		}
	})
}
