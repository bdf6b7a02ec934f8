package store

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Channels on which replicas announce changes, so that each may keep data
// in memory and drop it the moment it changes anywhere.
const (
	// ChannelHelp carries "language:version" of published help content
	// (ParseHelpChange).
	ChannelHelp = helpNotifyChannel
	// ChannelSession carries the id of a session changed or deleted
	// (revoked, refreshed, assignment chosen).
	ChannelSession = "nara_session"
	// ChannelAppointments carries the ids of people whose appointment list
	// changed, comma-separated, or "*" when something every list shows
	// changed (a unit, a service, a clinician's name) (ParseListChange).
	ChannelAppointments = "nara_appointments"
	// ChannelStaffNotices carries the HSA-id of a unit that a patient has
	// just told something (a staff notice was written).
	ChannelStaffNotices = "nara_staff_notices"
)

// Listen calls on with the channel and payload of every notification on
// channels, until ctx is done or the connection fails; ready runs once
// listening. It holds one pool connection while it runs.
func (s *Store) Listen(ctx context.Context, channels []string, ready func(), on func(channel, payload string)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return interpretError(err)
		}
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
		on(n.Channel, n.Payload)
	}
}

// ParseHelpChange reads a ChannelHelp payload.
func ParseHelpChange(payload string) (lang Language, version int64, ok bool) {
	l, v, ok := strings.Cut(payload, ":")
	if !ok {
		return "", 0, false
	}
	version, err := strconv.ParseInt(v, 10, 64)
	return Language(l), version, err == nil
}

// ParseListChange reads a ChannelAppointments payload: the people whose
// lists changed, or all when every list did.
func ParseListChange(payload string) (personIDs []string, all bool) {
	if payload == "*" {
		return nil, true
	}
	return strings.Split(payload, ","), false
}

// maxPayload keeps a notification under PostgreSQL's 8000-byte limit.
const maxPayload = 7900

// AnnounceListChanges tells every replica (this one included) that the
// appointment lists of personIDs changed. It runs after the change has
// committed and in a transaction of its own: a transaction that notifies
// holds a cluster-wide lock through its commit, which the bookings
// themselves must not queue for.
func (s *Store) AnnounceListChanges(ctx context.Context, personIDs []string) error {
	ids := slices.Clone(personIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var payloads []string
	for len(ids) > 0 {
		var b strings.Builder
		for len(ids) > 0 && (b.Len() == 0 || b.Len()+len(ids[0])+1 <= maxPayload) {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(ids[0])
			ids = ids[1:]
		}
		payloads = append(payloads, b.String())
	}
	if len(payloads) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, ChannelAppointments, payloads)
	return interpretError(err)
}
