//! Campaigns in the store: a launch writes the campaign, one recipient row per member
//! (with the message, or the reason there is none) and the outbox rows in one
//! transaction. The consent re-check, the brake and the finish are decided in
//! `campaign::guard` from the facts read here, and written back through the primitives
//! here.

use rusqlite::{OptionalExtension, Transaction, params};

use super::outbox::{PRIORITY_CAMPAIGN, enqueue_in};
use super::segments::{Condition, Member, members};
use super::{Result, Store, StoreError};
use crate::model::{CampaignId, ChannelKind, ContactId, ConversationId, MessageId, Millis, Outgoing};

/// A campaign's state and counts, for the gauge and `campaign status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CampaignStatus {
    pub id: CampaignId,
    pub name: String,
    pub state: String,
    pub pause_reason: Option<String>,
    pub launched_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    /// Members with a message.
    pub recipients: i64,
    pub excluded: i64,
    /// Held out: reached by nothing, to measure the campaign against.
    pub held: i64,
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    /// Not sent because consent changed after the launch, or the campaign was cancelled.
    pub skipped: i64,
}

impl CampaignStatus {
    /// Messages done with, one way or another.
    pub fn done(&self) -> i64 {
        self.sent + self.failed + self.skipped
    }

    /// Seconds until the rest are sent, at the pace so far (or `limit_rate`, the
    /// platforms' limit, until there is a pace).
    pub fn eta_seconds(&self, now: Millis, limit_rate: f64) -> Option<f64> {
        if self.state != "running" || self.queued == 0 {
            return None;
        }
        let elapsed = (now - self.launched_at?) as f64 / 1000.0;
        let rate = if self.done() >= 10 && elapsed > 1.0 { self.done() as f64 / elapsed } else { limit_rate };
        Some(self.queued as f64 / rate)
    }
}

/// The consent facts behind one campaign message (see `campaign::guard`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientConsent {
    /// `opt_in` or `opt_out`, or None when nothing is on record.
    pub latest_marketing: Option<String>,
    pub blocked: bool,
}

/// What a running campaign's messages became, and its brake (see `campaign::guard`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewFacts {
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    pub opted_out: i64,
    pub brake_share: f64,
    pub brake_min_sent: i64,
}

/// A campaign as a launch writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCampaign<'a> {
    pub name: &'a str,
    /// The saved segment it was launched from, if any.
    pub segment: Option<&'a str>,
    /// The filter's text, as typed.
    pub filter: &'a str,
    /// The first variant's text, and every variant as JSON.
    pub template: &'a str,
    pub variants: String,
    pub brake_share: f64,
    pub brake_min_sent: u32,
    pub reply_window: Millis,
}

/// One member's row in a launch.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecipient {
    pub contact: ContactId,
    pub channel: Option<ChannelKind>,
    pub chat_id: String,
    /// Their conversation on that channel, if they have one yet.
    pub conversation: Option<ConversationId>,
    pub fate: Fate,
}

/// What a launch does for one member.
#[derive(Debug, Clone, PartialEq)]
pub enum Fate {
    /// This variant's message goes to them.
    Send { variant: String, outgoing: Outgoing },
    /// Left out, for the reason with this code.
    Excluded { reason: &'static str, detail: Option<String> },
    /// Would get this variant, and is held out: the group the campaign is measured
    /// against.
    Held { variant: String },
}

impl Store {
    /// Launches in one transaction: the campaign, then `plan` decides over its members
    /// as they are inside that transaction, and every recipient row and outbox row it
    /// returns is written; all or nothing. A campaign name is used once. Returns the new
    /// campaign's id and what `plan` returned beside the rows.
    pub fn launch<P>(
        &mut self,
        new: &NewCampaign<'_>,
        members_of: &Condition,
        frequency_since: Millis,
        now: Millis,
        plan: impl FnOnce(&[Member]) -> (Vec<NewRecipient>, P),
    ) -> Result<(CampaignId, P)> {
        let tx = self.write()?;
        let existing: Option<String> =
            tx.query_row("SELECT state FROM campaigns WHERE name = ?1", [new.name], |r| r.get(0)).optional()?;
        if let Some(state) = existing {
            let name = new.name;
            return Err(StoreError::NotFound(format!(
                "a campaign named `{name}` exists already ({state}); see `campaign status {name}` or pick another name"
            )));
        }
        let segment_id: Option<i64> = match new.segment {
            Some(s) => tx.query_row("SELECT id FROM segments WHERE name = ?1", [s], |r| r.get(0)).optional()?,
            None => None,
        };
        tx.execute(
            "INSERT INTO campaigns(name, segment_id, filter, template, variants, state, created_at, launched_at, \
               brake_share, brake_min_sent, reply_window) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?6, ?7, ?8, ?9)",
            params![
                new.name,
                segment_id,
                new.filter,
                new.template,
                new.variants,
                now,
                new.brake_share,
                new.brake_min_sent,
                new.reply_window
            ],
        )?;
        let id = CampaignId(tx.last_insert_rowid());
        let members = members(&tx, members_of, frequency_since)?;
        let (rows, planned) = plan(&members);
        write_recipients(&tx, id, new.name, &rows, now)?;
        if !rows.iter().any(|r| matches!(r.fate, Fate::Send { .. })) {
            tx.execute("UPDATE campaigns SET state = 'done', finished_at = ?2 WHERE id = ?1", params![id, now])?;
        }
        tx.commit()?;
        Ok((id, planned))
    }

