package store

import (
	"context"
	"strconv"
	"strings"
)

// listen calls fn with the payload of every notification on channel, until
// ctx is done or the connection fails; ready runs once listening. It holds
// one pool connection while it runs.
func (s *Store) listen(ctx context.Context, channel string, ready func(), fn func(payload string)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return interpretError(err)
	}
	if ready != nil {
		ready()
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			// The connection may be mid-wait; never hand it back for reuse.
			conn.Conn().Close(context.Background())
			return err
		}
		fn(n.Payload)
	}
}

// HelpChangeListen calls fn with (language, content version) for every change
// of published help content made by any replica, until ctx is done or the
// connection fails. It holds one pool connection while it runs.
func (s *Store) HelpChangeListen(ctx context.Context, ready func(), fn func(Language, int64)) error {
	return s.listen(ctx, helpNotifyChannel, ready, func(payload string) {
		lang, version, ok := strings.Cut(payload, ":")
		if !ok {
			return
		}
		if v, err := strconv.ParseInt(version, 10, 64); err == nil {
			fn(Language(lang), v)
		}
	})
}

// SessionChangeListen calls fn with the id of every session changed or
// deleted by any replica (revoked, refreshed, assignment chosen), until ctx
// is done or the connection fails.
func (s *Store) SessionChangeListen(ctx context.Context, ready func(), fn func(sessionID string)) error {
	return s.listen(ctx, "nara_session", ready, fn)
}
