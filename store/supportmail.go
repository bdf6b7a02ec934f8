package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// SupportCaseFindByMail returns the id of the case an e-mail from sender
// belongs to: the case whose mail token is token, else the case that holds
// the first of keys (Message-IDs the mail names as its parents). Either
// counts only when the case's address is sender's, so a forged token or
// In-Reply-To from anyone else finds nothing. ErrNotFound when none does.
func (s *Store) SupportCaseFindByMail(ctx context.Context, token string, keys []string, sender string) (string, error) {
	var id string
	if token != "" {
		err := s.pool.QueryRow(ctx, `
			SELECT id::text FROM support_case WHERE mail_token = $1 AND email <> '' AND lower(email) = lower($2)`,
			token, sender).Scan(&id)
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return id, interpretError(err)
		}
	}
	if len(keys) == 0 {
		return "", ErrNotFound
	}
	err := s.pool.QueryRow(ctx, `
		SELECT m.case_id::text FROM support_mail m JOIN support_case c ON c.id = m.case_id
		 WHERE m.message_id = ANY($1) AND c.email <> '' AND lower(c.email) = lower($2)
		 ORDER BY array_position($1, m.message_id), m.created_at DESC, m.id DESC LIMIT 1`,
		keys, sender).Scan(&id)
	return id, interpretError(err)
}

// SupportMailOut is one e-mail a support reply sends, fixed when the reply
// is written so that every attempt sends the same message.
type SupportMailOut struct {
	ID         int64
	CaseID     string
	MessageID  string
	Recipient  string
	ReplyTo    string
	Subject    string
	Body       string
	Link       string
	InReplyTo  string
	References []string
	SentAt     time.Time
	FailedAt   time.Time
}

// SupportMailThreadTx returns what an outbound mail of a case threads on:
// the Message-ID of the citizen's last e-mail ("" when none) and the
// case's Message-IDs, oldest first, at most limit of the newest.
func SupportMailThreadTx(ctx context.Context, tx *Tx, caseID string, limit int) (lastIn string, refs []string, err error) {
	rows, err := tx.Query(ctx, `
		SELECT direction, message_id FROM (
			SELECT direction, message_id, id FROM support_mail WHERE case_id = $1 ORDER BY id DESC LIMIT $2
		) m ORDER BY id`, caseID, limit)
	if err != nil {
		return "", nil, interpretError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var dir, id string
		if err := rows.Scan(&dir, &id); err != nil {
			return "", nil, interpretError(err)
		}
		refs = append(refs, id)
		if dir == "in" {
			lastIn = id
		}
	}
	return lastIn, refs, interpretError(rows.Err())
}

// SupportMailOutInsertTx records m, to be sent, in the transaction of the
// reply it carries, and returns its id for the send job.
func SupportMailOutInsertTx(ctx context.Context, tx *Tx, m SupportMailOut) (int64, error) {
	if m.References == nil {
		m.References = []string{}
	}
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO support_mail (case_id, direction, message_id, recipient, reply_to, subject, body, link, in_reply_to, refs)
		VALUES ($1, 'out', $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		m.CaseID, m.MessageID, m.Recipient, m.ReplyTo, m.Subject, m.Body, m.Link, m.InReplyTo, m.References).Scan(&id)
	return id, interpretError(err)
}

// SupportMailOutGet returns an outbound mail.
func (s *Store) SupportMailOutGet(ctx context.Context, id int64) (SupportMailOut, error) {
	var (
		m            SupportMailOut
		sent, failed *time.Time
	)
	err := s.pool.QueryRow(ctx, `
		SELECT id, case_id::text, message_id, recipient, reply_to, subject, body, link, in_reply_to, refs, sent_at, failed_at
		  FROM support_mail WHERE id = $1 AND direction = 'out'`, id).
		Scan(&m.ID, &m.CaseID, &m.MessageID, &m.Recipient, &m.ReplyTo, &m.Subject, &m.Body, &m.Link, &m.InReplyTo,
			&m.References, &sent, &failed)
	if sent != nil {
		m.SentAt = *sent
	}
	if failed != nil {
		m.FailedAt = *failed
	}
	return m, interpretError(err)
}

// SupportMailOutSent records that the relay took an outbound mail.
func (s *Store) SupportMailOutSent(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE support_mail SET sent_at = coalesce(sent_at, now()) WHERE id = $1`, id)
	return interpretError(err)
}

// SupportMailOutFailed records that an outbound mail can never be sent,
// and why (a reason for staff and logs, never the message).
func (s *Store) SupportMailOutFailed(ctx context.Context, id int64, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE support_mail SET failed_at = now(), fail_reason = $2 WHERE id = $1`, id, reason)
	return interpretError(err)
}
