-- Times written from requests stay within 2000–2099, so every one of them,
-- and every time derived from them (an end, a reminder, a deadline), fits a
-- protobuf Timestamp (years 1–9999) and can be answered. The API refuses
-- times outside a narrower window (two years ahead for slots) with a clear
-- message; this is the backstop that keeps one bad row from failing every
-- list it is in.
ALTER TABLE slot ADD CONSTRAINT slot_time_window CHECK (
    starts_at >= '2000-01-01 00:00:00+00' AND ends_at < '2100-01-01 00:00:00+00'
    AND (opens_at IS NULL OR (opens_at >= '2000-01-01 00:00:00+00' AND opens_at < '2100-01-01 00:00:00+00')));
ALTER TABLE push_notice ADD CONSTRAINT push_notice_time_window CHECK (
    due_at >= '2000-01-01 00:00:00+00' AND due_at < '2100-01-01 00:00:00+00'
    AND (expires_at IS NULL OR expires_at < '2100-01-01 00:00:00+00'));

---- create above / drop below ----

ALTER TABLE push_notice DROP CONSTRAINT push_notice_time_window;
ALTER TABLE slot DROP CONSTRAINT slot_time_window;
