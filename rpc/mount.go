package rpc

import (
	"context"
	"net/http"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/nara-care/nara/access"
)

// A Domain is one part of the product that lives in its own package and
// is served by the server: its Connect services, the rule of each of their
// RPCs, and its pages. cmd/nara builds each domain with its package's New
// and hands it to the server, which mounts it behind the same
// interceptors, codec, limits, reflection and health as every other
// service.
type Domain interface {
	// Mount registers the domain's handlers and rules on m.
	Mount(m *Mount) error
}

// A Runner is a Domain with background work (sweeps, listeners) that runs
// beside the server until ctx ends.
type Runner interface {
	Run(ctx context.Context) error
}

// Mount is what a Domain registers itself with. Build every Connect
// handler with Options, so that it is validated, authorized, logged and
// encoded as the rest of the API is; declare a rule for every procedure it
// serves: a procedure without one is refused for everyone, and the server
// refuses to start.
type Mount struct {
	mux      *http.ServeMux
	opts     connect.HandlerOption
	rules    map[string]Rule
	encoders *[]Encoder
	services []string
}

// An Encoder keeps some answers already encoded as JSON (a cache of whole
// answers): the server's JSON codec sends such an answer as it was
// encoded instead of encoding it again.
type Encoder interface {
	// EncodedJSON returns m's JSON when it holds it; the caller must not
	// change it.
	EncodedJSON(m any) ([]byte, bool)
}

// NewMount returns a Mount that mounts on mux with opts, declares into
// rules and adds encoders to encoders. The server makes one per domain.
func NewMount(mux *http.ServeMux, opts connect.HandlerOption, rules map[string]Rule, encoders *[]Encoder) *Mount {
	return &Mount{mux: mux, opts: opts, rules: rules, encoders: encoders}
}

// Encoder has the server's JSON codec ask e for an answer's JSON first.
func (m *Mount) Encoder(e Encoder) { *m.encoders = append(*m.encoders, e) }

// Services are the fully qualified names of the services mounted so far.
func (m *Mount) Services() []string { return m.services }

// Options are the handler options every Connect handler of the API takes.
func (m *Mount) Options() connect.HandlerOption { return m.opts }

// Service mounts one Connect service, as returned by its generated
// New…ServiceHandler, under its fully qualified name (the generated
// …ServiceName constant), for reflection and health.
func (m *Mount) Service(name, path string, h http.Handler) {
	m.services = append(m.services, name)
	m.mux.Handle(path, h)
}

// Page mounts a plain HTTP handler (a web page, a feed, a webhook) on
// pattern. It gets the same body limit, CORS and client-address handling
// as the API, but no Connect interceptors: it authorizes itself.
func (m *Mount) Page(pattern string, h http.Handler) { m.mux.Handle(pattern, h) }

// Rule declares r for procedures.
func (m *Mount) Rule(r Rule, procedures ...string) {
	for _, p := range procedures {
		m.rules[p] = r
	}
}

// Public declares procedures that need no login.
func (m *Mount) Public(procedures ...string) { m.Rule(PublicRule, procedures...) }

// LoggedIn declares procedures that any logged-in user may call.
func (m *Mount) LoggedIn(procedures ...string) { m.Rule(LoggedInRule, procedures...) }

// Roles declares procedures that callers with any one of roles may call.
func (m *Mount) Roles(roles []access.Role, procedures ...string) {
	m.Rule(AnyOf(roles...), procedures...)
}

// Clinical declares procedures that touch patient data as a clinician: a
// clinician with a selected care assignment that allows care today.
func (m *Mount) Clinical(procedures ...string) { m.Rule(ClinicalRule, procedures...) }

// ClinicalInUnit declares Clinical procedures whose request names a care
// unit by its HSA-id in field: it must be the unit of the caller's selected
// care assignment, or the call is refused with PermissionDenied before the
// handler runs.
func (m *Mount) ClinicalInUnit(field string, procedures ...string) {
	m.Rule(ClinicalRule.InUnit(protoreflect.Name(field)), procedures...)
}

// CitizenForPatient declares procedures that citizens call for a patient
// named in field: themselves (the field left empty or their own id) or a
// child in their custody. Anyone else is NotFound before the handler runs,
// as whether the person exists is itself private. An object named by its
// own id (an appointment) is still the handler's to check against its
// patient.
func (m *Mount) CitizenForPatient(field string, procedures ...string) {
	m.Rule(AnyOf(access.RoleCitizen).ForPatient(protoreflect.Name(field)), procedures...)
}
