package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nara-care/nara/access"
	appv1 "github.com/nara-care/nara/gen/nara/app/v1"
	"github.com/nara-care/nara/gen/nara/app/v1/appv1connect"
	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	ac "github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	"github.com/nara-care/nara/gen/nara/help/v1/helpv1connect"
	patientv1 "github.com/nara-care/nara/gen/nara/patient/v1"
	"github.com/nara-care/nara/gen/nara/patient/v1/patientv1connect"
	pushv1 "github.com/nara-care/nara/gen/nara/push/v1"
	"github.com/nara-care/nara/gen/nara/push/v1/pushv1connect"
	"github.com/nara-care/nara/server"
)

// invoker calls one procedure and returns the messages it answered.
type invoker func(ctx context.Context, e *env, auth connect.ClientOption, procedure string, req proto.Message) ([]proto.Message, error)

func unary[Req, Res any]() invoker {
	return func(ctx context.Context, e *env, auth connect.ClientOption, procedure string, req proto.Message) ([]proto.Message, error) {
		c := connect.NewClient[Req, Res](e.client, e.url+procedure, authOpts(auth)...)
		res, err := c.CallUnary(ctx, connect.NewRequest(any(req).(*Req)))
		if err != nil {
			return nil, err
		}
		return []proto.Message{any(res.Msg).(proto.Message)}, nil
	}
}

// streamWait is how long a stream of the matrix is read for its first
// answer.
const streamWait = 2 * time.Second

func serverStream[Req, Res any]() invoker {
	return func(ctx context.Context, e *env, auth connect.ClientOption, procedure string, req proto.Message) ([]proto.Message, error) {
		ctx, cancel := context.WithTimeout(ctx, streamWait)
		defer cancel()
		c := connect.NewClient[Req, Res](e.h2c, e.url+procedure, authOpts(auth)...)
		s, err := c.CallServerStream(ctx, connect.NewRequest(any(req).(*Req)))
		if err != nil {
			return nil, err
		}
		defer s.Close()
		if s.Receive() {
			return []proto.Message{any(s.Msg()).(proto.Message)}, nil
		}
		return nil, s.Err()
	}
}

func authOpts(auth connect.ClientOption) []connect.ClientOption {
	if auth == nil {
		return nil
	}
	return []connect.ClientOption{auth}
}

// matrixCase says how every actor calls one procedure.
type matrixCase struct {
	call invoker
	// own is the request a makes on what is theirs: their own or their
	// child's data, their unit's. Callers the rules table refuses send it too.
	own func(a *actor) proto.Message
	// others are requests on what is not a's, sent by each caller the rules
	// let through.
	others func(a *actor) []variant
	// writes: own calls change state, so they run one at a time after the
	// reads; last: they end what other calls use and run at the very end.
	writes, last bool
	// ownCodes are the codes the handler answers a's own call with, where
	// it refuses it although the rules let it through; nil: any code that
	// does not refuse (not Unauthenticated, PermissionDenied or NotFound).
	ownCodes func(a *actor) []connect.Code
}

// variant is one call on what is not the caller's.
type variant struct {
	name string
	req  proto.Message
	// want are the codes allowed; empty means NotFound, the answer for
	// what does not exist, so that nothing tells whether it does.
	want []connect.Code
	// replay reuses what someone else named first: an idempotency key, an
	// installation id. The call may succeed with something of the caller's
	// own but must not answer with, or change, what the other made.
	replay bool
}

var notFound = []connect.Code{connect.CodeNotFound}

// refusals are the codes that mean the caller may not do this.
var refusals = []connect.Code{connect.CodeUnauthenticated, connect.CodePermissionDenied, connect.CodeNotFound}

// alice is whose data callers who are no citizen name.
func (f *fixture) alice() *person { return f.persons["Alice"] }

// mine is the person a's own requests are for: a guardian's child under
// 13, else the citizen themselves (Alice for callers who are no citizen).
func (f *fixture) mine(a *actor) *person {
	if len(a.acts) > 1 {
		return a.acts[1]
	}
	if a.self != nil {
		return a.self
	}
	return f.alice()
}

// patientOf is the patient_id a sends for p: empty for themselves.
func patientOf(a *actor, p *person) string {
	if a.self == p {
		return ""
	}
	return p.id
}

