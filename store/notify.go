package store

import (
	"context"
	"strconv"
	"strings"
)

// HelpChangeListen calls fn with (language, content version) for every change
// of published help content made by any replica, until ctx is done or the
// connection fails. It holds one pool connection while it runs.
func (s *Store) HelpChangeListen(ctx context.Context, ready func(), fn func(Language, int64)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+helpNotifyChannel); err != nil {
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
		lang, version, ok := strings.Cut(n.Payload, ":")
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(version, 10, 64)
		if err != nil {
			continue
		}
		fn(Language(lang), v)
	}
}
