-- Support by e-mail. A case that mails gets a token for its reply address
-- (support+token@domain) and subject tag. Every Message-ID in a case's
-- thread, inbound and outbound, is kept so a reply threads back to it; a
-- thread key is trusted only from the case's own address, since anyone can
-- write any In-Reply-To. An outbound row is the mail a reply sends, written
-- in the reply's transaction with its Message-ID, so a retried job sends
-- the same message, and marked sent once the relay took it.
ALTER TABLE support_case ADD COLUMN mail_token text UNIQUE;
CREATE INDEX support_case_email_idx ON support_case (lower(email)) WHERE email <> '';

CREATE TABLE support_mail (
    id           bigserial PRIMARY KEY,
    case_id      uuid NOT NULL REFERENCES support_case (id) ON DELETE CASCADE,
    direction    text NOT NULL CHECK (direction IN ('in', 'out')),
    message_id   text NOT NULL,
    -- Outbound only: what is sent, fixed when the reply is written.
    recipient    text NOT NULL DEFAULT '',
    reply_to     text NOT NULL DEFAULT '',
    subject      text NOT NULL DEFAULT '',
    body         text NOT NULL DEFAULT '',
    link         text NOT NULL DEFAULT '',
    in_reply_to  text NOT NULL DEFAULT '',
    refs         text[] NOT NULL DEFAULT '{}',
    sent_at      timestamptz,
    failed_at    timestamptz,
    fail_reason  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_id, message_id)
);
CREATE INDEX support_mail_message_id_idx ON support_mail (message_id);

---- create above / drop below ----

DROP TABLE support_mail;
DROP INDEX support_case_email_idx;
ALTER TABLE support_case DROP COLUMN mail_token;
