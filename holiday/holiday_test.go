package holiday_test

import (
	"testing"
	"time"

	"github.com/nara-care/nara/holiday"
)

func TestEasterSunday(t *testing.T) {
	t.Parallel()
	tests := []struct {
		year int
		want string
	}{
		{2024, "2024-03-31"},
		{2025, "2025-04-20"},
		{2026, "2026-04-05"},
		{2027, "2027-03-28"},
		{2038, "2038-04-25"},
	}
	for _, tt := range tests {
		if got := holiday.EasterSunday(tt.year).Format(time.DateOnly); got != tt.want {
			t.Errorf("EasterSunday(%d) got %s, want %s", tt.year, got, tt.want)
		}
	}
}

func TestOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		date string
		want string // "" for no holiday
	}{
		{"2026-01-01", "Nyårsdagen"},
		{"2026-04-03", "Långfredagen"},
		{"2026-04-06", "Annandag påsk"},
		{"2026-05-14", "Kristi himmelsfärdsdag"},
		{"2026-05-24", "Pingstdagen"},
		{"2026-06-19", "Midsommarafton"},
		{"2026-06-20", "Midsommardagen"},
		{"2026-10-31", "Alla helgons dag"},
		{"2026-12-24", "Julafton"},
		{"2026-12-31", "Nyårsafton"},
		{"2025-06-21", "Midsommardagen"},
		{"2025-11-01", "Alla helgons dag"},
		{"2026-11-23", ""},
		{"2026-05-25", ""}, // Whit Monday is no longer a holiday.
	}
	for _, tt := range tests {
		d, err := time.Parse(time.DateOnly, tt.date)
		if err != nil {
			t.Fatal(err)
		}
		h, ok := holiday.On(d)
		if got := map[bool]string{true: h.NameSV}[ok]; got != tt.want {
			t.Errorf("On(%s) got %q, want %q", tt.date, got, tt.want)
		}
	}
}

func TestSwedishIsSortedAndComplete(t *testing.T) {
	t.Parallel()
	for year := 2000; year <= 2100; year++ {
		hs := holiday.Swedish(year)
		if len(hs) != 16 {
			t.Fatalf("Swedish(%d) has %d days, want 16", year, len(hs))
		}
		for i := 1; i < len(hs); i++ {
			// Whit Sunday can fall on the National Day, so equal dates are fine.
			if hs[i].Date.Before(hs[i-1].Date) {
				t.Errorf("Swedish(%d): %s after %s", year, hs[i-1].NameSV, hs[i].NameSV)
			}
		}
	}
}
