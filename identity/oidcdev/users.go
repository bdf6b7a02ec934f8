package oidcdev

import (
	"time"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/identity/oidc"
)

// The demo care provider and its units. The HSA-ids have the form of Region
// Stockholm's (SE2321000016-…) but are made up for Nära's demo data.
const (
	CareProviderHSAID = "SE2321000016-1000"
	CareProviderName  = "Region Stockholm"

	UnitSodermalmHSAID = "SE2321000016-1A01"
	UnitSodermalmName  = "Vårdcentral Södermalm"
	UnitSolnaHSAID     = "SE2321000016-1A02"
	UnitSolnaName      = "Vårdcentral Solna"
	UnitDigitalHSAID   = "SE2321000016-1A04"
	UnitDigitalName    = "Digital vårdcentral Region Stockholm"
)

// The HSA-ids of the built-in test users, so that tests can name the case
// they exercise.
const (
	HSAIDNurse             = "SE2321000016-N001"
	HSAIDDoctor            = "SE2321000016-D001"
	HSAIDDoctorNoAssign    = "SE2321000016-D002"
	HSAIDDoctorExpired     = "SE2321000016-D003"
	HSAIDDoctorAdminOnly   = "SE2321000016-D004"
	HSAIDDoctorSolna       = "SE2321000016-D005"
	HSAIDSupportFirstLine  = "SE2321000016-S001"
	HSAIDSupportSecondLine = "SE2321000016-S002"
	HSAIDUnitAdmin         = "SE2321000016-A001"
	HSAIDRegionAdmin       = "SE2321000016-A002"
)

// User is a person the provider can log in as.
type User struct {
	HSAID      string
	GivenName  string
	FamilyName string
	// Title is the profession shown on the login page, e.g. "Läkare".
	Title string
	// About says what logging in as this user shows; it is on the login
	// page so that a developer picks the right one.
	About       string
	Roles       []string
	Assignments []oidc.Assignment
}

// Name is the full name the provider reports.
func (u User) Name() string { return u.GivenName + " " + u.FamilyName }

// Claims are what the provider puts in ID tokens and userinfo for u.
func (u User) Claims() oidc.Claims {
	return oidc.Claims{
		HSAID:       u.HSAID,
		Name:        u.Name(),
		GivenName:   u.GivenName,
		FamilyName:  u.FamilyName,
		Roles:       u.Roles,
		Assignments: u.Assignments,
	}
}

// TestUsers returns the built-in users: one for each case the clinician
// login has to handle, at the demo units. Validity periods are fixed dates
// (open-ended or long past), so the users behave the same on any day.
func TestUsers() []User {
	cet := time.FixedZone("CET", 3600)
	since := time.Date(2024, 1, 1, 0, 0, 0, 0, cet)
	assign := func(id, unit, unitName, purpose string) oidc.Assignment {
		return oidc.Assignment{
			ID: id, Purpose: purpose,
			CareUnitHSAID: unit, CareUnitName: unitName,
			CareProviderHSAID: CareProviderHSAID, CareProviderName: CareProviderName,
			ValidFrom: since,
		}
	}
	vob := oidc.PurposeCareAndTreatment
	expired := assign("SE2321000016-MU0006", UnitDigitalHSAID, UnitDigitalName, vob)
	expired.ValidFrom = time.Date(2023, 1, 1, 0, 0, 0, 0, cet)
	expired.ValidTo = time.Date(2024, 12, 31, 23, 59, 59, 0, cet)

	return []User{
		{
			HSAID: HSAIDNurse, GivenName: "Karin", FamilyName: "Sjöberg", Title: "Sjuksköterska",
			About:       "Nurse at the digital unit: a valid assignment, may meet patients there.",
			Assignments: []oidc.Assignment{assign("SE2321000016-MU0001", UnitDigitalHSAID, UnitDigitalName, vob)},
		},
		{
			HSAID: HSAIDDoctor, GivenName: "Erik", FamilyName: "Lindqvist", Title: "Läkare",
			About: "Doctor with valid assignments at two units (digital and Södermalm).",
			Assignments: []oidc.Assignment{
				assign("SE2321000016-MU0002", UnitDigitalHSAID, UnitDigitalName, vob),
				assign("SE2321000016-MU0003", UnitSodermalmHSAID, UnitSodermalmName, vob),
			},
		},
		{
			HSAID: HSAIDDoctorNoAssign, GivenName: "Sara", FamilyName: "Nyberg", Title: "Läkare",
			About: "Doctor with no care assignment at all: may not meet patients anywhere.",
		},
		{
			HSAID: HSAIDDoctorExpired, GivenName: "Johan", FamilyName: "Berg", Title: "Läkare",
			About:       "Doctor whose assignment at the digital unit ended on 2024-12-31.",
			Assignments: []oidc.Assignment{expired},
		},
		{
			HSAID: HSAIDDoctorAdminOnly, GivenName: "Maria", FamilyName: "Holm", Title: "Läkare, verksamhetschef",
			About:       `Doctor whose assignment at the digital unit has the purpose "Administration", not "Vård och behandling".`,
			Assignments: []oidc.Assignment{assign("SE2321000016-MU0007", UnitDigitalHSAID, UnitDigitalName, "Administration")},
		},
		{
			HSAID: HSAIDDoctorSolna, GivenName: "Ali", FamilyName: "Hassan", Title: "Läkare",
			About:       "Doctor with a valid assignment at Solna only: refused at the digital unit.",
			Assignments: []oidc.Assignment{assign("SE2321000016-MU0008", UnitSolnaHSAID, UnitSolnaName, vob)},
		},
		{
			HSAID: HSAIDSupportFirstLine, GivenName: "Lena", FamilyName: "Ek", Title: "Support, första linjen",
			About: "First-line support: answers help requests, no care assignment.",
			Roles: []string{string(access.RoleSupportFirstLine)},
		},
		{
			HSAID: HSAIDSupportSecondLine, GivenName: "Per", FamilyName: "Strand", Title: "Support, andra linjen",
			About: "Second-line support: also edits the help texts.",
			Roles: []string{string(access.RoleSupportSecondLine)},
		},
		{
			HSAID: HSAIDUnitAdmin, GivenName: "Eva", FamilyName: "Dahl", Title: "Enhetsadministratör",
			About:       "Administrator of the digital unit (administration assignment there).",
			Roles:       []string{string(access.RoleUnitAdmin)},
			Assignments: []oidc.Assignment{assign("SE2321000016-MU0009", UnitDigitalHSAID, UnitDigitalName, "Administration")},
		},
		{
			HSAID: HSAIDRegionAdmin, GivenName: "Olof", FamilyName: "Wik", Title: "Regionadministratör",
			About: "Administrator for the whole region.",
			Roles: []string{string(access.RoleRegionAdmin)},
		},
	}
}
