package oidc

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Claims is the part of the ID token Nära reads, and the one place where
// claim names are written down; the local provider (oidcdev) issues tokens
// from this same type.
//
// Where the names come from:
//
//   - Inera's IdP documents its OIDC claims in its attribute list ("IdP
//     Attributlista", Inera's Confluence, space ST), which maps each SAML
//     attribute of the SAMBI profile to a claim: employeeHsaId
//     (http://sambi.se/attributes/1/employeeHsaId, the person's HSA-id),
//     given_name (…/givenName), family_name (…/surname), name, and for the
//     care assignment the user chose at the IdP commissionHsaId,
//     commissionName, commissionPurpose and healthCareProviderHsaId.
//   - healthCareUnitHsaId, healthCareUnitName and healthCareProviderName are
//     the names HSA itself uses for those attributes (HSA's web services and
//     Inera's IdP follow them); confirm them against the client registration.
//   - medarbetaruppdrag and nara_roles are Nära's own. Inera's IdP can
//     release all of a user's assignments (allCommissions), but its value's
//     format is not public, so Nära takes the list as a JSON array of
//     objects keyed like the single-assignment claims, plus validFrom and
//     validTo in RFC 3339. A deployment whose IdP cannot produce that claim
//     still works: the chosen assignment alone becomes the list.
//
// Roles of support staff and administrators are the strings of package
// access (support_first_line, support_second_line, unit_admin,
// region_admin).
type Claims struct {
	HSAID       string       `json:"employeeHsaId"`
	Name        string       `json:"name,omitempty"`
	GivenName   string       `json:"given_name,omitempty"`
	FamilyName  string       `json:"family_name,omitempty"`
	Roles       []string     `json:"nara_roles,omitempty"`
	Assignments []Assignment `json:"medarbetaruppdrag,omitempty"`

	// The assignment chosen at the IdP, as Inera's IdP releases it.
	CommissionHSAID         string `json:"commissionHsaId,omitempty"`
	CommissionPurpose       string `json:"commissionPurpose,omitempty"`
	HealthCareUnitHSAID     string `json:"healthCareUnitHsaId,omitempty"`
	HealthCareUnitName      string `json:"healthCareUnitName,omitempty"`
	HealthCareProviderHSAID string `json:"healthCareProviderHsaId,omitempty"`
	HealthCareProviderName  string `json:"healthCareProviderName,omitempty"`
}

// Identity is who logged in, as the IdP vouches for them.
type Identity struct {
	// HSAID is the person's HSA-id (employeeHsaId), e.g.
	// SE2321000016-D001: the staff member's id in Nära's logs and audit.
	HSAID      string
	Name       string
	GivenName  string
	FamilyName string
	// Roles are the support and administration roles the IdP grants.
	Roles []string
	// Assignments are the person's care assignments (medarbetaruppdrag).
	// Only a valid one with the purpose "Vård och behandling" at a unit lets
	// a clinician meet that unit's patients: see AssignmentAt.
	Assignments []Assignment
}

// Assignment is a care assignment (medarbetaruppdrag) from HSA: the right
// to work with one purpose for one care unit of one care provider, within a
// validity period. The JSON names are those of the medarbetaruppdrag claim.
type Assignment struct {
	ID                string `json:"commissionHsaId"`
	Purpose           string `json:"commissionPurpose"`
	CareUnitHSAID     string `json:"healthCareUnitHsaId"`
	CareUnitName      string `json:"healthCareUnitName,omitempty"`
	CareProviderHSAID string `json:"healthCareProviderHsaId,omitempty"`
	CareProviderName  string `json:"healthCareProviderName,omitempty"`
	// ValidFrom is when the assignment starts; zero means no start limit.
	ValidFrom time.Time `json:"validFrom,omitzero"`
	// ValidTo is when it ends; zero means it has no end date.
	ValidTo time.Time `json:"validTo,omitzero"`
}

// Identity turns the claims into an Identity. It fails with ErrMissingClaim
// without an HSA-id, since nothing else identifies staff in Nära.
func (c Claims) Identity() (Identity, error) {
	if strings.TrimSpace(c.HSAID) == "" {
		return Identity{}, fmt.Errorf("%w: employeeHsaId", ErrMissingClaim)
	}
	id := Identity{
		HSAID:       c.HSAID,
		Name:        c.Name,
		GivenName:   c.GivenName,
		FamilyName:  c.FamilyName,
		Roles:       slices.Clone(c.Roles),
		Assignments: slices.Clone(c.Assignments),
	}
	if id.Name == "" {
		id.Name = strings.TrimSpace(c.GivenName + " " + c.FamilyName)
	}
	chosen := c.CommissionHSAID
	if chosen != "" && !slices.ContainsFunc(id.Assignments, func(a Assignment) bool { return a.ID == chosen }) {
		id.Assignments = append(id.Assignments, Assignment{
			ID:                chosen,
			Purpose:           c.CommissionPurpose,
			CareUnitHSAID:     c.HealthCareUnitHSAID,
			CareUnitName:      c.HealthCareUnitName,
			CareProviderHSAID: c.HealthCareProviderHSAID,
			CareProviderName:  c.HealthCareProviderName,
		})
	}
	return id, nil
}

// HasRole reports whether the IdP granted role.
func (id Identity) HasRole(role string) bool { return slices.Contains(id.Roles, role) }
