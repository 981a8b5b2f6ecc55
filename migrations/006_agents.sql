-- The agents the store has seen: who can be assigned a conversation, and who is on duty
-- for auto-assignment (a console open, or `available` set by hand). A console's
-- heartbeat keeps its agent's row; the first rows come from the replies already sent
-- and the conversations already assigned.
CREATE TABLE agents (
    name      TEXT    PRIMARY KEY,
    seen_at   INTEGER NOT NULL,
    available INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO agents(name, seen_at)
    SELECT author, max(created_at) FROM messages
    WHERE direction = 'out' AND author IS NOT NULL AND author <> '' AND author <> 'welcome'
      AND author NOT LIKE 'campaign:%' AND author NOT LIKE 'bot%'
    GROUP BY author;
INSERT OR IGNORE INTO agents(name, seen_at)
    SELECT assignee, 0 FROM conversations WHERE assignee IS NOT NULL AND assignee <> '' GROUP BY assignee;

-- Conversations an agent muted: no bell and no desktop notification for them.
CREATE TABLE mutes (
    agent           TEXT    NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    PRIMARY KEY (agent, conversation_id)
) WITHOUT ROWID;

-- Search indexes the text without its escape sequences: "ERROR 502" is found in
-- "\x1b[31mERROR 502\x1b[0m", whose first word the tokenizer would otherwise read as
-- "31mERROR". `searchable` is a function every connection of the store registers; the
-- rows already indexed with escapes in them are indexed again.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, searchable(new.body));
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, searchable(old.body));
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, searchable(old.body));
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, searchable(new.body));
END;
INSERT INTO messages_fts(messages_fts, rowid, body)
    SELECT 'delete', id, body FROM messages WHERE instr(body, char(27)) > 0 OR instr(body, char(155)) > 0;
INSERT INTO messages_fts(rowid, body)
    SELECT id, searchable(body) FROM messages WHERE instr(body, char(27)) > 0 OR instr(body, char(155)) > 0;

-- Auto-assignment's queue (unassigned and waiting, longest-waiting first) and each
-- agent's load (their open conversations); the Mine view reads the second too.
CREATE INDEX conversations_queue ON conversations(last_inbound_at)
    WHERE assignee IS NULL AND status = 'open' AND unanswered = 1;
CREATE INDEX conversations_by_assignee ON conversations(assignee, status);

-- Our own sent message can be edited or deleted (Telegram): the change goes through
-- the outbox like a send, as an `edit` (with its new text) or a `delete`; a deleted
-- message stays in the store, marked.
ALTER TABLE outbox ADD COLUMN action TEXT NOT NULL DEFAULT 'send' CHECK (action IN ('send', 'edit', 'delete'));
ALTER TABLE outbox ADD COLUMN new_body TEXT;
ALTER TABLE messages ADD COLUMN deleted_at INTEGER;

-- Unread per agent: each agent's mark says how many of the conversation's inbound
-- messages they had when they last read it. A conversation an agent never opened shows
-- the team's count (`unread`, cleared by anyone's read).
ALTER TABLE conversations ADD COLUMN inbound_count INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET inbound_count =
    (SELECT count(*) FROM messages m WHERE m.conversation_id = conversations.id AND m.direction = 'in');
CREATE TABLE reads (
    agent           TEXT    NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seen            INTEGER NOT NULL,
    PRIMARY KEY (agent, conversation_id)
) WITHOUT ROWID;

-- Canned replies: the team's library, a name, an optional /shortcut, a body with the
-- campaign templates' variables (and {{agent}}), an optional language.
CREATE TABLE canned (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    shortcut   TEXT    UNIQUE,
    body       TEXT    NOT NULL,
    language   TEXT,
    updated_at INTEGER NOT NULL
);
