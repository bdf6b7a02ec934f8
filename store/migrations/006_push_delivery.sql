-- Push dispatch claims due notices straight from push_notice, in batches,
-- with a lease: next_at is when a pending notice may next be claimed. It
-- starts at due_at; a claim moves it a lease ahead, so that a notice claimed
-- by a worker that crashed is claimed again once the lease runs out; quiet
-- hours and FCM's Retry-After move it to when the notice may go out.
ALTER TABLE push_notice
    ADD COLUMN next_at timestamptz,
    ADD COLUMN claims integer NOT NULL DEFAULT 0;
UPDATE push_notice SET next_at = due_at;
ALTER TABLE push_notice ALTER COLUMN next_at SET NOT NULL;
CREATE INDEX push_notice_next_idx ON push_notice (next_at) WHERE state = 'pending';

-- A notice FCM kept refusing to take (Retry on every attempt) ends as failed.
ALTER TABLE push_notice DROP CONSTRAINT push_notice_state_check;
ALTER TABLE push_notice ADD CONSTRAINT push_notice_state_check
    CHECK (state IN ('pending', 'sent', 'skipped', 'cancelled', 'expired', 'failed'));
