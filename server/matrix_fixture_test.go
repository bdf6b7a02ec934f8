package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nara-care/nara/access"
	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
	authv1 "github.com/nara-care/nara/gen/nara/auth/v1"
	"github.com/nara-care/nara/gen/nara/auth/v1/authv1connect"
	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	"github.com/nara-care/nara/gen/nara/help/v1/helpv1connect"
	pushv1 "github.com/nara-care/nara/gen/nara/push/v1"
	"github.com/nara-care/nara/gen/nara/push/v1/pushv1connect"
	"github.com/nara-care/nara/identity/oidcdev"
	"github.com/nara-care/nara/identity/token"
	"github.com/nara-care/nara/store"
)

// person is a patient of the matrix fixture and what they own.
type person struct {
	id       string
	fullName string
	// appt is a booked appointment; bookedSlot its slot, bookingKey the
	// idempotency key it was booked with.
	appt, bookedSlot, bookingKey string
	// invite is a pending invitation that asks for confirmation;
	// inviteKey the key the unit sent it with. private are the unit's
	// instructions in it and what the person told the unit.
	invite, inviteKey string
	private           []string
	// installation, pushToken and device are a registered push device.
	installation, pushToken, device string
	notices                         []string
	// spareSlot and rebookSlot are free times at the person's unit, to
	// book and to rebook to.
	spareSlot, rebookSlot string
	// supportCase is a support case the person opened, with a photo
	// attached, supportAttachment.
	supportCase, supportAttachment string
}

// unit is a care unit of the fixture and what it owns.
type unit struct {
	hsaID    string
	resource string
	// free are free slots for the unit's own changes; booked is a slot with
	// a booking.
	free   []string
	booked string
	// appts are the appointments at the unit.
	appts []string
	// day is the date of its fixture appointments, for ListUnitSchedule.
	day string
}

// actor is one caller of the matrix: who they are, what the server should
// see them as, and what they own.
type actor struct {
	name string
	// auth authenticates as the actor; nil for an anonymous caller.
	auth connect.ClientOption
	// roles and assignment are what the rules table should see.
	roles      []access.Role
	assignment *access.Assignment
	hsaID      string
	// self is the citizen's own person; acts are the persons whose data
	// they see and manage (their own and children under 13).
	self *person
	acts []*person
	// unit is the unit of a clinician's selected assignment.
	unit *unit
	// assignments are the ids of the staff member's assignments.
	assignments []string
	sessionID   string
	// spareSession is a second session of the actor's, for SignOut.
	spareSession string
	refresh      string
	deviceID     string
}

func (a *actor) has(roles ...access.Role) bool {
	for _, r := range roles {
		for _, h := range a.roles {
			if h == r {
				return true
			}
		}
	}
	return false
}

// caresNow reports whether the actor's selected assignment allows care.
func (a *actor) caresNow() bool { return a.assignment.AllowsCare(time.Now()) == nil }

// fixture is the world the matrix calls into.
type fixture struct {
	e *env
	// persons by name; units A and B.
	persons map[string]*person
	unitA   *unit
	unitB   *unit
	actors  []*actor
	// loginID is a citizen login in progress; draft an unpublished help
	// article; article a published one.
	loginID string
	// loginSecret is what only the login's starter holds.
	loginSecret string
	draft       string
	article     string
	// tolvanDigits is a personal number FindPatient looks up.
	tolvanDigits string
	// day is 00:00 in Stockholm on the day of the fixture's times.
	day time.Time
	// guestCase is a support case a guest opened, with a photo attached,
	// guestAttachment; only the guest holds its secret.
	guestCase, guestAttachment string
}

func (f *fixture) actor(name string) *actor {
	for _, a := range f.actors {
		if a.name == name {
			return a
		}
	}
	panic("no actor " + name)
}

