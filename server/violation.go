package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// violationInterceptor rewords the validation errors whose stock message
// says nothing to an app developer. The API marks a required enum with
// `enum = {defined_only: true, not_in: [0]}`, and protovalidate then answers
// "must not be in list [0]"; this names the field and its values instead.
// Every other violation keeps its message, and the details stay as they
// are. It sits just outside validate.NewInterceptor.
type violationInterceptor struct{}

func (violationInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		res, err := next(ctx, req)
		if msg, ok := req.Any().(proto.Message); ok && err != nil {
			err = reword(err, msg)
		}
		return res, err
	}
}

func (violationInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (violationInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return next(ctx, &violationConn{StreamingHandlerConn: conn})
	}
}

type violationConn struct{ connect.StreamingHandlerConn }

func (c *violationConn) Receive(m any) error {
	err := c.StreamingHandlerConn.Receive(m)
	if msg, ok := m.(proto.Message); ok && err != nil {
		return reword(err, msg)
	}
	return err
}

// reword rebuilds err's message from its violations when one of them is
// worth rewording.
func reword(err error, req proto.Message) error {
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeInvalidArgument {
		return err
	}
	var violations []*validate.Violation
	for _, d := range ce.Details() {
		if v, derr := d.Value(); derr == nil {
			if vs, ok := v.(*validate.Violations); ok {
				violations = append(violations, vs.GetViolations()...)
			}
		}
	}
	changed := false
	lines := make([]string, len(violations))
	for i, v := range violations {
		field := protovalidate.FieldPathString(v.GetField())
		lines[i] = field + ": " + v.GetMessage()
		if text, ok := enumSentence(req.ProtoReflect().Descriptor(), v); ok {
			lines[i], changed = text, true
		}
	}
	if !changed {
		return err
	}
	out := connect.NewError(connect.CodeInvalidArgument, errors.New("validation error: "+strings.Join(lines, "; ")))
	for _, d := range ce.Details() {
		out.AddDetail(d)
	}
	for k, vs := range ce.Meta() {
		for _, v := range vs {
			out.Meta().Add(k, v)
		}
	}
	return out
}

// enumSentence says what a required enum field wants, naming its values,
// for the violations of not_in [0] and defined_only.
func enumSentence(md protoreflect.MessageDescriptor, v *validate.Violation) (string, bool) {
	rule := v.GetRuleId()
	if rule != "enum.not_in" && rule != "enum.defined_only" {
		return "", false
	}
	var fd protoreflect.FieldDescriptor
	for _, el := range v.GetField().GetElements() {
		if md == nil {
			return "", false
		}
		fd = md.Fields().ByNumber(protoreflect.FieldNumber(el.GetFieldNumber()))
		if fd == nil {
			return "", false
		}
		md = fd.Message()
	}
	if fd == nil || fd.Enum() == nil {
		return "", false
	}
	var names []string
	values := fd.Enum().Values()
	for i := range values.Len() {
		if values.Get(i).Number() != 0 {
			names = append(names, string(values.Get(i).Name()))
		}
	}
	field := protovalidate.FieldPathString(v.GetField())
	what := "is required"
	if rule == "enum.defined_only" {
		what = "has a value this server does not know"
	}
	return fmt.Sprintf("%s %s: set it to one of %s", field, what, strings.Join(names, ", ")), true
}
