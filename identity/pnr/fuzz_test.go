package pnr_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nara-care/nara/identity/pnr"
)

// FuzzParseOnAnyDay: FuzzParse with the reference day fuzzed too, since the
// short forms take their century from it. Whatever Parse accepts is born no
// later than the reference day, is at most 99 then for "-" and at least 100
// for "+", and survives its own canonical form.
func FuzzParseOnAnyDay(f *testing.F) {
	for _, s := range []string{"850709-9805", "8507099805", "121212+1212", "000229-0000", "19850709-9805", "198507699808"} {
		f.Add(s, int64(1796000000))
		f.Add(s, int64(-2000000000))
	}
	f.Fuzz(func(t *testing.T, s string, refUnix int64) {
		// Any day from 1900 to 2299.
		ref := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(uint64(refUnix)%(400*365)))
		n, err := pnr.Parse(s, ref)
		if err != nil {
			if !n.IsZero() {
				t.Fatalf("Parse(%q, %s) failed with a non-zero Number", s, ref)
			}
			return
		}
		checkNumber(t, s, n)
		if n.BirthDate().After(ref) {
			t.Errorf("Parse(%q, %s) gives a birth date %s after the reference day", s, ref, n.BirthDate())
		}
		trimmed := strings.TrimSpace(s)
		turns := ref.Year() - n.BirthDate().Year()
		switch {
		case len(trimmed) == 11 && trimmed[6] == '+' && turns < 100:
			t.Errorf("Parse(%q, %s) turns %d this year, want 100 or more for +", s, ref, turns)
		case len(trimmed) <= 11 && trimmed[len(trimmed)-5] != '+' && turns > 99:
			t.Errorf("Parse(%q, %s) turns %d this year, want at most 99 without +", s, ref, turns)
		}
		if again, err := pnr.Parse(n.Digits(), ref); err != nil || again != n {
			t.Errorf("Parse(Digits()) of %q got %v, %v; want the same Number", s, again, err)
		}
	})
}

// FuzzParseDigits: the twelve-digit form parses to a Number whose Digits are
// the input, and nothing else parses.
func FuzzParseDigits(f *testing.F) {
	for _, s := range []string{"198507099805", "198507699808", "198507099806", "19850709980", "1985070998051", "abcdefghijkl", "000102030405"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := pnr.ParseDigits(s)
		if err != nil {
			if !n.IsZero() {
				t.Fatalf("ParseDigits(%q) failed with a non-zero Number", s)
			}
			return
		}
		if n.Digits() != s {
			t.Errorf("ParseDigits(%q).Digits() = %q", s, n.Digits())
		}
		checkNumber(t, s, n)
	})
}

// checkNumber asserts what holds for every valid Number: twelve digits that
// parse back to it, a birth date on the day the digits name, and the
// redacted form whichever way it is printed.
func checkNumber(t *testing.T, input string, n pnr.Number) {
	t.Helper()
	d := n.Digits()
	if len(d) != 12 || strings.Trim(d, "0123456789") != "" {
		t.Fatalf("Digits() of %q = %q, want twelve digits", input, d)
	}
	if back, err := pnr.ParseDigits(d); err != nil || back != n {
		t.Errorf("ParseDigits(Digits()) of %q got %v, %v; want the same Number", input, back, err)
	}
	day := d[6:8]
	if n.IsCoordination() {
		day = fmt.Sprintf("%02d", (int(d[6]-'0')*10+int(d[7]-'0'))-60)
	}
	if got := n.BirthDate().Format("20060102"); got != d[:6]+day {
		t.Errorf("BirthDate() of %q is %s, want %s", input, got, d[:6]+day)
	}
	want := d[:8] + "-****"
	for _, got := range []string{n.String(), n.Redacted(), fmt.Sprintf("%v", n), fmt.Sprintf("%+v", n), fmt.Sprintf("%#v", n), fmt.Sprintf("%q", n)} {
		if strings.Trim(got, `"`) != want {
			t.Errorf("a Number printed %q, want %q", got, want)
		}
	}
}
