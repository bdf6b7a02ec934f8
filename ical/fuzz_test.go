package ical_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nara-care/nara/ical"
)

// FuzzRenderCalendar: whatever text an event carries, the calendar is whole
// content lines of at most 75 octets that unfold into exactly the lines the
// event has (no text can start a line of its own, such as an ATTENDEE or a
// second VEVENT), the text comes back on unescaping, and a line is never
// cut inside a UTF-8 character of valid text.
func FuzzRenderCalendar(f *testing.F) {
	f.Add("0b6c1d1e@nara", "Vaccination, covid-19; dos 2", "Vårdcentral Solna\nStorgatan 1", `Ta med \ legitimation`, "https://nara.example/a/1", "Mina besök", int64(1780000000), int64(600), int64(30))
	f.Add("x", strings.Repeat("å", 60), strings.Repeat("✓", 40), "\r\nEND:VEVENT\r\nBEGIN:VEVENT", "https://x/\r\nATTENDEE:evil", "", int64(0), int64(1), int64(0))
	f.Fuzz(func(t *testing.T, uid, summary, location, description, url, name string, start, length, alarmMinutes int64) {
		// Times from 1970 to 2099, as the database keeps them.
		at := time.Unix(int64(uint64(start)%(130*365*24*3600)), 0).UTC()
		e := ical.Event{
			UID: uid, Sequence: start % 1000, Stamp: at, Start: at, End: at.Add(time.Duration(uint64(length)%(24*3600)) * time.Second),
			Summary: summary, Location: location, Description: description, URL: url, Status: ical.StatusConfirmed,
			Alarm: time.Duration(uint64(alarmMinutes)%(24*60)) * time.Minute,
		}
		out, err := ical.RenderCalendar(ical.Calendar{Name: name, Refresh: time.Hour, Events: []ical.Event{e}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(out, "\r\n") {
			t.Fatalf("calendar does not end with CRLF: %q", out)
		}
		var logical []string
		for _, physical := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
			if len(physical) > 75 {
				t.Errorf("line of %d octets: %q", len(physical), physical)
			}
			if strings.ContainsAny(physical, "\r\n") {
				t.Errorf("bare CR or LF in line %q", physical)
			}
			if rest, ok := strings.CutPrefix(physical, " "); ok && len(logical) > 0 {
				logical[len(logical)-1] += rest
				continue
			}
			logical = append(logical, physical)
		}
		valid := true
		for _, s := range []string{uid, summary, location, description, url, name} {
			valid = valid && utf8.ValidString(s)
		}
		if valid && !utf8.ValidString(out) {
			t.Errorf("valid text rendered as invalid UTF-8")
		}

		want := []string{"BEGIN", "VERSION", "PRODID", "CALSCALE", "METHOD"}
		if name != "" {
			want = append(want, "NAME", "X-WR-CALNAME")
		}
		want = append(want, "REFRESH-INTERVAL", "X-PUBLISHED-TTL")
		want = append(want, "BEGIN", "TZID", "BEGIN", "TZOFFSETFROM", "TZOFFSETTO", "TZNAME", "DTSTART", "RRULE", "END",
			"BEGIN", "TZOFFSETFROM", "TZOFFSETTO", "TZNAME", "DTSTART", "RRULE", "END", "END")
		want = append(want, "BEGIN", "UID", "SEQUENCE", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY")
		if location != "" {
			want = append(want, "LOCATION")
		}
		if description != "" {
			want = append(want, "DESCRIPTION")
		}
		if url != "" {
			want = append(want, "URL")
		}
		want = append(want, "STATUS")
		if e.Alarm > 0 {
			want = append(want, "BEGIN", "ACTION", "DESCRIPTION", "TRIGGER", "END")
		}
		want = append(want, "END", "END")
		if len(logical) != len(want) {
			t.Fatalf("calendar has %d lines, want %d:\n%s", len(logical), len(want), out)
		}
		values := map[string]string{}
		for i, l := range logical {
			n := strings.IndexAny(l, ":;")
			if n < 0 || l[:n] != want[i] {
				t.Fatalf("line %d is %q, want property %s", i, l, want[i])
			}
			if _, ok := values[want[i]]; !ok {
				values[want[i]] = l[strings.IndexByte(l, ':')+1:]
			}
		}
		for prop, in := range map[string]string{"UID": uid, "SUMMARY": summary, "LOCATION": location, "DESCRIPTION": description} {
			if in == "" {
				continue
			}
			if got, want := unescape(values[prop]), strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(in); got != want {
				t.Errorf("%s unescapes to %q, want %q", prop, got, want)
			}
		}
		if u := values["URL"]; strings.ContainsFunc(u, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Errorf("URL %q carries a control character", u)
		}
	})
}

// unescape reverses a TEXT value's escapes (RFC 5545 3.3.11).
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
