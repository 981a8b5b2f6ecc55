-- Imports match contacts by phone, then by name among those without one: without these
-- indexes each row scanned the table, and importing 100,000 contacts grew quadratically.
CREATE INDEX contacts_by_phone ON contacts(phone) WHERE phone IS NOT NULL;
CREATE INDEX contacts_by_name_without_phone ON contacts(display_name) WHERE phone IS NULL;

-- A receipt for one of our messages can arrive before the send's own answer has given
-- the message its platform id (Meta is fast). It waits here, and is applied when the id
-- is recorded; receipts nobody claims are dropped after a day.
CREATE TABLE held_receipts (
    id          INTEGER PRIMARY KEY,
    channel     TEXT    NOT NULL,
    chat_id     TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    error_code  INTEGER,
    error       TEXT,
    at          INTEGER NOT NULL,
    held_at     INTEGER NOT NULL,
    UNIQUE (channel, external_id, status)
);
CREATE INDEX held_receipts_by_time ON held_receipts(held_at);

-- Drafts live in the store, per conversation and agent, so they survive quitting, a
-- crash, and moving to another terminal.
CREATE TABLE drafts (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    agent           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, agent)
) WITHOUT ROWID;
