-- An idempotency key is its caller's own. Until now a key was unique per
-- patient, so anyone who could book for the patient and reused a key — a
-- clinician at another unit, the other guardian — was answered with the
-- appointment someone else had made with it. Now a key is unique within its
-- scope: "person:<id>" of the citizen who booked (a guardian booking for a
-- child is not the child, nor the other guardian), "staff:<hsa-id>@<unit>"
-- of the clinician and the unit they acted for. The same key in another
-- scope makes a new appointment.
--
-- idempotency_request is a hash of what was asked (the patient, the slot or
-- the time and the invitation's text), so that a key reused for another
-- request is refused instead of answered with the first one. Appointments
-- made before this migration have none; a replay of one is matched by its
-- patient, as before.
ALTER TABLE appointment
    ADD COLUMN idempotency_scope text,
    ADD COLUMN idempotency_request bytea;

UPDATE appointment a
   SET idempotency_scope = CASE WHEN a.created_by LIKE 'staff:%' THEN a.created_by || '@' || s.care_unit_hsa_id
                                ELSE a.created_by END
  FROM slot s
 WHERE s.id = a.slot_id;

-- Keys that were unique per patient may repeat within a scope (a clinician
-- who invited two patients with one key). The oldest keeps its scope; each
-- later one gets a scope of its own, so every existing row stays valid and
-- only the oldest answers a replay.
UPDATE appointment a
   SET idempotency_scope = a.idempotency_scope || '#' || a.id
  FROM (SELECT id, row_number() OVER (PARTITION BY idempotency_scope, idempotency_key ORDER BY created_at, id) AS n
          FROM appointment) d
 WHERE d.id = a.id AND d.n > 1;

ALTER TABLE appointment
    ALTER COLUMN idempotency_scope SET NOT NULL,
    DROP CONSTRAINT appointment_idempotency_key,
    ADD CONSTRAINT appointment_idempotency_scope_key UNIQUE (idempotency_scope, idempotency_key);

---- create above / drop below ----

ALTER TABLE appointment
    DROP CONSTRAINT appointment_idempotency_scope_key,
    ADD CONSTRAINT appointment_idempotency_key UNIQUE (patient_id, idempotency_key),
    DROP COLUMN idempotency_request,
    DROP COLUMN idempotency_scope;
