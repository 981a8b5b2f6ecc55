-- Macros: a canned reply with actions to run after it (one per line: `resolve`,
-- `tag shipped`…), and the key that runs it in the console.
ALTER TABLE canned ADD COLUMN actions TEXT NOT NULL DEFAULT '';
ALTER TABLE canned ADD COLUMN key TEXT;
CREATE UNIQUE INDEX canned_key ON canned(key) WHERE key IS NOT NULL;
