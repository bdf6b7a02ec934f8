package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/nara-care/nara/access"
	"github.com/nara-care/nara/gen/nara/app/v1/appv1connect"
	"github.com/nara-care/nara/rpc"
)

// procedureRules declares the authorization rule of the server's own RPCs;
// each domain declares its own as it is mounted. An RPC without a rule is
// refused for everyone, and tests check none is missing.
func procedureRules() map[string]rpc.Rule {
	return map[string]rpc.Rule{
		appv1connect.AppServiceGetConfigProcedure: rpc.PublicRule,
	}
}

// authzInterceptor authenticates each request and applies its RPC's rule
// before the handler runs.
type authzInterceptor struct {
	auth  Authenticator
	rules map[string]rpc.Rule
	now   func() time.Time
}

func newAuthzInterceptor(auth Authenticator, rules map[string]rpc.Rule, now func() time.Time) *authzInterceptor {
	return &authzInterceptor{auth: auth, rules: rules, now: now}
}

func (a *authzInterceptor) authorize(ctx context.Context, procedure string, header http.Header) (context.Context, error) {
	r, ok := a.rules[procedure]
	if !ok {
		return ctx, connect.NewError(connect.CodePermissionDenied, errors.New("this operation is not available"))
	}
	var (
		p             access.Principal
		authenticated bool
	)
	if a.auth != nil {
		var err error
		p, authenticated, err = a.auth.Authenticate(ctx, header)
		if err != nil && !r.Public {
			return ctx, err
		}
		// A public RPC answers an app whose token has expired as it would
		// answer anyone: the FAQ must work when the session does not.
		authenticated = authenticated && err == nil
	}
	if authenticated {
		ctx = access.WithPrincipal(ctx, p)
	}
	if r.Public {
		return ctx, nil
	}
	if !authenticated {
		return ctx, connect.NewError(connect.CodeUnauthenticated, errors.New("log in to do this"))
	}
	if len(r.Roles) > 0 && !p.Has(r.Roles...) {
		return ctx, connect.NewError(connect.CodePermissionDenied, errors.New("your role does not allow this operation"))
	}
	if r.Care {
		if err := p.Assignment.AllowsCare(a.now()); err != nil {
			return ctx, connect.NewError(connect.CodePermissionDenied, err)
		}
	}
	return ctx, nil
}

func (a *authzInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ctx, err := a.authorize(ctx, req.Spec().Procedure, req.Header())
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (a *authzInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a *authzInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := a.authorize(ctx, conn.Spec().Procedure, conn.RequestHeader())
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// scopeInterceptor applies the scopes of each RPC's rule to its request.
// It runs after authzInterceptor, which puts the principal in the context,
// and after validation, so a malformed request is answered as such first.
type scopeInterceptor struct {
	rules map[string]rpc.Rule
	// custody lists the patients a citizen may act for: themselves and
	// the children in their custody.
	custody func(ctx context.Context, personID string) ([]string, error)
}

func newScopeInterceptor(rules map[string]rpc.Rule, custody func(ctx context.Context, personID string) ([]string, error)) *scopeInterceptor {
	return &scopeInterceptor{rules: rules, custody: custody}
}

func (s *scopeInterceptor) check(ctx context.Context, procedure string, msg any) error {
	r := s.rules[procedure]
	if len(r.Scopes) == 0 {
		return nil
	}
	m, ok := msg.(proto.Message)
	if !ok {
		return rpc.Fail(connect.CodePermissionDenied, "this operation is not available")
	}
	p, _ := access.FromContext(ctx)
	for _, sc := range r.Scopes {
		v, ok := stringField(m, sc.Field)
		if !ok {
			// A rule naming a field the request lacks refuses, as a
			// missing rule does; TestScopedFieldsExist keeps it from
			// happening.
			return rpc.Fail(connect.CodePermissionDenied, "this operation is not available")
		}
		if err := s.within(ctx, p, sc.Kind, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *scopeInterceptor) within(ctx context.Context, p access.Principal, kind rpc.ScopeKind, v string) error {
	switch kind {
	case rpc.UnitScope:
		if p.Assignment == nil || p.Assignment.CareUnitHSAID != v {
			return rpc.Fail(connect.CodePermissionDenied, "your selected care assignment is not for unit %q; choose an assignment at that unit", v)
		}
		return nil
	case rpc.PatientScope:
		ok := p.PersonID != ""
		if ok && v != "" && v != p.PersonID {
			patients, err := s.custody(ctx, p.PersonID)
			if err != nil {
				return err
			}
			ok = slices.Contains(patients, v)
		}
		if !ok {
			return rpc.Fail(connect.CodeNotFound, "you cannot act for %q", v)
		}
		return nil
	}
	return rpc.Fail(connect.CodePermissionDenied, "this operation is not available")
}

// stringField reads the string field name of m; ok is false when m has no
// such field.
func stringField(m proto.Message, name protoreflect.Name) (v string, ok bool) {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName(name)
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() || fd.IsMap() {
		return "", false
	}
	return r.Get(fd).String(), true
}

// checkScopes reports a scope of r whose field the request of procedure
// does not have as a string.
func checkScopes(procedure string, r rpc.Rule) error {
	if len(r.Scopes) == 0 {
		return nil
	}
	service, method, _ := strings.Cut(strings.TrimPrefix(procedure, "/"), "/")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return fmt.Errorf("procedure %s: %w", procedure, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return fmt.Errorf("procedure %s: %s is not a service", procedure, service)
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return fmt.Errorf("procedure %s: no such method", procedure)
	}
	for _, sc := range r.Scopes {
		fd := md.Input().Fields().ByName(sc.Field)
		if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() || fd.IsMap() {
			return fmt.Errorf("procedure %s: its rule's scope reads %s, which %s has not as a string", procedure, sc.Field, md.Input().FullName())
		}
	}
	return nil
}

func (s *scopeInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := s.check(ctx, req.Spec().Procedure, req.Any()); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (s *scopeInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (s *scopeInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if len(s.rules[conn.Spec().Procedure].Scopes) == 0 {
			return next(ctx, conn)
		}
		return next(ctx, &scopedConn{StreamingHandlerConn: conn, ctx: ctx, scopes: s})
	}
}

// scopedConn checks each message a stream receives.
type scopedConn struct {
	connect.StreamingHandlerConn
	ctx    context.Context // the stream's own, for the custody lookup
	scopes *scopeInterceptor
}

func (c *scopedConn) Receive(msg any) error {
	if err := c.StreamingHandlerConn.Receive(msg); err != nil {
		return err
	}
	return c.scopes.check(c.ctx, c.Spec().Procedure, msg)
}

// newTimeoutInterceptor bounds unary RPCs so a slow query cannot hold a
// connection forever.
func newTimeoutInterceptor(d time.Duration) connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return next(ctx, req)
		}
	})
}
