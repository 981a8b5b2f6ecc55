-- Reports read what the store keeps for them as it goes, so a report over a million
-- messages reads thousands of rows, not the messages. Triggers keep these tables, so
-- every path that writes a message, a status or a stage (ingest, the outbox, imports,
-- automation, the generator) keeps them the same way, in the same transaction.
--
-- A customer message is one the customer wrote: inbound, not a button press, a
-- reaction or a platform notice. A person's reply is an outbound message (not a note,
-- not a campaign's) whose author is not one of the engine's (store::is_machine); the
-- engine's (welcome, away and keyword replies, the STOP confirmation) are bot replies.

-- Customer message blocks: from a customer's message that nobody has answered yet to
-- the first reply by a person. A bot's reply does not end a block (it stops no human
-- clock); the first one is kept apart as `bot_at`. `first` marks the first block of a
-- session: the conversation's start, or its reopening by the customer after a resolve.
-- `inbound` and `outbound` count the block's customer messages and the replies (a
-- person's or a bot's) that follow it, up to the next block: engagement.
CREATE TABLE reply_blocks (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    channel         TEXT    NOT NULL,
    first           INTEGER NOT NULL CHECK (first IN (0, 1)),
    started_at      INTEGER NOT NULL,
    inbound         INTEGER NOT NULL DEFAULT 1,
    outbound        INTEGER NOT NULL DEFAULT 0,
    bot_at          INTEGER,
    replied_at      INTEGER,
    agent           TEXT,
    open            INTEGER NOT NULL DEFAULT 1 CHECK (open IN (0, 1))
);
-- At most one open block per conversation.
CREATE UNIQUE INDEX reply_blocks_open ON reply_blocks(conversation_id) WHERE open = 1;
CREATE INDEX reply_blocks_latest ON reply_blocks(conversation_id, id);
CREATE INDEX reply_blocks_by_start ON reply_blocks(started_at);
CREATE INDEX reply_blocks_by_reply ON reply_blocks(replied_at) WHERE replied_at IS NOT NULL;
CREATE INDEX reply_blocks_by_bot ON reply_blocks(bot_at) WHERE bot_at IS NOT NULL;

-- Where the current session began (its first customer message); NULL once resolved.
ALTER TABLE conversations ADD COLUMN session_started_at INTEGER;

-- Each resolve of a session: from its first customer message to the resolve, against
-- the agent the conversation was assigned to.
CREATE TABLE resolutions (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    channel         TEXT    NOT NULL,
    agent           TEXT,
    opened_at       INTEGER NOT NULL,
    resolved_at     INTEGER NOT NULL
);
CREATE INDEX resolutions_by_time ON resolutions(resolved_at);

