-- What campaigns need to run and report: each campaign keeps the brake and reply window
-- it was launched with, recipients keep why they were left out, and the indexes that
-- status, results, the frequency cap and the brake read by.

ALTER TABLE campaigns ADD COLUMN brake_share REAL NOT NULL DEFAULT 0.05;
ALTER TABLE campaigns ADD COLUMN brake_min_sent INTEGER NOT NULL DEFAULT 20;
ALTER TABLE campaigns ADD COLUMN reply_window INTEGER NOT NULL DEFAULT 172800000;
ALTER TABLE campaign_recipients ADD COLUMN detail TEXT;

CREATE INDEX messages_by_campaign ON messages(campaign_id, status) WHERE campaign_id IS NOT NULL;
CREATE INDEX campaign_recipients_by_contact ON campaign_recipients(contact_id);
CREATE INDEX consent_events_by_time ON consent_events(at);