// othersOf are the persons whose data a may not see.
func (f *fixture) othersOf(a *actor) []*person {
	if a.self == nil {
		return nil
	}
	var out []*person
	for _, name := range sortedKeys(f.persons) {
		if p := f.persons[name]; !slices.Contains(a.acts, p) {
			out = append(out, p)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (f *fixture) nameOf(p *person) string { return strings.Fields(p.fullName)[0] }

// myUnit is the unit of a's assignment (unit A for callers without one);
// otherUnit the other one.
func (f *fixture) myUnit(a *actor) *unit {
	if a.unit != nil {
		return a.unit
	}
	return f.unitA
}

func (f *fixture) otherUnit(a *actor) *unit {
	if f.myUnit(a) == f.unitA {
		return f.unitB
	}
	return f.unitA
}

// personsAt are the persons with an appointment at u.
func (f *fixture) personsAt(u *unit) []*person {
	var out []*person
	for _, name := range sortedKeys(f.persons) {
		if p := f.persons[name]; slices.Contains(u.appts, p.appt) || slices.Contains(u.appts, p.invite) {
			out = append(out, p)
		}
	}
	return out
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// perPerson builds one variant for each person whose data a may not see.
func (f *fixture) perPerson(a *actor, build func(p *person) proto.Message) []variant {
	var vs []variant
	for _, p := range f.othersOf(a) {
		vs = append(vs, variant{name: "on " + f.nameOf(p) + "'s", req: build(p)})
	}
	return vs
}

// perUnit builds the variant of a clinician naming the other unit:
// PermissionDenied, as the unit's HSA-id is public and the caller's
// assignment is not for it.
func (f *fixture) perUnit(a *actor, build func(u *unit, other *unit) proto.Message) []variant {
	if a.unit == nil {
		return nil
	}
	vs := []variant{{name: "at the other unit", req: build(f.otherUnit(a), f.otherUnit(a)), want: []connect.Code{connect.CodePermissionDenied}}}
	return vs
}

// objectOfOtherUnit adds to perUnit the other unit's object named under the
// caller's own unit: NotFound.
func (f *fixture) objectOfOtherUnit(a *actor, build func(u *unit, other *unit) proto.Message) []variant {
	if a.unit == nil {
		return nil
	}
	return append(f.perUnit(a, build), variant{name: "on the other unit's object under their own unit", req: build(f.myUnit(a), f.otherUnit(a))})
}

// sessionsOfOthers are SignOut requests for every other actor's session.
func (f *fixture) sessionsOfOthers(a *actor) []variant {
	var vs []variant
	for _, b := range f.actors {
		if b != a && b.sessionID != "" {
			vs = append(vs, variant{name: "on " + b.name + "'s session", req: &authv1.SignOutRequest{SessionId: b.sessionID}})
		}
	}
	return vs
}

// matrixCases are the calls of every procedure. A procedure without a case
// fails TestAuthorizationMatrix.
func (f *fixture) matrixCases() map[string]matrixCase {
	sv := helpv1.Language_LANGUAGE_SV
	day := f.day
	ts := timestamppb.New
	dev := func(a *actor) *authv1.Device { return device("matrix-" + a.name) }
	mine := f.mine
	return map[string]matrixCase{
		appv1connect.AppServiceGetConfigProcedure: {call: unary[appv1.GetConfigRequest, appv1.GetConfigResponse](),
			own: func(*actor) proto.Message {
				return &appv1.GetConfigRequest{Platform: appv1.Platform_PLATFORM_IOS, AppVersion: "4.1"}
			}},

		helpv1connect.HelpServiceListCategoriesProcedure: {call: unary[helpv1.ListCategoriesRequest, helpv1.ListCategoriesResponse](),
			own: func(*actor) proto.Message { return &helpv1.ListCategoriesRequest{Language: sv} }},
		helpv1connect.HelpServiceListArticlesProcedure: {call: unary[helpv1.ListArticlesRequest, helpv1.ListArticlesResponse](),
			own: func(*actor) proto.Message { return &helpv1.ListArticlesRequest{Language: sv} }},
		helpv1connect.HelpServiceGetArticleProcedure: {call: unary[helpv1.GetArticleRequest, helpv1.GetArticleResponse](),
			own: func(*actor) proto.Message { return &helpv1.GetArticleRequest{Slug: f.article, Language: sv} },
			others: func(*actor) []variant {
				return []variant{{name: "on an unpublished draft", req: &helpv1.GetArticleRequest{Slug: f.draft, Language: sv}}}
			}},
		helpv1connect.HelpServiceSearchArticlesProcedure: {call: unary[helpv1.SearchArticlesRequest, helpv1.SearchArticlesResponse](),
			own: func(*actor) proto.Message { return &helpv1.SearchArticlesRequest{Query: "utkast", Language: sv} }},
		helpv1connect.HelpServiceGetSupportStatusProcedure: {call: unary[helpv1.GetSupportStatusRequest, helpv1.GetSupportStatusResponse](),
			own: func(*actor) proto.Message { return &helpv1.GetSupportStatusRequest{Language: sv} }},

		helpv1connect.HelpAdminServiceCreateArticleProcedure: {call: unary[helpv1.CreateArticleRequest, helpv1.CreateArticleResponse](), writes: true,
			own: func(a *actor) proto.Message {
				return &helpv1.CreateArticleRequest{Slug: "matrix-" + strings.ToLower(a.name), Language: sv, Content: articleContent("Ny av " + a.name)}
			}},
		helpv1connect.HelpAdminServiceUpdateArticleProcedure: {call: unary[helpv1.UpdateArticleRequest, helpv1.UpdateArticleResponse](), writes: true,
			own: func(a *actor) proto.Message {
				return &helpv1.UpdateArticleRequest{Slug: f.draft, Language: sv, BaseVersion: 1, Content: articleContent("Ändrad av " + a.name)}
			}},
		helpv1connect.HelpAdminServicePublishArticleProcedure: {call: unary[helpv1.PublishArticleRequest, helpv1.PublishArticleResponse](), writes: true,
			own: func(*actor) proto.Message {
				return &helpv1.PublishArticleRequest{Slug: f.draft, Language: sv, Version: 1}
			}},
		helpv1connect.HelpAdminServiceRetireArticleProcedure: {call: unary[helpv1.RetireArticleRequest, helpv1.RetireArticleResponse](), last: true,
			own: func(*actor) proto.Message { return &helpv1.RetireArticleRequest{Slug: f.draft, Language: sv} }},
		helpv1connect.HelpAdminServiceListArticleVersionsProcedure: {call: unary[helpv1.ListArticleVersionsRequest, helpv1.ListArticleVersionsResponse](),
			own: func(*actor) proto.Message { return &helpv1.ListArticleVersionsRequest{Slug: f.draft, Language: sv} }},
		helpv1connect.HelpAdminServiceListAllArticlesProcedure: {call: unary[helpv1.ListAllArticlesRequest, helpv1.ListAllArticlesResponse](),
			own: func(*actor) proto.Message { return &helpv1.ListAllArticlesRequest{Language: sv} }},

		authv1connect.CitizenAuthServiceStartLoginProcedure: {call: unary[authv1.StartLoginRequest, authv1.StartLoginResponse](), writes: true,
			own: func(a *actor) proto.Message {
				return &authv1.StartLoginRequest{Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_OTHER_DEVICE, Device: dev(a)}
			}},
		authv1connect.CitizenAuthServiceWatchLoginProcedure: {call: serverStream[authv1.WatchLoginRequest, authv1.WatchLoginResponse](),
			own: func(*actor) proto.Message {
				return &authv1.WatchLoginRequest{LoginId: f.loginID, LoginSecret: f.loginSecret}
			},
			others: func(*actor) []variant {
				return []variant{
					{name: "on a login that does not exist", req: &authv1.WatchLoginRequest{LoginId: randomID(16), LoginSecret: randomID(32)}},
					{name: "on another device's login without its secret", req: &authv1.WatchLoginRequest{LoginId: f.loginID, LoginSecret: randomID(32)}},
				}
			}},
		authv1connect.CitizenAuthServicePollLoginProcedure: {call: unary[authv1.PollLoginRequest, authv1.PollLoginResponse](),
			own: func(*actor) proto.Message {
				return &authv1.PollLoginRequest{LoginId: f.loginID, LoginSecret: f.loginSecret}
			},
			others: func(*actor) []variant {
				return []variant{
					{name: "on a login that does not exist", req: &authv1.PollLoginRequest{LoginId: randomID(16), LoginSecret: randomID(32)}},
					{name: "on another device's login without its secret", req: &authv1.PollLoginRequest{LoginId: f.loginID, LoginSecret: randomID(32)}},
				}
			}},
		authv1connect.CitizenAuthServiceCancelLoginProcedure: {call: unary[authv1.CancelLoginRequest, authv1.CancelLoginResponse](), last: true,
			own: func(*actor) proto.Message {
				return &authv1.CancelLoginRequest{LoginId: f.loginID, LoginSecret: f.loginSecret}
			},
			others: func(*actor) []variant {
				return []variant{
					{name: "on a login that does not exist", req: &authv1.CancelLoginRequest{LoginId: randomID(16), LoginSecret: randomID(32)}},
					{name: "on another device's login without its secret", req: &authv1.CancelLoginRequest{LoginId: f.loginID, LoginSecret: randomID(32)}},
				}
			}},

		authv1connect.ClinicianAuthServiceStartStaffLoginProcedure: {call: unary[authv1.StartStaffLoginRequest, authv1.StartStaffLoginResponse](), writes: true,
			own: func(a *actor) proto.Message { return &authv1.StartStaffLoginRequest{Device: dev(a)} }},
		authv1connect.ClinicianAuthServiceCompleteStaffLoginProcedure: {call: unary[authv1.CompleteStaffLoginRequest, authv1.CompleteStaffLoginResponse](),
			own: func(a *actor) proto.Message {
				return &authv1.CompleteStaffLoginRequest{State: randomID(12), Code: "matrix-code", Device: dev(a)}
			}},
		authv1connect.ClinicianAuthServiceSelectAssignmentProcedure: {call: unary[authv1.SelectAssignmentRequest, authv1.SelectAssignmentResponse](),
			own: func(a *actor) proto.Message {
				id := "MU-NONE"
				if a.assignment != nil {
					id = a.assignment.ID
				} else if len(a.assignments) > 0 {
					id = a.assignments[0]
				}
				return &authv1.SelectAssignmentRequest{AssignmentId: id}
			},
			ownCodes: func(a *actor) []connect.Code {
				if a.assignment != nil && a.caresNow() {
					return nil
				}
				return []connect.Code{connect.CodePermissionDenied}
			},
			others: func(a *actor) []variant {
				if a.hsaID == "" {
					return nil
				}
				other := f.actor("clinician-a")
				if a == other {
					other = f.actor("clinician-b")
				}
				// Refused alike whether the assignment is another's or does not exist.
				deny := []connect.Code{connect.CodePermissionDenied, connect.CodeNotFound}
				return []variant{
					{name: "on another's assignment", req: &authv1.SelectAssignmentRequest{AssignmentId: other.assignment.ID}, want: deny},
					{name: "on an assignment that does not exist", req: &authv1.SelectAssignmentRequest{AssignmentId: "MU-" + randomID(4)}, want: deny},
				}
			}},

		authv1connect.SessionServiceRefreshSessionProcedure: {call: unary[authv1.RefreshSessionRequest, authv1.RefreshSessionResponse](), last: true,
			own: func(a *actor) proto.Message {
				if a.refresh == "" {
					return &authv1.RefreshSessionRequest{RefreshToken: randomID(16), DeviceId: "matrix-no-session"}
				}
				return &authv1.RefreshSessionRequest{RefreshToken: a.refresh, DeviceId: a.deviceID}
			},
			ownCodes: func(a *actor) []connect.Code {
				if a.refresh == "" {
					return []connect.Code{connect.CodeUnauthenticated}
				}
				return nil
			},
			others: func(a *actor) []variant {
				// A refresh token works only from the device its session is on.
				other := f.actor("Alice")
				if a == other {
					other = f.actor("Bob")
				}
				dev := a.deviceID
				if dev == "" {
					dev = "matrix-device-" + a.name
				}
				return []variant{{name: "with " + other.name + "'s refresh token from their own device", want: []connect.Code{connect.CodeUnauthenticated},
					req: &authv1.RefreshSessionRequest{RefreshToken: other.refresh, DeviceId: dev}}}
			}},
		authv1connect.SessionServiceGetMeProcedure: {call: unary[authv1.GetMeRequest, authv1.GetMeResponse](),
			own: func(*actor) proto.Message { return &authv1.GetMeRequest{} }},
		authv1connect.SessionServiceListSessionsProcedure: {call: unary[authv1.ListSessionsRequest, authv1.ListSessionsResponse](),
			own: func(*actor) proto.Message { return &authv1.ListSessionsRequest{} }},
		authv1connect.SessionServiceSignOutProcedure: {call: unary[authv1.SignOutRequest, authv1.SignOutResponse](), last: true,
			own:    func(a *actor) proto.Message { return &authv1.SignOutRequest{SessionId: a.spareSession} },
			others: f.sessionsOfOthers},
		authv1connect.SessionServiceSignOutEverywhereProcedure: {call: unary[authv1.SignOutEverywhereRequest, authv1.SignOutEverywhereResponse](), last: true,
			own: func(*actor) proto.Message { return &authv1.SignOutEverywhereRequest{} }},

		authv1connect.AccessLogServiceListMyAccessLogProcedure: {call: unary[authv1.ListMyAccessLogRequest, authv1.ListMyAccessLogResponse](),
			own: func(a *actor) proto.Message { return &authv1.ListMyAccessLogRequest{PatientId: patientOf(a, mine(a))} },
			others: func(a *actor) []variant {
				return f.perPerson(a, func(p *person) proto.Message { return &authv1.ListMyAccessLogRequest{PatientId: p.id} })
			}},

		patientv1connect.PatientServiceFindPatientProcedure: {call: unary[patientv1.FindPatientRequest, patientv1.FindPatientResponse](), writes: true,
			own: func(*actor) proto.Message { return &patientv1.FindPatientRequest{PersonalNumber: f.tolvanDigits} }},

		pushv1connect.DeviceServiceRegisterDeviceProcedure: {call: unary[pushv1.RegisterDeviceRequest, pushv1.RegisterDeviceResponse](), writes: true,
			own: func(a *actor) proto.Message {
				return registerReq(f.selfOf(a).installation, "fcm-token-matrix-renewed-"+randomID(8))
			},
			others: func(a *actor) []variant {
				// Another's registration is theirs until they unregister it:
				// naming their installation id registers at most one's own,
				// and their token is not taken without a login on their device.
				taken := []connect.Code{connect.CodeNotFound, connect.CodePermissionDenied, connect.CodeAlreadyExists, connect.CodeFailedPrecondition}
				var vs []variant
				for _, p := range f.othersOf(a) {
					if p.installation != "" {
						vs = append(vs,
							variant{name: "naming " + f.nameOf(p) + "'s installation", replay: true,
								req: registerReq(p.installation, "fcm-token-matrix-takeover-"+randomID(8))},
							variant{name: "with " + f.nameOf(p) + "'s push token", want: taken,
								req: registerReq("inst-matrix-takeover-"+randomID(4), p.pushToken)})
					}
				}
				return vs
			}},
		pushv1connect.DeviceServiceUnregisterDeviceProcedure: {call: unary[pushv1.UnregisterDeviceRequest, pushv1.UnregisterDeviceResponse](), last: true,
			own: func(a *actor) proto.Message {
				return &pushv1.UnregisterDeviceRequest{InstallationId: f.selfOf(a).installation}
			},
			others: func(a *actor) []variant {
				var vs []variant
				for _, p := range f.othersOf(a) {
					if p.installation != "" {
						// Unregistering is idempotent: answered as for an unknown installation.
						vs = append(vs, variant{name: "on " + f.nameOf(p) + "'s installation", want: []connect.Code{0, connect.CodeNotFound},
							req: &pushv1.UnregisterDeviceRequest{InstallationId: p.installation}})
					}
				}
				return vs
			}},
		pushv1connect.DeviceServiceListDevicesProcedure: {call: unary[pushv1.ListDevicesRequest, pushv1.ListDevicesResponse](),
			own: func(*actor) proto.Message { return &pushv1.ListDevicesRequest{} }},
		pushv1connect.DeviceServiceRemoveDeviceProcedure: {call: unary[pushv1.RemoveDeviceRequest, pushv1.RemoveDeviceResponse](), last: true,
			own: func(a *actor) proto.Message { return &pushv1.RemoveDeviceRequest{Id: f.selfOf(a).device} },
			others: func(a *actor) []variant {
				var vs []variant
				for _, p := range f.othersOf(a) {
					if p.device != "" {
						vs = append(vs, variant{name: "on " + f.nameOf(p) + "'s device", req: &pushv1.RemoveDeviceRequest{Id: p.device}})
					}
				}
				return vs
			}},
		pushv1connect.NotificationServiceGetPreferencesProcedure: {call: unary[pushv1.GetPreferencesRequest, pushv1.GetPreferencesResponse](),
			own: func(*actor) proto.Message { return &pushv1.GetPreferencesRequest{} }},
		pushv1connect.NotificationServiceUpdatePreferencesProcedure: {call: unary[pushv1.UpdatePreferencesRequest, pushv1.UpdatePreferencesResponse](), writes: true,
			own: func(*actor) proto.Message {
				return &pushv1.UpdatePreferencesRequest{Preferences: &pushv1.Preferences{Reminders: true, Offers: true, Language: pushv1.Language_LANGUAGE_SV}}
			}},
		pushv1connect.NotificationServiceListNotificationsProcedure: {call: unary[pushv1.ListNotificationsRequest, pushv1.ListNotificationsResponse](),
			own: func(*actor) proto.Message { return &pushv1.ListNotificationsRequest{} }},
		pushv1connect.NotificationServiceMarkNotificationsReadProcedure: {call: unary[pushv1.MarkNotificationsReadRequest, pushv1.MarkNotificationsReadResponse](), writes: true,
			own: func(a *actor) proto.Message { return &pushv1.MarkNotificationsReadRequest{Ids: f.selfOf(a).notices} },
			others: func(a *actor) []variant {
				var vs []variant
				for _, p := range f.othersOf(a) {
					if len(p.notices) > 0 {
						// Marking is idempotent: answered as for notices that do not exist.
						vs = append(vs, variant{name: "on " + f.nameOf(p) + "'s notices", want: []connect.Code{0, connect.CodeNotFound},
							req: &pushv1.MarkNotificationsReadRequest{Ids: p.notices}})
					}
				}
				return vs
			}},

		ac.AppointmentServiceListCareUnitsProcedure: {call: unary[apptv1.ListCareUnitsRequest, apptv1.ListCareUnitsResponse](),
			own: func(*actor) proto.Message { return &apptv1.ListCareUnitsRequest{} }},
		ac.AppointmentServiceSearchSlotsProcedure: {call: unary[apptv1.SearchSlotsRequest, apptv1.SearchSlotsResponse](),
			own: func(a *actor) proto.Message { return f.search(patientOf(a, mine(a))) },
			others: func(a *actor) []variant {
				return f.perPerson(a, func(p *person) proto.Message { return f.search(p.id) })
			}},
		ac.AppointmentServiceBookSlotProcedure: {call: unary[apptv1.BookSlotRequest, apptv1.BookSlotResponse](), writes: true,
			own: func(a *actor) proto.Message {
				return &apptv1.BookSlotRequest{SlotId: mine(a).spareSlot, PatientId: patientOf(a, mine(a)), IdempotencyKey: newKey("matrix-book")}
			},
			others: func(a *actor) []variant {
				vs := f.perPerson(a, func(p *person) proto.Message {
					return &apptv1.BookSlotRequest{SlotId: p.spareSlot, PatientId: p.id, IdempotencyKey: newKey("matrix-book-other")}
				})
				// The replays name the slot the key first booked, so that the
				// refusal (it is full) goes by the key's first answer.
				for _, p := range f.othersOf(a) {
					vs = append(vs,
						variant{name: "booking for themselves with " + f.nameOf(p) + "'s booking key", replay: true,
							req: &apptv1.BookSlotRequest{SlotId: p.bookedSlot, PatientId: patientOf(a, mine(a)), IdempotencyKey: p.bookingKey}},
						variant{name: "booking for themselves with " + f.nameOf(p) + "'s invitation key", replay: true,
							req: &apptv1.BookSlotRequest{SlotId: p.bookedSlot, PatientId: patientOf(a, mine(a)), IdempotencyKey: p.inviteKey}})
				}
				return vs
			}},
		ac.AppointmentServiceCancelAppointmentProcedure: {call: unary[apptv1.CancelAppointmentRequest, apptv1.CancelAppointmentResponse](), last: true,
			own: func(a *actor) proto.Message { return &apptv1.CancelAppointmentRequest{AppointmentId: mine(a).appt} },
			others: func(a *actor) []variant {
				return append(
					f.perPerson(a, func(p *person) proto.Message { return &apptv1.CancelAppointmentRequest{AppointmentId: p.appt} }),
					f.perPerson(a, func(p *person) proto.Message { return &apptv1.CancelAppointmentRequest{AppointmentId: p.invite} })...)
			}},
		ac.AppointmentServiceRebookAppointmentProcedure: {call: unary[apptv1.RebookAppointmentRequest, apptv1.RebookAppointmentResponse](), writes: true,
			own: func(a *actor) proto.Message {
				return &apptv1.RebookAppointmentRequest{AppointmentId: mine(a).appt, SlotId: mine(a).rebookSlot}
			},
			others: func(a *actor) []variant {
				return f.perPerson(a, func(p *person) proto.Message {
					return &apptv1.RebookAppointmentRequest{AppointmentId: p.appt, SlotId: mine(a).rebookSlot}
				})
			}},
		ac.AppointmentServiceListAppointmentsProcedure: {call: unary[apptv1.ListAppointmentsRequest, apptv1.ListAppointmentsResponse](),
			own: func(a *actor) proto.Message { return &apptv1.ListAppointmentsRequest{PatientId: patientOf(a, mine(a))} },
			others: func(a *actor) []variant {
				return f.perPerson(a, func(p *person) proto.Message { return &apptv1.ListAppointmentsRequest{PatientId: p.id} })
			}},
		ac.AppointmentServiceGetAppointmentCalendarProcedure: {call: unary[apptv1.GetAppointmentCalendarRequest, apptv1.GetAppointmentCalendarResponse](),
			own: func(a *actor) proto.Message {
				return &apptv1.GetAppointmentCalendarRequest{AppointmentId: mine(a).appt}
			},
			others: func(a *actor) []variant {
				return f.perPerson(a, func(p *person) proto.Message { return &apptv1.GetAppointmentCalendarRequest{AppointmentId: p.appt} })
			}},
		ac.AppointmentServiceRespondToInvitationProcedure: {call: unary[apptv1.RespondToInvitationRequest, apptv1.RespondToInvitationResponse](), writes: true,
			own: func(a *actor) proto.Message { return f.respond(mine(a).invite) },
			others: func(a *actor) []variant {
				return f.perPerson(a, func(p *person) proto.Message { return f.respond(p.invite) })
			}},
		ac.AppointmentServiceReportLateProcedure: {call: unary[apptv1.ReportLateRequest, apptv1.ReportLateResponse](), writes: true,
			own: func(a *actor) proto.Message {
				return &apptv1.ReportLateRequest{AppointmentId: mine(a).appt, Minutes: 5}
			},
			others: func(a *actor) []variant {
				return f.perPerson(a, func(p *person) proto.Message { return &apptv1.ReportLateRequest{AppointmentId: p.appt, Minutes: 5} })
			}},
		ac.AppointmentServiceCreateCalendarFeedProcedure: {call: unary[apptv1.CreateCalendarFeedRequest, apptv1.CreateCalendarFeedResponse](), writes: true,
			own: func(*actor) proto.Message { return &apptv1.CreateCalendarFeedRequest{} }},
		ac.AppointmentServiceRevokeCalendarFeedProcedure: {call: unary[apptv1.RevokeCalendarFeedRequest, apptv1.RevokeCalendarFeedResponse](), last: true,
			own: func(*actor) proto.Message { return &apptv1.RevokeCalendarFeedRequest{} }},

		ac.ScheduleServicePublishSlotsProcedure: {call: unary[apptv1.PublishSlotsRequest, apptv1.PublishSlotsResponse](), writes: true,
			own: func(a *actor) proto.Message { return f.publishReq(f.myUnit(a), "", day.Add(75*time.Hour)) },
			others: func(a *actor) []variant {
				if a.unit == nil {
					return nil
				}
				return []variant{
					{name: "at the other unit", req: f.publishReq(f.otherUnit(a), "", day.Add(76*time.Hour)), want: []connect.Code{connect.CodePermissionDenied}},
					{name: "with the other unit's resource", req: f.publishReq(f.myUnit(a), f.otherUnit(a).resource, day.Add(77*time.Hour))},
				}
			}},
		ac.ScheduleServiceInviteToAppointmentProcedure: {call: unary[apptv1.InviteToAppointmentRequest, apptv1.InviteToAppointmentResponse](), writes: true,
			own: func(a *actor) proto.Message {
				return f.inviteReq(f.myUnit(a), f.alice().id, day.Add(50*time.Hour), newKey("matrix-invite"))
			},
			others: func(a *actor) []variant {
				if a.unit == nil {
					return nil
				}
				vs := []variant{{name: "at the other unit", want: []connect.Code{connect.CodePermissionDenied},
					req: f.inviteReq(f.otherUnit(a), f.alice().id, day.Add(51*time.Hour), newKey("matrix-invite-other"))}}
				at := day.Add(52 * time.Hour)
				for _, u := range []*unit{f.otherUnit(a), f.myUnit(a)} {
					for _, p := range f.personsAt(u) {
						where := "the other unit's"
						if u == f.myUnit(a) {
							where = "their own unit's"
						}
						vs = append(vs,
							variant{name: fmt.Sprintf("replaying %s invitation key for %s", where, f.nameOf(p)), replay: true,
								req: f.inviteReq(f.myUnit(a), p.id, at, p.inviteKey)},
							variant{name: fmt.Sprintf("replaying the booking key of %s, booked at %s", f.nameOf(p), strings.TrimSuffix(where, "'s")), replay: true,
								req: f.inviteReq(f.myUnit(a), p.id, at, p.bookingKey)})
					}
				}
				return vs
			}},
		ac.ScheduleServiceListUnitScheduleProcedure: {call: unary[apptv1.ListUnitScheduleRequest, apptv1.ListUnitScheduleResponse](),
			own: func(a *actor) proto.Message {
				return &apptv1.ListUnitScheduleRequest{UnitHsaId: f.myUnit(a).hsaID, Date: f.myUnit(a).day}
			},
			others: func(a *actor) []variant {
				return f.perUnit(a, func(u, _ *unit) proto.Message {
					return &apptv1.ListUnitScheduleRequest{UnitHsaId: u.hsaID, Date: u.day}
				})
			}},
		ac.ScheduleServiceListResourcesProcedure: {call: unary[apptv1.ListResourcesRequest, apptv1.ListResourcesResponse](),
			own: func(a *actor) proto.Message { return &apptv1.ListResourcesRequest{UnitHsaId: f.myUnit(a).hsaID} },
			others: func(a *actor) []variant {
				return f.perUnit(a, func(u, _ *unit) proto.Message { return &apptv1.ListResourcesRequest{UnitHsaId: u.hsaID} })
			}},
		ac.ScheduleServiceCreateResourceProcedure: {call: unary[apptv1.CreateResourceRequest, apptv1.CreateResourceResponse](), writes: true,
			own: func(a *actor) proto.Message {
				return &apptv1.CreateResourceRequest{UnitHsaId: f.myUnit(a).hsaID, Kind: apptv1.ResourceKind_RESOURCE_KIND_ROOM, Name: "Rum 2"}
			},
			others: func(a *actor) []variant {
				return f.perUnit(a, func(u, _ *unit) proto.Message {
					return &apptv1.CreateResourceRequest{UnitHsaId: u.hsaID, Kind: apptv1.ResourceKind_RESOURCE_KIND_ROOM, Name: "Rum 3"}
				})
			}},
		ac.ScheduleServiceListSlotsProcedure: {call: unary[apptv1.ListSlotsRequest, apptv1.ListSlotsResponse](),
			own: func(a *actor) proto.Message {
				return &apptv1.ListSlotsRequest{UnitHsaId: f.myUnit(a).hsaID, StartTime: ts(day), EndTime: ts(day.AddDate(0, 0, 5))}
			},
			others: func(a *actor) []variant {
				return f.perUnit(a, func(u, _ *unit) proto.Message {
					return &apptv1.ListSlotsRequest{UnitHsaId: u.hsaID, StartTime: ts(day), EndTime: ts(day.AddDate(0, 0, 5))}
				})
			}},
		ac.ScheduleServiceUpdateSlotsProcedure: {call: unary[apptv1.UpdateSlotsRequest, apptv1.UpdateSlotsResponse](), writes: true,
			own: func(a *actor) proto.Message {
				return &apptv1.UpdateSlotsRequest{UnitHsaId: f.myUnit(a).hsaID, SlotIds: []string{f.myUnit(a).free[0]}, Block: true}
			},
			others: func(a *actor) []variant {
				vs := f.objectOfOtherUnit(a, func(u, other *unit) proto.Message {
					return &apptv1.UpdateSlotsRequest{UnitHsaId: u.hsaID, SlotIds: []string{other.booked}, Block: true, CancelBooked: true}
				})
				if a.unit != nil {
					vs = append(vs, variant{name: "on their own and the other unit's slots", req: &apptv1.UpdateSlotsRequest{UnitHsaId: a.unit.hsaID,
						SlotIds: []string{a.unit.booked, f.otherUnit(a).booked}, Block: true, CancelBooked: true}})
				}
				return vs
			}},
		ac.ScheduleServiceMoveSlotProcedure: {call: unary[apptv1.MoveSlotRequest, apptv1.MoveSlotResponse](), writes: true,
			own: func(a *actor) proto.Message {
				return &apptv1.MoveSlotRequest{UnitHsaId: f.myUnit(a).hsaID, SlotId: f.myUnit(a).free[1], NewStartTime: ts(day.Add(80 * time.Hour))}
			},
			others: func(a *actor) []variant {
				return f.objectOfOtherUnit(a, func(u, other *unit) proto.Message {
					return &apptv1.MoveSlotRequest{UnitHsaId: u.hsaID, SlotId: other.booked, NewStartTime: ts(day.Add(81 * time.Hour))}
				})
			}},
		ac.ScheduleServiceReportDelayProcedure: {call: unary[apptv1.ReportDelayRequest, apptv1.ReportDelayResponse](), writes: true,
			own: func(a *actor) proto.Message {
				return &apptv1.ReportDelayRequest{UnitHsaId: f.myUnit(a).hsaID, AppointmentIds: f.myUnit(a).appts[:1], Minutes: 10}
			},
			others: func(a *actor) []variant {
				vs := f.objectOfOtherUnit(a, func(u, other *unit) proto.Message {
					return &apptv1.ReportDelayRequest{UnitHsaId: u.hsaID, AppointmentIds: other.appts, Minutes: 10}
				})
				if a.unit != nil {
					vs = append(vs, variant{name: "on their own and the other unit's appointments", req: &apptv1.ReportDelayRequest{UnitHsaId: a.unit.hsaID,
						AppointmentIds: []string{a.unit.appts[0], f.otherUnit(a).appts[0]}, Minutes: 10}})
				}
				return vs
			}},
		ac.ScheduleServiceSetArrivalProcedure: {call: unary[apptv1.SetArrivalRequest, apptv1.SetArrivalResponse](), writes: true,
			own: func(a *actor) proto.Message {
				return &apptv1.SetArrivalRequest{UnitHsaId: f.myUnit(a).hsaID, AppointmentId: f.myUnit(a).appts[0], Arrival: apptv1.Arrival_ARRIVAL_ARRIVED}
			},
			others: func(a *actor) []variant {
				return f.objectOfOtherUnit(a, func(u, other *unit) proto.Message {
					return &apptv1.SetArrivalRequest{UnitHsaId: u.hsaID, AppointmentId: other.appts[0], Arrival: apptv1.Arrival_ARRIVAL_NOSHOW}
				})
			}},
		ac.ScheduleServiceListUnitNoticesProcedure: {call: unary[apptv1.ListUnitNoticesRequest, apptv1.ListUnitNoticesResponse](),
			own: func(a *actor) proto.Message { return &apptv1.ListUnitNoticesRequest{UnitHsaId: f.myUnit(a).hsaID} },
			others: func(a *actor) []variant {
				return f.perUnit(a, func(u, _ *unit) proto.Message { return &apptv1.ListUnitNoticesRequest{UnitHsaId: u.hsaID} })
			}},
		ac.ScheduleServiceWatchUnitNoticesProcedure: {call: serverStream[apptv1.WatchUnitNoticesRequest, apptv1.WatchUnitNoticesResponse](),
			own: func(a *actor) proto.Message { return &apptv1.WatchUnitNoticesRequest{UnitHsaId: f.myUnit(a).hsaID} },
			others: func(a *actor) []variant {
				return f.perUnit(a, func(u, _ *unit) proto.Message { return &apptv1.WatchUnitNoticesRequest{UnitHsaId: u.hsaID} })
			}},
	}
}

// selfOf is the citizen a's own person (Alice for callers who are no
// citizen): devices and the inbox are a citizen's own, never a child's.
func (f *fixture) selfOf(a *actor) *person {
	if a.self != nil {
		return a.self
	}
	return f.alice()
}

func (f *fixture) search(patient string) *apptv1.SearchSlotsRequest {
	from := f.day.AddDate(0, 0, -1)
	return &apptv1.SearchSlotsRequest{Service: apptv1.Service_SERVICE_PHONE, UnitHsaId: f.unitA.hsaID,
		StartTime: timestamppb.New(from), EndTime: timestamppb.New(from.AddDate(0, 0, 7)), PatientId: patient}
}

func (f *fixture) respond(appt string) *apptv1.RespondToInvitationRequest {
	return &apptv1.RespondToInvitationRequest{AppointmentId: appt, Response: apptv1.InvitationResponse_INVITATION_RESPONSE_CONFIRM}
}

func (f *fixture) publishReq(u *unit, resource string, start time.Time) *apptv1.PublishSlotsRequest {
	return &apptv1.PublishSlotsRequest{UnitHsaId: u.hsaID, Service: apptv1.Service_SERVICE_PHONE, StartTime: timestamppb.New(start),
		EndTime: timestamppb.New(start.Add(30 * time.Minute)), SlotDuration: durationpb.New(15 * time.Minute), Capacity: 1, ResourceId: resource}
}

func (f *fixture) inviteReq(u *unit, patient string, start time.Time, key string) *apptv1.InviteToAppointmentRequest {
	return &apptv1.InviteToAppointmentRequest{UnitHsaId: u.hsaID, PatientId: patient, Service: apptv1.Service_SERVICE_PHONE,
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(20 * time.Minute)), Profession: "Läkare", IdempotencyKey: key}
}

// refusedByRules is the code the rules table refuses a with, if it does.
func refusedByRules(r server.Rule, a *actor) (connect.Code, bool) {
	switch {
	case r.Public:
		return 0, false
	case a.auth == nil:
		return connect.CodeUnauthenticated, true
	case len(r.Roles) > 0 && !a.has(r.Roles...):
		return connect.CodePermissionDenied, true
	case r.Care && !a.caresNow():
		return connect.CodePermissionDenied, true
	}
	return 0, false
}

// procedures are every RPC the generated service descriptors declare.
func procedures(t *testing.T) []string {
	t.Helper()
	var procs []string
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), "nara.") {
			return true
		}
		for i := 0; i < fd.Services().Len(); i++ {
			s := fd.Services().Get(i)
			for j := 0; j < s.Methods().Len(); j++ {
				procs = append(procs, fmt.Sprintf("/%s/%s", s.FullName(), s.Methods().Get(j).Name()))
			}
		}
		return true
	})
	sort.Strings(procs)
	if len(procs) == 0 {
		t.Fatal("no procedures in the generated descriptors")
	}
	return procs
}