-- Funnel: every stage a contact entered, in order. Append-only like the consent ledger.
CREATE TABLE stage_events (
    id         INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    from_stage TEXT,
    to_stage   TEXT    NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX stage_events_by_contact ON stage_events(contact_id, at);
CREATE INDEX stage_events_by_stage ON stage_events(to_stage, at);

-- New clients: when and where a contact first wrote.
ALTER TABLE contacts ADD COLUMN first_inbound_at INTEGER;
ALTER TABLE contacts ADD COLUMN first_channel TEXT;
CREATE INDEX contacts_by_first_inbound ON contacts(first_inbound_at) WHERE first_inbound_at IS NOT NULL;

-- Message volume per hour (UTC), channel and sender: whole hours group into local days
-- in any zone whose offset is whole hours.
CREATE TABLE volume (
    hour     INTEGER NOT NULL,
    channel  TEXT    NOT NULL,
    who      TEXT    NOT NULL CHECK (who IN ('customer', 'agent', 'bot', 'campaign')),
    messages INTEGER NOT NULL,
    PRIMARY KEY (hour, channel, who)
) WITHOUT ROWID;

CREATE INDEX csat_by_asked ON csat(asked_at);

CREATE TRIGGER report_customer_message AFTER INSERT ON messages
WHEN new.direction = 'in' AND new.kind NOT IN ('click', 'system', 'reaction')
BEGIN
    -- Two statements: setting started_at (indexed) on every message would rewrite its
    -- index entry each time; a message dated before its block's start is rare.
    UPDATE reply_blocks SET inbound = inbound + 1 WHERE conversation_id = new.conversation_id AND open = 1;
    UPDATE reply_blocks SET started_at = new.sent_at
        WHERE conversation_id = new.conversation_id AND open = 1 AND started_at > new.sent_at;
    INSERT INTO reply_blocks(conversation_id, channel, first, started_at)
        SELECT c.id, c.channel, c.session_started_at IS NULL, new.sent_at FROM conversations c
        WHERE c.id = new.conversation_id
          AND NOT EXISTS (SELECT 1 FROM reply_blocks b WHERE b.conversation_id = c.id AND b.open = 1);
    UPDATE conversations SET session_started_at = new.sent_at
        WHERE id = new.conversation_id AND session_started_at IS NULL;
    UPDATE contacts SET first_inbound_at = new.sent_at,
            first_channel = (SELECT channel FROM conversations WHERE id = new.conversation_id)
        WHERE id = (SELECT contact_id FROM conversations WHERE id = new.conversation_id)
          AND (first_inbound_at IS NULL OR first_inbound_at > new.sent_at);
    INSERT INTO volume(hour, channel, who, messages)
        SELECT new.sent_at / 3600000, channel, 'customer', 1 FROM conversations WHERE id = new.conversation_id
        ON CONFLICT(hour, channel, who) DO UPDATE SET messages = messages + 1;
END;

CREATE TRIGGER report_reply AFTER INSERT ON messages
WHEN new.direction = 'out' AND new.kind NOT IN ('note', 'system') AND new.campaign_id IS NULL
  AND coalesce(new.author, '') NOT LIKE 'campaign:%'
BEGIN
    UPDATE reply_blocks SET outbound = outbound + 1
        WHERE id = (SELECT max(id) FROM reply_blocks WHERE conversation_id = new.conversation_id);
    -- A person's reply ends the block.
    UPDATE reply_blocks SET replied_at = new.sent_at, agent = new.author, open = 0
        WHERE conversation_id = new.conversation_id AND open = 1
          AND coalesce(new.author, '') NOT IN ('welcome', 'switchboard', 'bot', 'trainer', '')
          AND new.author NOT LIKE 'bot%';
    -- A bot's first reply is kept; the block waits on for a person.
    UPDATE reply_blocks SET bot_at = new.sent_at
        WHERE conversation_id = new.conversation_id AND open = 1 AND bot_at IS NULL;
    INSERT INTO volume(hour, channel, who, messages)
        SELECT new.sent_at / 3600000, channel,
               CASE WHEN coalesce(new.author, '') IN ('welcome', 'switchboard', 'bot', 'trainer', '')
                      OR new.author LIKE 'bot%' THEN 'bot' ELSE 'agent' END, 1
        FROM conversations WHERE id = new.conversation_id
        ON CONFLICT(hour, channel, who) DO UPDATE SET messages = messages + 1;
END;

CREATE TRIGGER report_campaign_message AFTER INSERT ON messages
WHEN new.direction = 'out' AND new.kind NOT IN ('note', 'system')
  AND (new.campaign_id IS NOT NULL OR coalesce(new.author, '') LIKE 'campaign:%')
BEGIN
    INSERT INTO volume(hour, channel, who, messages)
        SELECT new.sent_at / 3600000, channel, 'campaign', 1 FROM conversations WHERE id = new.conversation_id
        ON CONFLICT(hour, channel, who) DO UPDATE SET messages = messages + 1;
END;

-- A resolve ends the session: its resolution is recorded, an unanswered block closes
-- (the conversation no longer waits), and the customer's next message starts anew.
CREATE TRIGGER report_resolved AFTER UPDATE OF status ON conversations
WHEN new.status = 'resolved' AND old.status <> 'resolved'
BEGIN
    INSERT INTO resolutions(conversation_id, channel, agent, opened_at, resolved_at)
        SELECT new.id, new.channel, new.assignee, new.session_started_at,
               coalesce(new.resolved_at, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        WHERE new.session_started_at IS NOT NULL;
    UPDATE reply_blocks SET open = 0 WHERE conversation_id = new.id AND open = 1;
    UPDATE conversations SET session_started_at = NULL WHERE id = new.id;
END;

CREATE TRIGGER report_stage_entered AFTER INSERT ON contacts
BEGIN
    INSERT INTO stage_events(contact_id, from_stage, to_stage, at) VALUES (new.id, NULL, new.stage, new.created_at);
END;

CREATE TRIGGER report_stage_changed AFTER UPDATE OF stage ON contacts
WHEN new.stage IS NOT old.stage
BEGIN
    INSERT INTO stage_events(contact_id, from_stage, to_stage, at)
        VALUES (new.id, old.stage, new.stage, CAST(unixepoch('subsec') * 1000 AS INTEGER));
END;

-- What was there before: each contact entered its current stage when it was created
-- (no earlier history was kept); volume and first messages from the messages. The
-- blocks, sessions and resolutions are rebuilt from the messages by the migration's
-- own code (store::report_backfill), which walks each conversation in time order.
INSERT INTO stage_events(contact_id, from_stage, to_stage, at) SELECT id, NULL, stage, created_at FROM contacts;

UPDATE contacts SET (first_inbound_at, first_channel) = (
    SELECT m.sent_at, c.channel FROM conversations c JOIN messages m ON m.conversation_id = c.id
    WHERE c.contact_id = contacts.id AND m.direction = 'in' AND m.kind NOT IN ('click', 'system', 'reaction')
    ORDER BY m.sent_at LIMIT 1);

INSERT INTO volume(hour, channel, who, messages)
    SELECT m.sent_at / 3600000, c.channel,
           CASE WHEN m.direction = 'in' THEN 'customer'
                WHEN m.campaign_id IS NOT NULL OR coalesce(m.author, '') LIKE 'campaign:%' THEN 'campaign'
                WHEN coalesce(m.author, '') IN ('welcome', 'switchboard', 'bot', 'trainer', '')
                  OR m.author LIKE 'bot%' THEN 'bot'
                ELSE 'agent' END,
           count(*)
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE (m.direction = 'in' AND m.kind NOT IN ('click', 'system', 'reaction'))
       OR (m.direction = 'out' AND m.kind NOT IN ('note', 'system'))
    GROUP BY 1, 2, 3;
