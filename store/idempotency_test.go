package store_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/tern/v2/migrate"

	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

// keyFixture is a region with two units and two people.
type keyFixture struct {
	st               *store.Store
	unitA, unitB     string
	patient, another string
}

func newKeyFixture(t *testing.T) keyFixture {
	t.Helper()
	st := storetest.NewStore(t)
	ctx := context.Background()
	f := keyFixture{st: st, unitA: "SE2321000016-9B01", unitB: "SE2321000016-9B02"}
	if err := st.CareProviderUpsert(ctx, store.CareProvider{HSAID: "SE2321000016-9000", Name: "Region", IsPublic: true}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{f.unitA, f.unitB} {
		if err := st.CareUnitUpsert(ctx, store.CareUnit{HSAID: u, ProviderHSAID: "SE2321000016-9000", Name: "Mottagning " + u}); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []*string{&f.patient, &f.another} {
		p, err := st.PersonUpsert(ctx, []byte{byte(i), 'k', 'e', 'y'}, []byte("sealed"), "Test", "Person", time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		*id = p.ID
	}
	return f
}

func (f keyFixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.st.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func noAfter(context.Context, *store.Tx, store.Appointment) error { return nil }

// TestInviteKeyIsTheCallers sends one invitation eight times at once: one
// appointment is made and every answer is it. The same key in another
// clinician's hands, or the same clinician's at another unit, makes a new
// one; for another request of the same clinician at the unit it is refused.
func TestInviteKeyIsTheCallers(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	ctx := context.Background()
	start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
	inv := store.Invitation{
		PatientID: f.patient, UnitHSAID: f.unitA, ServiceCode: "physical_visit", StaffHSAID: "SE2321000016-D901", StaffName: "Dr A",
		StartsAt: start, EndsAt: start.Add(30 * time.Minute), Instructions: "Ta med remissen.", IdempotencyKey: "concurrent-1",
	}
	const n = 8
	var (
		wg      sync.WaitGroup
		ids     [n]string
		created [n]bool
		errs    [n]error
	)
	for i := range n {
		wg.Go(func() {
			var a store.Appointment
			a, created[i], errs[i] = f.st.AppointmentInvite(ctx, inv, noAfter)
			ids[i] = a.ID
		})
	}
	wg.Wait()
	made := 0
	for i := range n {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Errorf("invitation %d got %q, %v; want %q", i, ids[i], errs[i], ids[0])
		}
		if created[i] {
			made++
		}
	}
	if made != 1 {
		t.Errorf("%d of %d concurrent invitations say they made the appointment, want 1", made, n)
	}
	if got := f.count(t, `SELECT count(*) FROM appointment WHERE patient_id = $1`, f.patient); got != 1 {
		t.Errorf("concurrent invitations made %d appointments, want 1", got)
	}

	for _, c := range []struct {
		name string
		edit func(*store.Invitation)
	}{
		{"another clinician", func(i *store.Invitation) { i.StaffHSAID = "SE2321000016-D902" }},
		{"the clinician at another unit", func(i *store.Invitation) { i.UnitHSAID = f.unitB }},
	} {
		other := inv
		c.edit(&other)
		a, made, err := f.st.AppointmentInvite(ctx, other, noAfter)
		if err != nil || !made || a.ID == ids[0] || a.Unit.HSAID != other.UnitHSAID {
			t.Errorf("%s: AppointmentInvite got %q at %q, made %v, %v; want a new appointment at %q", c.name, a.ID, a.Unit.HSAID, made, err, other.UnitHSAID)
		}
	}
	for _, c := range []struct {
		name string
		edit func(*store.Invitation)
	}{
		{"another patient", func(i *store.Invitation) { i.PatientID = f.another }},
		{"another time", func(i *store.Invitation) { i.StartsAt, i.EndsAt = i.StartsAt.Add(time.Hour), i.EndsAt.Add(time.Hour) }},
		{"another service", func(i *store.Invitation) { i.ServiceCode = "phone" }},
		{"other instructions", func(i *store.Invitation) { i.Instructions = "" }},
		{"asking to confirm", func(i *store.Invitation) { i.Proposed = true }},
	} {
		other := inv
		c.edit(&other)
		if _, _, err := f.st.AppointmentInvite(ctx, other, noAfter); !errors.Is(err, store.ErrPrecondition) {
			t.Errorf("%s with a used key: AppointmentInvite got %v, want ErrPrecondition", c.name, err)
		}
	}
	if got := f.count(t, `SELECT count(*) FROM appointment`); got != 3 {
		t.Errorf("appointments got %d, want 3", got)
	}
}

// TestInviteReplayStaysAtTheUnit replays an invitation that the patient
// has rebooked to another unit since: refused, with nothing of where it is.
func TestInviteReplayStaysAtTheUnit(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	ctx := context.Background()
	start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
	inv := store.Invitation{
		PatientID: f.patient, UnitHSAID: f.unitA, ServiceCode: "physical_visit", StaffHSAID: "SE2321000016-D904",
		StartsAt: start, EndsAt: start.Add(30 * time.Minute), IdempotencyKey: "rebooked-1",
	}
	a, _, err := f.st.AppointmentInvite(ctx, inv, noAfter)
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, err := f.st.SlotsPublish(ctx, []store.Slot{
		{CareUnitHSAID: f.unitB, ServiceCode: "physical_visit", StartsAt: start, EndsAt: start.Add(20 * time.Minute), Capacity: 1, CreatedBy: "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.AppointmentRebook(ctx, store.AppointmentChange{
		ID: a.ID, PatientIDs: []string{f.patient}, NewSlotID: elsewhere[0].ID, Now: time.Now(),
	}, noAfter); err != nil {
		t.Fatal(err)
	}
	got, _, err := f.st.AppointmentInvite(ctx, inv, noAfter)
	if !errors.Is(err, store.ErrPrecondition) || got.ID != "" {
		t.Errorf("replay of a rebooked invitation got %q, %v; want ErrPrecondition and nothing", got.ID, err)
	}
}

// TestBookKeyIsTheCallers books one place twice at once with one key, in a
// slot with room for both: one place is taken. Another caller's booking
// with the key is theirs.
func TestBookKeyIsTheCallers(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	ctx := context.Background()
	start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
	slots, err := f.st.SlotsPublish(ctx, []store.Slot{
		{CareUnitHSAID: f.unitA, ServiceCode: "physical_visit", StartsAt: start, EndsAt: start.Add(20 * time.Minute), Capacity: 3, CreatedBy: "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := store.Booking{PatientID: f.patient, SlotID: slots[0].ID, IdempotencyKey: "double-tap", CreatedBy: "person:" + f.patient, Now: time.Now()}
	var (
		wg   sync.WaitGroup
		ids  [2]string
		errs [2]error
	)
	for i := range 2 {
		wg.Go(func() {
			var a store.Appointment
			a, _, errs[i] = f.st.AppointmentBook(ctx, b, noAfter)
			ids[i] = a.ID
		})
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || ids[0] != ids[1] {
		t.Errorf("concurrent bookings got %q, %v and %q, %v; want one appointment", ids[0], errs[0], ids[1], errs[1])
	}
	if got := f.count(t, `SELECT booked FROM slot WHERE id = $1`, slots[0].ID); got != 1 {
		t.Errorf("booked places got %d, want 1", got)
	}
	// A guardian booking for the patient with the same key is another caller.
	guardian := b
	guardian.CreatedBy = "person:" + f.another
	a, made, err := f.st.AppointmentBook(ctx, guardian, noAfter)
	if err != nil || !made || a.ID == ids[0] {
		t.Errorf("another caller's booking got %q, made %v, %v; want a new appointment", a.ID, made, err)
	}
}

// TestMigrationScopesExistingKeys migrates appointments made before keys
// were scoped: a clinician's key used for two patients stays valid, the
// older appointment answers its replay, and the newer one's patient is told
// the key is used.
func TestMigrationScopesExistingKeys(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	ctx := context.Background()
	start := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
	slots, err := f.st.SlotsPublish(ctx, []store.Slot{
		{CareUnitHSAID: f.unitA, ServiceCode: "physical_visit", StartsAt: start, EndsAt: start.Add(30 * time.Minute), Capacity: 2, CreatedBy: "test"},
		{CareUnitHSAID: f.unitA, ServiceCode: "physical_visit", StartsAt: start.Add(time.Hour), EndsAt: start.Add(90 * time.Minute), Capacity: 1, CreatedBy: "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := f.st.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	m, err := migrate.NewMigrator(ctx, conn.Conn(), "nara_schema_version")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadMigrations(os.DirFS("migrations")); err != nil {
		t.Fatal(err)
	}
	if err := m.MigrateTo(ctx, 12); err != nil {
		t.Fatal(err)
	}
	const staff = "staff:SE2321000016-D903"
	if _, err := conn.Exec(ctx, `
		INSERT INTO appointment (patient_id, slot_id, service_code, exclusive, status, idempotency_key, created_by, created_at)
		VALUES ($1, $3, 'physical_visit', false, 'booked', 'legacy-1', $4, now() - interval '2 minutes'),
		       ($2, $3, 'physical_visit', false, 'booked', 'legacy-1', $4, now() - interval '1 minute'),
		       ($1, $5, 'physical_visit', false, 'booked', 'my-first-booking', 'person:' || $1, now())`,
		f.patient, f.another, slots[0].ID, staff, slots[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.count(t, `SELECT count(DISTINCT idempotency_scope) FROM appointment WHERE idempotency_key = 'legacy-1'`); got != 2 {
		t.Errorf("the legacy key's appointments have %d scopes, want 2", got)
	}
	if got := f.count(t, `SELECT count(*) FROM appointment WHERE idempotency_scope = $1`, "person:"+f.patient); got != 1 {
		t.Errorf("the patient's own booking is in %d rows of their scope, want 1", got)
	}
	// Replays after the migration, through the store.
	replay := func(patient string) (store.Appointment, error) {
		a, _, err := f.st.AppointmentInvite(ctx, store.Invitation{
			PatientID: patient, UnitHSAID: f.unitA, ServiceCode: "physical_visit", StaffHSAID: "SE2321000016-D903",
			StartsAt: start, EndsAt: start.Add(30 * time.Minute), IdempotencyKey: "legacy-1",
		}, noAfter)
		return a, err
	}
	if a, err := replay(f.patient); err != nil || a.PatientID != f.patient {
		t.Errorf("replay of the older legacy invitation got %q, %v; want the patient's appointment", a.PatientID, err)
	}
	if _, err := replay(f.another); !errors.Is(err, store.ErrPrecondition) {
		t.Errorf("replay of the newer legacy invitation got %v, want ErrPrecondition", err)
	}
	a, made, err := f.st.AppointmentBook(ctx, store.Booking{
		PatientID: f.patient, SlotID: slots[1].ID, IdempotencyKey: "my-first-booking", CreatedBy: "person:" + f.patient, Now: time.Now(),
	}, noAfter)
	if err != nil || made || a.SlotID != slots[1].ID {
		t.Errorf("replay of the legacy booking got %q, made %v, %v; want the booking", a.SlotID, made, err)
	}
}
