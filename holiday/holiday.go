// Package holiday knows the Swedish public holidays, and the eves that
// Swedish workplaces treat as holidays, for any year.
package holiday

import (
	"sort"
	"time"
)

// Holiday is one day off in Sweden.
type Holiday struct {
	// Date is the day, at midnight UTC; only its year, month and day matter.
	Date time.Time
	// NameSV and NameEN are the day's names.
	NameSV, NameEN string
	// Official is true for public holidays by law (lag 1989:253) and false for
	// the eves that are treated as holidays in practice (Midsummer Eve,
	// Christmas Eve, New Year's Eve).
	Official bool
}

// Swedish returns the holidays of year in date order.
func Swedish(year int) []Holiday {
	easter := EasterSunday(year)
	day := func(m time.Month, d int) time.Time { return time.Date(year, m, d, 0, 0, 0, 0, time.UTC) }
	// Midsummer Day is the Saturday from 20 to 26 June; All Saints' Day the
	// Saturday from 31 October to 6 November.
	midsummer := saturdayFrom(day(time.June, 20))
	allSaints := saturdayFrom(day(time.October, 31))
	hs := []Holiday{
		{day(time.January, 1), "Nyårsdagen", "New Year's Day", true},
		{day(time.January, 6), "Trettondedag jul", "Epiphany", true},
		{easter.AddDate(0, 0, -2), "Långfredagen", "Good Friday", true},
		{easter, "Påskdagen", "Easter Sunday", true},
		{easter.AddDate(0, 0, 1), "Annandag påsk", "Easter Monday", true},
		{day(time.May, 1), "Första maj", "May Day", true},
		{easter.AddDate(0, 0, 39), "Kristi himmelsfärdsdag", "Ascension Day", true},
		{day(time.June, 6), "Sveriges nationaldag", "National Day of Sweden", true},
		{easter.AddDate(0, 0, 49), "Pingstdagen", "Whit Sunday", true},
		{midsummer.AddDate(0, 0, -1), "Midsommarafton", "Midsummer Eve", false},
		{midsummer, "Midsommardagen", "Midsummer Day", true},
		{allSaints, "Alla helgons dag", "All Saints' Day", true},
		{day(time.December, 24), "Julafton", "Christmas Eve", false},
		{day(time.December, 25), "Juldagen", "Christmas Day", true},
		{day(time.December, 26), "Annandag jul", "Boxing Day", true},
		{day(time.December, 31), "Nyårsafton", "New Year's Eve", false},
	}
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].Date.Before(hs[j].Date) })
	return hs
}

// On returns the holiday on the calendar day of t (in t's own location), if any.
func On(t time.Time) (Holiday, bool) {
	y, m, d := t.Date()
	for _, h := range Swedish(y) {
		if h.Date.Month() == m && h.Date.Day() == d {
			return h, true
		}
	}
	return Holiday{}, false
}

// EasterSunday returns Easter Sunday of year in the Gregorian calendar
// (the anonymous Gregorian algorithm, "Meeus/Jones/Butcher").
func EasterSunday(year int) time.Time {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}

func saturdayFrom(t time.Time) time.Time {
	return t.AddDate(0, 0, (int(time.Saturday)-int(t.Weekday())+7)%7)
}