    /// Pauses, resumes or cancels a campaign by name. Cancelling takes the messages not
    /// yet sent out of the outbox; a message already on the wire finishes.
    pub fn set_campaign_state(
        &mut self,
        name: &str,
        to: &str,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<CampaignStatus> {
        let tx = self.write()?;
        let (id, state): (CampaignId, String) = tx
            .query_row("SELECT id, state FROM campaigns WHERE name = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no campaign named `{name}`")))?;
        let allowed = matches!(
            (state.as_str(), to),
            ("running", "paused") | ("paused", "running") | ("running" | "paused", "cancelled")
        );
        if !allowed {
            return Err(StoreError::NotFound(format!("campaign `{name}` is {state}; it cannot become {to}")));
        }
        tx.execute(
            "UPDATE campaigns SET state = ?2, pause_reason = ?3, finished_at = CASE WHEN ?2 = 'cancelled' THEN ?4 END \
             WHERE id = ?1",
            params![id, to, reason, now],
        )?;
        if to == "cancelled" {
            tx.execute(
                "INSERT INTO message_events(message_id, kind, status, detail, at) \
                 SELECT m.id, 'status', 'failed', 'campaign cancelled', ?2 FROM messages m \
                 WHERE m.campaign_id = ?1 AND m.status = 'queued'",
                params![id, now],
            )?;
            tx.execute(
                "UPDATE campaign_recipients SET state = 'skipped', reason = 'cancelled' \
                 WHERE campaign_id = ?1 AND message_id IN (SELECT id FROM messages WHERE campaign_id = ?1 AND status = 'queued')",
                [id],
            )?;
            tx.execute(
                "DELETE FROM outbox WHERE message_id IN (SELECT id FROM messages WHERE campaign_id = ?1 AND status = 'queued')",
                [id],
            )?;
            tx.execute(
                "UPDATE messages SET status = 'failed', error = 'campaign cancelled' WHERE campaign_id = ?1 AND status = 'queued'",
                [id],
            )?;
        }
        tx.commit()?;
        self.campaign_status(name)
    }

    /// What the consent re-check before a campaign message needs: the recipient's
    /// latest marketing consent event on that channel and whether the conversation is
    /// blocked. None when the message is not a campaign's.
    pub fn recipient_consent(&self, message: MessageId) -> Result<Option<RecipientConsent>> {
        // A read, not a write transaction: most messages may go, and the sender already
        // takes the write lock twice per message.
        Ok(self
            .conn
            .prepare_cached(
                "SELECT (SELECT e.action FROM consent_events e WHERE e.contact_id = r.contact_id AND e.channel = r.channel \
                   AND e.purpose = 'marketing' ORDER BY e.at DESC, e.id DESC LIMIT 1), cv.blocked_at IS NOT NULL \
                 FROM campaign_recipients r JOIN messages m ON m.id = r.message_id \
                 JOIN conversations cv ON cv.id = m.conversation_id WHERE r.message_id = ?1",
            )?
            .query_row([message], |r| Ok(RecipientConsent { latest_marketing: r.get(0)?, blocked: r.get(1)? }))
            .optional()?)
    }

