-- Imports match contacts by phone, then by name among those without one: without these
-- indexes each row scanned the table, and importing 100,000 contacts grew quadratically.
CREATE INDEX contacts_by_phone ON contacts(phone) WHERE phone IS NOT NULL;
CREATE INDEX contacts_by_name_without_phone ON contacts(display_name) WHERE phone IS NULL;
