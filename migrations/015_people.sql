-- One customer across channels (the phone number as identity).

-- A contact's phone numbers in E.164. `verified_by` names the platform that vouched the
-- number is this person's (WhatsApp's wa_id, a Telegram contact shared by its owner);
-- NULL means claimed (an import, an agent). Only verified numbers link automatically.
CREATE TABLE contact_phones (
    contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    phone       TEXT    NOT NULL,
    verified_by TEXT,
    source      TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (contact_id, phone)
) WITHOUT ROWID;
CREATE INDEX contact_phones_by_phone ON contact_phones(phone, contact_id);

-- What joined contacts or parted them, and why: a link at ingest, a merge, a split, a
-- pair an agent said are two people. `contact_id` is the contact that stays; `other_id`
-- the one merged into it or split from it. No foreign keys: the history outlives them.
-- `detail` (JSON) holds what moved and the merged contact as it was, so a split can
-- give it back.
CREATE TABLE contact_links (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('link', 'merge', 'split', 'distinct')),
    contact_id  INTEGER NOT NULL,
    other_id    INTEGER,
    identity    TEXT,
    reason      TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
    recorded_by TEXT    NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX contact_links_by_contact ON contact_links(contact_id, at);
CREATE INDEX contact_links_by_other ON contact_links(other_id) WHERE other_id IS NOT NULL;

-- The consent ledger stays append-only: what an event says never changes. A merge or a
-- split changes only which contact it belongs to (and is recorded in contact_links).
DROP TRIGGER consent_events_no_update;
CREATE TRIGGER consent_events_no_update
BEFORE UPDATE OF id, channel, purpose, action, source, evidence, recorded_by, at ON consent_events BEGIN
    SELECT RAISE(ABORT, 'consent_events is append-only');
END;

