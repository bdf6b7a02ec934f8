package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
)

// stockholmDay is 00:00 in Stockholm days days from today.
func stockholmDay(t *testing.T, days int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	d := time.Now().In(loc).AddDate(0, 0, days)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
}

// inviter returns a function that invites a patient to a time of the
// clinician's at the home unit, each call with its own idempotency key.
func (e *env) inviter(t *testing.T, clinician connect.ClientOption) func(patientID string, svc apptv1.Service, start time.Time, confirm bool) *apptv1.Appointment {
	schedule := appointmentv1connect.NewScheduleServiceClient(e.client, e.url, clinician)
	n := 0
	return func(patientID string, svc apptv1.Service, start time.Time, confirm bool) *apptv1.Appointment {
		t.Helper()
		n++
		res, err := schedule.InviteToAppointment(context.Background(), &apptv1.InviteToAppointmentRequest{
			UnitHsaId: homeUnit, PatientId: patientID, Service: svc,
			StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(20 * time.Minute)),
			ConfirmRequired: confirm, Profession: "Läkare", IdempotencyKey: fmt.Sprintf("citizen-test-invite-%d", n),
		})
		if err != nil {
			t.Fatalf("InviteToAppointment: %v", err)
		}
		return res.Appointment
	}
}

func TestRespondToInvitation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	annaSession := e.login(t, anna)
	annaID, lillaID := annaSession.Me.Subject, annaSession.Me.CanActFor[1].Id
	c := e.booking(bearer(annaSession.AccessToken))
	doctor := e.clinicianAt(t, "SE2321000016-D001", homeUnit)
	invite := e.inviter(t, doctor)
	day := stockholmDay(t, 3)
	pending := func(id string) int {
		return e.count(t, `SELECT count(*) FROM push_notice WHERE reason_id = $1 AND kind = 'reminder' AND state = 'pending'`, id)
	}
	respond := func(id string, r apptv1.InvitationResponse, msg string) (*apptv1.Appointment, error) {
		res, err := c.RespondToInvitation(ctx, &apptv1.RespondToInvitationRequest{AppointmentId: id, Response: r, Message: msg})
		if err != nil {
			return nil, err
		}
		return res.Appointment, nil
	}

	// Confirm: booked, reminders kept (three for video); again changes nothing.
	video := invite(annaID, apptv1.Service_SERVICE_VIDEO_VISIT, day.Add(9*time.Hour), true)
	if !video.CanRespond || video.Status != apptv1.Status_STATUS_PROPOSED {
		t.Fatalf("invitation got %v, want proposed and answerable", video)
	}
	confirmed, err := respond(video.Id, apptv1.InvitationResponse_INVITATION_RESPONSE_CONFIRM, "")
	if err != nil {
		t.Fatal(err)
	}
	if confirmed.Status != apptv1.Status_STATUS_BOOKED || confirmed.InvitationResponse != apptv1.InvitationResponse_INVITATION_RESPONSE_CONFIRM ||
		confirmed.CanRespond || confirmed.Version != video.Version+1 || !confirmed.UpdateTime.AsTime().After(video.UpdateTime.AsTime()) {
		t.Errorf("confirmed invitation got %v", confirmed)
	}
	if n := pending(video.Id); n != 3 {
		t.Errorf("reminders after confirming got %d, want 3", n)
	}
	if again, err := respond(video.Id, apptv1.InvitationResponse_INVITATION_RESPONSE_CONFIRM, ""); err != nil || again.Version != confirmed.Version {
		t.Errorf("confirming twice got %v, %v; want the appointment unchanged (version %d)", again, err, confirmed.Version)
	}
	if _, err := respond(video.Id, apptv1.InvitationResponse_INVITATION_RESPONSE_DECLINE, ""); connect.CodeOf(err) != connect.CodeFailedPrecondition ||
		!strings.Contains(err.Error(), "already confirmed") {
		t.Errorf("declining a confirmed time got %v, want FailedPrecondition saying it is confirmed", err)
	}

	// A guardian asks for another time for Lilla: pending, no reminders,
	// and the unit reads the message in its schedule.
	visit := invite(lillaID, apptv1.Service_SERVICE_PHYSICAL_VISIT, day.Add(10*time.Hour), true)
	if n := pending(visit.Id); n != 4 {
		t.Fatalf("reminders of Lilla's invitation got %d, want 4 (Lilla and Anna, 24 h and 1 h)", n)
	}
	const msg = "Hellre en eftermiddag, efter förskolan."
	asked, err := respond(visit.Id, apptv1.InvitationResponse_INVITATION_RESPONSE_ASK_OTHER_TIME, msg)
	if err != nil {
		t.Fatal(err)
	}
	if asked.Status != apptv1.Status_STATUS_PENDING || asked.PatientMessage != msg || !asked.CanRespond ||
		asked.InvitationResponse != apptv1.InvitationResponse_INVITATION_RESPONSE_ASK_OTHER_TIME || asked.Version != visit.Version+1 {
		t.Errorf("asking for another time got %v", asked)
	}
	if n := pending(visit.Id); n != 0 {
		t.Errorf("reminders while asking for another time got %d, want 0", n)
	}
	if again, err := respond(visit.Id, apptv1.InvitationResponse_INVITATION_RESPONSE_ASK_OTHER_TIME, msg); err != nil || again.Version != asked.Version {
		t.Errorf("asking twice got %v, %v; want the appointment unchanged", again, err)
	}
	schedule, err := appointmentv1connect.NewScheduleServiceClient(e.client, e.url, doctor).ListUnitSchedule(ctx,
		&apptv1.ListUnitScheduleRequest{UnitHsaId: homeUnit, Date: day.Format(time.DateOnly)})
	if err != nil {
		t.Fatal(err)
	}
	var seen bool
	for _, a := range schedule.Appointments {
		if a.Id == visit.Id {
			seen = a.PatientMessage == msg && a.Status == apptv1.Status_STATUS_PENDING
		}
	}
	if !seen {
		t.Errorf("unit schedule got %v, want Lilla's pending visit with her guardian's message", schedule.Appointments)
	}
	// Confirming after all books it and brings the reminders back.
	booked, err := respond(visit.Id, apptv1.InvitationResponse_INVITATION_RESPONSE_CONFIRM, "")
	if err != nil || booked.Status != apptv1.Status_STATUS_BOOKED || booked.Version != asked.Version+1 {
		t.Errorf("confirming a pending time got %v, %v; want booked", booked, err)
	}
	if n := pending(visit.Id); n != 4 {
		t.Errorf("reminders after confirming a pending time got %d, want 4", n)
	}

	// Decline: cancelled, the place freed, no reminders; twice is the same.
	phone := invite(lillaID, apptv1.Service_SERVICE_PHONE, day.Add(11*time.Hour), true)
	declined, err := respond(phone.Id, apptv1.InvitationResponse_INVITATION_RESPONSE_DECLINE, "Vi har flyttat.")
	if err != nil {
		t.Fatal(err)
	}
	if declined.Status != apptv1.Status_STATUS_CANCELLED || declined.CanRespond || declined.CanCancel || declined.PatientMessage != "Vi har flyttat." {
		t.Errorf("declined invitation got %v", declined)
	}
	if n := e.count(t, `SELECT s.booked FROM slot s JOIN appointment a ON a.slot_id = s.id WHERE a.id = $1`, phone.Id); n != 0 {
		t.Errorf("slot count after declining got %d, want 0", n)
	}
	if n := pending(phone.Id); n != 0 {
		t.Errorf("reminders after declining got %d, want 0", n)
	}
	if again, err := respond(phone.Id, apptv1.InvitationResponse_INVITATION_RESPONSE_DECLINE, "Vi har flyttat."); err != nil || again.Version != declined.Version {
		t.Errorf("declining twice got %v, %v; want the appointment unchanged", again, err)
	}

	// Wrong states, with a message the app can show.
	slots := e.publish(t, doctor, homeUnit, apptv1.Service_SERVICE_PHYSICAL_VISIT, day.Add(13*time.Hour), 1, 20*time.Minute, 1)
	own, err := c.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[0].Id, IdempotencyKey: "own-booking-1"})
	if err != nil {
		t.Fatal(err)
	}
	started := invite(annaID, apptv1.Service_SERVICE_PHONE, day.Add(14*time.Hour), true)
	if _, err := e.store.Pool().Exec(ctx, `
		UPDATE slot SET starts_at = now() - interval '5 minutes', ends_at = now() + interval '15 minutes'
		 WHERE id = (SELECT slot_id FROM appointment WHERE id = $1)`, started.Id); err != nil {
		t.Fatal(err)
	}
	wrong := []struct {
		name, id string
		answer   apptv1.InvitationResponse
		says     string
	}{
		{"booked by the patient", own.Appointment.Id, apptv1.InvitationResponse_INVITATION_RESPONSE_CONFIRM, "already booked"},
		{"declined", phone.Id, apptv1.InvitationResponse_INVITATION_RESPONSE_CONFIRM, "cancelled"},
		{"started", started.Id, apptv1.InvitationResponse_INVITATION_RESPONSE_DECLINE, "passed"},
	}
	for _, tt := range wrong {
		_, err := respond(tt.id, tt.answer, "")
		if connect.CodeOf(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("RespondToInvitation(%s) got %v, want FailedPrecondition saying %q", tt.name, err, tt.says)
		}
	}

	// Another person's invitation is not found, and stays as it was.
	other := invite(annaID, apptv1.Service_SERVICE_VIDEO_VISIT, day.Add(15*time.Hour), true)
	tolvanClient := e.booking(e.citizen(t, tolvan))
	_, err = tolvanClient.RespondToInvitation(ctx, &apptv1.RespondToInvitationRequest{
		AppointmentId: other.Id, Response: apptv1.InvitationResponse_INVITATION_RESPONSE_DECLINE,
	})
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("answering another's invitation got %v, want NotFound", err)
	}
	if n := e.count(t, `SELECT count(*) FROM appointment WHERE id = $1 AND status = 'proposed' AND version = 1`, other.Id); n != 1 {
		t.Errorf("another's answer changed the invitation")
	}

	// Bad input.
	bad := []struct {
		name string
		req  *apptv1.RespondToInvitationRequest
	}{
		{"malformed id", &apptv1.RespondToInvitationRequest{AppointmentId: "not-a-uuid", Response: apptv1.InvitationResponse_INVITATION_RESPONSE_CONFIRM}},
		{"no answer", &apptv1.RespondToInvitationRequest{AppointmentId: other.Id}},
		{"unknown answer", &apptv1.RespondToInvitationRequest{AppointmentId: other.Id, Response: 99}},
		{"long message", &apptv1.RespondToInvitationRequest{
			AppointmentId: other.Id, Response: apptv1.InvitationResponse_INVITATION_RESPONSE_ASK_OTHER_TIME, Message: strings.Repeat("x", 501),
		}},
	}
	for _, tt := range bad {
		if _, err := c.RespondToInvitation(ctx, tt.req); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("RespondToInvitation(%s) got %v, want InvalidArgument", tt.name, err)
		}
	}
	if _, err := c.RespondToInvitation(ctx, &apptv1.RespondToInvitationRequest{
		AppointmentId: "00000000-0000-4000-8000-000000000000", Response: apptv1.InvitationResponse_INVITATION_RESPONSE_CONFIRM,
	}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("answering an unknown appointment got %v, want NotFound", err)
	}
}