// citizenActor creates a citizen in the store with a session of their own.
func (f *fixture) citizenActor(t *testing.T, name string, born time.Time) *actor {
	t.Helper()
	ctx := context.Background()
	h := make([]byte, 32)
	_, _ = rand.Read(h)
	p, err := f.e.store.PersonUpsert(ctx, h, []byte("sealed"), name, "Matrix", born)
	if err != nil {
		t.Fatal(err)
	}
	refresh, hash := token.NewRefresh()
	dev := "matrix-device-" + strings.ToLower(name)
	sess, err := f.e.store.CitizenSessionCreate(ctx, p.ID, store.Session{
		DeviceID: dev, Platform: "web", ExpiresAt: time.Now().Add(time.Hour),
	}, hash)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := f.e.signer.Issue(token.Claims{
		SessionID: sess.ID, Subject: p.ID, Kind: token.KindCitizen, Name: name, Roles: []string{string(access.RoleCitizen)},
	}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	me := &person{id: p.ID, fullName: name + " Matrix"}
	f.persons[name] = me
	return &actor{name: name, auth: bearer(tok), roles: []access.Role{access.RoleCitizen}, self: me, acts: []*person{me},
		sessionID: sess.ID, refresh: refresh, deviceID: dev}
}

// staffActor logs a test user of the local identity provider in, as a
// browser and the app would, and selects assignment if it is set.
func (f *fixture) staffActor(t *testing.T, name, hsaID, assignment string, roles ...access.Role) *actor {
	t.Helper()
	sess := f.e.staffLogin(t, hsaID)
	a := &actor{name: name, auth: bearer(sess.AccessToken), roles: roles, hsaID: hsaID,
		sessionID: sess.SessionId, refresh: sess.RefreshToken, deviceID: "tablet-" + hsaID}
	for _, as := range sess.Me.Assignments {
		a.assignments = append(a.assignments, as.Id)
	}
	if assignment != "" {
		res, err := authv1connect.NewClinicianAuthServiceClient(f.e.client, f.e.url, a.auth).SelectAssignment(context.Background(),
			&authv1.SelectAssignmentRequest{AssignmentId: assignment})
		if err != nil {
			t.Fatalf("%s: SelectAssignment(%s): %v", name, assignment, err)
		}
		a.auth = bearer(res.Session.AccessToken)
		for _, as := range res.Session.Me.Assignments {
			if as.Id == assignment {
				a.assignment = &access.Assignment{ID: as.Id, Purpose: as.Purpose, CareUnitHSAID: as.CareUnitHsaId,
					ValidFrom: as.ValidFrom.AsTime()}
			}
		}
		a.roles = append(a.roles, access.RoleClinician)
	}
	return a
}

// selectedActor opens a staff session whose selected assignment no longer
// allows care (it expired after it was chosen, or was never for care), as
// the server helpers do, so that the rules table's care check is reached.
func (f *fixture) selectedActor(t *testing.T, name, hsaID string, a access.Assignment) *actor {
	t.Helper()
	opt := f.e.staff(t, hsaID, nil, []access.Assignment{a}, a.ID)
	var id string
	if err := f.e.store.Pool().QueryRow(context.Background(),
		`SELECT id FROM session WHERE staff_hsa_id = $1`, hsaID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return &actor{name: name, auth: opt, roles: []access.Role{access.RoleClinician}, assignment: &a, hsaID: hsaID,
		assignments: []string{a.ID}, sessionID: id}
}

// newMatrixFixture builds two units with slots, resources, bookings,
// invitations and patient notices; citizens with devices and inbox
// entries; a guardian with a child under 13 and one over; clinicians at both
// units and with unusable assignments; support and admins.
func newMatrixFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	e := setup(t)
	f := &fixture{e: e, persons: map[string]*person{}, tolvanDigits: tolvan}

	// Staff, through the real login of the local identity provider.
	clinA := f.staffActor(t, "clinician-a", oidcdev.HSAIDDoctorSolna, "SE2321000016-MU0008")
	clinB := f.staffActor(t, "clinician-b", oidcdev.HSAIDDoctor, "SE2321000016-MU0003")
	f.unitA = &unit{hsaID: oidcdev.UnitSolnaHSAID}
	f.unitB = &unit{hsaID: oidcdev.UnitSodermalmHSAID}
	clinA.unit, clinB.unit = f.unitA, f.unitB
	now := time.Now()
	lapsed := access.Assignment{
		ID: "MU-MATRIX-LAPSED", Purpose: access.PurposeCare, CareUnitHSAID: f.unitA.hsaID, CareUnitName: "Vårdcentral Solna",
		CareProviderHSAID: oidcdev.CareProviderHSAID, ValidFrom: now.AddDate(-1, 0, 0), ValidTo: now.Add(-time.Minute),
	}
	admin := lapsed
	admin.ID, admin.Purpose, admin.ValidTo = "MU-MATRIX-ADMIN", "Administration", now.AddDate(1, 0, 0)
	f.actors = append(f.actors,
		&actor{name: "anonymous"},
		clinA, clinB,
		f.staffActor(t, "clinician-no-assignment", oidcdev.HSAIDDoctorNoAssign, ""),
		f.staffActor(t, "clinician-expired", oidcdev.HSAIDDoctorExpired, ""),
		f.staffActor(t, "clinician-administration", oidcdev.HSAIDDoctorAdminOnly, ""),
		f.selectedActor(t, "clinician-lapsed-selected", "SE2321000016-M901", lapsed),
		f.selectedActor(t, "clinician-administration-selected", "SE2321000016-M902", admin),
		f.staffActor(t, "support-first-line", oidcdev.HSAIDSupportFirstLine, "", access.RoleSupportFirstLine),
		f.staffActor(t, "support-second-line", oidcdev.HSAIDSupportSecondLine, "", access.RoleSupportSecondLine),
		f.staffActor(t, "unit-admin", oidcdev.HSAIDUnitAdmin, "", access.RoleUnitAdmin),
		f.staffActor(t, "region-admin", oidcdev.HSAIDRegionAdmin, "", access.RoleRegionAdmin),
	)

	// Citizens: two adults, a guardian (the demo's Anna, through BankID)
	// with Lilla, under 13, and a teenager over 13 who acts for herself.
	alice := f.citizenActor(t, "Alice", time.Date(1980, 3, 1, 0, 0, 0, 0, time.UTC))
	bob := f.citizenActor(t, "Bob", time.Date(1975, 6, 1, 0, 0, 0, 0, time.UTC))
	teen := f.citizenActor(t, "Tove", now.AddDate(-15, 0, 0))
	guardian := f.guardianActor(t, teen.self)
	f.actors = append(f.actors, alice, bob, guardian, teen)

	// Times at both units, two days ahead.
	day := stockholmDay(t, 2)
	f.day = day
	f.unitA.day, f.unitB.day = day.Format(time.DateOnly), day.Format(time.DateOnly)
	f.unitA.resource = f.resource(t, clinA, f.unitA)
	f.unitB.resource = f.resource(t, clinB, f.unitB)
	slotsA := f.slots(t, clinA, f.unitA, day.Add(7*time.Hour), 16)
	slotsB := f.slots(t, clinB, f.unitB, day.Add(17*time.Hour), 6)

	lilla := f.persons["Lilla"]
	anna := guardian.self
	f.book(t, alice, alice.self, slotsA[0])
	f.book(t, guardian, anna, slotsA[1])
	f.book(t, guardian, lilla, slotsA[2])
	f.book(t, teen, teen.self, slotsA[3])
	f.book(t, bob, bob.self, slotsB[0])
	f.unitA.booked, f.unitB.booked = slotsA[0], slotsB[0]
	for i, p := range []*person{alice.self, anna, lilla, teen.self} {
		p.spareSlot, p.rebookSlot = slotsA[4+i], slotsA[8+i]
		f.unitA.appts = append(f.unitA.appts, p.appt)
	}
	bob.self.spareSlot, bob.self.rebookSlot = slotsB[1], slotsB[2]
	f.unitB.appts = append(f.unitB.appts, bob.self.appt)
	f.unitA.free, f.unitB.free = slotsA[12:], slotsB[3:]

	// Invitations: one pending per person, and one each unit's patient
	// asked to move, so that the units have notices naming patients.
	at := day.Add(26 * time.Hour)
	for i, p := range []*person{alice.self, anna, lilla, teen.self} {
		p.inviteKey = "unit-a-invite-" + strings.ToLower(strings.Fields(p.fullName)[0])
		p.invite = f.invite(t, clinA, f.unitA, p, at.Add(time.Duration(i)*30*time.Minute), p.inviteKey)
	}
	bob.self.inviteKey = "unit-b-invite-bob"
	bob.self.invite = f.invite(t, clinB, f.unitB, bob.self, at, bob.self.inviteKey)
	askedA := f.invite(t, clinA, f.unitA, alice.self, at.Add(3*time.Hour), "unit-a-asked-alice")
	askedB := f.invite(t, clinB, f.unitB, bob.self, at.Add(3*time.Hour), "unit-b-asked-bob")
	f.askOtherTime(t, alice, askedA)
	f.askOtherTime(t, bob, askedB)
	f.unitA.appts = append(f.unitA.appts, alice.self.invite, anna.invite, lilla.invite, teen.self.invite, askedA)
	f.unitB.appts = append(f.unitB.appts, bob.self.invite, askedB)

	// Push devices and inbox entries (the invitations' offers).
	for _, c := range []*actor{alice, bob, guardian, teen} {
		c.self.installation = "inst-matrix-" + strings.ToLower(c.name)
		c.self.pushToken = "fcm-token-matrix-" + strings.ToLower(c.name) + "-0123456789abcdef"
		res, err := pushv1connect.NewDeviceServiceClient(e.client, e.url, c.auth).RegisterDevice(ctx, &pushv1.RegisterDeviceRequest{
			InstallationId: c.self.installation, Token: c.self.pushToken, Platform: pushv1.Platform_PLATFORM_ANDROID,
		})
		if err != nil {
			t.Fatalf("%s: RegisterDevice: %v", c.name, err)
		}
		c.self.device = res.Device.Id
		inbox, err := pushv1connect.NewNotificationServiceClient(e.client, e.url, c.auth).ListNotifications(ctx, &pushv1.ListNotificationsRequest{})
		if err != nil {
			t.Fatalf("%s: ListNotifications: %v", c.name, err)
		}
		for _, n := range inbox.Notifications {
			c.self.notices = append(c.self.notices, n.Id)
		}
		if len(c.self.notices) == 0 {
			t.Fatalf("%s has no inbox entry after an invitation", c.name)
		}
	}

	// Help: a draft no one has published, and a published article.
	editor := helpv1connect.NewHelpAdminServiceClient(e.client, e.url, f.actor("support-second-line").auth)
	f.draft = "matrix-utkast"
	if _, err := editor.CreateArticle(ctx, &helpv1.CreateArticleRequest{Slug: f.draft, Language: helpv1.Language_LANGUAGE_SV,
		Content: articleContent("Utkast som ingen har publicerat")}); err != nil {
		t.Fatal(err)
	}
	list, err := helpv1connect.NewHelpServiceClient(e.client, e.url).ListArticles(ctx, &helpv1.ListArticlesRequest{Language: helpv1.Language_LANGUAGE_SV})
	if err != nil || len(list.Articles) == 0 {
		t.Fatalf("ListArticles got %v, %v", list, err)
	}
	f.article = list.Articles[0].Slug

	// A citizen login in progress, started by someone on their own phone.
	start, err := authv1connect.NewCitizenAuthServiceClient(e.client, e.url).StartLogin(ctx, &authv1.StartLoginRequest{
		Provider: authv1.Provider_PROVIDER_BANKID, Mode: authv1.StartMode_START_MODE_OTHER_DEVICE, Device: device("matrix-pending"),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.loginID, f.loginSecret = start.LoginId, start.LoginSecret
	f.supportFixture(t, alice, bob, guardian, teen)
	for _, a := range f.actors {
		f.spare(t, a)
	}
	return f
}

// spare opens a second session for a, on another device.
func (f *fixture) spare(t *testing.T, a *actor) {
	t.Helper()
	ctx := context.Background()
	_, hash := token.NewRefresh()
	sess := store.Session{DeviceID: "matrix-spare-device", Platform: "web", ExpiresAt: time.Now().Add(time.Hour)}
	var err error
	switch {
	case a.self != nil:
		sess, err = f.e.store.CitizenSessionCreate(ctx, a.self.id, sess, hash)
	case a.hsaID != "":
		name, roles, gerr := f.e.store.StaffGet(ctx, a.hsaID)
		if gerr != nil {
			t.Fatal(gerr)
		}
		sess, err = f.e.store.StaffSessionCreate(ctx, a.hsaID, name, roles, sess, hash)
	default:
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	a.spareSession = sess.ID
}

// guardianActor logs the demo guardian in with BankID, after giving her a
// second child, over 13, whose data she may no longer see.
func (f *fixture) guardianActor(t *testing.T, teen *person) *actor {
	t.Helper()
	ctx := context.Background()
	var annaID, lillaID string
	err := f.e.store.Pool().QueryRow(ctx, `SELECT g.guardian_id, g.child_id FROM guardianship g`).Scan(&annaID, &lillaID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.e.store.GuardianshipAdd(ctx, annaID, teen.id); err != nil {
		t.Fatal(err)
	}
	sess := f.e.login(t, anna)
	if sess.Me.Subject != annaID {
		t.Fatalf("the guardian logged in as %s, want %s", sess.Me.Subject, annaID)
	}
	self := &person{id: annaID, fullName: "Anna Provsson"}
	lilla := &person{id: lillaID, fullName: "Lilla Barnsson"}
	f.persons["Anna"], f.persons["Lilla"] = self, lilla
	return &actor{name: "guardian", auth: bearer(sess.AccessToken), roles: []access.Role{access.RoleCitizen, access.RoleGuardian},
		self: self, acts: []*person{self, lilla}, sessionID: sess.SessionId, refresh: sess.RefreshToken, deviceID: device(anna).Id}
}

func articleContent(title string) *helpv1.ArticleContent {
	return &helpv1.ArticleContent{CategorySlug: "teknik", Title: title, Summary: "Sammanfattning.",
		BodyMarkdown: "Text som bara redaktörer ser.", LastReviewedOn: "2026-11-20"}
}

func (f *fixture) resource(t *testing.T, clinician *actor, u *unit) string {
	t.Helper()
	res, err := appointmentv1connect.NewScheduleServiceClient(f.e.client, f.e.url, clinician.auth).CreateResource(context.Background(),
		&apptv1.CreateResourceRequest{UnitHsaId: u.hsaID, Kind: apptv1.ResourceKind_RESOURCE_KIND_ROOM, Name: "Rum " + u.hsaID})
	if err != nil {
		t.Fatalf("CreateResource at %s: %v", u.hsaID, err)
	}
	return res.Resource.Id
}

func (f *fixture) slots(t *testing.T, clinician *actor, u *unit, start time.Time, n int) []string {
	t.Helper()
	res, err := appointmentv1connect.NewScheduleServiceClient(f.e.client, f.e.url, clinician.auth).PublishSlots(context.Background(), &apptv1.PublishSlotsRequest{
		UnitHsaId: u.hsaID, Service: apptv1.Service_SERVICE_PHONE, StartTime: timestamppb.New(start),
		EndTime: timestamppb.New(start.Add(time.Duration(n) * 15 * time.Minute)), SlotDuration: durationpb.New(15 * time.Minute), Capacity: 1,
	})
	if err != nil {
		t.Fatalf("PublishSlots at %s: %v", u.hsaID, err)
	}
	var ids []string
	for _, s := range res.Slots {
		ids = append(ids, s.Id)
	}
	return ids
}

func (f *fixture) book(t *testing.T, by *actor, p *person, slot string) {
	t.Helper()
	p.bookingKey = "own-booking-" + strings.ToLower(strings.Fields(p.fullName)[0])
	req := &apptv1.BookSlotRequest{SlotId: slot, IdempotencyKey: p.bookingKey}
	if p != by.self {
		req.PatientId = p.id
	}
	res, err := f.e.booking(by.auth).BookSlot(context.Background(), req)
	if err != nil {
		t.Fatalf("%s books for %s: %v", by.name, p.fullName, err)
	}
	p.appt, p.bookedSlot = res.Appointment.Id, slot
}

func (f *fixture) invite(t *testing.T, clinician *actor, u *unit, p *person, start time.Time, key string) string {
	t.Helper()
	instructions := fmt.Sprintf("Privat anvisning %s till %s", key, p.fullName)
	p.private = append(p.private, instructions)
	res, err := appointmentv1connect.NewScheduleServiceClient(f.e.client, f.e.url, clinician.auth).InviteToAppointment(context.Background(),
		&apptv1.InviteToAppointmentRequest{
			UnitHsaId: u.hsaID, PatientId: p.id, Service: apptv1.Service_SERVICE_PHONE,
			StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(20 * time.Minute)), ConfirmRequired: true,
			Instructions: instructions, Profession: "Läkare", IdempotencyKey: key,
		})
	if err != nil {
		t.Fatalf("InviteToAppointment at %s: %v", u.hsaID, err)
	}
	return res.Appointment.Id
}

func (f *fixture) askOtherTime(t *testing.T, c *actor, appt string) {
	t.Helper()
	msg := c.name + " kan inte då"
	c.self.private = append(c.self.private, msg)
	_, err := f.e.booking(c.auth).RespondToInvitation(context.Background(), &apptv1.RespondToInvitationRequest{
		AppointmentId: appt, Response: apptv1.InvitationResponse_INVITATION_RESPONSE_ASK_OTHER_TIME, Message: msg,
	})
	if err != nil {
		t.Fatalf("%s: RespondToInvitation: %v", c.name, err)
	}
}

// newKey is an idempotency key no one has used.
func newKey(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%s", prefix, hex.EncodeToString(b))
}

// unwatchedTables change on their own or on every request, whoever makes
// it: rate limits count refused calls too, the change feed records
// sessions' changes, and River keeps its leader.
var unwatchedTables = []string{"rate_limit", "change_feed", "river_leader", "river_client", "river_client_queue", "river_queue", "river_migration"}

// snapshot reads every row of every table as text, sorted, by table. A
// session's last use is left out: every authenticated call moves it.
func (f *fixture) snapshot(t *testing.T) map[string][]string {
	t.Helper()
	ctx := context.Background()
	rows, err := f.e.store.Pool().Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, table := range tables {
		if slices.Contains(unwatchedTables, table) {
			continue
		}
		rows, err := f.e.store.Pool().Query(ctx, `SELECT (to_jsonb(x) - 'last_used_at')::text FROM `+pgx.Identifier{table}.Sanitize()+` x`)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(texts)
		out[table] = texts
	}
	return out
}

// replayKept are the tables whose rows replays must leave as they were:
// the appointments that keys first made, the devices registered first.
var replayKept = []string{"appointment", "push_device"}

// compare fails for every row that changed between two snapshots; with
// onlyExisting, rows added are allowed and only replayKept are compared.
func (f *fixture) compare(t *testing.T, what string, before, after map[string][]string, onlyExisting bool) {
	t.Helper()
	for _, table := range sortedKeys(before) {
		if onlyExisting && !slices.Contains(replayKept, table) {
			continue
		}
		gone, added := diffRows(before[table], after[table])
		if onlyExisting {
			added = nil
		}
		for i, r := range gone {
			if i == 3 {
				t.Errorf("%s changed %d more rows of %s", what, len(gone)-3, table)
				break
			}
			t.Errorf("%s changed or removed a row of %s: %s", what, table, r)
		}
		for i, r := range added {
			if i == 3 {
				t.Errorf("%s added %d more rows to %s", what, len(added)-3, table)
				break
			}
			t.Errorf("%s added a row to %s: %s", what, table, r)
		}
	}
}

// diffRows returns the rows only in a and those only in b.
func diffRows(a, b []string) (onlyA, onlyB []string) {
	count := map[string]int{}
	for _, r := range a {
		count[r]++
	}
	for _, r := range b {
		count[r]--
	}
	for _, r := range a {
		if count[r] > 0 {
			onlyA = append(onlyA, r)
			count[r]--
		}
	}
	for r, n := range count {
		for ; n < 0; n++ {
			onlyB = append(onlyB, r)
		}
	}
	sort.Strings(onlyB)
	return onlyA, onlyB
}
