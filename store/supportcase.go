package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Topics of support's changes.
const (
	// TopicSupportCase: the support case whose id is the key changed (a new
	// event, the state, typing).
	TopicSupportCase = "support_case"
	// TopicSupportQueue: the queue of the support line that is the key
	// ("first", "second", "external") changed.
	TopicSupportQueue = "support_queue"
	// TopicServiceNotice: a service notice was published or withdrawn; the
	// key is AllLists.
	TopicServiceNotice = "service_notice"
)

// SupportCase is one support case.
type SupportCase struct {
	ID string
	// PersonID is set for a logged-in citizen's case.
	PersonID string
	// GuestSecretHash is set for a guest's case: the SHA-256 of its secret.
	GuestSecretHash []byte
	GuestDeviceID   string
	Email           string
	// MailToken is the case's token in its reply address and subject tag
	// (mail.CaseAddress, mail.SubjectTag); empty until the case mails.
	MailToken string
	// OpenKey and OwnerScope make OpenCase idempotent per owner.
	OpenKey, OwnerScope string
	// Category, State ("new", "open", "waiting", "escalated", "closed") and
	// Line ("first", "second", "external").
	Category, State, Line string
	ExternalParty         string
	AssigneeHSAID         string
	AssigneeName          string
	Subject               string
	CloseReason           string
	CloseNote             string
	DeviationID           string
	FirstAnswerDue        time.Time
	FirstAnswerAt         time.Time
	LastSeq               int64
	CitizenReadSeq        int64
	SupportReadSeq        int64
	CitizenTypingUntil    time.Time
	SupportTypingUntil    time.Time
	GuestMessages         int
	CreatedAt, UpdatedAt  time.Time
	// CitizenGivenName and CitizenSurname are the logged-in citizen's.
	CitizenGivenName, CitizenSurname string
}

// SupportEvent is one event of a case's thread: a message ("message"), a
// read mark ("read") or a change of state, line or assignee ("state").
type SupportEvent struct {
	CaseID string
	Seq    int64
	Kind   string
	// Party is "citizen" or "support".
	Party          string
	AuthorHSAID    string
	AuthorName     string
	Body           string
	Channel        string
	IdempotencyKey string
	AnswerID       string
	AnswerVersion  int
	ReadUpTo       int64
	State, Line    string
	CloseReason    string
	// AssigneeName is, for a state change, the holder's name after it.
	AssigneeName string
	// MailMessageID is the Message-ID of the e-mail a citizen's message
	// came in, kept with the case so that replies to it thread back.
	MailMessageID string
	// Attachments are a message's files.
	Attachments []SupportAttachment
	CreatedAt   time.Time
}

const supportCaseColumns = `c.id::text, coalesce(c.person_id::text, ''), c.guest_secret_hash, c.guest_device_id, c.email,
	c.open_key, c.owner_scope, c.category, c.state, c.line, c.external_party, c.assignee_hsa_id, c.assignee_name,
	c.subject, c.close_reason, c.close_note, coalesce(c.deviation_id::text, ''), c.first_answer_due,
	coalesce(c.first_answer_at, 'epoch'), c.last_seq, c.citizen_read_seq, c.support_read_seq,
	coalesce(c.citizen_typing_until, 'epoch'), coalesce(c.support_typing_until, 'epoch'), c.guest_messages,
	c.created_at, c.updated_at, coalesce(p.given_name, ''), coalesce(p.surname, ''), coalesce(c.mail_token, '')`

const supportCaseFrom = ` FROM support_case c LEFT JOIN person p ON p.id = c.person_id`