func TestReportLate(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	annaSession := e.login(t, anna)
	lillaID := annaSession.Me.CanActFor[1].Id
	c := e.booking(bearer(annaSession.AccessToken))
	nurse := e.clinicianAt(t, "SE2321000016-N001", homeUnit)
	soon := e.publish(t, nurse, homeUnit, apptv1.Service_SERVICE_COVID_TEST, hourFromNow(2*time.Hour), 2, 15*time.Minute, 1)
	later := e.publish(t, nurse, homeUnit, apptv1.Service_SERVICE_PHYSICAL_VISIT, hourFromNow(72*time.Hour), 2, 20*time.Minute, 1)
	book := func(slot, patient, key string) *apptv1.Appointment {
		t.Helper()
		res, err := c.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slot, PatientId: patient, IdempotencyKey: key})
		if err != nil {
			t.Fatalf("BookSlot: %v", err)
		}
		return res.Appointment
	}
	late := func(id string, minutes int32) (*apptv1.Appointment, error) {
		res, err := c.ReportLate(ctx, &apptv1.ReportLateRequest{AppointmentId: id, Minutes: minutes})
		if err != nil {
			return nil, err
		}
		return res.Appointment, nil
	}

	// Within the day: reported, the same again changes nothing, zero takes it back.
	test := book(soon[0].Id, "", "late-covid-test")
	reported, err := late(test.Id, 15)
	if err != nil {
		t.Fatal(err)
	}
	if reported.PatientLateMinutes != 15 || reported.Version != test.Version+1 {
		t.Errorf("reported late got %v, want 15 minutes and a new version", reported)
	}
	if again, err := late(test.Id, 15); err != nil || again.Version != reported.Version {
		t.Errorf("reporting the same again got %v, %v; want unchanged", again, err)
	}
	// The unit sees it in its schedule.
	loc, _ := time.LoadLocation("Europe/Stockholm")
	schedule := appointmentv1connect.NewScheduleServiceClient(e.client, e.url, nurse)
	day, err := schedule.ListUnitSchedule(ctx, &apptv1.ListUnitScheduleRequest{
		UnitHsaId: homeUnit, Date: soon[0].StartTime.AsTime().In(loc).Format(time.DateOnly),
	})
	if err != nil {
		t.Fatal(err)
	}
	var shown int32 = -1
	for _, a := range day.Appointments {
		if a.Id == test.Id {
			shown = a.PatientLateMinutes
		}
	}
	if shown != 15 {
		t.Errorf("unit schedule shows %d minutes late, want 15", shown)
	}
	if back, err := late(test.Id, 0); err != nil || back.PatientLateMinutes != 0 || back.Version != reported.Version+1 {
		t.Errorf("taking it back got %v, %v; want 0 minutes", back, err)
	}

	// A guardian reports for the child.
	child := book(soon[1].Id, lillaID, "late-covid-lilla")
	if got, err := late(child.Id, 10); err != nil || got.PatientLateMinutes != 10 || got.PatientId != lillaID {
		t.Errorf("reporting late for Lilla got %v, %v; want 10 minutes", got, err)
	}

	// Too early, cancelled, passed or already there: FailedPrecondition.
	early := book(later[0].Id, "", "late-too-early")
	cancelled := book(later[1].Id, lillaID, "late-cancelled")
	if _, err := c.CancelAppointment(ctx, &apptv1.CancelAppointmentRequest{AppointmentId: cancelled.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Pool().Exec(ctx, `
		UPDATE slot SET starts_at = now() - interval '2 hours', ends_at = now() - interval '105 minutes' WHERE id = $1`, soon[1].Id); err != nil {
		t.Fatal(err)
	}
	arrived := e.inviter(t, nurse)(annaSession.Me.Subject, apptv1.Service_SERVICE_PHONE, hourFromNow(5*time.Hour), false)
	if _, err := e.store.Pool().Exec(ctx, `UPDATE appointment SET status = 'arrived' WHERE id = $1`, arrived.Id); err != nil {
		t.Fatal(err)
	}
	wrong := []struct {
		name, id, says string
	}{
		{"three days ahead", early.Id, "24 hours before"},
		{"cancelled", cancelled.Id, "cancelled"},
		{"ended", child.Id, "passed"},
		{"arrived", arrived.Id, "arrived"},
	}
	for _, tt := range wrong {
		_, err := late(tt.id, 5)
		if connect.CodeOf(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("ReportLate(%s) got %v, want FailedPrecondition saying %q", tt.name, err, tt.says)
		}
	}

	// Another's appointment is not found; bad input is refused.
	if _, err := e.booking(e.citizen(t, tolvan)).ReportLate(ctx, &apptv1.ReportLateRequest{AppointmentId: test.Id, Minutes: 5}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("reporting late for another's appointment got %v, want NotFound", err)
	}
	bad := []struct {
		name string
		req  *apptv1.ReportLateRequest
	}{
		{"malformed id", &apptv1.ReportLateRequest{AppointmentId: "123", Minutes: 5}},
		{"negative", &apptv1.ReportLateRequest{AppointmentId: test.Id, Minutes: -1}},
		{"over two hours", &apptv1.ReportLateRequest{AppointmentId: test.Id, Minutes: 121}},
	}
	for _, tt := range bad {
		if _, err := c.ReportLate(ctx, tt.req); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("ReportLate(%s) got %v, want InvalidArgument", tt.name, err)
		}
	}
}

