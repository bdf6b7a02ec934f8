package store

import (
	"errors"
	"testing"
	"time"
)

// The windows for reporting late and answering an invitation, at their
// edges; the handler tests cover the same through the API.
func TestMayReportLateAndRespond(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 6, 3, 8, 0, 0, 0, time.UTC)
	visit := func(status string, delay int) Appointment {
		return Appointment{Status: status, StartsAt: start, EndsAt: start.Add(20 * time.Minute), DelayMinutes: delay}
	}
	late := []struct {
		name string
		a    Appointment
		now  time.Time
		ok   bool
	}{
		{"just over 24 h ahead", visit(StatusBooked, 0), start.Add(-24*time.Hour - time.Second), false},
		{"24 h ahead", visit(StatusBooked, 0), start.Add(-24 * time.Hour), true},
		{"proposed, an hour ahead", visit(StatusProposed, 0), start.Add(-time.Hour), true},
		{"under way", visit(StatusBooked, 0), start.Add(19 * time.Minute), true},
		{"at its end", visit(StatusBooked, 0), start.Add(20 * time.Minute), false},
		{"after its end, running 30 min late", visit(StatusBooked, 30), start.Add(45 * time.Minute), true},
		{"arrived", visit(StatusArrived, 0), start.Add(-time.Minute), false},
		{"cancelled", visit(StatusCancelled, 0), start.Add(-time.Hour), false},
		{"fulfilled", visit(StatusFulfilled, 0), start.Add(-time.Hour), false},
		{"no-show", visit(StatusNoShow, 0), start.Add(-time.Hour), false},
	}
	for _, tt := range late {
		err := mayReportLate(tt.a, tt.now)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrPrecondition)) {
			t.Errorf("mayReportLate(%s) got %v, want ok %v", tt.name, err, tt.ok)
		}
	}

	respond := []struct {
		name string
		a    Appointment
		now  time.Time
		ok   bool
	}{
		{"proposed", visit(StatusProposed, 0), start.Add(-time.Second), true},
		{"pending", visit(StatusPending, 0), start.Add(-time.Hour), true},
		{"proposed, at its start", visit(StatusProposed, 0), start, false},
		{"booked", visit(StatusBooked, 0), start.Add(-time.Hour), false},
		{"cancelled", visit(StatusCancelled, 0), start.Add(-time.Hour), false},
		{"arrived", visit(StatusArrived, 0), start.Add(-time.Hour), false},
	}
	for _, tt := range respond {
		err := mayRespond(tt.a, tt.now)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrPrecondition)) {
			t.Errorf("mayRespond(%s) got %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
