// Package access is the vocabulary of who may do what: the roles of the
// people who use Nära and the principal a request acts as. Authentication
// puts a Principal in the request context; the server's declared per-RPC
// rules read it.
package access

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Role is what a principal may act as.
type Role string

// The roles. A clinician's role holds only within a care assignment, which the
// principal carries.
const (
	RoleCitizen           Role = "citizen"
	RoleGuardian          Role = "guardian"
	RoleClinician         Role = "clinician"
	RoleSupportFirstLine  Role = "support_first_line"
	RoleSupportSecondLine Role = "support_second_line"
	RoleUnitAdmin         Role = "unit_admin"
	RoleRegionAdmin       Role = "region_admin"
)

// Principal is the authenticated party behind a request.
type Principal struct {
	// Subject identifies the principal in logs and audit trails: a user id
	// for citizens, the HSA-id for staff. Never a personal identity number.
	Subject string
	// DisplayName is the name shown to others, e.g. in the access log.
	DisplayName string
	Roles       []Role
	// SessionID is the session the request was authenticated with.
	SessionID string
	// PersonID is set for citizens: their own person id.
	PersonID string
	// HSAID is set for staff.
	HSAID string
	// Assignment is the care assignment a staff member acts within, if one
	// is selected. Clinical RPCs require it.
	Assignment *Assignment
}

// Assignment is a care assignment (medarbetaruppdrag): the purpose, care unit
// and care provider a clinician may access patient data for.
type Assignment struct {
	ID                string    `json:"id"`
	Purpose           string    `json:"purpose"`
	CareUnitHSAID     string    `json:"careUnitHsaId"`
	CareUnitName      string    `json:"careUnitName"`
	CareProviderHSAID string    `json:"careProviderHsaId"`
	CareProviderName  string    `json:"careProviderName"`
	ValidFrom         time.Time `json:"validFrom"`
	ValidTo           time.Time `json:"validTo"`
}

// Has reports whether the principal holds any of roles.
func (p Principal) Has(roles ...Role) bool {
	for _, r := range roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal of the request, if it is authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// PurposeCare is the assignment purpose that allows care of patients
// ("Vård och behandling").
const PurposeCare = "Vård och behandling"

// Reasons an assignment does not allow care. In the video pilot a missing
// or wrong care assignment was the most common reason clinicians could not
// start a meeting, so each says exactly what is wrong.
var (
	ErrNoAssignment      = errors.New("no care assignment (medarbetaruppdrag) is selected; choose one for the unit you work at")
	ErrWrongPurpose      = errors.New("the selected care assignment is not for \"Vård och behandling\"; ask your HSA administrator for one that is")
	ErrAssignmentExpired = errors.New("the selected care assignment is not valid today; ask your HSA administrator to renew it")
)

// AllowsCare reports why a may not be used for care of patients at now, or
// nil if it may.
func (a *Assignment) AllowsCare(now time.Time) error {
	switch {
	case a == nil:
		return ErrNoAssignment
	case a.Purpose != PurposeCare:
		return ErrWrongPurpose
	case (!a.ValidFrom.IsZero() && now.Before(a.ValidFrom)) || (!a.ValidTo.IsZero() && !now.Before(a.ValidTo)):
		return ErrAssignmentExpired
	}
	return nil
}