func TestCalendarFeed(t *testing.T) {
	t.Parallel()
	e := setupWith(t, options{publicURL: "https://nara.example/"})
	ctx := context.Background()
	annaSession := e.login(t, anna)
	lillaID := annaSession.Me.CanActFor[1].Id
	c := e.booking(bearer(annaSession.AccessToken))
	nurse := e.clinicianAt(t, "SE2321000016-N001", homeUnit)
	slots := e.publish(t, nurse, homeUnit, apptv1.Service_SERVICE_PHYSICAL_VISIT, hourFromNow(48*time.Hour), 4, 20*time.Minute, 1)
	var ids []string
	for i, patient := range []string{"", lillaID, "", ""} {
		res, err := c.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[i].Id, PatientId: patient, IdempotencyKey: fmt.Sprintf("feed-booking-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Appointment.Id)
	}
	mine, cancelled, old := ids[0], ids[2], ids[3]
	if _, err := c.CancelAppointment(ctx, &apptv1.CancelAppointmentRequest{AppointmentId: cancelled}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Pool().Exec(ctx, `
		UPDATE slot SET starts_at = starts_at - interval '40 days', ends_at = ends_at - interval '40 days' WHERE id = $1`, slots[3].Id); err != nil {
		t.Fatal(err)
	}
	tolvanClient := e.booking(e.citizen(t, tolvan))
	others, err := tolvanClient.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: e.publish(t, nurse, homeUnit, apptv1.Service_SERVICE_PHONE,
		hourFromNow(48*time.Hour), 1, 20*time.Minute, 1)[0].Id, IdempotencyKey: "tolvans-own"})
	if err != nil {
		t.Fatal(err)
	}

	feed, err := c.CreateCalendarFeed(ctx, &apptv1.CreateCalendarFeedRequest{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(feed.Url)
	if err != nil || u.Scheme != "https" || u.Host != "nara.example" || !strings.HasPrefix(u.Path, "/calendar/") || !strings.HasSuffix(u.Path, ".ics") ||
		len(u.Path) != len("/calendar/.ics")+43 || feed.CreateTime == nil {
		t.Fatalf("CreateCalendarFeed got %v, want https://nara.example/calendar/<43 characters>.ics", feed)
	}
	get := func(path string, header ...string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(body)
	}

	res, body := get(u.Path)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/calendar; charset=utf-8" ||
		res.Header.Get("Cache-Control") != "private, max-age=300" || res.Header.Get("ETag") == "" {
		t.Fatalf("GET feed got %s %v", res.Status, res.Header)
	}
	for _, want := range []string{
		"BEGIN:VCALENDAR\r\n", "TZID:Europe/Stockholm", "UID:" + mine + "@nara", "UID:" + ids[1] + "@nara", "(Lilla)",
		"UID:" + cancelled + "@nara", "STATUS:CANCELLED", "STATUS:CONFIRMED", "X-WR-CALNAME:Nära",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("feed lacks %q:\n%s", want, body)
		}
	}
	if n := strings.Count(body, "BEGIN:VEVENT"); n != 3 {
		t.Errorf("feed has %d events, want 3 (Anna's, Lilla's and the cancelled one)", n)
	}
	for _, never := range []string{old, others.Appointment.Id, "202012129892", "20201212", "198507099805", "19850709", "Provsson", "Barnsson"} {
		if strings.Contains(body, never) {
			t.Errorf("feed contains %q", never)
		}
	}
	if res, body := get(u.Path, "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("GET feed with its ETag got %s %q, want 304", res.Status, body)
	}
	head, err := e.client.Head(e.url + u.Path)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != http.StatusOK || head.Header.Get("ETag") != res.Header.Get("ETag") {
		t.Errorf("HEAD feed got %s %v, want 200 with the same ETag", head.Status, head.Header)
	}

	// Revoked: gone; revoking again is fine.
	for range 2 {
		if _, err := c.RevokeCalendarFeed(ctx, &apptv1.RevokeCalendarFeedRequest{}); err != nil {
			t.Fatalf("RevokeCalendarFeed: %v", err)
		}
	}
	if res, _ := get(u.Path); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET revoked feed got %s, want 404", res.Status)
	}
	// A new link works; making another ends it.
	second, err := c.CreateCalendarFeed(ctx, &apptv1.CreateCalendarFeedRequest{})
	if err != nil {
		t.Fatal(err)
	}
	third, err := c.CreateCalendarFeed(ctx, &apptv1.CreateCalendarFeedRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Url == feed.Url || third.Url == second.Url {
		t.Errorf("CreateCalendarFeed gave the same URL twice: %s, %s, %s", feed.Url, second.Url, third.Url)
	}
	for _, tt := range []struct {
		url  string
		want int
	}{{feed.Url, http.StatusNotFound}, {second.Url, http.StatusNotFound}, {third.Url, http.StatusOK}} {
		if res, _ := get(strings.TrimPrefix(tt.url, "https://nara.example")); res.StatusCode != tt.want {
			t.Errorf("GET %s got %s, want %d", tt.url, res.Status, tt.want)
		}
	}

	// Made-up tokens are not found without a database lookup to speak of.
	token := strings.TrimSuffix(strings.TrimPrefix(third.Url, "https://nara.example/calendar/"), ".ics")
	for _, path := range []string{
		"/calendar/abc.ics", "/calendar/" + token, "/calendar/" + strings.Repeat("A", 43) + ".ics", "/calendar/" + token + "x.ics", "/calendar/",
	} {
		if res, _ := get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s got %s, want 404", path, res.Status)
		}
	}
	if res, err := e.client.Post(e.url+"/calendar/"+token+".ics", "text/plain", nil); err != nil || res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST feed got %v, %v; want 405", res, err)
	} else {
		res.Body.Close()
	}
	for _, tok := range []string{token, strings.TrimSuffix(strings.TrimPrefix(feed.Url, "https://nara.example/calendar/"), ".ics")} {
		if strings.Contains(e.logs.String(), tok) {
			t.Errorf("the log contains a feed token")
		}
	}

	// Feeds are the citizen's own: a clinician has none.
	if _, err := e.booking(nurse).CreateCalendarFeed(ctx, &apptv1.CreateCalendarFeedRequest{}); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Errorf("CreateCalendarFeed by a clinician got %v, want PermissionDenied", err)
	}
}

