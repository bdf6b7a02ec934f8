// Package openinghours answers "is support open now, and when does it open
// next" from opening hours per kind of day, in the support team's time zone,
// with Swedish holidays taken into account.
package openinghours

import (
	"time"

	"github.com/nara-care/nara/holiday"
)

// DayKind says which hours apply on a day.
type DayKind string

// The kinds of day. A holiday falling on a weekend is a holiday.
const (
	Weekday DayKind = "weekday"
	Weekend DayKind = "weekend"
	Holiday DayKind = "holiday"
)

// Hours is one day's opening, as offsets from local midnight.
type Hours struct {
	Opens, Closes time.Duration
}

// Schedule is a team's opening hours. A kind missing from Hours is closed.
type Schedule struct {
	Hours    map[DayKind]Hours
	Location *time.Location
}

// Day is the opening of one calendar day.
type Day struct {
	Date              time.Time // local midnight
	Kind              DayKind
	Holiday           holiday.Holiday // set when Kind is Holiday
	Open              bool
	OpensAt, ClosesAt time.Time
}

// Status is the answer to "is it open now".
type Status struct {
	OpenNow     bool
	ClosesAt    time.Time // set when OpenNow
	NextOpensAt time.Time // set when not OpenNow and it opens within the horizon
}

// horizon bounds the search for the next opening, so a schedule with no
// opening hours at all gives an answer instead of a loop.
const horizon = 31

// DayOf returns the opening of the calendar day that contains t.
func (s Schedule) DayOf(t time.Time) Day {
	local := t.In(s.Location)
	y, m, d := local.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, s.Location)
	day := Day{Date: midnight, Kind: Weekday}
	if h, ok := holiday.On(midnight); ok {
		day.Kind, day.Holiday = Holiday, h
	} else if wd := midnight.Weekday(); wd == time.Saturday || wd == time.Sunday {
		day.Kind = Weekend
	}
	if h, ok := s.Hours[day.Kind]; ok && h.Closes > h.Opens {
		day.Open = true
		// Wall-clock arithmetic with time.Date keeps 08:00 at 08:00 on the
		// days daylight saving time starts and ends.
		day.OpensAt = wallClock(midnight, h.Opens)
		day.ClosesAt = wallClock(midnight, h.Closes)
	}
	return day
}

func wallClock(midnight time.Time, offset time.Duration) time.Time {
	y, m, d := midnight.Date()
	secs := int(offset / time.Second)
	return time.Date(y, m, d, secs/3600, secs%3600/60, secs%60, 0, midnight.Location())
}

// StatusAt says whether the schedule is open at t and, if not, when it opens.
func (s Schedule) StatusAt(t time.Time) Status {
	for i := 0; i < horizon; i++ {
		day := s.DayOf(dayAfter(t.In(s.Location), i))
		if !day.Open || !t.Before(day.ClosesAt) {
			continue
		}
		if !t.Before(day.OpensAt) {
			return Status{OpenNow: true, ClosesAt: day.ClosesAt}
		}
		return Status{NextOpensAt: day.OpensAt}
	}
	return Status{}
}

// Week returns n days of opening hours starting with the day of t.
func (s Schedule) Week(t time.Time, n int) []Day {
	days := make([]Day, n)
	for i := range days {
		days[i] = s.DayOf(dayAfter(t.In(s.Location), i))
	}
	return days
}

// dayAfter returns noon local time i calendar days after t's day; noon is
// never skipped or repeated by a daylight saving change.
func dayAfter(t time.Time, i int) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+i, 12, 0, 0, 0, t.Location())
}

// maxDueDays bounds DueAfter's walk over closed days.
const maxDueDays = 366

// DueAfter returns when d of open time has passed after t: the time counts
// only while the schedule is open, so a one-hour target set at Friday 18:30
// with weekday hours 08–19 is due half an hour after the next opening. It
// returns the zero time when the schedule never opens within a year.
func (s Schedule) DueAfter(t time.Time, d time.Duration) time.Time {
	t = t.In(s.Location)
	for i := 0; i < maxDueDays; i++ {
		day := s.DayOf(dayAfter(t, i))
		if !day.Open || !t.Before(day.ClosesAt) {
			continue
		}
		from := day.OpensAt
		if t.After(from) {
			from = t
		}
		left := day.ClosesAt.Sub(from)
		if d <= left {
			return from.Add(d)
		}
		d -= left
	}
	return time.Time{}
}
