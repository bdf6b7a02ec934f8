package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

// TestSlotMinAgeCountsOnTheStockholmDay publishes a 65+ time at 00:30 in
// Stockholm, when it is still the day before in UTC, and finds that search
// and booking both take the patient's age on the Stockholm day: 65 on the
// birthday itself, not the day before.
func TestSlotMinAgeCountsOnTheStockholmDay(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	const unit = "SE2321000016-9A02"
	if err := st.CareProviderUpsert(ctx, store.CareProvider{HSAID: "SE2321000016-9000", Name: "Region", IsPublic: true}); err != nil {
		t.Fatal(err)
	}
	if err := st.CareUnitUpsert(ctx, store.CareUnit{HSAID: unit, ProviderHSAID: "SE2321000016-9000", Name: "Vaccinationen Test"}); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	d := time.Now().In(loc).AddDate(0, 0, 10)
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 30, 0, 0, loc)
	if start.UTC().Day() == start.Day() {
		t.Fatalf("test assumes %s falls on the day before in UTC", start)
	}
	slots, err := st.SlotsPublish(ctx, []store.Slot{
		{CareUnitHSAID: unit, ServiceCode: "vaccination", StartsAt: start, EndsAt: start.Add(10 * time.Minute), Capacity: 5, MinAge: 65, CreatedBy: "test"},
		{CareUnitHSAID: unit, ServiceCode: "vaccination", StartsAt: start.Add(time.Hour), EndsAt: start.Add(70 * time.Minute), Capacity: 5, CreatedBy: "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if slots[0].MinAge != 65 || slots[1].MinAge != 0 {
		t.Fatalf("published min ages got %d, %d; want 65, 0", slots[0].MinAge, slots[1].MinAge)
	}
	birthday := time.Date(d.Year()-65, d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	none := func(context.Context, *store.Tx, store.Appointment) error { return nil }
	for _, c := range []struct {
		name     string
		born     time.Time
		eligible bool
	}{
		{"turns 65 that day", birthday, true},
		{"turns 65 the day after", birthday.AddDate(0, 0, 1), false},
		{"70", birthday.AddDate(-5, 0, 0), true},
	} {
		p, err := st.PersonUpsert(ctx, []byte("hash-"+c.name), []byte("sealed"), "Test", "Person", c.born)
		if err != nil {
			t.Fatal(err)
		}
		found, err := st.SlotSearch(ctx, store.SlotQuery{
			ServiceCode: "vaccination", UnitHSAID: unit, From: start.Add(-time.Hour), To: start.Add(2 * time.Hour),
			PatientID: p.ID, Now: time.Now(), Limit: 10,
		})
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if c.eligible {
			want = 2
		}
		if len(found) != want || found[len(found)-1].ID != slots[1].ID {
			t.Errorf("%s: SlotSearch got %d times, want %d with the open one last", c.name, len(found), want)
		}
		_, _, err = st.AppointmentBook(ctx, store.Booking{
			PatientID: p.ID, SlotID: slots[0].ID, IdempotencyKey: "min-age-" + p.ID[:8], CreatedBy: "person:" + p.ID, Now: time.Now(),
		}, none)
		switch {
		case c.eligible && err != nil:
			t.Errorf("%s: AppointmentBook got %v, want booked", c.name, err)
		case !c.eligible && (!errors.Is(err, store.ErrPrecondition) || !strings.Contains(err.Error(), "aged 65 or older")):
			t.Errorf("%s: AppointmentBook got %v, want ErrPrecondition naming the age", c.name, err)
		}
	}
	var booked int
	if err := st.Pool().QueryRow(ctx, `SELECT booked FROM slot WHERE id = $1`, slots[0].ID).Scan(&booked); err != nil {
		t.Fatal(err)
	}
	if booked != 2 {
		t.Errorf("booked places of the 65+ time got %d, want 2", booked)
	}
}

// TestSlotSearchLeavesOutTimesTooCloseToADose finds that a patient's search
// offers no vaccination time within the service's 21 days of a dose they had,
// as booking would refuse it, while others still see those times.
func TestSlotSearchLeavesOutTimesTooCloseToADose(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	const unit = "SE2321000016-9A03"
	if err := st.CareProviderUpsert(ctx, store.CareProvider{HSAID: "SE2321000016-9000", Name: "Region", IsPublic: true}); err != nil {
		t.Fatal(err)
	}
	if err := st.CareUnitUpsert(ctx, store.CareUnit{HSAID: unit, ProviderHSAID: "SE2321000016-9000", Name: "Vaccinationen Test"}); err != nil {
		t.Fatal(err)
	}
	first := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	var slots []store.Slot
	for _, days := range []int{0, 10, 20, 21, 30} {
		start := first.AddDate(0, 0, days)
		slots = append(slots, store.Slot{CareUnitHSAID: unit, ServiceCode: "vaccination", StartsAt: start, EndsAt: start.Add(10 * time.Minute), Capacity: 5, CreatedBy: "test"})
	}
	slots, err := st.SlotsPublish(ctx, slots)
	if err != nil {
		t.Fatal(err)
	}
	patient, err := st.PersonUpsert(ctx, []byte("hash-dosed"), []byte("sealed"), "Test", "Person", time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.PersonUpsert(ctx, []byte("hash-other"), []byte("sealed"), "Other", "Person", time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	none := func(context.Context, *store.Tx, store.Appointment) error { return nil }
	dose, _, err := st.AppointmentBook(ctx, store.Booking{
		PatientID: patient.ID, SlotID: slots[0].ID, IdempotencyKey: "first-dose", CreatedBy: "person:" + patient.ID, Now: time.Now(),
	}, none)
	if err != nil {
		t.Fatal(err)
	}
	// The dose is given: it no longer holds the one active booking, but
	// the interval to the next still counts from it.
	if _, err := st.Pool().Exec(ctx, `UPDATE appointment SET status = 'fulfilled' WHERE id = $1`, dose.ID); err != nil {
		t.Fatal(err)
	}

	search := func(patientID string) []string {
		found, err := st.SlotSearch(ctx, store.SlotQuery{
			ServiceCode: "vaccination", UnitHSAID: unit, From: first.Add(-time.Hour), To: first.AddDate(0, 0, 31),
			PatientID: patientID, Now: time.Now(), Limit: 10,
		})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, sl := range found {
			ids = append(ids, sl.ID)
		}
		return ids
	}
	if got, want := search(patient.ID), []string{slots[3].ID, slots[4].ID}; !slices.Equal(got, want) {
		t.Errorf("SlotSearch for the dosed patient got %v, want the times 21 and 30 days after the dose %v", got, want)
	}
	if got := search(other.ID); len(got) != 5 {
		t.Errorf("SlotSearch for another patient got %d times, want all 5", len(got))
	}
	// Booking agrees with the search: the time 20 days on is refused.
	_, _, err = st.AppointmentBook(ctx, store.Booking{
		PatientID: patient.ID, SlotID: slots[2].ID, IdempotencyKey: "too-soon", CreatedBy: "person:" + patient.ID, Now: time.Now(),
	}, none)
	if !errors.Is(err, store.ErrPrecondition) {
		t.Errorf("AppointmentBook 20 days after the dose got %v, want ErrPrecondition", err)
	}
}
