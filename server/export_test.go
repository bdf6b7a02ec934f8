package server

import "github.com/nara-care/nara/access"

// Rule is an authorization rule as the external tests read it.
type Rule struct {
	Public bool
	Roles  []access.Role
	Care   bool
}

// ProcedureRules exports the declared authorization table, so that the
// authorization matrix test checks every RPC against what it declares.
func ProcedureRules() map[string]Rule {
	out := map[string]Rule{}
	for proc, r := range procedureRules() {
		out[proc] = Rule{Public: r.public, Roles: r.roles, Care: r.care}
	}
	return out
}
