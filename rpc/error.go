package rpc

import (
	"fmt"

	"connectrpc.com/connect"
)

// Error is an error whose message was written for the client. Its cause,
// if any, goes to the log only: the server's one error mapping sends the
// code and message, and logs the cause without personal identity numbers.
type Error struct {
	Code  connect.Code
	Msg   string
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Msg + ": " + e.Cause.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Cause }

// Fail returns an error the client sees with code and the formatted
// message.
func Fail(code connect.Code, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// FailWith is Fail that keeps cause for the log.
func FailWith(cause error, code connect.Code, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...), Cause: cause}
}

// InternalMessage is all a client learns about an unexpected failure.
const InternalMessage = "internal error; the problem has been logged"
