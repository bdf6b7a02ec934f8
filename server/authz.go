package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"connectrpc.com/connect"

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
}

var (
	publicRule   = rule{public: true}
	loggedInRule = rule{}
	// clinicalRule is for RPCs that touch patient data as a clinician.
	clinicalRule = rule{roles: []access.Role{access.RoleClinician}, care: true}
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

		authv1connect.AccessLogServiceListMyAccessLogProcedure: anyOf(access.RoleCitizen),

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

		// Booking is the citizen's own, or for a child in their custody
		// (checked per request); the unit's side acts within the unit of the
		// selected care assignment (checked per request).
		appointmentv1connect.AppointmentServiceListCareUnitsProcedure:          publicRule,
		appointmentv1connect.AppointmentServiceSearchSlotsProcedure:            anyOf(access.RoleCitizen),
		appointmentv1connect.AppointmentServiceBookSlotProcedure:               anyOf(access.RoleCitizen),
		appointmentv1connect.AppointmentServiceCancelAppointmentProcedure:      anyOf(access.RoleCitizen),
		appointmentv1connect.AppointmentServiceRebookAppointmentProcedure:      anyOf(access.RoleCitizen),
		appointmentv1connect.AppointmentServiceListAppointmentsProcedure:       anyOf(access.RoleCitizen),
		appointmentv1connect.AppointmentServiceGetAppointmentCalendarProcedure: anyOf(access.RoleCitizen),
		appointmentv1connect.ScheduleServicePublishSlotsProcedure:              clinicalRule,
		appointmentv1connect.ScheduleServiceInviteToAppointmentProcedure:       clinicalRule,
		appointmentv1connect.ScheduleServiceListUnitScheduleProcedure:          clinicalRule,
		appointmentv1connect.AppointmentServiceRespondToInvitationProcedure:    anyOf(access.RoleCitizen),
		appointmentv1connect.AppointmentServiceReportLateProcedure:             anyOf(access.RoleCitizen),
		appointmentv1connect.AppointmentServiceCreateCalendarFeedProcedure:     anyOf(access.RoleCitizen),
		appointmentv1connect.AppointmentServiceRevokeCalendarFeedProcedure:     anyOf(access.RoleCitizen),
		appointmentv1connect.ScheduleServiceListResourcesProcedure:             clinicalRule,
		appointmentv1connect.ScheduleServiceCreateResourceProcedure:            clinicalRule,
		appointmentv1connect.ScheduleServiceListSlotsProcedure:                 clinicalRule,
		appointmentv1connect.ScheduleServiceUpdateSlotsProcedure:               clinicalRule,
		appointmentv1connect.ScheduleServiceMoveSlotProcedure:                  clinicalRule,
		appointmentv1connect.ScheduleServiceReportDelayProcedure:               clinicalRule,
		appointmentv1connect.ScheduleServiceSetArrivalProcedure:                clinicalRule,
		appointmentv1connect.ScheduleServiceListUnitNoticesProcedure:           clinicalRule,
		appointmentv1connect.ScheduleServiceWatchUnitNoticesProcedure:          clinicalRule,
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
