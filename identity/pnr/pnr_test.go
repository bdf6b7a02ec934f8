package pnr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// refDate is the reference date the short-form tests are written against.
func refDate() time.Time { return time.Date(2025, time.June, 15, 12, 0, 0, 0, time.UTC) }

// Test numbers: 19121212-1212 is Skatteverket's own example (Tolvan
// Tolvansson); the others use birth numbers 980–999, the series Skatteverket
// keeps for test personal numbers, with the check digit computed by hand.
func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		want  string // Digits(), or "" when an error is expected
		coord bool
		err   error
	}{
		{in: "19121212-1212", want: "191212121212"},
		{in: "191212121212", want: "191212121212"},
		{in: "  191212121212\n", want: "191212121212"},
		{in: "121212-1212", want: "201212121212"},
		{in: "1212121212", want: "201212121212"},
		{in: "121212+1212", want: "191212121212"},
		{in: "850709-9805", want: "198507099805"},
		{in: "8507099805", want: "198507099805"},
		{in: "19850709-9805", want: "198507099805"},
		{in: "000101-9835", want: "200001019835"},
		{in: "000101+9835", want: "190001019835"},
		{in: "20200229-9879", want: "202002299879"}, // leap day
		{in: "200229-9879", want: "202002299879"},
		{in: "250615-9926", want: "202506159926"}, // born on the reference day
		{in: "250615+9926", want: "192506159926"}, // turns 100 on the reference day
		// Samordningsnummer: day of birth + 60.
		{in: "19121272-1219", want: "191212721219", coord: true},
		{in: "850769-9828", want: "198507699828", coord: true},
		{in: "198507699828", want: "198507699828", coord: true},

		{in: "", err: ErrFormat},
		{in: "abc", err: ErrFormat},
		{in: "19121212+1212", err: ErrFormat},
		{in: "19121212 1212", err: ErrFormat},
		{in: "1912-12-12-1212", err: ErrFormat},
		{in: "19121212-121", err: ErrFormat},
		{in: "19121212-12123", err: ErrFormat},
		{in: "121212*1212", err: ErrFormat},
		{in: "+12121212121", err: ErrFormat},
		{in: "１９１２１２１２１２１２", err: ErrFormat}, // full-width digits

		{in: "19850230-9805", err: ErrDate},
		{in: "19851301-9805", err: ErrDate},
		{in: "19850001-9805", err: ErrDate},
		{in: "19850100-9805", err: ErrDate},
		{in: "19850160-9805", err: ErrDate}, // coordination day 0
		{in: "19850792-9805", err: ErrDate}, // coordination day 32
		{in: "19000229-9815", err: ErrDate}, // 1900 was no leap year
		{in: "17991231-9805", err: ErrDate},
		{in: "250616-9925", err: ErrDate},   // born tomorrow
		{in: "20300101-9805", err: ErrDate}, // long form in the future

		{in: "19121212-1213", err: ErrChecksum},
		{in: "191212-1212", err: ErrChecksum}, // 2019-12-12 with Tolvan's serial
		{in: "19121272-1212", err: ErrChecksum},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, refDate())
		if !errors.Is(err, tt.err) {
			t.Errorf("Parse(%q) error %v, want %v", tt.in, err, tt.err)
			continue
		}
		if got.Digits() != tt.want {
			t.Errorf("Parse(%q) got %q, want %q", tt.in, got.Digits(), tt.want)
		}
		if err == nil && got.IsCoordination() != tt.coord {
			t.Errorf("Parse(%q).IsCoordination() got %v, want %v", tt.in, got.IsCoordination(), tt.coord)
		}
		if err != nil && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) && len(strings.TrimSpace(tt.in)) > 3 {
			t.Errorf("Parse(%q) error %q repeats the input", tt.in, err)
		}
	}
}

func TestParseDigits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{in: "191212121212", want: "191212121212"},
		{in: "191212121213", err: ErrChecksum},
		{in: "19121212-1212", err: ErrFormat},
		{in: "1212121212", err: ErrFormat},
		{in: "191213321212", err: ErrDate},
	}
	for _, tt := range tests {
		got, err := ParseDigits(tt.in)
		if !errors.Is(err, tt.err) || got.Digits() != tt.want {
			t.Errorf("ParseDigits(%q) got %q, %v, want %q, %v", tt.in, got.Digits(), err, tt.want, tt.err)
		}
	}
	// A future birth date with a good check digit parses: BankID's test
	// environment and our own rows are trusted to be real numbers.
	future := "20300101989" + fmt.Sprint(luhn("300101989"))
	if _, err := ParseDigits(future); err != nil {
		t.Errorf("ParseDigits(%q) error %v, want nil", future, err)
	}
}

