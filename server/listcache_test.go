package server_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	apptv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
)

// TestListCacheFollowsChanges reads a guardian's appointment list from two
// replicas, which both keep it in memory, while changes are made on one of
// them, by a clinician, and straight in the database: each replica shows
// every change, the one that made it at once.
func TestListCacheFollowsChanges(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	otherURL := e.replica(t)
	ids, opts := e.citizens(t, 1)
	guardian := ids[0]
	h := make([]byte, 32)
	_, _ = rand.Read(h)
	child, err := e.store.PersonUpsert(ctx, h, []byte("sealed"), "Lilla", "Cache", time.Now().AddDate(-4, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	clinician := e.clinicianAt(t, "SE2321000016-N001", homeUnit)
	slots := e.publish(t, clinician, homeUnit, apptv1.Service_SERVICE_VACCINATION, hourFromNow(72*time.Hour), 4, 15*time.Minute, 5)

	here := e.booking(opts[0])
	other := appointmentv1connect.NewAppointmentServiceClient(e.client, otherURL, opts[0])
	list := func(c appointmentv1connect.AppointmentServiceClient) []*apptv1.Appointment {
		t.Helper()
		res, err := c.ListAppointments(ctx, &apptv1.ListAppointmentsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Appointments
	}
	eventually := func(what string, cond func([]*apptv1.Appointment) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			as := list(other)
			if cond(as) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the other replica never showed %s; it shows %v", what, as)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for range 3 { // cached by both
		if len(list(here)) != 0 || len(list(other)) != 0 {
			t.Fatal("a new citizen has appointments")
		}
	}

	// A booking shows at once where it was made, and soon on the other.
	own, err := here.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[0].Id, IdempotencyKey: "cache-own"})
	if err != nil {
		t.Fatal(err)
	}
	if as := list(here); len(as) != 1 || as[0].Id != own.Appointment.Id {
		t.Fatalf("right after booking, the same replica lists %v", as)
	}
	eventually("the booking", func(as []*apptv1.Appointment) bool { return len(as) == 1 })

	// The population register adds a child: the guardian's lists take the
	// child's bookings in from then on, also when made elsewhere.
	if err := e.store.GuardianshipAdd(ctx, guardian, child.ID); err != nil {
		t.Fatal(err)
	}
	eventually("nothing new", func(as []*apptv1.Appointment) bool { return len(as) == 1 })
	forChild, err := here.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[1].Id, PatientId: child.ID, IdempotencyKey: "cache-child"})
	if err != nil {
		t.Fatal(err)
	}
	eventually("the child's booking", func(as []*apptv1.Appointment) bool { return len(as) == 2 })

	// A change announced for the child alone reaches the guardian's list.
	if _, err := here.CancelAppointment(ctx, &apptv1.CancelAppointmentRequest{AppointmentId: forChild.Appointment.Id}); err != nil {
		t.Fatal(err)
	}
	eventually("the child's cancellation", func(as []*apptv1.Appointment) bool {
		return len(as) == 2 && as[1].Status == apptv1.Status_STATUS_CANCELLED
	})

	// Filtered requests are answered from the same copy.
	before, err := other.ListAppointments(ctx, &apptv1.ListAppointmentsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	childs, err := other.ListAppointments(ctx, &apptv1.ListAppointmentsRequest{PatientId: child.ID})
	if err != nil || len(childs.Appointments) != 1 || childs.Appointments[0].PatientId != child.ID {
		t.Fatalf("the child's list got %v, %v", childs, err)
	}

	// The unit cancels the guardian's own time.
	_, err = e.schedule(clinician).UpdateSlots(ctx, &apptv1.UpdateSlotsRequest{
		UnitHsaId: homeUnit, SlotIds: []string{slots[0].Id}, Block: true, CancelBooked: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually("the unit's cancellation", func(as []*apptv1.Appointment) bool { return as[0].CancelledByUnit })
	if as := list(here); !as[0].CancelledByUnit {
		t.Errorf("the replica the unit used shows %v", as[0])
	}
	changed, err := other.ListAppointments(ctx, &apptv1.ListAppointmentsRequest{UpdatedSince: before.SyncTime})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(changed.Appointments); n == 0 || n > 2 || changed.Appointments[0].Id != own.Appointment.Id || !changed.Appointments[0].CancelledByUnit {
		t.Errorf("changes since the earlier answer got %v", changed.Appointments)
	}

	// The unit gets a new name, straight in the database.
	if _, err := e.store.Pool().Exec(ctx, `UPDATE care_unit SET name = 'Vårdcentral Solna Nya' WHERE hsa_id = $1`, homeUnit); err != nil {
		t.Fatal(err)
	}
	eventually("the unit's new name", func(as []*apptv1.Appointment) bool { return as[0].Unit.Name == "Vårdcentral Solna Nya" })

	// Both replicas answered from memory in between (at least the second
	// and third of the first three reads).
	for _, url := range []string{e.url, otherURL} {
		if hits := listCacheHits(t, e.metrics[url]); hits < 2 {
			t.Errorf("%s answered %v lists from memory, want at least 2", url, hits)
		}
	}
}

// listCacheHits reads a replica's count of lists answered from memory from
// its metrics address.
func listCacheHits(t *testing.T, metricsURL string) float64 {
	t.Helper()
	res, err := http.Get(metricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^nara_list_cache_lookups_total\{result="hit"\} (\S+)$`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseFloat(string(m[1]), 64)
	return n
}

// TestListCacheOff answers every list from the database.
func TestListCacheOff(t *testing.T) {
	t.Parallel()
	e := setupWith(t, options{listCacheSize: -1})
	ctx := context.Background()
	_, opts := e.citizens(t, 1)
	slots := e.publish(t, e.clinicianAt(t, "SE2321000016-N001", homeUnit), homeUnit, apptv1.Service_SERVICE_VACCINATION, hourFromNow(72*time.Hour), 1, 15*time.Minute, 5)
	c := e.booking(opts[0])
	if _, err := c.BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[0].Id, IdempotencyKey: "cache-off-1"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		res, err := c.ListAppointments(ctx, &apptv1.ListAppointmentsRequest{})
		if err != nil || len(res.Appointments) != 1 {
			t.Fatalf("list got %v, %v", res, err)
		}
	}
	if hits := listCacheHits(t, e.metrics[e.url]); hits != 0 {
		t.Errorf("with the cache off, %v lists came from memory", hits)
	}
	_, err := c.ListAppointments(ctx, &apptv1.ListAppointmentsRequest{PatientId: "00000000-0000-4000-8000-000000000000"})
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("another's list got %v, want NotFound", err)
	}
}

// TestListReadsConcurrent has many citizens read their lists at once, from
// the database (the cache is off): each sees exactly their own
// appointments, never another's.
func TestListReadsConcurrent(t *testing.T) {
	t.Parallel()
	e := setupWith(t, options{listCacheSize: -1})
	ctx := context.Background()
	const n = 40
	ids, opts := e.citizens(t, n)
	slots := e.publish(t, e.clinicianAt(t, "SE2321000016-N001", homeUnit), homeUnit, apptv1.Service_SERVICE_VACCINATION, hourFromNow(72*time.Hour), n, 5*time.Minute, 1)
	booked := make([]string, n)
	for i := range n {
		res, err := e.booking(opts[i]).BookSlot(ctx, &apptv1.BookSlotRequest{SlotId: slots[i].Id, IdempotencyKey: "shared-read-" + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		booked[i] = res.Appointment.Id
	}
	var wg sync.WaitGroup
	errs := make(chan string, n*5)
	for i := range n {
		for range 5 {
			wg.Go(func() {
				res, err := e.booking(opts[i]).ListAppointments(ctx, &apptv1.ListAppointmentsRequest{})
				switch {
				case err != nil:
					errs <- err.Error()
				case len(res.Appointments) != 1 || res.Appointments[0].Id != booked[i] || res.Appointments[0].PatientId != ids[i]:
					errs <- fmt.Sprintf("citizen %d got %v, want only their appointment %s", i, res.Appointments, booked[i])
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}
