-- Polls: a question with 2-10 options, sent as buttons (`poll:<id>:<n>`) to a
-- conversation or, as a campaign, to a segment; the presses are the answers.
CREATE TABLE polls (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    question TEXT NOT NULL,
    options TEXT NOT NULL CHECK (json_valid(options)),
    created_at INTEGER NOT NULL
);
