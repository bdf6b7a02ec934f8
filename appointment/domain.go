// Package appointment is booking and the unit's schedule: the care units
// and their free times, a citizen's appointments (booked for themselves or
// a child in their custody), invitations, cancel and rebook, the private
// calendar feed, and a unit's side — publishing and moving times, delays,
// arrivals, the day's schedule and patients' notices. Citizens' lists are
// kept in memory per replica and dropped through the change feed the
// moment they change anywhere.
package appointment

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/changefeed"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
	"github.com/nara-care/nara/push/notify"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// Config sets how appointments are served.
type Config struct {
	// ListCacheSize is how many citizens' appointment lists are kept in
	// memory per replica; -1 disables the cache. Default 100 000.
	ListCacheSize int
	// PublicURL is the address apps and calendars reach the server at, for
	// calendar feed links.
	PublicURL string
}

// Deps are what appointments need. All are required but Registry and Now.
type Deps struct {
	Logger *slog.Logger
	Store  *store.Store
	// Hub delivers every replica's changes to lists and unit notices.
	Hub *changefeed.Hub
	// Notify schedules reminders and notices in the transactions that book,
	// cancel and move appointments. It need not be started to schedule.
	Notify *notify.Service
	// Registry receives the list cache's metrics; nil keeps them
	// unregistered.
	Registry prometheus.Registerer
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Appointments serves AppointmentService (citizens), ScheduleService
// (clinicians within their care assignment's unit) and the calendar feed.
// It is a rpc.Domain.
type Appointments struct {
	citizen  *appointmentService
	schedule *scheduleService
	feeds    *calendarFeeds
	lists    *listCache
}

// New returns appointments over d.
func New(cfg Config, d Deps) (*Appointments, error) {
	if cfg.ListCacheSize == 0 {
		cfg.ListCacheSize = 100_000
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	// Unit schedules are kept in Swedish local time; the binary embeds the
	// time zone database.
	zone, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		return nil, err
	}
	lists, err := newListCache(d.Store, cfg.ListCacheSize, d.Registry)
	if err != nil {
		return nil, err
	}
	d.Hub.Follow(store.TopicAppointmentList, lists)
	custody := rpc.NewCustody(d.Store, d.Now)
	feeds := newCalendarFeeds(d.Store, custody, d.Logger, d.Now, cfg.PublicURL)
	return &Appointments{
		citizen: &appointmentService{
			store: d.Store, custody: custody, notify: d.Notify, now: d.Now, zone: zone, feeds: feeds, lists: lists,
		},
		schedule: &scheduleService{
			store: d.Store, custody: custody, notify: d.Notify, now: d.Now, zone: zone, hub: d.Hub,
		},
		feeds: feeds,
		lists: lists,
	}, nil
}

// Mount serves both services and the calendar feed. Booking is the
// citizen's own, or for a child in their custody; an appointment named by
// id is checked against its patient in the store. The unit's side acts
// within the unit of the selected care assignment.
func (a *Appointments) Mount(m *rpc.Mount) error {
	opts := m.Options()
	path, h := appointmentv1connect.NewAppointmentServiceHandler(a.citizen, opts)
	m.Service(appointmentv1connect.AppointmentServiceName, path, h)
	m.Public(appointmentv1connect.AppointmentServiceListCareUnitsProcedure)
	m.Rule(rpc.PatientRule,
		appointmentv1connect.AppointmentServiceSearchSlotsProcedure,
		appointmentv1connect.AppointmentServiceBookSlotProcedure,
		appointmentv1connect.AppointmentServiceListAppointmentsProcedure,
	)
	m.Roles([]access.Role{access.RoleCitizen},
		appointmentv1connect.AppointmentServiceCancelAppointmentProcedure,
		appointmentv1connect.AppointmentServiceRebookAppointmentProcedure,
		appointmentv1connect.AppointmentServiceGetAppointmentCalendarProcedure,
		appointmentv1connect.AppointmentServiceRespondToInvitationProcedure,
		appointmentv1connect.AppointmentServiceReportLateProcedure,
		appointmentv1connect.AppointmentServiceCreateCalendarFeedProcedure,
		appointmentv1connect.AppointmentServiceRevokeCalendarFeedProcedure,
	)
	path, h = appointmentv1connect.NewScheduleServiceHandler(a.schedule, opts)
	m.Service(appointmentv1connect.ScheduleServiceName, path, h)
	m.Rule(rpc.UnitRule,
		appointmentv1connect.ScheduleServicePublishSlotsProcedure,
		appointmentv1connect.ScheduleServiceInviteToAppointmentProcedure,
		appointmentv1connect.ScheduleServiceListUnitScheduleProcedure,
		appointmentv1connect.ScheduleServiceListResourcesProcedure,
		appointmentv1connect.ScheduleServiceCreateResourceProcedure,
		appointmentv1connect.ScheduleServiceListSlotsProcedure,
		appointmentv1connect.ScheduleServiceUpdateSlotsProcedure,
		appointmentv1connect.ScheduleServiceMoveSlotProcedure,
		appointmentv1connect.ScheduleServiceReportDelayProcedure,
		appointmentv1connect.ScheduleServiceSetArrivalProcedure,
		appointmentv1connect.ScheduleServiceListUnitNoticesProcedure,
		appointmentv1connect.ScheduleServiceWatchUnitNoticesProcedure,
	)
	m.Page("GET /calendar/{file}", a.feeds)
	m.Encoder(a.lists)
	return nil
}
