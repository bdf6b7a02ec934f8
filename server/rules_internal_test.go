package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/nara-care/nara/gen/nara/appointment/v1/appointmentv1connect"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// TestEveryProcedureHasARule guards the declared authorization table: a new
// RPC without a rule would be refused, which is safe but surprising.
func TestEveryProcedureHasARule(t *testing.T) {
	t.Parallel()
	rules := procedureRules()
	for _, name := range serviceNames() {
		if strings.HasPrefix(name, "grpc.") {
			continue
		}
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		methods := d.(protoreflect.ServiceDescriptor).Methods()
		for i := 0; i < methods.Len(); i++ {
			proc := fmt.Sprintf("/%s/%s", name, methods.Get(i).Name())
			if _, ok := rules[proc]; !ok {
				t.Errorf("procedure %s has no authorization rule", proc)
			}
		}
	}
}

// TestScopedFieldsExist guards the scopes of the table: a scope naming a
// field its request lacks would refuse every call.
func TestScopedFieldsExist(t *testing.T) {
	t.Parallel()
	for proc, r := range procedureRules() {
		if err := checkScopes(proc, r); err != nil {
			t.Error(err)
		}
	}
	if err := checkScopes(appointmentv1connect.ScheduleServiceListSlotsProcedure, rpc.ClinicalRule.InUnit("unit")); err == nil {
		t.Errorf("checkScopes of a field ListSlotsRequest lacks got nil, want an error")
	}
}

func TestToConnect(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	tests := []struct {
		err      error
		wantCode connect.Code
		wantMsg  string
	}{
		{fmt.Errorf("load: %w", store.ErrNotFound), connect.CodeNotFound, "not found"},
		{fmt.Errorf("%w: help_article_pkey", store.ErrConflict), connect.CodeAlreadyExists, "already exists"},
		{fmt.Errorf("retire: %w", &store.Refusal{Msg: "the article is already retired"}), connect.CodeFailedPrecondition, "the article is already retired"},
		{fmt.Errorf("%w: the article is already retired", store.ErrPrecondition), connect.CodeFailedPrecondition, "the request cannot be carried out in the current state"},
		{store.ErrOneActive, connect.CodeFailedPrecondition, "there is already an active booking of this service; cancel or rebook it instead"},
		{store.ErrSlotFull, connect.CodeResourceExhausted, slotFullMessage},
		{store.ErrTokenReused, connect.CodeUnauthenticated, tokenReusedMessage},
		{store.ErrSessionEnded, connect.CodeUnauthenticated, sessionEndedMessage},
		{store.ErrTokenUnverified, connect.CodeUnauthenticated, sessionEndedMessage},
		{store.ErrRateLimited, connect.CodeResourceExhausted, "too many requests; wait and try again"},
		{fmt.Errorf("%w: dial", store.ErrUnavailable), connect.CodeUnavailable, unavailableMessage},
		{rpc.FailWith(errors.New("no person 19121212-1212"), connect.CodeNotFound, "no patient"), connect.CodeNotFound, "no patient"},
		{fmt.Errorf("%w: help_article_version_category_slug_fkey", store.ErrReference), connect.CodeInvalidArgument, "the request refers to something that does not exist"},
		{rpc.Fail(connect.CodeNotFound, "no article %q", "x"), connect.CodeNotFound, `no article "x"`},
		{rpc.FailWith(errors.New("secret detail"), connect.CodeNotFound, "no article"), connect.CodeNotFound, "no article"},
		{context.DeadlineExceeded, connect.CodeDeadlineExceeded, "request took too long"},
		{store.ErrInvalidText, connect.CodeInvalidArgument, "the request contains characters that cannot be stored, such as NUL"},
		{errors.New(`ERROR: relation "help_article" does not exist (SQLSTATE 42P01)`), connect.CodeInternal, rpc.InternalMessage},
	}
	for _, tt := range tests {
		got := toConnect(context.Background(), logger, "/x.v1.S/M", tt.err)
		var ce *connect.Error
		if !errors.As(got, &ce) || ce.Code() != tt.wantCode || ce.Message() != tt.wantMsg {
			t.Errorf("toConnect(%v) got %v, want %v %q", tt.err, got, tt.wantCode, tt.wantMsg)
		}
	}
	if !strings.Contains(logs.String(), "SQLSTATE 42P01") {
		t.Errorf("the unexpected error was not logged: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "secret detail") {
		t.Errorf("the cause given to failWith was not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), "1212-1212") {
		t.Errorf("a personal identity number was logged: %s", logs.String())
	}
}

// scopedDomain mounts the schedule service with every procedure scoped to
// the unit named in field.
type scopedDomain struct{ field string }

func (d scopedDomain) Mount(m *rpc.Mount) error {
	name := appointmentv1connect.ScheduleServiceName
	m.Service(name, "/"+name+"/", http.NotFoundHandler())
	m.ClinicalInUnit(d.field, procedures(name)...)
	return nil
}

// TestMountChecksScopes: a domain's scope on a field its requests lack
// stops the server from starting rather than refusing every call.
func TestMountChecksScopes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		field   string
		wantErr bool
	}{{"unit_hsa_id", false}, {"unit", true}} {
		s := &Server{mux: http.NewServeMux()}
		rules := map[string]rpc.Rule{}
		err := s.mountDomains([]rpc.Domain{scopedDomain{tt.field}}, nil, rules)
		if (err != nil) != tt.wantErr {
			t.Errorf("mountDomains with a scope on %q got %v, want error %v", tt.field, err, tt.wantErr)
		}
		if got := rules[appointmentv1connect.ScheduleServiceListSlotsProcedure].Scopes; len(got) != 1 || got[0] != (rpc.Scope{Kind: rpc.UnitScope, Field: protoreflect.Name(tt.field)}) {
			t.Errorf("ListSlots scopes got %v, want one unit scope on %q", got, tt.field)
		}
	}
}
