// Package rpc is what the server and each part of the product (a domain:
// help content, appointments, push, support, …) agree on: how a domain
// mounts its Connect services and declares who may call each of their
// RPCs, the errors its handlers answer with, and whose visits a citizen
// manages. Domains import rpc, never the server; cmd/nara builds each
// domain and hands it to the server, which mounts it behind the API's
// interceptors.
package rpc

import (
	"slices"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/nara-care/nara/access"
)

// Rule is who may call one RPC. The server's authorization interceptor
// applies it before the handler runs; an RPC without a rule is refused for
// everyone.
type Rule struct {
	// Public RPCs need no login.
	Public bool
	// Roles lists who may call a non-public RPC; any one suffices. Empty
	// means any logged-in user.
	Roles []access.Role
	// Care requires a selected care assignment that allows care of
	// patients today.
	Care bool
	// Scopes limit whose objects the request may name, by its fields; they
	// are applied once the request is read and valid.
	Scopes []Scope
}

// A Scope limits one string field of an RPC's request, read by name
// through protoreflect, so handlers need not check it.
type Scope struct {
	Kind  ScopeKind
	Field protoreflect.Name
}

// ScopeKind is what a scoped field must name.
type ScopeKind int

const (
	// UnitScope means the field names the unit of the caller's selected
	// care assignment. Another unit is PermissionDenied: the clinician may
	// choose an assignment there.
	UnitScope ScopeKind = iota + 1
	// PatientScope means the field names the caller or a child in their
	// custody; empty, it means the caller. Anyone else is NotFound:
	// whether the person exists is itself private.
	PatientScope
)

// InUnit is r for requests whose field names the care unit acted in.
func (r Rule) InUnit(field protoreflect.Name) Rule {
	r.Scopes = append(slices.Clip(r.Scopes), Scope{Kind: UnitScope, Field: field})
	return r
}

// ForPatient is r for requests whose field names the patient acted for.
func (r Rule) ForPatient(field protoreflect.Name) Rule {
	r.Scopes = append(slices.Clip(r.Scopes), Scope{Kind: PatientScope, Field: field})
	return r
}

// The rules most RPCs take.
var (
	// PublicRule needs no login.
	PublicRule = Rule{Public: true}
	// LoggedInRule takes any logged-in user.
	LoggedInRule = Rule{}
	// ClinicalRule is for RPCs that touch patient data as a clinician.
	ClinicalRule = Rule{Roles: []access.Role{access.RoleClinician}, Care: true}
	// UnitRule is ClinicalRule within the unit of the selected care
	// assignment, named by the request's unit_hsa_id.
	UnitRule = ClinicalRule.InUnit("unit_hsa_id")
	// PatientRule is for a citizen acting for themselves or a child in
	// their custody, named by the request's patient_id.
	PatientRule = AnyOf(access.RoleCitizen).ForPatient("patient_id")
)

// AnyOf is the rule for callers holding any one of roles.
func AnyOf(roles ...access.Role) Rule { return Rule{Roles: roles} }
