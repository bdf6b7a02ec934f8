package server

import (
	"github.com/nara-care/nara/access"
)

// Rule is an authorization rule as the external tests read it.
type Rule struct {
	Public bool
	Roles  []access.Role
	Care   bool
}

// ProcedureRules exports the authorization table s serves with, so that
// the authorization matrix test checks every RPC against what it declares.
func ProcedureRules(s *Server) map[string]Rule {
	out := map[string]Rule{}
	for proc, r := range s.Rules() {
		out[proc] = Rule{Public: r.Public, Roles: r.Roles, Care: r.Care}
	}
	return out
}
