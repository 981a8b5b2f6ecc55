-- A snoozed conversation comes back at snoozed_until (NULL with status 'snoozed': when the
-- customer writes). The engine's scheduler looks for the due ones by this index.
ALTER TABLE conversations ADD COLUMN snoozed_until INTEGER;
CREATE INDEX conversations_snoozed ON conversations(snoozed_until) WHERE status = 'snoozed';
