package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nara-care/nara/store"
	"github.com/nara-care/nara/store/storetest"
)

// TestReadListsTogether reads several people's lists in one statement —
// a guardian with a young child and an older one, and people with no
// appointments — and finds each list whole and no one else's in it.
func TestReadListsTogether(t *testing.T) {
	t.Parallel()
	st := storetest.NewStore(t)
	ctx := context.Background()
	const unit = "SE2321000016-9B01"
	if err := st.CareProviderUpsert(ctx, store.CareProvider{HSAID: "SE2321000016-9000", Name: "Region", IsPublic: true}); err != nil {
		t.Fatal(err)
	}
	if err := st.CareUnitUpsert(ctx, store.CareUnit{HSAID: unit, ProviderHSAID: "SE2321000016-9000", Name: "Vårdcentral Test"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	person := func(name string, born time.Time) string {
		t.Helper()
		p, err := st.PersonUpsert(ctx, []byte("hash-"+name), []byte("sealed"), name, "Test", born)
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	none := func(context.Context, pgx.Tx, store.Appointment) error { return nil }
	visits := 0
	visit := func(patient string) string {
		t.Helper()
		visits++
		start := now.Add(time.Duration(24+visits) * time.Hour).Truncate(time.Minute)
		a, _, err := st.AppointmentInvite(ctx, store.Invitation{
			PatientID: patient, UnitHSAID: unit, ServiceCode: "video_visit", StaffHSAID: "SE2321000016-D911", StaffName: "Dr Test",
			StartsAt: start, EndsAt: start.Add(20 * time.Minute), IdempotencyKey: fmt.Sprintf("batch-visit-%d", visits),
		}, none)
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	guardian, young, older := person("Guardian", now.AddDate(-40, 0, 0)), person("Young", now.AddDate(-5, 0, 0)), person("Older", now.AddDate(-15, 0, 0))
	alone, empty := person("Alone", now.AddDate(-30, 0, 0)), person("Empty", now.AddDate(-50, 0, 0))
	for _, child := range []string{young, older} {
		if err := st.GuardianshipAdd(ctx, guardian, child); err != nil {
			t.Fatal(err)
		}
	}
	g1, y1, o1, a1, a2 := visit(guardian), visit(young), visit(older), visit(alone), visit(alone)

	bornAfter := now.AddDate(-13, 0, 0)
	lists, err := st.ReadListsTogether(ctx, []string{empty, alone, guardian, young}, bornAfter)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{nil, {a1, a2}, {g1, y1}, {y1}}
	persons := []string{empty, alone, guardian, young}
	for i, l := range lists {
		var got []string
		for _, a := range l.Appointments {
			got = append(got, a.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want[i]) || l.Person != persons[i] || l.AsOf.IsZero() {
			t.Errorf("list %d got %v (person %s), want %v", i, got, l.Person, want[i])
		}
	}
	if l := lists[2]; fmt.Sprint(l.Children) != fmt.Sprint([]string{young}) || l.OldestChildBorn.IsZero() {
		t.Errorf("the guardian's children got %v, want only the young one (%s; the older is %s, %s)", l.Children, young, older, o1)
	}
}
