-- The words each agent added to their own dictionary in the composer's spell-check.
CREATE TABLE spell_words (
    agent TEXT NOT NULL,
    word TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (agent, word)
) WITHOUT ROWID;
