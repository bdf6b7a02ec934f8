// Package store keeps Nära's data in PostgreSQL. It speaks domain types and
// sentinel errors; SQL never leaves this package.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sentinel errors that callers map to API codes. Each wraps no SQL detail.
var (
	// ErrNotFound means the thing asked for does not exist (or is not visible).
	ErrNotFound = errors.New("not found")
	// ErrConflict means the write collides with existing data, such as a
	// duplicate key.
	ErrConflict = errors.New("conflict")
	// ErrPrecondition means the data is not in a state that allows the change,
	// such as an edit based on an outdated version.
	ErrPrecondition = errors.New("precondition failed")
	// ErrReference means the write names something that does not exist, such
	// as an unknown category.
	ErrReference = errors.New("referenced item does not exist")
	// ErrInvalidText means text the database cannot store, such as a NUL
	// character.
	ErrInvalidText = errors.New("text cannot be stored")
	// ErrUnavailable means the database cannot be reached right now, as
	// during a restart or a failover: nothing was decided, and the request
	// may be sent again.
	ErrUnavailable = errors.New("database unavailable")
	// ErrTimeOutOfRange means a time outside the years the database keeps
	// (2000–2099), the backstop behind the API's own bounds.
	ErrTimeOutOfRange = errors.New("time out of range")
)

// Store is the data layer. It is safe for concurrent use.
type Store struct {
	pool      *pgxpool.Pool
	committed func(changes []Change, tx uint64)
}

// Options are a Store's optional dependencies.
type Options struct {
	// Committed hears, right after each commit, the changes a transaction
	// made through this Store wrote to the change feed, and the
	// transaction's id: this replica acts on them before it answers, and
	// wakes the others. Default: nobody hears.
	Committed func(changes []Change, tx uint64)
}

// New returns a Store over pool. The pool is owned by the caller.
func New(pool *pgxpool.Pool, opts Options) *Store {
	if opts.Committed == nil {
		opts.Committed = func([]Change, uint64) {}
	}
	return &Store{pool: pool, committed: opts.Committed}
}

// Pool returns the underlying pool, for the job queue which must share it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers, for health checks.
func (s *Store) Ping(ctx context.Context) error {
	return s.pool.Ping(ctx)
}

// inTx runs fn in one transaction: every state change is all or nothing.
// The changes fn records are written to the change feed before the commit
// and told to Options.Committed after it.
func (s *Store) inTx(ctx context.Context, fn func(*Tx) error) error {
	var t *Tx
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		t = &Tx{Tx: tx}
		if err := fn(t); err != nil {
			return err
		}
		return t.flush(ctx)
	})
	if err == nil && len(t.changes) > 0 {
		s.committed(t.changes, t.xid)
	}
	return err
}

// interpretError turns driver errors into the package's sentinels, keeping the
// original for logs but never for clients.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if Unavailable(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %s", ErrConflict, pgErr.ConstraintName)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: %s", ErrReference, pgErr.ConstraintName)
		case "22021", "22P05": // character_not_in_repertoire, untranslatable_character
			return ErrInvalidText
		case "23514": // check_violation
			if strings.HasSuffix(pgErr.ConstraintName, "_time_window") {
				return fmt.Errorf("%w: %s", ErrTimeOutOfRange, pgErr.ConstraintName)
			}
		case "22P02": // invalid_text_representation: an id that is no UUID
			return fmt.Errorf("%w: %s", ErrReference, pgErr.Message)
		case "22008": // datetime_field_overflow
			return ErrTimeOutOfRange
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return fmt.Errorf("%w: concurrent update", ErrConflict)
		}
	}
	return err
}

// Unavailable tells whether err means that the database could not be
// reached or went away: ErrUnavailable, a failed connect, a connection
// broken mid-request, or PostgreSQL shutting down, starting up or out of
// connections. Errors from outside the store (a pool used directly, the
// job queue) are recognised too, so that the one place mapping errors for
// clients can tell "try again" from a bug.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is connection_exception; 57P01–57P03 are admin_shutdown,
		// crash_shutdown and cannot_connect_now; 53300 is
		// too_many_connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	return errors.As(err, &connectErr) || pgconn.SafeToRetry(err) || errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// InTx runs fn in one transaction, for a caller that makes several of the
// store's changes (those taking a *Tx) all or nothing.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error {
	return s.inTx(ctx, fn)
}
