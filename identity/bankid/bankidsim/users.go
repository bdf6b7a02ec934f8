package bankidsim

import (
	"fmt"

	"github.com/nara-care/nara/identity/pnr"
)

// TestUser is a person the simulator can complete orders as.
type TestUser struct {
	PersonalNumber pnr.Number
	GivenName      string
	Surname        string
	// BankIDIssueDate is reported in completion data, in BankID's form.
	BankIDIssueDate string
}

// Name is the full name BankID reports.
func (u TestUser) Name() string { return u.GivenName + " " + u.Surname }

// DefaultUsers returns the built-in test users. 19121212-1212 is
// Skatteverket's own example number; the others use birth numbers 980–999,
// the series Skatteverket keeps for test personal numbers, so none of them
// belongs to a real person. They cover an adult, a 100+ year old, a child
// (for guardian rules) and a samordningsnummer.
func DefaultUsers() []TestUser {
	list := []struct{ digits, given, surname, issued string }{
		{"191212121212", "Tolvan", "Tolvansson", "2019-03-01Z"},
		{"198507099805", "Anna", "Provsson", "2021-09-14Z"},
		{"196102039911", "Sven", "Testsson", "2018-01-22Z"},
		{"194703159907", "Greta", "Exempelsson", "2016-05-30Z"},
		{"202012129892", "Lilla", "Barnsson", "2024-11-02Z"},
		{"198507699828", "Sam", "Samordnare", "2023-02-17Z"},
	}
	users := make([]TestUser, 0, len(list))
	for _, u := range list {
		n, err := pnr.ParseDigits(u.digits)
		if err != nil {
			// The table above is constant; TestDefaultUsers keeps it valid.
			panic(fmt.Sprintf("bankidsim: built-in test user %s: %v", u.given, err))
		}
		users = append(users, TestUser{PersonalNumber: n, GivenName: u.given, Surname: u.surname, BankIDIssueDate: u.issued})
	}
	return users
}
