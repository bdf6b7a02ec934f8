package store

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// listReads gathers the whole appointment lists that concurrent requests
// ask for into shared reads: when many citizens open the app at once
// (after a reminder goes out), one statement reads up to maxListBatch
// lists, and the per-statement cost in the server and in PostgreSQL is
// paid once for them. A lone request is read at once, alone.
type listReads struct {
	mu      sync.Mutex
	queue   []*listRead
	readers int
}

type listRead struct {
	person    string
	bornAfter time.Time
	list      CitizenList
	err       error
	done      chan struct{}
}

const (
	// maxListReaders is how many shared reads run at once, each on a pool
	// connection.
	maxListReaders = 4
	// maxListBatch is the most lists one read takes.
	maxListBatch = 32
	// listReadTimeout bounds a shared read, which no one request owns.
	listReadTimeout = 10 * time.Second
)

// read returns person's whole list, read with whatever other lists are
// asked for meanwhile.
func (q *listReads) read(ctx context.Context, s *Store, person string, bornAfter time.Time) (CitizenList, error) {
	r := &listRead{person: person, bornAfter: bornAfter, done: make(chan struct{})}
	q.mu.Lock()
	q.queue = append(q.queue, r)
	start := q.readers < maxListReaders
	if start {
		q.readers++
	}
	q.mu.Unlock()
	if start {
		go q.run(s)
	}
	select {
	case <-r.done:
		return r.list, r.err
	case <-ctx.Done():
		return CitizenList{}, ctx.Err()
	}
}

// run reads queued lists until none are left.
func (q *listReads) run(s *Store) {
	for {
		q.mu.Lock()
		n := min(len(q.queue), maxListBatch)
		if n == 0 {
			q.readers--
			q.mu.Unlock()
			return
		}
		batch := make([]*listRead, n)
		copy(batch, q.queue)
		q.queue = append(q.queue[:0], q.queue[n:]...)
		q.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), listReadTimeout)
		err := s.readLists(ctx, batch)
		cancel()
		for _, r := range batch {
			if err != nil {
				r.list, r.err = CitizenList{}, err
			}
			close(r.done)
		}
	}
}

// readLists reads the lists of batch in one round trip: each person's
// appointments and their children's born after their bornAfter, by start
// time, and the children.
func (s *Store) readLists(ctx context.Context, batch []*listRead) error {
	persons := make([]string, len(batch))
	borns := make([]time.Time, len(batch))
	for i, r := range batch {
		persons[i], borns[i] = r.person, r.bornAfter
		r.list = CitizenList{Person: r.person}
	}
	var asOf time.Time
	b := &pgx.Batch{}
	b.Queue(`SELECT statement_timestamp()`).QueryRow(func(row pgx.Row) error { return row.Scan(&asOf) })
	b.Queue(`
		SELECT q.n, g.child_id, c.birth_date::timestamptz
		  FROM unnest($1::uuid[], $2::timestamptz[]) WITH ORDINALITY AS q(person, born_after, n)
		  JOIN guardianship g ON g.guardian_id = q.person
		  JOIN person c ON c.id = g.child_id
		 WHERE c.birth_date > q.born_after
		 ORDER BY q.n, c.birth_date, g.child_id`, persons, borns).Query(func(rows pgx.Rows) error {
		var (
			n     int
			child string
			born  time.Time
		)
		_, err := pgx.ForEachRow(rows, []any{&n, &child, &born}, func() error {
			l := &batch[n-1].list
			if len(l.Children) == 0 {
				l.OldestChildBorn = born
			}
			l.Children = append(l.Children, child)
			return nil
		})
		return err
	})
	b.Queue(`
		WITH q AS (SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) WITH ORDINALITY AS q(person, born_after, n)),
		     who AS (SELECT q.n, q.person AS patient FROM q
		             UNION ALL
		             SELECT q.n, g.child_id FROM q
		               JOIN guardianship g ON g.guardian_id = q.person
		               JOIN person c ON c.id = g.child_id
		              WHERE c.birth_date > q.born_after)
		SELECT w.n, x.* FROM who w CROSS JOIN LATERAL (`+appointmentSelect+` WHERE a.patient_id = w.patient) x
		 ORDER BY w.n, x.starts_at, x.id`, persons, borns).Query(func(rows pgx.Rows) error {
		var (
			n   int
			row appointmentRow
		)
		_, err := pgx.ForEachRow(rows, append([]any{&n}, row.dest()...), func() error {
			l := &batch[n-1].list
			l.Appointments = append(l.Appointments, row.appointment())
			return nil
		})
		return err
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return interpretError(err)
	}
	for _, r := range batch {
		r.list.AsOf = asOf
	}
	return nil
}
