package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/nara-care/nara/access"
)

// A Domain is one part of the product that lives in its own package
// (support, video, triage, …) and is served by this server: its Connect
// services, the authorization rule of each of their RPCs, and its pages.
// cmd/nara builds each domain with its package's New and passes it in
// Deps.Domains; the server mounts it behind the same interceptors, codec,
// limits, reflection and health as every other service.
type Domain interface {
	// Mount registers the domain's handlers and rules on m.
	Mount(m *Mount) error
}

// A Runner is a Domain with background work (listeners, sweeps) that
// runs beside the server until ctx ends.
type Runner interface {
	Run(ctx context.Context) error
}

// Mount is what a Domain registers itself with. Build every Connect
// handler with Options, so that it is validated, authorized, logged and
// encoded as the rest of the API is; declare a rule for every procedure it
// serves: a procedure without one is refused for everyone, and Mount
// fails.
type Mount struct {
	mux      *http.ServeMux
	opts     connect.HandlerOption
	rules    map[string]rule
	services []string
}

// Options are the handler options every Connect handler of the API takes.
func (m *Mount) Options() connect.HandlerOption { return m.opts }

// Service mounts one Connect service, as returned by its generated
// New…ServiceHandler, under its fully qualified name (the generated
// …ServiceName constant), for reflection and health.
func (m *Mount) Service(name, path string, h http.Handler) {
	m.services = append(m.services, name)
	m.mux.Handle(path, h)
}

// Page mounts a plain HTTP handler (a web page, a webhook) on pattern.
// It gets the same body limit, CORS and client-address handling as the
// API, but no Connect interceptors: it authorizes itself.
func (m *Mount) Page(pattern string, h http.Handler) { m.mux.Handle(pattern, h) }

// Public declares procedures that need no login.
func (m *Mount) Public(procedures ...string) { m.set(publicRule, procedures) }

// LoggedIn declares procedures that any logged-in user may call.
func (m *Mount) LoggedIn(procedures ...string) { m.set(loggedInRule, procedures) }

// Roles declares procedures that callers with any one of roles may call.
func (m *Mount) Roles(roles []access.Role, procedures ...string) {
	m.set(anyOf(roles...), procedures)
}

// Clinical declares procedures that touch patient data as a clinician: a
// clinician with a selected care assignment that allows care today.
func (m *Mount) Clinical(procedures ...string) { m.set(clinicalRule, procedures) }

// ClinicalInUnit declares Clinical procedures whose request names a care
// unit by its HSA-id in field: it must be the unit of the caller's selected
// care assignment, or the call is refused with PermissionDenied before the
// handler runs.
func (m *Mount) ClinicalInUnit(field string, procedures ...string) {
	m.set(clinicalRule.inUnit(protoreflect.Name(field)), procedures)
}

// CitizenForPatient declares procedures that citizens call for a patient
// named in field: themselves (the field left empty or their own id) or a
// child in their custody. Anyone else is NotFound before the handler runs,
// as whether the person exists is itself private. An object named by its
// own id (an appointment) is still the handler's to check against its
// patient.
func (m *Mount) CitizenForPatient(field string, procedures ...string) {
	m.set(anyOf(access.RoleCitizen).forPatient(protoreflect.Name(field)), procedures)
}

func (m *Mount) set(r rule, procedures []string) {
	for _, p := range procedures {
		m.rules[p] = r
	}
}

// mountDomains mounts each domain and checks that every procedure of every
// service it mounted has a rule.
func (s *Server) mountDomains(domains []Domain, opts connect.HandlerOption, rules map[string]rule) error {
	for _, d := range domains {
		m := &Mount{mux: s.mux, opts: opts, rules: rules}
		if err := d.Mount(m); err != nil {
			return err
		}
		for _, name := range m.services {
			if slices.Contains(s.services, name) {
				return fmt.Errorf("service %s is mounted twice", name)
			}
			for _, proc := range procedures(name) {
				r, ok := rules[proc]
				if !ok {
					return fmt.Errorf("procedure %s has no authorization rule", proc)
				}
				if err := checkScopes(proc, r); err != nil {
					return err
				}
			}
			s.services = append(s.services, name)
		}
	}
	return nil
}

// procedures lists the procedure paths of a service in the protobuf
// registry; a name it does not know has none.
func procedures(service string) []string {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil
	}
	methods := sd.Methods()
	out := make([]string, 0, methods.Len())
	for i := range methods.Len() {
		out = append(out, fmt.Sprintf("/%s/%s", service, methods.Get(i).Name()))
	}
	return out
}
