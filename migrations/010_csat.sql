-- Satisfaction surveys: one per resolved conversation at most, with the score the
-- customer pressed (1-5) and the comment they wrote after it, against the agent who
-- resolved it.
CREATE TABLE csat (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    agent TEXT,
    message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    asked_at INTEGER NOT NULL,
    score INTEGER CHECK (score BETWEEN 1 AND 5),
    answered_at INTEGER,
    comment TEXT
);
CREATE INDEX csat_by_contact ON csat(contact_id, asked_at);
CREATE INDEX csat_by_conversation ON csat(conversation_id, asked_at);