// TestCalendarFeedLimits refuses a feed polled far more often than
// calendars poll, and an address that keeps asking for links that do not
// exist, with 429 and when to come back.
func TestCalendarFeedLimits(t *testing.T) {
	t.Parallel()
	e := setupWith(t, options{publicURL: "https://nara.example/"})
	ctx := context.Background()
	_, opts := e.citizens(t, 1)
	feed, err := e.booking(opts[0]).CreateCalendarFeed(ctx, &apptv1.CreateCalendarFeedRequest{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *http.Response {
		t.Helper()
		res, err := e.client.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	path := strings.TrimPrefix(feed.Url, "https://nara.example")
	for i := range 20 {
		if res := get(path); res.StatusCode != http.StatusOK {
			t.Fatalf("poll %d got %s, want 200", i+1, res.Status)
		}
	}
	res := get(path)
	if wait, _ := strconv.Atoi(res.Header.Get("Retry-After")); res.StatusCode != http.StatusTooManyRequests || wait < 1 || wait > 61 {
		t.Errorf("the 21st poll within a minute got %s, Retry-After %q; want 429 and a wait", res.Status, res.Header.Get("Retry-After"))
	}

	for i := range 10 {
		if res := get("/calendar/" + strings.Repeat(string(rune('A'+i)), 43) + ".ics"); res.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown link %d got %s, want 404", i+1, res.Status)
		}
	}
	if res := get("/calendar/" + strings.Repeat("Z", 43) + ".ics"); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the 11th unknown link within a minute got %s, want 429", res.Status)
	}
}

// TestCalendarFeedGuessingLeavesRealFeedsAlone: an address that has used up
// its guesses at unknown links still gets its real feeds, which count only
// against their own limit.
func TestCalendarFeedGuessingLeavesRealFeedsAlone(t *testing.T) {
	t.Parallel()
	e := setupWith(t, options{publicURL: "https://nara.example"})
	ctx := context.Background()
	_, opts := e.citizens(t, 2)
	var paths []string
	for _, o := range opts {
		feed, err := e.booking(o).CreateCalendarFeed(ctx, &apptv1.CreateCalendarFeedRequest{})
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, strings.TrimPrefix(feed.Url, "https://nara.example"))
	}
	get := func(path string) int {
		t.Helper()
		res, err := e.client.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get(paths[0]); code != http.StatusOK {
		t.Fatalf("the first feed got %d, want 200", code)
	}
	for i := range 11 {
		code := get("/calendar/" + strings.Repeat(string(rune('a'+i)), 43) + ".ics")
		if want := map[bool]int{true: http.StatusNotFound, false: http.StatusTooManyRequests}[i < 10]; code != want {
			t.Fatalf("unknown link %d got %d, want %d", i+1, code, want)
		}
	}
	// Both feeds answer: the one read before the guesses and the one not
	// read yet (this replica made it).
	for i, p := range paths {
		if code := get(p); code != http.StatusOK {
			t.Errorf("feed %d after the address used up its guesses got %d, want 200", i+1, code)
		}
	}
}
