package rpc

import (
	"errors"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nara-care/nara/store"
)

// TimestampOrNil is Timestamp, or nil for the zero time (a field not set).
func TimestampOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return Timestamp(t)
}

// A Timestamp holds the years 1 to 9999; time.Time and PostgreSQL hold more.
var (
	minTimestamp = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTimestamp = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// Timestamp converts t for an answer, clamped to what a Timestamp holds: an
// invalid one fails the whole answer, and one bad row would break every list
// it is in. The database's time window keeps such rows out; this is the last
// line behind it.
func Timestamp(t time.Time) *timestamppb.Timestamp {
	switch {
	case t.Before(minTimestamp):
		t = minTimestamp
	case t.After(maxTimestamp):
		t = maxTimestamp
	}
	return timestamppb.New(t)
}

// NotFoundAs gives a store.ErrNotFound a message that names what was
// missing; other errors pass unchanged.
func NotFoundAs(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return FailWith(err, connect.CodeNotFound, format, args...)
	}
	return err
}
