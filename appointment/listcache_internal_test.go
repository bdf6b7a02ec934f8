package appointment

import (
	"testing"
	"time"

	"github.com/nara-care/nara/store"
)

// TestListClockChange finds when a cached list's answer must be built
// again: the first cancel deadline or start still to come.
func TestListClockChange(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	day := store.CareService{CancelDeadline: 24 * time.Hour}
	l := store.CitizenList{Appointments: []store.Appointment{
		{StartsAt: now.Add(-2 * time.Hour), Service: day}, // past
		{StartsAt: now.Add(30 * time.Hour), Service: day}, // deadline in 6 h
		{StartsAt: now.Add(3 * time.Hour), Service: day},  // deadline passed, starts in 3 h
		{StartsAt: now.Add(90 * 24 * time.Hour), Service: day},
	}}
	if got, want := clockChange(l, now), now.Add(3*time.Hour); !got.Equal(want) {
		t.Errorf("clockChange got %v, want %v", got, want)
	}
	if got, want := clockChange(store.CitizenList{}, now), now.Add(24*time.Hour); !got.Equal(want) {
		t.Errorf("clockChange of an empty list got %v, want a day later %v", got, want)
	}
}