// call is one request of the matrix and what it must answer.
type call struct {
	procedure string
	caller    *actor
	what      string
	req       proto.Message
	invoke    invoker
	// want are the codes a call on another's object may get.
	want []connect.Code
}

func (c call) String() string { return fmt.Sprintf("%s as %s %s", c.procedure, c.caller.name, c.what) }

// TestAuthorizationMatrix calls every RPC as every kind of caller, on their
// own objects and on others', and checks the answers against the rules
// table: refused callers get Unauthenticated or PermissionDenied, another
// person's or unit's object is NotFound and nothing in the database
// changes, idempotency keys someone else used never answer with their
// object, no answer carries what is not the caller's, and every staff read
// of patient data is in the access log.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	f := newMatrixFixture(t)
	rules := server.ProcedureRules(f.e.srv)
	cases := f.matrixCases()
	maps.Copy(cases, f.supportCases())

	procs := procedures(t)
	for _, p := range procs {
		if _, ok := cases[p]; !ok {
			t.Errorf("procedure %s has no case in the authorization matrix; add one to matrixCases", p)
		}
		if _, ok := rules[p]; !ok {
			t.Errorf("procedure %s has no authorization rule", p)
		}
	}
	for _, p := range append(sortedKeys(cases), sortedKeys(rules)...) {
		if !slices.Contains(procs, p) {
			t.Errorf("%s is in the matrix or the rules table but not in the service descriptors", p)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	f.checkRoles(t)

	var refused, others, replays, reads, writes, last []call
	for _, proc := range procs {
		c, r := cases[proc], rules[proc]
		for _, a := range f.actors {
			own := call{procedure: proc, caller: a, what: "on their own", req: c.own(a), invoke: c.call}
			if _, no := refusedByRules(r, a); no {
				refused = append(refused, own)
				continue
			}
			switch {
			case c.last:
				last = append(last, own)
			case c.writes:
				writes = append(writes, own)
			default:
				reads = append(reads, own)
			}
			if c.others == nil {
				continue
			}
			for _, v := range c.others(a) {
				vc := call{procedure: proc, caller: a, what: v.name, req: v.req, invoke: c.call, want: v.want}
				if v.replay {
					replays = append(replays, vc)
					continue
				}
				others = append(others, vc)
			}
		}
	}

	// Signing out everywhere ends the sessions every other call uses.
	var ending []call
	last = slices.DeleteFunc(last, func(c call) bool {
		if c.procedure == authv1connect.SessionServiceSignOutEverywhereProcedure {
			ending = append(ending, c)
			return true
		}
		return false
	})
	last = append(last, ending...)
	t.Logf("%d procedures, %d actors: %d calls refused by the rules, %d on others' objects, %d replays, %d on their own",
		len(procs), len(f.actors), len(refused), len(others), len(replays), len(reads)+len(writes)+len(last))

	ctx := context.Background()
	before := f.snapshot(t)
	// Refused callers and others' objects: the answers the rules table
	// and ownership give, and not one row changed.
	parallel(refused, func(c call) {
		want, _ := refusedByRules(rules[c.procedure], c.caller)
		if _, err := c.invoke(ctx, f.e, c.caller.auth, c.procedure, c.req); connect.CodeOf(err) != want {
			t.Errorf("%s: got %v, want %v as the rules table says", c, errText(err), want)
		}
	})
	parallel(others, func(c call) {
		want := c.want
		if len(want) == 0 {
			want = notFound
		}
		res, err := c.invoke(ctx, f.e, c.caller.auth, c.procedure, c.req)
		if code := connect.CodeOf(err); !slices.Contains(want, code) && !(err == nil && slices.Contains(want, 0)) {
			t.Errorf("%s: got %v, want one of %v", c, errText(err), want)
		}
		f.checkAnswer(t, c, res)
	})
	f.compare(t, "refused calls and calls on others' objects", before, f.snapshot(t), false)

	// Replayed idempotency keys and installation ids may make something of
	// the caller's own, but must leave what the other made as it was.
	before = f.snapshot(t)
	for _, c := range replays {
		f.run(t, c, nil, true)
	}
	f.compare(t, "replayed keys and ids", before, f.snapshot(t), true)

	// Own objects: let through, answering only what is the caller's, with
	// staff reads of patient data access-logged.
	parallel(reads, func(c call) { f.run(t, c, cases[c.procedure].ownCodes, false) })
	for _, group := range [][]call{writes, last} {
		for _, c := range group {
			f.run(t, c, cases[c.procedure].ownCodes, false)
		}
	}
}

// matrixWorkers is how many calls of the matrix run at once.
const matrixWorkers = 8

func parallel(calls []call, do func(call)) {
	var wg sync.WaitGroup
	ch := make(chan call)
	for range matrixWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range ch {
				do(c)
			}
		}()
	}
	for _, c := range calls {
		ch <- c
	}
	close(ch)
	wg.Wait()
}