func scanSupportCase(row pgx.Row) (SupportCase, error) {
	var c SupportCase
	err := row.Scan(&c.ID, &c.PersonID, &c.GuestSecretHash, &c.GuestDeviceID, &c.Email, &c.OpenKey, &c.OwnerScope,
		&c.Category, &c.State, &c.Line, &c.ExternalParty, &c.AssigneeHSAID, &c.AssigneeName, &c.Subject,
		&c.CloseReason, &c.CloseNote, &c.DeviationID, &c.FirstAnswerDue, &c.FirstAnswerAt, &c.LastSeq,
		&c.CitizenReadSeq, &c.SupportReadSeq, &c.CitizenTypingUntil, &c.SupportTypingUntil, &c.GuestMessages,
		&c.CreatedAt, &c.UpdatedAt, &c.CitizenGivenName, &c.CitizenSurname, &c.MailToken)
	for _, t := range []*time.Time{&c.FirstAnswerAt, &c.CitizenTypingUntil, &c.SupportTypingUntil} {
		if t.Unix() == 0 {
			*t = time.Time{}
		}
	}
	return c, err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// SupportCaseOpen opens c with its first message. A case its owner
// (OwnerScope) opened before with the same OpenKey is returned instead,
// with replay set; for a guest its secret hash is replaced by c's, so the
// retry's secret is the one that works.
func (s *Store) SupportCaseOpen(ctx context.Context, c SupportCase, first SupportEvent) (out SupportCase, replay bool, err error) {
	err = s.inTx(ctx, func(tx *Tx) error {
		var id string
		err := tx.QueryRow(ctx, `
			INSERT INTO support_case (person_id, guest_secret_hash, guest_device_id, email, open_key, owner_scope,
				category, subject, first_answer_due, last_seq, guest_messages, mail_token)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, CASE WHEN $2::bytea IS NULL THEN 0 ELSE 1 END, $10)
			ON CONFLICT (owner_scope, open_key) DO NOTHING
			RETURNING id::text`,
			nullable(c.PersonID), c.GuestSecretHash, c.GuestDeviceID, c.Email, c.OpenKey, c.OwnerScope,
			c.Category, c.Subject, c.FirstAnswerDue, nullable(c.MailToken)).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			replay = true
			err = tx.QueryRow(ctx, `
				UPDATE support_case SET guest_secret_hash = coalesce($3, guest_secret_hash)
				 WHERE owner_scope = $1 AND open_key = $2 RETURNING id::text`,
				c.OwnerScope, c.OpenKey, c.GuestSecretHash).Scan(&id)
			if err != nil {
				return err
			}
		} else if err != nil {
			return err
		} else {
			first.CaseID, first.Seq = id, 1
			if err := supportEventInsert(ctx, tx, first); err != nil {
				return err
			}
			tx.Changed(TopicSupportQueue, "first")
		}
		tx.Changed(TopicSupportCase, id)
		out, err = scanSupportCase(tx.QueryRow(ctx, `SELECT `+supportCaseColumns+supportCaseFrom+` WHERE c.id = $1`, id))
		return err
	})
	return out, replay, interpretError(err)
}

