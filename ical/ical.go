// Package ical writes iCalendar (RFC 5545) events, so that a booked visit can
// be added to the calendar of any phone or computer, one at a time or as a
// subscribed feed of all of a person's visits. Times are written in
// Europe/Stockholm with the zone's VTIMEZONE, so calendars that know no zone
// database still show the right hour on both sides of a DST change.
package ical

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Zone is the time zone events are written in.
const Zone = "Europe/Stockholm"

// Status is an event's STATUS.
type Status string

// The statuses an event can have.
const (
	StatusTentative Status = "TENTATIVE"
	StatusConfirmed Status = "CONFIRMED"
	StatusCancelled Status = "CANCELLED"
)

// Event is one visit. It must never carry a personal identity number.
type Event struct {
	// UID is stable across changes: the appointment id.
	UID string
	// Sequence grows with every change, so calendars replace the old copy.
	Sequence    int64
	Stamp       time.Time
	Start, End  time.Time
	Summary     string
	Location    string
	Description string
	URL         string
	Status      Status
	// Alarm is how long before Start to alert; zero for none.
	Alarm time.Duration
}

// vtimezone is Europe/Stockholm's rule since 1996 (EU summer time).
const vtimezone = "BEGIN:VTIMEZONE\r\n" +
	"TZID:" + Zone + "\r\n" +
	"BEGIN:DAYLIGHT\r\n" +
	"TZOFFSETFROM:+0100\r\n" +
	"TZOFFSETTO:+0200\r\n" +
	"TZNAME:CEST\r\n" +
	"DTSTART:19700329T020000\r\n" +
	"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n" +
	"END:DAYLIGHT\r\n" +
	"BEGIN:STANDARD\r\n" +
	"TZOFFSETFROM:+0200\r\n" +
	"TZOFFSETTO:+0100\r\n" +
	"TZNAME:CET\r\n" +
	"DTSTART:19701025T030000\r\n" +
	"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n" +
	"END:STANDARD\r\n" +
	"END:VTIMEZONE\r\n"

// Calendar is a whole calendar, such as a person's subscribed feed.
type Calendar struct {
	// Name is what calendar apps call a subscribed calendar; empty for none.
	Name string
	// Refresh is how often a subscribing app should fetch the calendar
	// again; zero leaves it to the app.
	Refresh time.Duration
	Events  []Event
}

// Render returns a VCALENDAR holding e. It fails only if the zone database
// lacks Europe/Stockholm.
func Render(e Event) (string, error) {
	return RenderCalendar(Calendar{Events: []Event{e}})
}

// RenderCalendar returns a VCALENDAR holding c's events in their order. With
// no events it is still a valid calendar (the VTIMEZONE is its component),
// so a subscription stays in place while there is nothing to show. It fails
// only if the zone database lacks Europe/Stockholm.
func RenderCalendar(c Calendar) (string, error) {
	loc, err := time.LoadLocation(Zone)
	if err != nil {
		return "", fmt.Errorf("ical: %w", err)
	}
	var b strings.Builder
	line := func(name, value string) { b.WriteString(fold(name + ":" + value)) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", "-//Nara//Appointments//SV")
	line("CALSCALE", "GREGORIAN")
	line("METHOD", "PUBLISH")
	if c.Name != "" {
		// NAME is RFC 7986; X-WR-CALNAME is what Apple and Google read.
		line("NAME", text(c.Name))
		line("X-WR-CALNAME", text(c.Name))
	}
	if c.Refresh > 0 {
		minutes := max(1, int(c.Refresh.Minutes()))
		line("REFRESH-INTERVAL;VALUE=DURATION", fmt.Sprintf("PT%dM", minutes))
		line("X-PUBLISHED-TTL", fmt.Sprintf("PT%dM", minutes))
	}
	b.WriteString(vtimezone)
	for _, e := range c.Events {
		writeEvent(line, loc, e)
	}
	line("END", "VCALENDAR")
	return b.String(), nil
}

func writeEvent(line func(name, value string), loc *time.Location, e Event) {
	local := func(t time.Time) string { return t.In(loc).Format("20060102T150405") }
	line("BEGIN", "VEVENT")
	line("UID", text(e.UID))
	line("SEQUENCE", fmt.Sprint(e.Sequence))
	line("DTSTAMP", e.Stamp.UTC().Format("20060102T150405Z"))
	line("DTSTART;TZID="+Zone, local(e.Start))
	line("DTEND;TZID="+Zone, local(e.End))
	line("SUMMARY", text(e.Summary))
	if e.Location != "" {
		line("LOCATION", text(e.Location))
	}
	if e.Description != "" {
		line("DESCRIPTION", text(e.Description))
	}
	if e.URL != "" {
		line("URL", uri(e.URL))
	}
	if e.Status != "" {
		line("STATUS", string(e.Status))
	}
	if e.Alarm > 0 && e.Status != StatusCancelled {
		line("BEGIN", "VALARM")
		line("ACTION", "DISPLAY")
		line("DESCRIPTION", text(e.Summary))
		line("TRIGGER", fmt.Sprintf("-PT%dM", int(e.Alarm.Minutes())))
		line("END", "VALARM")
	}
	line("END", "VEVENT")
}

// text escapes a TEXT value (RFC 5545 3.3.11).
var textEscaper = strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)

func text(s string) string { return textEscaper.Replace(s) }

// uri drops the control characters a URI value cannot hold (RFC 3986), so
// that a CR LF in a link cannot start a property of its own.
func uri(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// fold ends a content line with CRLF, folding it into lines of at most 75
// octets without splitting a UTF-8 character of valid text (RFC 5545 3.1).
func fold(s string) string {
	var b strings.Builder
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		if cut == 0 {
			// Not UTF-8: cut anywhere rather than never.
			cut = limit
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
	return b.String()
}
