-- The first schema: the whole data model of DESIGN.md section 4.
-- Times are UTC milliseconds. External ids are TEXT (Viber tokens exceed 2^53).

CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY,
    display_name TEXT    NOT NULL,
    phone        TEXT,
    locale       TEXT,
    time_zone    TEXT,
    attributes   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
    stage        TEXT    NOT NULL DEFAULT 'new',
    owner        TEXT,
    source       TEXT,
    created_at   INTEGER NOT NULL
);

CREATE TABLE identities (
    id          INTEGER PRIMARY KEY,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    channel     TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    username    TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (channel, external_id)
);
CREATE INDEX identities_by_contact ON identities(contact_id);

CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY,
    channel          TEXT    NOT NULL,
    external_chat_id TEXT    NOT NULL,
    contact_id       INTEGER REFERENCES contacts(id),
    is_group         INTEGER NOT NULL DEFAULT 0,
    title            TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'pending', 'snoozed', 'resolved')),
    assignee         TEXT,
    last_message_at  INTEGER NOT NULL DEFAULT 0,
    last_inbound_at  INTEGER,
    last_outbound_at INTEGER,
    last_preview     TEXT    NOT NULL DEFAULT '',
    unread           INTEGER NOT NULL DEFAULT 0,
    unanswered       INTEGER NOT NULL DEFAULT 0 CHECK (unanswered IN (0, 1)),
    created_at       INTEGER NOT NULL,
    UNIQUE (channel, external_chat_id)
);
-- The list order (unanswered first, then most recent) is a keyset walk of this index.
CREATE INDEX conversations_by_attention ON conversations(unanswered DESC, last_message_at DESC, id DESC);
CREATE INDEX conversations_by_contact ON conversations(contact_id);

CREATE TABLE messages (
    id                   INTEGER PRIMARY KEY,
    conversation_id      INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    direction            TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    kind                 TEXT    NOT NULL DEFAULT 'text',
    body                 TEXT    NOT NULL,
    media                TEXT,
    sent_at              INTEGER NOT NULL,
    status               TEXT    NOT NULL
                         CHECK (status IN ('received', 'queued', 'sending', 'sent', 'delivered', 'read', 'failed')),
    error                TEXT,
    author               TEXT,
    sender_external_id   TEXT,
    sender_name          TEXT,
    external_id          TEXT,
    reply_to_external_id TEXT,
    edited_at            INTEGER,
    campaign_id          INTEGER REFERENCES campaigns(id),
    created_at           INTEGER NOT NULL,
    UNIQUE (conversation_id, external_id)
);
-- A conversation's history is a keyset walk of (sent_at, id).
CREATE INDEX messages_by_conversation ON messages(conversation_id, sent_at, id);

CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
END;

CREATE TABLE message_events (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    status     TEXT,
    detail     TEXT,
    at         INTEGER NOT NULL
);
CREATE INDEX message_events_by_message ON message_events(message_id, at);

-- Append-only: current consent is the latest event; nothing is updated in place.
CREATE TABLE consent_events (
    id          INTEGER PRIMARY KEY,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    channel     TEXT    NOT NULL,
    purpose     TEXT    NOT NULL CHECK (purpose IN ('marketing', 'service')),
    action      TEXT    NOT NULL CHECK (action IN ('opt_in', 'opt_out')),
    source      TEXT    NOT NULL,
    evidence    TEXT,
    recorded_by TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX consent_events_by_contact ON consent_events(contact_id, channel, purpose, at);
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;

CREATE TABLE tags (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE contact_tags (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (contact_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX contact_tags_by_tag ON contact_tags(tag_id, contact_id);

CREATE TABLE segments (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    filter     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE campaigns (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    segment_id   INTEGER REFERENCES segments(id),
    filter       TEXT    NOT NULL,
    template     TEXT    NOT NULL,
    variants     TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(variants)),
    state        TEXT    NOT NULL DEFAULT 'draft'
                 CHECK (state IN ('draft', 'running', 'paused', 'cancelled', 'done')),
    pause_reason TEXT,
    created_at   INTEGER NOT NULL,
    launched_at  INTEGER,
    finished_at  INTEGER
);

-- One row per campaign and contact, so a resumed campaign never sends twice.
CREATE TABLE campaign_recipients (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    channel     TEXT    NOT NULL,
    variant     TEXT,
    state       TEXT    NOT NULL,
    reason      TEXT,
    message_id  INTEGER REFERENCES messages(id),
    UNIQUE (campaign_id, contact_id)
);

-- What the sender still has to do. A row leaves the outbox when its message is sent or
-- has failed for good.
CREATE TABLE outbox (
    message_id      INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    channel         TEXT    NOT NULL,
    chat_id         TEXT    NOT NULL,
    priority        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox(channel, priority DESC, next_attempt_at);

-- Per-channel cursors (the Telegram update offset), written in the same transaction as
-- the messages they cover.
CREATE TABLE sync_state (
    channel TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (channel, key)
) WITHOUT ROWID;
