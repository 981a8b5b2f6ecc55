-- What the Telegram adapter learned to keep: formatting, buttons under our messages,
-- and whether the customer blocked us.

ALTER TABLE messages ADD COLUMN entities TEXT CHECK (entities IS NULL OR json_valid(entities));
ALTER TABLE messages ADD COLUMN buttons TEXT CHECK (buttons IS NULL OR json_valid(buttons));
ALTER TABLE conversations ADD COLUMN blocked_at INTEGER;
