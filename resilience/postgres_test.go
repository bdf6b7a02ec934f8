package resilience

import (
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
)

// TestPostgresRestart restarts PostgreSQL during a booking rush. While it
// is down, clients must be told Unavailable (retryable), never Internal or
// Unknown; once it is back, bookings must succeed again within seconds; and
// afterwards every booking a client was told of is in the database, each
// exactly once, and a resent booking is answered with the same appointment.
//
// It restarts the cluster every test of the package shares, so it does not
// run in parallel with them.
func TestPostgresRestart(t *testing.T) {
	url := database(t)
	w := seed(t, url, 60, 10, 400, slotStart())
	nara := startReplica(t, "nara", url)
	r := newRush(t, w, nara.url(), 8, 20*time.Millisecond)
	finish := r.start()
	defer finish()
	r.waitBooked(40, 20*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.stopCluster(ctx); err != nil {
		t.Fatalf("stop PostgreSQL: %v", err)
	}
	// Reads while it is down are answered Unavailable too.
	list := appointmentv1connect.NewAppointmentServiceClient(http.DefaultClient, nara.url(), bearer())
	for range 3 {
		_, err := list.ListAppointments(asCitizen(ctx, w.citizens[len(w.citizens)-1]), &appointmentv1.ListAppointmentsRequest{})
		if code := connect.CodeOf(err); code != connect.CodeUnavailable {
			t.Errorf("ListAppointments while PostgreSQL is down: %v, want code unavailable", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	bookedDown := r.booked.Load()
	if err := h.startCluster(ctx); err != nil {
		t.Fatalf("start PostgreSQL again: %v", err)
	}
	up := time.Now()
	r.waitBooked(bookedDown+1, 15*time.Second)
	recovery := time.Unix(0, r.lastOK.Load()).Sub(up)
	t.Logf("first booking %s after PostgreSQL was back", recovery.Round(time.Millisecond))
	// Within seconds; the bound leaves room for a machine busy with other
	// tests, where it takes well under one.
	if recovery > 10*time.Second {
		t.Errorf("first booking %s after PostgreSQL was back, want within 10 s", recovery.Round(time.Millisecond))
	}
	r.waitBooked(bookedDown+40, 20*time.Second)
	finish()
	r.check()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.retried[connect.CodeUnavailable.String()] == 0 {
		t.Error("no booking was answered Unavailable while PostgreSQL was down")
	}
}
