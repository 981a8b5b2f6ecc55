-- A snoozed conversation comes back at snoozed_until (NULL with status 'snoozed': when the
-- customer writes). The engine's scheduler looks for the due ones by this index.
ALTER TABLE conversations ADD COLUMN snoozed_until INTEGER;
CREATE INDEX conversations_snoozed ON conversations(snoozed_until) WHERE status = 'snoozed';

-- Who has which conversation open, per console, with a heartbeat: a row older than a few
-- seconds is a console that went away. What the others see as "maria is viewing".
CREATE TABLE presence (
    console         TEXT    PRIMARY KEY,
    agent           TEXT    NOT NULL,
    conversation_id INTEGER,
    typing          INTEGER NOT NULL DEFAULT 0,
    seen_at         INTEGER NOT NULL
);
CREATE INDEX presence_by_conversation ON presence(conversation_id, seen_at);

-- Private notes (kind 'note'), newest by time: what a console asks every few seconds for
-- the notes that mention its agent.
CREATE INDEX messages_notes ON messages(created_at) WHERE kind = 'note';
