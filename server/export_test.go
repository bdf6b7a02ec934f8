package server

import (
	"net/http"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
)

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

// DomainRules are the rules the domains declare when mounted, as the
// external tests read them.
func DomainRules(domains ...Domain) (map[string]Rule, error) {
	rules := map[string]rule{}
	for _, d := range domains {
		if err := d.Mount(&Mount{mux: http.NewServeMux(), opts: connect.WithInterceptors(), rules: rules}); err != nil {
			return nil, err
		}
	}
	out := map[string]Rule{}
	for proc, r := range rules {
		out[proc] = Rule{Public: r.public, Roles: r.roles, Care: r.care}
	}
	return out, nil
}