func errText(err error) string {
	if err == nil {
		return "success"
	}
	return err.Error()
}

// run makes an own or replayed call: it must not be refused (or must be
// refused as ownCodes says), its answer must carry only what is the
// caller's, and a staff member's read of patient data must be logged.
func (f *fixture) run(t *testing.T, c call, ownCodes func(*actor) []connect.Code, replay bool) {
	t.Helper()
	ctx := context.Background()
	var lastLog int64
	if err := f.e.store.Pool().QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM access_log`).Scan(&lastLog); err != nil {
		t.Fatal(err)
	}
	res, err := c.invoke(ctx, f.e, c.caller.auth, c.procedure, c.req)
	code := connect.CodeOf(err)
	var want []connect.Code
	if ownCodes != nil {
		want = ownCodes(c.caller)
	}
	switch {
	case want != nil && !slices.Contains(want, code):
		t.Errorf("%s: got %v, want one of %v", c, errText(err), want)
	case err != nil && (code == connect.CodeInternal || code == connect.CodeUnknown):
		t.Errorf("%s: got %v", c, errText(err))
	case want == nil && !replay && slices.Contains(refusals, code):
		t.Errorf("%s: got %v, want it let through", c, errText(err))
	}
	f.checkAnswer(t, c, res)
	if c.caller.hsaID == "" || len(res) == 0 {
		return
	}
	patients := f.patientsIn(res)
	if len(patients) == 0 {
		return
	}
	rows, err := f.e.store.Pool().Query(ctx, `SELECT patient_id::text FROM access_log WHERE id > $1 AND staff_hsa_id = $2 AND procedure = $3`,
		lastLog, c.caller.hsaID, c.procedure)
	if err != nil {
		t.Fatal(err)
	}
	logged := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		logged[id] = true
	}
	rows.Close()
	for _, p := range sortedKeys(patients) {
		if !logged[p] {
			t.Errorf("%s: the answer shows patient %s (%s) but the access log has no entry for it", c, p, patients[p])
		}
	}
}

// checkAnswer fails when an answer carries an id, name or key that belongs
// to someone the caller may not see.
func (f *fixture) checkAnswer(t *testing.T, c call, res []proto.Message) {
	t.Helper()
	if len(res) == 0 {
		return
	}
	secrets := f.secretsFor(c.caller)
	// What the caller sent is no secret to them.
	walkStrings(c.req.ProtoReflect(), func(_ protoreflect.FieldDescriptor, s string) { delete(secrets, s) })
	for _, m := range res {
		walkStrings(m.ProtoReflect(), func(_ protoreflect.FieldDescriptor, s string) {
			for secret, whose := range secrets {
				if strings.Contains(s, secret) {
					t.Errorf("%s: the answer carries %s (%q)", c, whose, secret)
				}
			}
		})
	}
}

// secretsFor maps what a may not see to whose it is.
func (f *fixture) secretsFor(a *actor) map[string]string {
	out := map[string]string{}
	for name, p := range f.persons {
		mine := slices.Contains(a.acts, p)
		// A clinician sees the patients of their unit's appointments.
		atMyUnit := a.unit != nil && a.caresNow() && slices.Contains(f.personsAt(a.unit), p)
		if !mine {
			// An installation id is the app's own name, not a secret; the token is.
			out[p.pushToken] = name + "'s push token"
		}
		if !mine && !atMyUnit {
			out[p.appt] = name + "'s appointment"
			out[p.invite] = name + "'s invitation"
			for _, text := range p.private {
				out[text] = name + "'s private text"
			}
		}
		// Support staff see every support case's citizen, access-logged.
		desk := slices.Contains(a.roles, access.RoleSupportFirstLine) || slices.Contains(a.roles, access.RoleSupportSecondLine)
		if !mine && a.unit == nil && (!desk || p.supportCase == "") {
			// Staff may find any patient, access-logged; others may not.
			out[p.id] = name + "'s person id"
			out[p.fullName] = name + "'s name"
		}
		if !mine && !desk && p.supportCase != "" {
			out[p.supportCase] = name + "'s support case"
			out[p.supportAttachment] = name + "'s support attachment"
		}
	}
	if !slices.Contains(a.roles, access.RoleSupportFirstLine) && !slices.Contains(a.roles, access.RoleSupportSecondLine) && f.guestCase != "" {
		out[f.guestCase] = "a guest's support case"
		out[f.guestAttachment] = "a guest's support attachment"
	}
	for _, u := range []*unit{f.unitA, f.unitB} {
		if a.unit != u && a.hsaID != "" {
			out[u.resource] = "unit " + u.hsaID + "'s resource"
			for _, appt := range u.appts {
				out[appt] = "an appointment at unit " + u.hsaID
			}
		}
	}
	for _, b := range f.actors {
		if b != a && b.sessionID != "" {
			out[b.sessionID] = b.name + "'s session"
			out[b.spareSession] = b.name + "'s session"
		}
	}
	delete(out, "")
	return out
}

// patientsIn are the patients an answer shows: every patient_id, every
// Patient's id, and every fixture person named.
func (f *fixture) patientsIn(res []proto.Message) map[string]string {
	out := map[string]string{}
	for _, m := range res {
		walkStrings(m.ProtoReflect(), func(fd protoreflect.FieldDescriptor, s string) {
			if fd.Name() == "patient_id" || (fd.Name() == "id" && fd.ContainingMessage().Name() == "Patient") {
				if s != "" {
					out[s] = "by id"
				}
			}
			for _, p := range f.persons {
				if strings.Contains(s, p.fullName) || s == p.id {
					out[p.id] = p.fullName
				}
			}
		})
	}
	return out
}

// walkStrings calls do with every string field set anywhere in m.
func walkStrings(m protoreflect.Message, do func(protoreflect.FieldDescriptor, string)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				visit(fd, l.Get(i), do)
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				visit(fd.MapValue(), mv, do)
				return true
			})
		default:
			visit(fd, v, do)
		}
		return true
	})
}

func visit(fd protoreflect.FieldDescriptor, v protoreflect.Value, do func(protoreflect.FieldDescriptor, string)) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		do(fd, v.String())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		walkStrings(v.Message(), do)
	}
}

// checkRoles checks the fixture against the server: each actor is what
// the matrix expects the rules table to see.
func (f *fixture) checkRoles(t *testing.T) {
	t.Helper()
	for _, a := range f.actors {
		if a.auth == nil {
			continue
		}
		res, err := authv1connect.NewSessionServiceClient(f.e.client, f.e.url, a.auth).GetMe(context.Background(), &authv1.GetMeRequest{})
		if err != nil {
			t.Fatalf("%s: GetMe: %v", a.name, err)
		}
		var got []access.Role
		for _, r := range res.Me.Roles {
			got = append(got, access.Role(strings.ToLower(strings.TrimPrefix(r.String(), "ROLE_"))))
		}
		want := slices.Clone(a.roles)
		if a.assignment != nil && !a.caresNow() {
			// The session carries the role; its assignment no longer allows care.
			want = slices.DeleteFunc(want, func(r access.Role) bool { return r == access.RoleClinician })
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the server sees roles %v, the matrix expects %v", a.name, got, want)
		}
	}
}
