package server

import (
	"fmt"
	"slices"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/nara-care/nara/rpc"
)

// mountDomains mounts each domain and checks that every procedure of every
// service it mounted has a rule.
func (s *Server) mountDomains(domains []rpc.Domain, opts connect.HandlerOption, rules map[string]rpc.Rule) error {
	for _, d := range domains {
		m := rpc.NewMount(s.mux, opts, rules, &s.encoders)
		if err := d.Mount(m); err != nil {
			return err
		}
		for _, name := range m.Services() {
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
