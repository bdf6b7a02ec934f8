-- A device registration belongs to the person who made it. The installation
-- id is the app's own, chosen by the client, so it names a device only within
-- one person's registrations: another person naming the same id gets a
-- registration of their own and takes nothing away. The token is FCM's and
-- stays globally unique; it moves to another person only with proof that they
-- hold the device (see PushDeviceRegister), and session_id is the login the
-- registration was made under, so that a token whose owner has signed out of
-- that session is free again.
ALTER TABLE push_device
    ADD COLUMN session_id uuid REFERENCES session (id) ON DELETE SET NULL;
ALTER TABLE push_device DROP CONSTRAINT push_device_installation_id_key;
ALTER TABLE push_device
    ADD CONSTRAINT push_device_person_installation_key UNIQUE (person_id, installation_id);

---- create above / drop below ----

ALTER TABLE push_device DROP CONSTRAINT push_device_person_installation_key;
ALTER TABLE push_device ADD CONSTRAINT push_device_installation_id_key UNIQUE (installation_id);
ALTER TABLE push_device DROP COLUMN session_id;
