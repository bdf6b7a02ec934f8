package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Topics of the change feed. A change names its topic and a key within it;
// whoever keeps a copy of something, or waits for it, follows its topic.
const (
	// TopicAppointmentList: the appointment list of the person whose id is
	// the key changed, or every list ("*": a unit, a service or a
	// clinician's name changed).
	TopicAppointmentList = "appointment_list"
	// TopicSession: the session whose id is the key changed or ended.
	TopicSession = "session"
	// TopicHelp: help content was published; the key is
	// "language:version" (ParseHelpChange).
	TopicHelp = "help"
	// TopicUnitNotice: a staff notice was written for the unit whose HSA-id
	// is the key.
	TopicUnitNotice = "unit_notice"
)

// feedChannel is the PostgreSQL channel that wakes the replicas' feed
// readers; its payload is the waking transaction's id.
const feedChannel = "nara_feed"

// A Change is one row of the change feed: something other replicas must
// hear of, written in the transaction that made it.
type Change struct {
	Topic, Key string
}

// AllLists is the key of a TopicAppointmentList change to every list.
const AllLists = "*"

// A FeedPosition is how far a reader has read the change feed: every change
// of a transaction with an id below it has been read, and of the
// transaction it names, the rows up to its row id.
type FeedPosition struct {
	tx  uint64
	row int64
}

// Before tells whether p is before transaction tx ended: a change that
// transaction made is not yet read at p.
func (p FeedPosition) Before(tx uint64) bool { return p.tx <= tx }

// String is p for logs.
func (p FeedPosition) String() string { return fmt.Sprintf("%d/%d", p.tx, p.row) }

// Tx is one transaction. Code that runs inside a store transaction (the
// store's own and the callbacks it takes) reads and writes through it, and
// records in it the changes other replicas must hear of: they are written
// to the change feed in the same transaction, and told to this replica
// right after the commit.
type Tx struct {
	pgx.Tx
	changes []Change
	xid     uint64
}

// Changed records that key of topic changes with this transaction.
func (t *Tx) Changed(topic, key string) {
	t.changes = append(t.changes, Change{Topic: topic, Key: key})
}

// appointmentsChanged records that the lists of the patients of as change.
func (t *Tx) appointmentsChanged(as ...Appointment) {
	for _, a := range as {
		t.Changed(TopicAppointmentList, a.PatientID)
	}
}

// flush writes the recorded changes to the feed, in one statement, and
// learns the transaction's id for the wake-up after the commit.
func (t *Tx) flush(ctx context.Context) error {
	if len(t.changes) == 0 {
		return nil
	}
	topics := make([]string, len(t.changes))
	keys := make([]string, len(t.changes))
	for i, c := range t.changes {
		topics[i], keys[i] = c.Topic, c.Key
	}
	var xid string
	err := t.QueryRow(ctx, `
		WITH i AS (INSERT INTO change_feed (topic, key) SELECT * FROM unnest($1::text[], $2::text[]) RETURNING 1)
		SELECT pg_current_xact_id()::text`, topics, keys).Scan(&xid)
	if err != nil {
		return err
	}
	t.xid, err = strconv.ParseUint(xid, 10, 64)
	return err
}

// FeedStart returns the position of a reader that starts now: it will read
// the changes of every transaction that has not ended yet.
func (s *Store) FeedStart(ctx context.Context) (FeedPosition, error) {
	var xmin string
	if err := s.pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`).Scan(&xmin); err != nil {
		return FeedPosition{}, interpretError(err)
	}
	tx, err := strconv.ParseUint(xmin, 10, 64)
	return FeedPosition{tx: tx}, err
}

// FeedRead returns up to limit changes after from, of transactions that
// have ended, oldest transaction first, and the position after them. A
// transaction still running when it reads is read by a later call, even if
// later ones are read now: rows are ordered by transaction, not by when
// they were written. more tells that limit cut the read short.
func (s *Store) FeedRead(ctx context.Context, from FeedPosition, limit int) (changes []Change, next FeedPosition, more bool, err error) {
	rows, err := s.pool.Query(ctx, `
		WITH s AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
		SELECT s.xmin::text, f.tx::text, f.id, f.topic, f.key
		  FROM s LEFT JOIN LATERAL (
		       SELECT c.tx, c.id, c.topic, c.key FROM change_feed c
		        WHERE (c.tx, c.id) > ($1::text::xid8, $2) AND c.tx < s.xmin
		        ORDER BY c.tx, c.id LIMIT $3) f ON true`,
		strconv.FormatUint(from.tx, 10), from.row, limit)
	if err != nil {
		return nil, from, false, interpretError(err)
	}
	defer rows.Close()
	var xmin string
	var last FeedPosition
	for rows.Next() {
		var tx, topic, key *string
		var id *int64
		if err := rows.Scan(&xmin, &tx, &id, &topic, &key); err != nil {
			return nil, from, false, interpretError(err)
		}
		if tx == nil {
			continue
		}
		n, err := strconv.ParseUint(*tx, 10, 64)
		if err != nil {
			return nil, from, false, err
		}
		last = FeedPosition{tx: n, row: *id}
		changes = append(changes, Change{Topic: *topic, Key: *key})
	}
	if err := rows.Err(); err != nil {
		return nil, from, false, interpretError(err)
	}
	if len(changes) == limit {
		return changes, last, true, nil
	}
	n, err := strconv.ParseUint(xmin, 10, 64)
	if err != nil {
		return nil, from, false, err
	}
	next = FeedPosition{tx: n}
	if next.tx < from.tx {
		next = from
	}
	return changes, next, false, nil
}

// FeedListen calls wake with the transaction id each replica announces on
// the feed's channel, until ctx is done or the connection fails; ready runs
// once listening. It holds one pool connection while it runs.
func (s *Store) FeedListen(ctx context.Context, ready func(), wake func(tx uint64)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return interpretError(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{feedChannel}.Sanitize()); err != nil {
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
		tx, _ := strconv.ParseUint(n.Payload, 10, 64)
		wake(tx)
	}
}

// FeedWake wakes every replica's feed reader to read up to transaction tx.
// It runs after the commit, in a statement of its own: a transaction that
// notifies holds a cluster-wide lock through its commit, which bookings
// must not queue for.
func (s *Store) FeedWake(ctx context.Context, tx uint64) error {
	_, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, feedChannel, strconv.FormatUint(tx, 10))
	return interpretError(err)
}

// FeedPrune deletes the feed's rows written before before; it returns how
// many.
func (s *Store) FeedPrune(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM change_feed WHERE created_at < $1`, before)
	return tag.RowsAffected(), interpretError(err)
}

// ParseHelpChange reads the key of a TopicHelp change.
func ParseHelpChange(key string) (lang Language, version int64, ok bool) {
	l, v, ok := strings.Cut(key, ":")
	if !ok {
		return "", 0, false
	}
	version, err := strconv.ParseInt(v, 10, 64)
	return Language(l), version, err == nil
}
