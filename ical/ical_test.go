package ical_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nara-care/nara/ical"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("Render(%s) differs from %s (run go test ./ical -update):\n got: %q\nwant: %q", name, path, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	tests := map[string]ical.Event{
		// Summer time: 10:00 in Stockholm is 08:00 UTC.
		"vaccination": {
			UID: "0b6c1d1e-3f0e-4b8a-9a47-1d2f8c0e5a11@nara", Sequence: 0,
			Stamp: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
			Start: time.Date(2026, 6, 3, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 6, 3, 8, 10, 0, 0, time.UTC),
			Summary: "Vaccination, Vaccinationscentral Kista", Location: "Kistagången 12, 164 40 Kista",
			Description: "Ta med legitimation och bär kortärmat.\nAvboka senast 24 timmar före; ring 08-123 470 00.",
			URL:         "nara://appointments/0b6c1d1e", Status: ical.StatusConfirmed, Alarm: time.Hour,
		},
		// Winter time, a cancelled video visit with characters to escape and a
		// description long enough to fold inside a multi-byte character.
		"video-cancelled": {
			UID: "7c0a@nara", Sequence: 3,
			Stamp: time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC),
			Start: time.Date(2026, 12, 1, 14, 15, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 14, 35, 0, 0, time.UTC),
			Summary: "Videobesök; läkare, Digital vårdcentral", Location: "Video i appen",
			Description: strings.Repeat("Öppna appen fem minuter före besöket i en lugn miljö. ", 3),
			Status:      ical.StatusCancelled, Alarm: 10 * time.Minute,
		},
	}
	for name, e := range tests {
		got, err := ical.Render(e)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := ical.Render(e)
		if again != got {
			t.Errorf("Render(%s) is not stable", name)
		}
		for i, l := range strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n") {
			if len(l) > 75 {
				t.Errorf("Render(%s) line %d has %d octets, want at most 75", name, i+1, len(l))
			}
		}
		golden(t, name, got)
	}
}

func TestRenderCalendarGolden(t *testing.T) {
	t.Parallel()
	stamp := time.Date(2026, 3, 20, 7, 45, 0, 0, time.UTC)
	tests := map[string]ical.Calendar{
		// A feed across the change to summer time (29 March 2026): 09:00 in
		// Stockholm is 08:00 UTC before it and 07:00 UTC after. The cancelled
		// visit stays in the feed so that calendars remove it.
		"feed": {
			Name: "Nära – bokade tider", Refresh: time.Hour,
			Events: []ical.Event{
				{
					UID: "a1@nara", Sequence: 1, Stamp: stamp,
					Start: time.Date(2026, 3, 27, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 27, 8, 20, 0, 0, time.UTC),
					Summary: "Besök på mottagningen, Vårdcentral Solna (Lilla)", Location: "Solnavägen 3, 171 45 Solna",
					URL: "nara://appointments/a1", Status: ical.StatusTentative, Alarm: time.Hour,
				},
				{
					UID: "b2@nara", Sequence: 2, Stamp: stamp,
					Start: time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 30, 7, 10, 0, 0, time.UTC),
					Summary: "Vaccination, Vårdcentral Solna", Location: "Solnavägen 3, 171 45 Solna",
					Status: ical.StatusCancelled, Alarm: time.Hour,
				},
			},
		},
		// No appointments: still a calendar, so the subscription stays.
		"feed-empty": {Name: "Nära", Refresh: 90 * time.Second},
	}
	for name, c := range tests {
		got, err := ical.RenderCalendar(c)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := ical.RenderCalendar(c); again != got {
			t.Errorf("RenderCalendar(%s) is not stable", name)
		}
		if n, want := strings.Count(got, "BEGIN:VEVENT\r\n"), len(c.Events); n != want {
			t.Errorf("RenderCalendar(%s) has %d events, want %d", name, n, want)
		}
		golden(t, name, got)
	}
}

// Render is RenderCalendar of one event with no calendar properties, so one
// appointment's export and the feed describe an event alike.
func TestRenderIsOneEventCalendar(t *testing.T) {
	t.Parallel()
	e := ical.Event{
		UID: "c3@nara", Stamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Start: time.Date(2026, 1, 9, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 9, 9, 30, 0, 0, time.UTC),
		Summary: "Telefonsamtal", Status: ical.StatusConfirmed,
	}
	one, err := ical.Render(e)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := ical.RenderCalendar(ical.Calendar{Events: []ical.Event{e}})
	if err != nil {
		t.Fatal(err)
	}
	if one != cal {
		t.Errorf("Render(e) got %q, want RenderCalendar of e %q", one, cal)
	}
}
