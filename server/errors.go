package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/store"
)

// publicError is an error whose message was written for the client. Its
// cause, if any, goes to the log only.
type publicError struct {
	code  connect.Code
	msg   string
	cause error
}

func (e *publicError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func (e *publicError) Unwrap() error { return e.cause }

// fail returns an error the client sees with code and the formatted message.
func fail(code connect.Code, format string, args ...any) error {
	return &publicError{code: code, msg: fmt.Sprintf(format, args...)}
}

// failWith is fail that keeps cause for the log.
func failWith(cause error, code connect.Code, format string, args ...any) error {
	return &publicError{code: code, msg: fmt.Sprintf(format, args...), cause: cause}
}

// internalMessage is all a client learns about an unexpected failure.
const internalMessage = "internal error; the problem has been logged"

// unavailableMessage is what a client learns when the database cannot be
// reached for a moment.
const unavailableMessage = "the service is briefly unavailable; try again"

// toConnect is the one place where errors become what a client sees. Storage
// sentinels map to codes; anything unexpected is logged and hidden.
func toConnect(ctx context.Context, logger *slog.Logger, procedure string, err error) error {
	var (
		ce *connect.Error
		pe *publicError
	)
	switch {
	case errors.As(err, &pe):
		return connect.NewError(pe.code, errors.New(pe.msg))
	case errors.As(err, &ce):
		return ce
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, errors.New("request canceled"))
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("request took too long"))
	case errors.Is(err, store.ErrNotFound):
		return connect.NewError(connect.CodeNotFound, errors.New("not found"))
	case errors.Is(err, store.ErrConflict):
		return connect.NewError(connect.CodeAlreadyExists, errors.New("already exists"))
	case errors.Is(err, store.ErrInvalidText):
		return connect.NewError(connect.CodeInvalidArgument, errors.New("the request contains characters that cannot be stored, such as NUL"))
	case errors.Is(err, store.ErrTimeOutOfRange):
		return connect.NewError(connect.CodeInvalidArgument, errors.New("a time in the request, or one that follows from it, lies outside the years 2000 to 2099"))
	case errors.Is(err, store.ErrReference):
		return connect.NewError(connect.CodeInvalidArgument, errors.New("the request refers to something that does not exist"))
	case errors.Is(err, store.ErrPrecondition):
		return connect.NewError(connect.CodeFailedPrecondition, errors.New(preconditionMessage(err)))
	case store.Unavailable(err):
		// A restart or failover of the database: nothing was decided, and
		// the client may send the request again (with the same idempotency
		// key, where it has one).
		logger.WarnContext(ctx, "rpc failed: database unavailable", slog.String("procedure", procedure), slog.String("error", err.Error()))
		return connect.NewError(connect.CodeUnavailable, errors.New(unavailableMessage))
	}
	logger.ErrorContext(ctx, "rpc failed", slog.String("procedure", procedure), slog.String("error", err.Error()))
	return connect.NewError(connect.CodeInternal, errors.New(internalMessage))
}

// preconditionMessage keeps the explanation the store wrote after the
// sentinel ("precondition failed: the article has a newer version ...").
func preconditionMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, store.ErrPrecondition.Error()+": "); i >= 0 {
		return msg[i+len(store.ErrPrecondition.Error())+2:]
	}
	return "the request cannot be carried out in the current state"
}

// errorInterceptor applies toConnect to every RPC's error.
type errorInterceptor struct {
	logger *slog.Logger
}

func newErrorInterceptor(logger *slog.Logger) *errorInterceptor {
	return &errorInterceptor{logger: logger}
}

func (e *errorInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		res, err := next(ctx, req)
		if err != nil {
			return nil, toConnect(ctx, e.logger, req.Spec().Procedure, err)
		}
		return res, nil
	}
}

func (e *errorInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (e *errorInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if err := next(ctx, conn); err != nil {
			return toConnect(ctx, e.logger, conn.Spec().Procedure, err)
		}
		return nil
	}
}