func supportEventInsert(ctx context.Context, tx *Tx, e SupportEvent) error {
	channel := e.Channel
	if channel == "" {
		channel = "app"
	}
	var answerVersion *int
	if e.AnswerID != "" {
		answerVersion = &e.AnswerVersion
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO support_case_event (case_id, seq, kind, party, author_hsa_id, author_name, body, channel,
			idempotency_key, answer_id, answer_version, read_up_to, state, line, close_reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		e.CaseID, e.Seq, e.Kind, e.Party, e.AuthorHSAID, e.AuthorName, e.Body, channel,
		nullable(e.IdempotencyKey), nullable(e.AnswerID), answerVersion, e.ReadUpTo, e.State, e.Line, e.CloseReason)
	if err != nil {
		return err
	}
	if err := supportAttachmentInsert(ctx, tx, e); err != nil || e.MailMessageID == "" {
		return err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO support_mail (case_id, direction, message_id) VALUES ($1, 'in', $2)
		ON CONFLICT (case_id, message_id) DO NOTHING`, e.CaseID, e.MailMessageID)
	return err
}

// SupportCaseGet returns a case.
func (s *Store) SupportCaseGet(ctx context.Context, id string) (SupportCase, error) {
	c, err := scanSupportCase(s.pool.QueryRow(ctx, `SELECT `+supportCaseColumns+supportCaseFrom+` WHERE c.id = $1`, id))
	return c, interpretError(err)
}

func collectSupportCases(rows pgx.Rows, err error) ([]SupportCase, error) {
	if err != nil {
		return nil, interpretError(err)
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SupportCase, error) { return scanSupportCase(row) })
	return cs, interpretError(err)
}

// SupportCaseListByPerson returns a citizen's cases, newest first.
func (s *Store) SupportCaseListByPerson(ctx context.Context, personID string, limit int) ([]SupportCase, error) {
	return collectSupportCases(s.pool.Query(ctx, `SELECT `+supportCaseColumns+supportCaseFrom+`
		 WHERE c.person_id = $1 ORDER BY c.created_at DESC, c.id LIMIT $2`, personID, limit))
}

// SupportQueueFilter picks the cases of a queue.
type SupportQueueFilter struct {
	Line     string
	Category string // empty: every category
	Assignee string // empty: anyone's and no one's
	Limit    int
}

// SupportCaseQueue returns the cases not closed of a line, those whose first
// answer is due soonest first.
func (s *Store) SupportCaseQueue(ctx context.Context, f SupportQueueFilter) ([]SupportCase, error) {
	return collectSupportCases(s.pool.Query(ctx, `SELECT `+supportCaseColumns+supportCaseFrom+`
		 WHERE c.state <> 'closed' AND c.line = $1 AND ($2 = '' OR c.category = $2) AND ($3 = '' OR c.assignee_hsa_id = $3)
		 ORDER BY c.first_answer_at IS NOT NULL, c.first_answer_due, c.created_at, c.id LIMIT $4`,
		f.Line, f.Category, f.Assignee, f.Limit))
}

// SupportEventList returns up to limit events of a case after seq after.
func (s *Store) SupportEventList(ctx context.Context, caseID string, after int64, limit int) ([]SupportEvent, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT case_id::text, seq, kind, party, author_hsa_id, author_name, body, channel, coalesce(idempotency_key, ''),
		       coalesce(answer_id::text, ''), coalesce(answer_version, 0), read_up_to, state, line, close_reason, created_at
		  FROM support_case_event WHERE case_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, caseID, after, limit)
	if err != nil {
		return nil, interpretError(err)
	}
	es, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SupportEvent, error) {
		var e SupportEvent
		err := row.Scan(&e.CaseID, &e.Seq, &e.Kind, &e.Party, &e.AuthorHSAID, &e.AuthorName, &e.Body, &e.Channel,
			&e.IdempotencyKey, &e.AnswerID, &e.AnswerVersion, &e.ReadUpTo, &e.State, &e.Line, &e.CloseReason, &e.CreatedAt)
		if e.Kind == "state" {
			e.AssigneeName = e.AuthorName
		}
		return e, err
	})
	if err != nil {
		return nil, interpretError(err)
	}
	return es, interpretError(supportAttachmentsOf(ctx, s.pool, es))
}

// SupportEventByKeyTx returns the message of a case sent with an
// idempotency key, or ErrNotFound.
func SupportEventByKeyTx(ctx context.Context, tx *Tx, caseID, key string) (SupportEvent, error) {
	var e SupportEvent
	err := tx.QueryRow(ctx, `
		SELECT case_id::text, seq, kind, party, author_hsa_id, author_name, body, channel,
		       coalesce(answer_id::text, ''), coalesce(answer_version, 0), created_at
		  FROM support_case_event WHERE case_id = $1 AND idempotency_key = $2`, caseID, key).
		Scan(&e.CaseID, &e.Seq, &e.Kind, &e.Party, &e.AuthorHSAID, &e.AuthorName, &e.Body, &e.Channel,
			&e.AnswerID, &e.AnswerVersion, &e.CreatedAt)
	e.IdempotencyKey = key
	if err == nil {
		es := []SupportEvent{e}
		err = supportAttachmentsOf(ctx, tx, es)
		e = es[0]
	}
	return e, interpretError(err)
}

// SupportCaseUpdate changes a case in one transaction: fn gets the case,
// locked, changes it and returns the events to append (their CaseID and Seq
// are filled in). What fn changed is written back, and the case's watchers
// and, when the queue sees the change, its line's queue are told. fn may
// write more in tx (a push notice) and its error aborts everything.
func (s *Store) SupportCaseUpdate(ctx context.Context, id string, fn func(tx *Tx, c *SupportCase) ([]SupportEvent, error)) (SupportCase, []SupportEvent, error) {
	var (
		out    SupportCase
		events []SupportEvent
	)
	err := s.inTx(ctx, func(tx *Tx) error {
		c, err := scanSupportCase(tx.QueryRow(ctx, `SELECT `+supportCaseColumns+supportCaseFrom+` WHERE c.id = $1 FOR UPDATE OF c`, id))
		if err != nil {
			return err
		}
		before := c
		if events, err = fn(tx, &c); err != nil {
			return err
		}
		now := time.Now()
		for i := range events {
			c.LastSeq++
			events[i].CaseID, events[i].Seq, events[i].CreatedAt = c.ID, c.LastSeq, now
			if events[i].Kind == "state" {
				events[i].AuthorName = events[i].AssigneeName
			}
			if err := supportEventInsert(ctx, tx, events[i]); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `
			UPDATE support_case SET category = $2, state = $3, line = $4, external_party = $5, assignee_hsa_id = $6,
			       assignee_name = $7, close_reason = $8, close_note = $9, deviation_id = $10, first_answer_at = $11,
			       last_seq = $12, citizen_read_seq = $13, support_read_seq = $14, citizen_typing_until = $15,
			       support_typing_until = $16, guest_messages = $17, email = $18, mail_token = $20,
			       updated_at = CASE WHEN $19 THEN now() ELSE updated_at END
			 WHERE id = $1`,
			c.ID, c.Category, c.State, c.Line, c.ExternalParty, c.AssigneeHSAID, c.AssigneeName, c.CloseReason, c.CloseNote,
			nullable(c.DeviationID), nullTime(c.FirstAnswerAt), c.LastSeq, c.CitizenReadSeq, c.SupportReadSeq,
			nullTime(c.CitizenTypingUntil), nullTime(c.SupportTypingUntil), c.GuestMessages, c.Email, len(events) > 0, nullable(c.MailToken))
		if err != nil {
			return err
		}
		tx.Changed(TopicSupportCase, c.ID)
		if queueSees(before, c) {
			tx.Changed(TopicSupportQueue, before.Line)
			if c.Line != before.Line {
				tx.Changed(TopicSupportQueue, c.Line)
			}
		}
		out, err = scanSupportCase(tx.QueryRow(ctx, `SELECT `+supportCaseColumns+supportCaseFrom+` WHERE c.id = $1`, id))
		return err
	})
	return out, events, interpretError(err)
}

// queueSees tells whether a queue shows the difference between a and b.
func queueSees(a, b SupportCase) bool {
	return a.State != b.State || a.Line != b.Line || a.AssigneeHSAID != b.AssigneeHSAID || a.Category != b.Category ||
		a.LastSeq != b.LastSeq || a.DeviationID != b.DeviationID || !a.FirstAnswerAt.Equal(b.FirstAnswerAt)
}

// SupportOverview is the supervisor's view of the queues.
type SupportOverview struct {
	Waiting     int
	OldestOpen  time.Time
	SLABreaches int
	Agents      []SupportAgentLoad
	Lines       []SupportLineLoad
}

// SupportAgentLoad is how many open cases an agent holds.
type SupportAgentLoad struct {
	HSAID, Name string
	Open        int
}

// SupportLineLoad is how many open cases a line holds.
type SupportLineLoad struct {
	Line             string
	Open, Unassigned int
}

// SupportOverviewGet counts the cases not closed at now.
func (s *Store) SupportOverviewGet(ctx context.Context, now time.Time) (SupportOverview, error) {
	var o SupportOverview
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, `
		SELECT count(*), min(created_at) FILTER (WHERE first_answer_at IS NULL),
		       count(*) FILTER (WHERE (first_answer_at IS NULL AND first_answer_due < $1) OR first_answer_at > first_answer_due)
		  FROM support_case WHERE state <> 'closed'`, now).Scan(&o.Waiting, &oldest, &o.SLABreaches)
	if err != nil {
		return o, interpretError(err)
	}
	if oldest != nil {
		o.OldestOpen = *oldest
	}
	rows, err := s.pool.Query(ctx, `
		SELECT assignee_hsa_id, max(assignee_name), count(*) FROM support_case
		 WHERE state <> 'closed' AND assignee_hsa_id <> '' GROUP BY assignee_hsa_id ORDER BY assignee_hsa_id`)
	if err != nil {
		return o, interpretError(err)
	}
	o.Agents, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (SupportAgentLoad, error) {
		var a SupportAgentLoad
		return a, row.Scan(&a.HSAID, &a.Name, &a.Open)
	})
	if err != nil {
		return o, interpretError(err)
	}
	rows, err = s.pool.Query(ctx, `
		SELECT line, count(*), count(*) FILTER (WHERE assignee_hsa_id = '') FROM support_case
		 WHERE state <> 'closed' GROUP BY line ORDER BY line`)
	if err != nil {
		return o, interpretError(err)
	}
	o.Lines, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (SupportLineLoad, error) {
		var l SupportLineLoad
		return l, row.Scan(&l.Line, &l.Open, &l.Unassigned)
	})
	return o, interpretError(err)
}

// SupportAnswer is one version of a standard answer.
type SupportAnswer struct {
	ID                    string
	Version               int
	Category, Title, Body string
	AuthorHSAID           string
	AuthorName            string
	CreatedAt             time.Time
}

const supportAnswerColumns = `v.answer_id::text, v.version, v.category, v.title, v.body, v.author_hsa_id, v.author_name, v.created_at`

func collectSupportAnswers(rows pgx.Rows, err error) ([]SupportAnswer, error) {
	if err != nil {
		return nil, interpretError(err)
	}
	as, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SupportAnswer, error) {
		var a SupportAnswer
		err := row.Scan(&a.ID, &a.Version, &a.Category, &a.Title, &a.Body, &a.AuthorHSAID, &a.AuthorName, &a.CreatedAt)
		return a, err
	})
	return as, interpretError(err)
}

// SupportAnswerSave saves a new standard answer (a.ID empty) or a new
// version of one, made from baseVersion: ErrPrecondition when a newer
// version was saved since.
func (s *Store) SupportAnswerSave(ctx context.Context, a SupportAnswer, baseVersion int) (SupportAnswer, error) {
	err := s.inTx(ctx, func(tx *Tx) error {
		if a.ID == "" {
			a.Version = 1
			if err := tx.QueryRow(ctx, `INSERT INTO support_answer DEFAULT VALUES RETURNING id::text`).Scan(&a.ID); err != nil {
				return err
			}
		} else {
			var current int
			if err := tx.QueryRow(ctx, `SELECT current_version FROM support_answer WHERE id = $1 FOR UPDATE`, a.ID).Scan(&current); err != nil {
				return err
			}
			if current != baseVersion {
				return fmt.Errorf("%w: the standard answer has a newer version (%d) than the one edited (%d); start from it", ErrPrecondition, current, baseVersion)
			}
			a.Version = current + 1
			if _, err := tx.Exec(ctx, `UPDATE support_answer SET current_version = $2 WHERE id = $1`, a.ID, a.Version); err != nil {
				return err
			}
		}
		return tx.QueryRow(ctx, `
			INSERT INTO support_answer_version (answer_id, version, category, title, body, author_hsa_id, author_name)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING created_at`,
			a.ID, a.Version, a.Category, a.Title, a.Body, a.AuthorHSAID, a.AuthorName).Scan(&a.CreatedAt)
	})
	return a, interpretError(err)
}

// SupportAnswerGet returns a version of a standard answer; version 0 is
// the current one.
func (s *Store) SupportAnswerGet(ctx context.Context, id string, version int) (SupportAnswer, error) {
	as, err := collectSupportAnswers(s.pool.Query(ctx, `SELECT `+supportAnswerColumns+`
		  FROM support_answer a JOIN support_answer_version v ON v.answer_id = a.id
		 WHERE a.id = $1 AND v.version = CASE WHEN $2 = 0 THEN a.current_version ELSE $2 END`, id, version))
	if err != nil {
		return SupportAnswer{}, err
	}
	if len(as) == 0 {
		return SupportAnswer{}, ErrNotFound
	}
	return as[0], nil
}

// SupportAnswerList returns the current version of every standard answer
// (of one category, when set), by title.
func (s *Store) SupportAnswerList(ctx context.Context, category string) ([]SupportAnswer, error) {
	return collectSupportAnswers(s.pool.Query(ctx, `SELECT `+supportAnswerColumns+`
		  FROM support_answer a JOIN support_answer_version v ON v.answer_id = a.id AND v.version = a.current_version
		 WHERE $1 = '' OR v.category = $1 ORDER BY v.title, v.answer_id`, category))
}

// SupportAnswerSearch finds current standard answers by Swedish free
// text, as the help search does: each word matches its stem and words that
// start with it; titles that contain the query match too.
func (s *Store) SupportAnswerSearch(ctx context.Context, query, category string, limit int) ([]SupportAnswer, error) {
	words := searchWords(query)
	if len(words) == 0 {
		return nil, nil
	}
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = w + ":*"
	}
	return collectSupportAnswers(s.pool.Query(ctx, `
		WITH q AS (SELECT to_tsquery('swedish', $1) AS query)
		SELECT `+supportAnswerColumns+`
		  FROM support_answer a JOIN support_answer_version v ON v.answer_id = a.id AND v.version = a.current_version, q
		 WHERE ($2 = '' OR v.category = $2) AND (v.document @@ q.query OR $3 <% lower(v.title))
		 ORDER BY ts_rank(v.document, q.query) + word_similarity($3, lower(v.title)) DESC, v.answer_id
		 LIMIT $4`, strings.Join(terms, " | "), category, strings.Join(words, " "), limit))
}

// SupportDeviation is an incident with the cases linked to it.
type SupportDeviation struct {
	ID, Title, Description string
	// Status is "open", "investigating" or "resolved".
	Status               string
	CreatedBy            string
	CreatedAt, UpdatedAt time.Time
	CaseIDs              []string
}

const supportDeviationSelect = `
	SELECT d.id::text, d.title, d.description, d.status, d.created_by, d.created_at, d.updated_at,
	       coalesce((SELECT array_agg(c.id::text ORDER BY c.created_at) FROM support_case c WHERE c.deviation_id = d.id), '{}')
	  FROM support_deviation d`

func collectSupportDeviations(rows pgx.Rows, err error) ([]SupportDeviation, error) {
	if err != nil {
		return nil, interpretError(err)
	}
	ds, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SupportDeviation, error) {
		var d SupportDeviation
		err := row.Scan(&d.ID, &d.Title, &d.Description, &d.Status, &d.CreatedBy, &d.CreatedAt, &d.UpdatedAt, &d.CaseIDs)
		return d, err
	})
	return ds, interpretError(err)
}

// SupportDeviationFlag links a case to a deviation: the one named by
// deviationID, or a new one with title and description.
func (s *Store) SupportDeviationFlag(ctx context.Context, caseID, deviationID, title, description, by string) (SupportDeviation, error) {
	var out SupportDeviation
	err := s.inTx(ctx, func(tx *Tx) error {
		if deviationID == "" {
			if err := tx.QueryRow(ctx, `
				INSERT INTO support_deviation (title, description, created_by) VALUES ($1, $2, $3) RETURNING id::text`,
				title, description, by).Scan(&deviationID); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, `UPDATE support_deviation SET updated_at = now() WHERE id = $1`, deviationID); err != nil {
			return err
		}
		var line string
		if err := tx.QueryRow(ctx, `UPDATE support_case SET deviation_id = $2 WHERE id = $1 RETURNING line`, caseID, deviationID).Scan(&line); err != nil {
			return err
		}
		tx.Changed(TopicSupportCase, caseID)
		tx.Changed(TopicSupportQueue, line)
		ds, err := collectSupportDeviations(tx.Query(ctx, supportDeviationSelect+` WHERE d.id = $1`, deviationID))
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			return ErrNotFound
		}
		out = ds[0]
		return nil
	})
	return out, interpretError(err)
}

// SupportDeviationList returns the deviations with a status (empty: all
// but resolved), newest first.
func (s *Store) SupportDeviationList(ctx context.Context, status string) ([]SupportDeviation, error) {
	return collectSupportDeviations(s.pool.Query(ctx, supportDeviationSelect+`
		 WHERE ($1 = '' AND d.status <> 'resolved') OR d.status = $1 ORDER BY d.created_at DESC, d.id`, status))
}

// SupportDeviationSetStatus sets a deviation's status.
func (s *Store) SupportDeviationSetStatus(ctx context.Context, id, status string) (SupportDeviation, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE support_deviation SET status = $2, updated_at = now() WHERE id = $1`, id, status)
	if err != nil {
		return SupportDeviation{}, interpretError(err)
	}
	if tag.RowsAffected() == 0 {
		return SupportDeviation{}, ErrNotFound
	}
	ds, err := collectSupportDeviations(s.pool.Query(ctx, supportDeviationSelect+` WHERE d.id = $1`, id))
	if err != nil {
		return SupportDeviation{}, err
	}
	if len(ds) == 0 {
		return SupportDeviation{}, ErrNotFound
	}
	return ds[0], nil
}

// ServiceNotice is a notice about a disturbance, shown until withdrawn.
type ServiceNotice struct {
	ID, Title, Body, DeviationID string
	PublishedBy                  string
	PublishedAt, WithdrawnAt     time.Time
}

const serviceNoticeColumns = `id::text, title, body, coalesce(deviation_id::text, ''), published_by, published_at,
	coalesce(withdrawn_at, 'epoch')`

func scanServiceNotice(row pgx.Row) (ServiceNotice, error) {
	var n ServiceNotice
	err := row.Scan(&n.ID, &n.Title, &n.Body, &n.DeviationID, &n.PublishedBy, &n.PublishedAt, &n.WithdrawnAt)
	if n.WithdrawnAt.Unix() == 0 {
		n.WithdrawnAt = time.Time{}
	}
	return n, err
}

// ServiceNoticePublish publishes a notice.
func (s *Store) ServiceNoticePublish(ctx context.Context, n ServiceNotice) (ServiceNotice, error) {
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		n, err = scanServiceNotice(tx.QueryRow(ctx, `
			INSERT INTO support_service_notice (title, body, deviation_id, published_by) VALUES ($1, $2, $3, $4)
			RETURNING `+serviceNoticeColumns, n.Title, n.Body, nullable(n.DeviationID), n.PublishedBy))
		tx.Changed(TopicServiceNotice, AllLists)
		return err
	})
	return n, interpretError(err)
}

// ServiceNoticeWithdraw withdraws a notice; withdrawing it again changes
// nothing.
func (s *Store) ServiceNoticeWithdraw(ctx context.Context, id string) (ServiceNotice, error) {
	var n ServiceNotice
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		n, err = scanServiceNotice(tx.QueryRow(ctx, `
			UPDATE support_service_notice SET withdrawn_at = coalesce(withdrawn_at, now()) WHERE id = $1
			RETURNING `+serviceNoticeColumns, id))
		tx.Changed(TopicServiceNotice, AllLists)
		return err
	})
	return n, interpretError(err)
}

// ServiceNoticeListActive returns the notices not withdrawn, newest first.
func (s *Store) ServiceNoticeListActive(ctx context.Context) ([]ServiceNotice, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+serviceNoticeColumns+` FROM support_service_notice
		 WHERE withdrawn_at IS NULL ORDER BY published_at DESC, id`)
	if err != nil {
		return nil, interpretError(err)
	}
	ns, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ServiceNotice, error) { return scanServiceNotice(row) })
	return ns, interpretError(err)
}
