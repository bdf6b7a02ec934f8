package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/nara-care/nara/attachment"
)

// SupportAttachment is a file of a support message. Its bytes are kept
// under BlobKey by an attachment.Blobs; the row is written with its
// message, in the message's transaction.
type SupportAttachment struct {
	ID          string
	CaseID      string
	Seq         int64
	FileName    string
	ContentType string
	SizeBytes   int64
	BlobKey     string
}

// supportAttachmentInsert writes the rows of e's attachments and fills in
// their ids, case and seq (e.Attachments shares its array with the
// caller's event).
func supportAttachmentInsert(ctx context.Context, tx *Tx, e SupportEvent) error {
	for i := range e.Attachments {
		a := &e.Attachments[i]
		a.CaseID, a.Seq = e.CaseID, e.Seq
		if err := tx.QueryRow(ctx, `
			INSERT INTO support_attachment (case_id, seq, file_name, content_type, size_bytes, blob_key)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text`,
			e.CaseID, e.Seq, a.FileName, a.ContentType, a.SizeBytes, a.BlobKey).Scan(&a.ID); err != nil {
			return err
		}
	}
	return nil
}

const supportAttachmentColumns = `id::text, case_id::text, seq, file_name, content_type, size_bytes, blob_key`

func scanSupportAttachment(row pgx.Row) (SupportAttachment, error) {
	var a SupportAttachment
	err := row.Scan(&a.ID, &a.CaseID, &a.Seq, &a.FileName, &a.ContentType, &a.SizeBytes, &a.BlobKey)
	return a, err
}

// supportAttachmentsOf fills in the attachments of es, the events of one
// case in order of seq.
func supportAttachmentsOf(ctx context.Context, q querier, es []SupportEvent) error {
	if len(es) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, `SELECT `+supportAttachmentColumns+` FROM support_attachment
		 WHERE case_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq, created_at, id`,
		es[0].CaseID, es[0].Seq, es[len(es)-1].Seq)
	if err != nil {
		return err
	}
	as, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SupportAttachment, error) { return scanSupportAttachment(row) })
	if err != nil {
		return err
	}
	at := make(map[int64]int, len(es))
	for i, e := range es {
		at[e.Seq] = i
	}
	for _, a := range as {
		if i, ok := at[a.Seq]; ok {
			es[i].Attachments = append(es[i].Attachments, a)
		}
	}
	return nil
}

// SupportAttachmentGet returns an attachment of a case, or ErrNotFound when
// the case has no such attachment.
func (s *Store) SupportAttachmentGet(ctx context.Context, caseID, id string) (SupportAttachment, error) {
	a, err := scanSupportAttachment(s.pool.QueryRow(ctx, `SELECT `+supportAttachmentColumns+` FROM support_attachment
		 WHERE case_id = $1 AND id = $2`, caseID, id))
	return a, interpretError(err)
}

// AttachmentBlobs keeps attachment bytes in PostgreSQL, the default: every
// replica reads what any replica stored, and a backup of the database
// holds them. An S3-compatible store (attachment.S3) takes its place where
// the database should not carry files.
type AttachmentBlobs struct {
	store *Store
}

var _ attachment.Blobs = (*AttachmentBlobs)(nil)

// AttachmentBlobs returns the Store's attachment.Blobs.
func (s *Store) AttachmentBlobs() *AttachmentBlobs { return &AttachmentBlobs{store: s} }

// Put stores data under key, replacing what was there.
func (b *AttachmentBlobs) Put(ctx context.Context, key string, data []byte, contentType string) error {
	if !attachment.ValidKey(key) {
		return attachment.ErrInvalidKey
	}
	_, err := b.store.pool.Exec(ctx, `
		INSERT INTO attachment_blob (key, content_type, data) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET content_type = excluded.content_type, data = excluded.data`,
		key, contentType, data)
	return interpretError(err)
}

// Get returns the data and content type under key, or
// attachment.ErrNotFound.
func (b *AttachmentBlobs) Get(ctx context.Context, key string) ([]byte, string, error) {
	if !attachment.ValidKey(key) {
		return nil, "", attachment.ErrInvalidKey
	}
	var (
		data []byte
		ct   string
	)
	err := b.store.pool.QueryRow(ctx, `SELECT data, content_type FROM attachment_blob WHERE key = $1`, key).Scan(&data, &ct)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", attachment.ErrNotFound
	}
	return data, ct, interpretError(err)
}

// Delete removes key; a key that is not there is not an error.
func (b *AttachmentBlobs) Delete(ctx context.Context, key string) error {
	if !attachment.ValidKey(key) {
		return attachment.ErrInvalidKey
	}
	_, err := b.store.pool.Exec(ctx, `DELETE FROM attachment_blob WHERE key = $1`, key)
	return interpretError(err)
}
