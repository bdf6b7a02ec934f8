// Package access is the vocabulary of who may do what: the roles of the
// people who use Nära and the principal a request acts as. Authentication
// puts a Principal in the request context; the server's declared per-RPC
// rules read it.
package access

import (
	"context"
	"slices"
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