    /// A campaign message that will not go: failed with `detail`, out of the outbox, and
    /// its recipient skipped for `reason`.
    pub fn skip_campaign_message(&mut self, message: MessageId, reason: &str, detail: &str, now: Millis) -> Result<()> {
        let tx = self.write()?;
        tx.execute("UPDATE messages SET status = 'failed', error = ?2 WHERE id = ?1", params![message, detail])?;
        tx.execute("DELETE FROM outbox WHERE message_id = ?1", [message])?;
        tx.execute(
            "INSERT INTO message_events(message_id, kind, status, detail, at) VALUES (?1, 'status', 'failed', ?2, ?3)",
            params![message, detail, now],
        )?;
        tx.execute(
            "UPDATE campaign_recipients SET state = 'skipped', reason = ?2 WHERE message_id = ?1",
            params![message, reason],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// What the brake and the finish are decided from: a running campaign's rules and
    /// what its messages became. None when it is not running.
    pub fn review_facts(&self, id: CampaignId) -> Result<Option<ReviewFacts>> {
        let Some((state, launched_at, brake_share, brake_min_sent)): Option<(String, Millis, f64, i64)> = self
            .conn
            .query_row(
                "SELECT state, coalesce(launched_at, 0), brake_share, brake_min_sent FROM campaigns WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?
        else {
            return Ok(None);
        };
        if state != "running" {
            return Ok(None);
        }
        let c = counts(&self.conn, id)?;
        // Opt-outs since the launch, where the message itself did not fail (a block
        // found by a failed send is one bad outcome, not two).
        let opted_out: i64 = self.conn.query_row(
            "SELECT count(DISTINCT e.contact_id) FROM consent_events e \
             JOIN campaign_recipients r ON r.contact_id = e.contact_id AND r.channel = e.channel \
             JOIN messages m ON m.id = r.message_id \
             WHERE r.campaign_id = ?1 AND e.at >= ?2 AND e.action = 'opt_out' AND e.purpose = 'marketing' \
               AND m.status <> 'failed'",
            params![id, launched_at],
            |r| r.get(0),
        )?;
        Ok(Some(ReviewFacts {
            queued: c.queued,
            sent: c.sent,
            failed: c.failed,
            opted_out,
            brake_share,
            brake_min_sent,
        }))
    }

    /// A running campaign with nothing left to send is done.
    pub fn finish_campaign(&mut self, id: CampaignId, now: Millis) -> Result<()> {
        self.conn.execute(
            "UPDATE campaigns SET state = 'done', finished_at = ?2 WHERE id = ?1 AND state = 'running'",
            params![id, now],
        )?;
        Ok(())
    }

    /// Pauses a running campaign, saying why; false when it was not running.
    pub fn pause_campaign(&mut self, id: CampaignId, reason: &str) -> Result<bool> {
        let changed = self.conn.execute(
            "UPDATE campaigns SET state = 'paused', pause_reason = ?2 WHERE id = ?1 AND state = 'running'",
            params![id, reason],
        )?;
        Ok(changed > 0)
    }

    /// Campaigns that still have work: running or paused, newest first.
    pub fn active_campaigns(&self) -> Result<Vec<CampaignStatus>> {
        let names: Vec<String> = self
            .conn
            .prepare_cached("SELECT name FROM campaigns WHERE state IN ('running', 'paused') ORDER BY id DESC")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        names.iter().map(|n| self.campaign_status(n)).collect()
    }

    /// Every campaign, newest first.
    pub fn campaign_names(&self) -> Result<Vec<String>> {
        let names = self
            .conn
            .prepare_cached("SELECT name FROM campaigns ORDER BY id DESC")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(names)
    }

    pub fn campaign_status(&self, name: &str) -> Result<CampaignStatus> {
        let head = self
            .conn
            .query_row(
                "SELECT id, name, state, pause_reason, launched_at, finished_at FROM campaigns WHERE name = ?1",
                [name],
                |r| {
                    Ok(CampaignStatus {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        state: r.get(2)?,
                        pause_reason: r.get(3)?,
                        launched_at: r.get(4)?,
                        finished_at: r.get(5)?,
                        recipients: 0,
                        excluded: 0,
                        held: 0,
                        queued: 0,
                        sent: 0,
                        failed: 0,
                        skipped: 0,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no campaign named `{name}`")))?;
        let c = counts(&self.conn, head.id)?;
        Ok(CampaignStatus {
            recipients: c.recipients,
            excluded: c.excluded,
            held: c.held,
            queued: c.queued,
            sent: c.sent,
            failed: c.failed,
            skipped: c.skipped,
            ..head
        })
    }

    /// The campaign a message belongs to.
    pub fn campaign_of(&self, message: MessageId) -> Result<Option<CampaignId>> {
        Ok(self
            .conn
            .prepare_cached("SELECT campaign_id FROM messages WHERE id = ?1")?
            .query_row([message], |r| r.get(0))
            .optional()?
            .flatten())
    }
}

struct Counts {
    recipients: i64,
    excluded: i64,
    held: i64,
    queued: i64,
    sent: i64,
    failed: i64,
    skipped: i64,
}

fn counts(conn: &rusqlite::Connection, id: CampaignId) -> Result<Counts> {
    let (recipients, excluded, held, skipped): (i64, i64, i64, i64) = conn
        .prepare_cached(
            "SELECT count(message_id), coalesce(sum(message_id IS NULL AND state <> 'holdout'), 0), \
               coalesce(sum(state = 'holdout'), 0), coalesce(sum(state = 'skipped'), 0) \
             FROM campaign_recipients WHERE campaign_id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    let mut c = Counts { recipients, excluded, held, queued: 0, sent: 0, failed: 0, skipped };
    let mut stmt =
        conn.prepare_cached("SELECT status, count(*) FROM messages WHERE campaign_id = ?1 GROUP BY status")?;
    let mut rows = stmt.query([id])?;
    while let Some(r) = rows.next()? {
        let (status, n): (String, i64) = (r.get(0)?, r.get(1)?);
        match status.as_str() {
            "queued" | "sending" => c.queued += n,
            "failed" => c.failed += n,
            _ => c.sent += n,
        }
    }
    // Skipped messages are failed messages that never went: count them once.
    c.failed -= c.skipped;
    Ok(c)
}

/// The recipient rows and, for those who get a message, their conversation and queued
/// message.
fn write_recipients(
    tx: &Transaction<'_>,
    id: CampaignId,
    name: &str,
    rows: &[NewRecipient],
    now: Millis,
) -> Result<()> {
    let author = format!("campaign:{name}");
    for r in rows {
        match &r.fate {
            Fate::Send { variant, outgoing } => {
                let channel = r.channel.map(ChannelKind::as_str).unwrap_or("");
                let conversation = match r.conversation {
                    Some(c) => c,
                    // A contact who never wrote (an import): their first conversation starts here.
                    None => tx
                        .prepare_cached(
                            "INSERT INTO conversations(channel, external_chat_id, contact_id, title, created_at) \
                             SELECT ?1, ?2, id, display_name, ?4 FROM contacts WHERE id = ?3 \
                             ON CONFLICT(channel, external_chat_id) DO UPDATE SET contact_id = coalesce(contact_id, excluded.contact_id) \
                             RETURNING id",
                        )?
                        .query_row(params![channel, r.chat_id, r.contact, now], |row| row.get(0))?,
                };
                let message = enqueue_in(tx, conversation, outgoing, &author, PRIORITY_CAMPAIGN, now, Some(id))?;
                tx.prepare_cached(
                    "INSERT INTO campaign_recipients(campaign_id, contact_id, channel, variant, state, message_id) \
                     VALUES (?1, ?2, ?3, ?4, 'queued', ?5)",
                )?
                .execute(params![id, r.contact, channel, variant, message])?;
            }
            Fate::Held { variant } => {
                tx.prepare_cached(
                    "INSERT INTO campaign_recipients(campaign_id, contact_id, channel, variant, state) \
                     VALUES (?1, ?2, ?3, ?4, 'holdout')",
                )?
                .execute(params![
                    id,
                    r.contact,
                    r.channel.map(ChannelKind::as_str).unwrap_or(""),
                    variant
                ])?;
            }
            Fate::Excluded { reason, detail } => {
                tx.prepare_cached(
                    "INSERT INTO campaign_recipients(campaign_id, contact_id, channel, state, reason, detail) \
                     VALUES (?1, ?2, ?3, 'excluded', ?4, ?5)",
                )?
                .execute(params![
                    id,
                    r.contact,
                    r.channel.map(ChannelKind::as_str).unwrap_or(""),
                    reason,
                    detail
                ])?;
            }
        }
    }
    Ok(())
}
