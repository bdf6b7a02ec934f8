// Package pnr parses, validates and protects Swedish personal identity
// numbers (personnummer) and coordination numbers (samordningsnummer).
//
// A Number never prints in full by accident: String, every fmt verb, slog and
// text marshalling give the redacted form "YYYYMMDD-****". The twelve digits
// come only from Digits, which code calls on purpose: to talk to BankID, or to
// seal the number with a Protector before it is stored.
package pnr

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// The errors say which rule a number broke without repeating the number, so a
// handler can show them to the user and a log line can carry them.
var (
	// ErrFormat means the text is not one of the accepted shapes.
	ErrFormat = errors.New("pnr: not a personal identity number (want YYYYMMDD-NNNN, YYYYMMDDNNNN, YYMMDD-NNNN, YYMMDDNNNN or YYMMDD+NNNN)")
	// ErrDate means the birth date does not exist, or lies after the reference date.
	ErrDate = errors.New("pnr: personal identity number has an impossible birth date")
	// ErrChecksum means the last digit is not the Luhn check digit of the other nine.
	ErrChecksum = errors.New("pnr: personal identity number has a wrong check digit")
)

// coordinationOffset is what Skatteverket adds to the day of birth to mark a
// samordningsnummer.
const coordinationOffset = 60

// earliestYear bounds the century of long forms; nobody with a number today
// was born earlier, and it stops nonsense such as year 0007 from parsing.
const earliestYear = 1800

// Number is a valid personnummer or samordningsnummer. The zero value is "no
// number". Numbers are comparable with ==.
type Number struct {
	digits string // YYYYMMDDNNNN, or "" for the zero value
}

// Parse accepts YYYYMMDD-NNNN, YYYYMMDDNNNN, YYMMDD-NNNN, YYMMDDNNNN and
// YYMMDD+NNNN, surrounded by white space or not. The short forms carry no
// century, so it is derived from ref (normally today): "-" or no separator
// means the person turns at most 99 during ref's year, "+" that they turn 100
// or more, as Skatteverket writes it. A birth date after ref is rejected with
// ErrDate, since no number is issued before birth.
func Parse(s string, ref time.Time) (Number, error) {
	s = strings.TrimSpace(s)
	var century, rest string
	short := false
	plus := false
	switch {
	case len(s) == 12:
		century, rest = s[:2], s[2:]
	case len(s) == 13 && s[8] == '-':
		century, rest = s[:2], s[2:8]+s[9:]
	case len(s) == 10:
		short, rest = true, s
	case len(s) == 11 && (s[6] == '-' || s[6] == '+'):
		short, plus, rest = true, s[6] == '+', s[:6]+s[7:]
	default:
		return Number{}, ErrFormat
	}
	if !allDigits(century) || !allDigits(rest) {
		return Number{}, ErrFormat
	}
	yy := atoi(rest[0:2])
	var year int
	if short {
		ry := ref.Year()
		year = ry - mod(ry-yy, 100)
		if plus {
			year -= 100
		}
	} else {
		year = atoi(century)*100 + yy
	}
	n, err := build(year, rest)
	if err != nil {
		return Number{}, err
	}
	ry, rm, rd := ref.Date()
	if n.BirthDate().After(time.Date(ry, rm, rd, 0, 0, 0, 0, time.UTC)) {
		return Number{}, ErrDate
	}
	return n, nil
}

// ParseDigits accepts only the twelve-digit form that Digits returns, as
// BankID and Nära's own storage carry it. The century is explicit, so no
// reference date is needed, and unlike Parse it does not reject birth dates
// after today: the source is a system, not a person typing.
func ParseDigits(s string) (Number, error) {
	if len(s) != 12 || !allDigits(s) {
		return Number{}, ErrFormat
	}
	return build(atoi(s[:4]), s[2:])
}

// build validates the ten-digit form ten (YYMMDDNNNC) with the full year.
func build(year int, ten string) (Number, error) {
	month := atoi(ten[2:4])
	day := atoi(ten[4:6])
	if day > coordinationOffset {
		day -= coordinationOffset
	}
	if year < earliestYear || month < 1 || month > 12 || day < 1 || day > daysIn(year, time.Month(month)) {
		return Number{}, ErrDate
	}
	if luhn(ten[:9]) != int(ten[9]-'0') {
		return Number{}, ErrChecksum
	}
	return Number{digits: fmt.Sprintf("%04d", year) + ten[2:]}, nil
}

// luhn returns the check digit for nine digits: weights 2,1,2,…, digits of
// each product summed.
func luhn(nine string) int {
	sum := 0
	for i := 0; i < len(nine); i++ {
		v := int(nine[i] - '0')
		if i%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return (10 - sum%10) % 10
}

func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi converts a short run of ASCII digits already checked by allDigits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func mod(a, b int) int { return ((a % b) + b) % b }

// IsZero reports whether n is the zero value, so optional numbers need no pointer.
func (n Number) IsZero() bool { return n.digits == "" }

// Digits returns the full canonical form YYYYMMDDNNNN. It is the only way to
// get every digit, so that each use is a visible, deliberate choice.
func (n Number) Digits() string { return n.digits }

// Redacted returns "YYYYMMDD-****": enough to tell numbers apart in a support
// conversation, not enough to identify the person. It is "" for the zero value.
func (n Number) Redacted() string {
	if n.digits == "" {
		return ""
	}
	return n.digits[:8] + "-****"
}

// String returns the redacted form, because generic code (loggers, metrics
// labels, error wrapping) calls String without anyone deciding to reveal the
// number. Use Digits for the full value.
func (n Number) String() string { return n.Redacted() }

// Format makes every fmt verb, including %#v and %q, print the redacted form.
func (n Number) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), n.Redacted())
}

// LogValue makes log/slog print the redacted form, whatever the handler.
func (n Number) LogValue() slog.Value { return slog.StringValue(n.Redacted()) }

// MarshalText gives the redacted form, so a Number nested in a struct that is
// logged or encoded as JSON does not leak. There is deliberately no
// UnmarshalText: store and transmit Digits (or a Protector's output).
func (n Number) MarshalText() ([]byte, error) { return []byte(n.Redacted()), nil }

// IsCoordination reports whether n is a samordningsnummer (day of birth + 60),
// issued to people who are not, or not yet, registered in Sweden.
func (n Number) IsCoordination() bool {
	return n.digits != "" && atoi(n.digits[6:8]) > coordinationOffset
}

// BirthDate returns the date of birth at midnight UTC, with the coordination
// offset removed. It is the zero time for the zero Number.
func (n Number) BirthDate() time.Time {
	if n.digits == "" {
		return time.Time{}
	}
	day := atoi(n.digits[6:8])
	if day > coordinationOffset {
		day -= coordinationOffset
	}
	return time.Date(atoi(n.digits[:4]), time.Month(atoi(n.digits[4:6])), day, 0, 0, 0, 0, time.UTC)
}

// Age returns the completed years on the calendar date of at, for rules such
// as "a guardian acts for patients under 18". Someone born on 29 February is a
// year older on 28 February in other years, as Swedish law (1930:173) counts a
// period ending on a day the month lacks.
func (n Number) Age(at time.Time) int {
	if n.digits == "" {
		return 0
	}
	b := n.BirthDate()
	y, m, d := at.Date()
	bm, bd := b.Month(), b.Day()
	if bm == time.February && bd == 29 && daysIn(y, time.February) == 28 {
		bd = 28
	}
	age := y - b.Year()
	if m < bm || (m == bm && d < bd) {
		age--
	}
	return age
}
