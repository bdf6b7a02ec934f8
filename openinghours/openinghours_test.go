package openinghours_test

import (
	"testing"
	"time"

	"github.com/nara-care/nara/openinghours"
)

func setup(t *testing.T) openinghours.Schedule {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	return openinghours.Schedule{
		Location: loc,
		Hours: map[openinghours.DayKind]openinghours.Hours{
			openinghours.Weekday: {Opens: 8 * time.Hour, Closes: 19 * time.Hour},
			openinghours.Weekend: {Opens: 8 * time.Hour, Closes: 15 * time.Hour},
			openinghours.Holiday: {Opens: 8 * time.Hour, Closes: 15 * time.Hour},
		},
	}
}

func TestStatusAt(t *testing.T) {
	t.Parallel()
	s := setup(t)
	at := func(v string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", v, s.Location)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		now      string
		open     bool
		boundary string // closes at when open, next opens at when closed
	}{
		{"2026-11-23 07:59", false, "2026-11-23 08:00"}, // Monday before opening
		{"2026-11-23 08:00", true, "2026-11-23 19:00"},
		{"2026-11-23 18:59", true, "2026-11-23 19:00"},
		{"2026-11-23 19:00", false, "2026-11-24 08:00"},
		{"2026-11-27 20:00", false, "2026-11-28 08:00"}, // Friday evening → Saturday
		{"2026-11-28 14:30", true, "2026-11-28 15:00"},  // Saturday: weekend hours
		{"2026-11-28 15:00", false, "2026-11-29 08:00"},
		{"2026-12-24 16:00", false, "2026-12-25 08:00"}, // Christmas Eve: holiday hours
		{"2026-12-25 09:00", true, "2026-12-25 15:00"},
		{"2026-06-19 15:30", false, "2026-06-20 08:00"}, // Midsummer Eve
		{"2026-03-29 08:30", true, "2026-03-29 15:00"},  // the day clocks go forward
		{"2026-10-25 08:30", true, "2026-10-25 15:00"},  // the day clocks go back
	}
	for _, tt := range tests {
		got := s.StatusAt(at(tt.now))
		boundary := got.NextOpensAt
		if got.OpenNow {
			boundary = got.ClosesAt
		}
		if got.OpenNow != tt.open || !boundary.Equal(at(tt.boundary)) {
			t.Errorf("StatusAt(%s) got open=%v boundary=%s, want open=%v boundary=%s",
				tt.now, got.OpenNow, boundary.In(s.Location).Format("2006-01-02 15:04"), tt.open, tt.boundary)
		}
	}
}

func TestStatusAtNeverOpen(t *testing.T) {
	t.Parallel()
	s := setup(t)
	s.Hours = nil
	got := s.StatusAt(time.Date(2026, 1, 1, 12, 0, 0, 0, s.Location))
	if got.OpenNow || !got.NextOpensAt.IsZero() {
		t.Errorf("StatusAt with no hours got %+v, want closed with no next opening", got)
	}
}

func TestWeek(t *testing.T) {
	t.Parallel()
	s := setup(t)
	days := s.Week(time.Date(2026, 12, 21, 10, 0, 0, 0, s.Location), 7)
	wantKinds := []openinghours.DayKind{"weekday", "weekday", "weekday", "holiday", "holiday", "holiday", "weekend"}
	for i, d := range days {
		if d.Kind != wantKinds[i] {
			t.Errorf("Week day %d (%s) got kind %s, want %s", i, d.Date.Format(time.DateOnly), d.Kind, wantKinds[i])
		}
	}
	if name := days[3].Holiday.NameSV; name != "Julafton" {
		t.Errorf("Week day 3 holiday got %q, want Julafton", name)
	}
}

// TestDueAfter counts a one-hour answer target in opening hours only, over
// evenings, weekends and a Swedish holiday.
func TestDueAfter(t *testing.T) {
	t.Parallel()
	s := setup(t)
	// weekdaysOnly is support closed on weekends and holidays.
	weekdaysOnly := openinghours.Schedule{Location: s.Location, Hours: map[openinghours.DayKind]openinghours.Hours{
		openinghours.Weekday: {Opens: 8 * time.Hour, Closes: 19 * time.Hour},
	}}
	at := func(v string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", v, s.Location)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name  string
		sched openinghours.Schedule
		from  string
		d     time.Duration
		want  string
	}{
		{"inside opening hours", s, "2026-03-04 10:00", time.Hour, "2026-03-04 11:00"},
		{"before opening", s, "2026-03-04 06:10", time.Hour, "2026-03-04 09:00"},
		{"Friday 18:30 is due Saturday", s, "2026-03-06 18:30", time.Hour, "2026-03-07 08:30"},
		{"Friday 18:30 is due Monday when weekends are closed", weekdaysOnly, "2026-03-06 18:30", time.Hour, "2026-03-09 08:30"},
		{"Saturday after closing", s, "2026-03-07 16:00", time.Hour, "2026-03-08 09:00"},
		{"Ascension Day (Kristi himmelsfärds dag) is closed", weekdaysOnly, "2026-05-13 18:30", time.Hour, "2026-05-15 08:30"},
		{"Ascension Day has holiday hours", s, "2026-05-13 18:30", time.Hour, "2026-05-14 08:30"},
		{"spans two days", s, "2026-03-04 18:00", 2 * time.Hour, "2026-03-05 09:00"},
		{"exactly at closing", s, "2026-03-04 18:00", time.Hour, "2026-03-04 19:00"},
		{"daylight saving time starts", s, "2026-03-28 14:30", time.Hour, "2026-03-29 08:30"},
	}
	for _, tt := range tests {
		if got := tt.sched.DueAfter(at(tt.from), tt.d); !got.Equal(at(tt.want)) {
			t.Errorf("%s: DueAfter(%s, %v) got %s, want %s", tt.name, tt.from, tt.d, got.Format("2006-01-02 15:04 MST"), tt.want)
		}
	}
	never := openinghours.Schedule{Location: s.Location}
	if got := never.DueAfter(at("2026-03-04 10:00"), time.Hour); !got.IsZero() {
		t.Errorf("DueAfter on a schedule that never opens got %s, want the zero time", got)
	}
}
