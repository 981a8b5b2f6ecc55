-- Automation: each time a rule fires, once per (rule, conversation, period): a welcome
-- once per conversation (period ''), an away reply once per closed period (the time
-- the business next opens). The unique key makes a redelivered message fire nothing.
CREATE TABLE automation_log (
    id INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    period TEXT NOT NULL DEFAULT '',
    fired_at INTEGER NOT NULL,
    -- What it did, or why it could not (`not sent: the customer unsubscribed`).
    detail TEXT NOT NULL DEFAULT '',
    UNIQUE (rule, conversation_id, period)
);
CREATE INDEX automation_log_rule ON automation_log(rule, fired_at);
-- When a conversation was last resolved: keyword replies stop once an agent has
-- answered, until the conversation is resolved again.
ALTER TABLE conversations ADD COLUMN resolved_at INTEGER;
-- The survey on resolve looks for conversations resolved since its cursor.
CREATE INDEX conversations_resolved ON conversations(resolved_at) WHERE resolved_at IS NOT NULL;
