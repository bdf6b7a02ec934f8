-- Files attached to support messages. support_attachment says which
-- message a file belongs to and what it is; the bytes are kept under
-- blob_key by an attachment.Blobs: attachment_blob below by default, so
-- that every replica reads what any replica stored, or an S3-compatible
-- object store. A blob is written before its message's transaction, so a
-- failed transaction can leave a blob no row names; never the reverse.
CREATE TABLE support_attachment (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id      uuid NOT NULL,
    seq          bigint NOT NULL,
    file_name    text NOT NULL,
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
    size_bytes   bigint NOT NULL CHECK (size_bytes > 0),
    blob_key     text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (case_id, seq) REFERENCES support_case_event (case_id, seq) ON DELETE CASCADE
);
CREATE INDEX support_attachment_event_idx ON support_attachment (case_id, seq);

CREATE TABLE attachment_blob (
    key          text PRIMARY KEY,
    content_type text NOT NULL,
    data         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- The bytes are already compressed (JPEG, PNG, PDF): TOAST should not try.
ALTER TABLE attachment_blob ALTER COLUMN data SET STORAGE EXTERNAL;

---- create above / drop below ----

DROP TABLE attachment_blob;
DROP TABLE support_attachment;
