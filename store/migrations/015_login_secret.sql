-- A login is bound to the device that started it: StartLogin hands that
-- device a secret, kept here only as its SHA-256, and every poll, watch and
-- cancel must present it. A completed login's answer can be fetched once
-- more (replayed_at) shortly after, for a device whose first answer was lost.
ALTER TABLE login_order
    ADD COLUMN secret_hash bytea,
    ADD COLUMN replayed_at timestamptz;

---- create above / drop below ----

ALTER TABLE login_order
    DROP COLUMN replayed_at,
    DROP COLUMN secret_hash;
