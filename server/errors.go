package server

import (
	"context"
	"errors"
	"log/slog"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/identity/pnr"
	"github.com/nara-care/nara/rpc"
	"github.com/nara-care/nara/store"
)

// unavailableMessage is what a client learns when the database cannot be
// reached for a moment.
const unavailableMessage = "the service is briefly unavailable; try again"

// toConnect is the one place where errors become what a client sees. Storage
// sentinels map to codes; anything unexpected is logged and hidden.
func toConnect(ctx context.Context, logger *slog.Logger, procedure string, err error) error {
	var (
		ce *connect.Error
		pe *rpc.Error
		rf *store.Refusal
	)
	switch {
	case errors.As(err, &pe):
		if pe.Cause != nil {
			logger.Log(ctx, causeLevel(pe.Code), "rpc refused", slog.String("procedure", procedure),
				slog.String("code", pe.Code.String()), slog.String("error", pnr.Redact(pe.Cause.Error())))
		}
		return connect.NewError(pe.Code, errors.New(pe.Msg))
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
	case errors.As(err, &rf):
		return connect.NewError(connect.CodeFailedPrecondition, errors.New(rf.Msg))
	case errors.Is(err, store.ErrPrecondition):
		return connect.NewError(connect.CodeFailedPrecondition, errors.New("the request cannot be carried out in the current state"))
	case errors.Is(err, store.ErrSlotFull):
		return connect.NewError(connect.CodeResourceExhausted, errors.New(slotFullMessage))
	case errors.Is(err, store.ErrTokenReused):
		return connect.NewError(connect.CodeUnauthenticated, errors.New(tokenReusedMessage))
	case errors.Is(err, store.ErrSessionEnded):
		return connect.NewError(connect.CodeUnauthenticated, errors.New(sessionEndedMessage))
	case errors.Is(err, store.ErrRateLimited):
		return connect.NewError(connect.CodeResourceExhausted, errors.New("too many requests; wait and try again"))
	case store.Unavailable(err):
		// A restart or failover of the database: nothing was decided, and
		// the client may send the request again (with the same idempotency
		// key, where it has one).
		logger.WarnContext(ctx, "rpc failed: database unavailable", slog.String("procedure", procedure), slog.String("error", pnr.Redact(err.Error())))
		return connect.NewError(connect.CodeUnavailable, errors.New(unavailableMessage))
	}
	logger.ErrorContext(ctx, "rpc failed", slog.String("procedure", procedure), slog.String("error", pnr.Redact(err.Error())))
	return connect.NewError(connect.CodeInternal, errors.New(rpc.InternalMessage))
}

// Messages of the store's sentinels that handlers also give by hand.
const (
	slotFullMessage     = "this time has just been fully booked; choose another time"
	tokenReusedMessage  = "this refresh token was already used, so the session has been ended for safety; log in again"
	sessionEndedMessage = "the session has ended; log in again"
)

// causeLevel is how loud the cause of a refusal is logged: an error when
// the server or what it depends on failed, information when the request
// was refused for what it asked, which happens all day.
func causeLevel(code connect.Code) slog.Level {
	switch code {
	case connect.CodeInternal, connect.CodeUnknown, connect.CodeDataLoss, connect.CodeUnavailable:
		return slog.LevelError
	}
	return slog.LevelInfo
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