func TestBirthDateAndAge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		at    time.Time
		birth time.Time
		age   int
	}{
		{"19121212-1212", date(2025, 6, 15), date(1912, 12, 12), 112},
		{"19121212-1212", date(2024, 12, 12), date(1912, 12, 12), 112},
		{"19121212-1212", date(2024, 12, 11), date(1912, 12, 12), 111},
		{"19850769-9828", date(2003, 7, 9), date(1985, 7, 9), 18},
		{"19850769-9828", date(2003, 7, 8), date(1985, 7, 9), 17},
		{"20200229-9879", date(2021, 2, 28), date(2020, 2, 29), 1}, // non-leap year: birthday on 28 Feb
		{"20200229-9879", date(2021, 2, 27), date(2020, 2, 29), 0},
		{"20200229-9879", date(2024, 2, 28), date(2020, 2, 29), 3}, // leap year: wait for the 29th
		{"20200229-9879", date(2024, 2, 29), date(2020, 2, 29), 4},
	}
	for _, tt := range tests {
		n := mustParse(t, tt.in)
		if got := n.BirthDate(); !got.Equal(tt.birth) {
			t.Errorf("Parse(%q).BirthDate() got %v, want %v", tt.in, got, tt.birth)
		}
		if got := n.Age(tt.at); got != tt.age {
			t.Errorf("Parse(%q).Age(%v) got %d, want %d", tt.in, tt.at.Format(time.DateOnly), got, tt.age)
		}
	}
}

func TestNeverPrintsDigits(t *testing.T) {
	t.Parallel()
	n := mustParse(t, "19121212-1212")
	const want = "19121212-****"

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("login", "pnr", n, "nested", struct{ P Number }{n})
	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("login", "pnr", n, "nested", struct{ P Number }{n})
	asJSON, err := json.Marshal(struct{ P Number }{n})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"String":       n.String(),
		"Redacted":     n.Redacted(),
		"%v":           fmt.Sprintf("%v", n),
		"%s":           fmt.Sprintf("%s", n),
		"%+v":          fmt.Sprintf("%+v", n),
		"%#v":          fmt.Sprintf("%#v", n),
		"%q":           fmt.Sprintf("%q", n),
		"%d":           fmt.Sprintf("%d", n),
		"%x":           fmt.Sprintf("%x", n),
		"struct %+v":   fmt.Sprintf("%+v", struct{ P Number }{n}),
		"pointer %v":   fmt.Sprintf("%v", &n),
		"error wrap":   fmt.Errorf("lookup %v: %w", n, errors.New("x")).Error(),
		"slog json":    logged.String(),
		"slog text":    text.String(),
		"json.Marshal": string(asJSON),
	}
	for name, out := range outputs {
		if strings.Contains(out, "1212121212") || strings.Contains(out, "-1212") {
			t.Errorf("%s leaked the number: %q", name, out)
		}
		if name != "%x" && name != "%d" && !strings.Contains(out, want) {
			t.Errorf("%s got %q, want it to contain %q", name, out, want)
		}
	}
	if got := n.Digits(); got != "191212121212" {
		t.Errorf("Digits() got %q, want %q", got, "191212121212")
	}
	var zero Number
	if !zero.IsZero() || zero.String() != "" || zero.Age(refDate()) != 0 || !zero.BirthDate().IsZero() || zero.IsCoordination() {
		t.Errorf("zero Number got %q, want empty behaviour", zero.String())
	}
}

// FuzzParse checks that Parse never panics, that whatever it accepts comes
// back unchanged through the canonical form, and that errors never quote the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"19121212-1212", "121212+1212", "8507699828", "19850230-9805", "", "+-", "000229-0000"} {
		f.Add(s)
	}
	ref := refDate()
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s, ref)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrDate) && !errors.Is(err, ErrChecksum) {
				t.Fatalf("Parse(%q) error %v is not a sentinel", s, err)
			}
			if trimmed := strings.TrimSpace(s); len(trimmed) >= 10 && strings.Contains(err.Error(), trimmed) {
				t.Fatalf("Parse(%q) error %q repeats the input", s, err)
			}
			return
		}
		d := n.Digits()
		if len(d) != 12 || !allDigits(d) {
			t.Fatalf("Parse(%q).Digits() got %q, want 12 digits", s, d)
		}
		if again, err := Parse(d, ref); err != nil || again != n {
			t.Fatalf("Parse(%q) got %v, %v, want %v", d, again.Digits(), err, d)
		}
		if again, err := ParseDigits(d); err != nil || again != n {
			t.Fatalf("ParseDigits(%q) got %v, %v, want %v", d, again.Digits(), err, d)
		}
		if long := d[:8] + "-" + d[8:]; mustNotFail(Parse(long, ref)) != n {
			t.Fatalf("Parse(%q) does not round-trip", long)
		}
		if n.Age(ref) < 0 {
			t.Fatalf("Parse(%q).Age got %d, want >= 0", s, n.Age(ref))
		}
		if got, want := fmt.Sprint(n), d[:8]+"-****"; got != want {
			t.Fatalf("fmt.Sprint(Parse(%q)) got %q, want %q", s, got, want)
		}
	})
}

func mustNotFail(n Number, err error) Number {
	if err != nil {
		return Number{}
	}
	return n
}

func mustParse(t *testing.T, s string) Number {
	t.Helper()
	n, err := Parse(s, refDate())
	if err != nil {
		t.Fatalf("Parse(%q) error %v", s, err)
	}
	return n
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
