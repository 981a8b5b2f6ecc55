//! Satisfaction surveys in the store: the resolved conversations automation has not
//! looked at yet, the survey queued (once per conversation, with its buttons), the
//! presses on it recorded as a score (the latest press counts), and the customer's next
//! words as the comment.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};
use crate::model::{ChannelKind, ContactId, ConversationId, MessageId, Millis, Outgoing};

/// A conversation resolved since automation last looked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub conversation: ConversationId,
    pub contact: Option<ContactId>,
    pub channel: ChannelKind,
    pub is_group: bool,
    pub resolved_at: Millis,
    pub blocked: bool,
    pub last_inbound_at: Option<Millis>,
    /// Who resolved it, as far as the store knows: the assignee, else the last person
    /// who wrote in it.
    pub agent: Option<String>,
    /// When this contact was last asked, in any conversation.
    pub contact_last_asked: Option<Millis>,
}

/// A score as the contact card shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    pub asked_at: Millis,
    pub score: Option<i64>,
    pub comment: Option<String>,
    pub agent: Option<String>,
}

const RESOLVED: (&str, &str) = ("automation", "csat_resolved_after");
const PRESSES: (&str, &str) = ("automation", "csat_press_after");

impl Store {
    /// Conversations resolved after the cursor (the first time: none before now), oldest
    /// first; the cursor moves past them.
    pub fn csat_resolved(&mut self, now: Millis) -> Result<Vec<Resolved>> {
        let after = self.numeric_cursor(RESOLVED, &format!("SELECT {now}"))?;
        let human = super::agents::human_author("o.author");
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT c.id, c.contact_id, c.channel, c.is_group, c.resolved_at, c.blocked_at IS NOT NULL, \
               c.last_inbound_at, \
               coalesce(c.assignee, (SELECT o.author FROM messages o WHERE o.conversation_id = c.id \
                 AND o.direction = 'out' AND o.kind <> 'note' AND {human} ORDER BY o.sent_at DESC LIMIT 1)), \
               (SELECT max(s.asked_at) FROM csat s WHERE s.contact_id = c.contact_id) \
             FROM conversations c WHERE c.status = 'resolved' AND c.resolved_at > ?1 ORDER BY c.resolved_at LIMIT 200",
        ))?;
        let rows: Vec<Resolved> = stmt
            .query_map([after], |r| {
                Ok(Resolved {
                    conversation: r.get(0)?,
                    contact: r.get(1)?,
                    channel: super::text_enum(r, 2)?,
                    is_group: r.get(3)?,
                    resolved_at: r.get(4)?,
                    blocked: r.get(5)?,
                    last_inbound_at: r.get(6)?,
                    agent: r.get(7)?,
                    contact_last_asked: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        if let Some(last) = rows.last() {
            super::set_sync_value(&self.conn, RESOLVED.0, RESOLVED.1, &last.resolved_at.to_string())?;
        }
        Ok(rows)
    }

    /// Queues the survey as the bot, once per conversation: false when it was asked
    /// before. `skipped` logs a survey not sent, with the reason.
    pub fn csat_ask(
        &mut self,
        r: &Resolved,
        survey: std::result::Result<&Outgoing, &str>,
        now: Millis,
    ) -> Result<bool> {
        let tx = self.write()?;
        let detail = match survey {
            Ok(_) => "asked",
            Err(why) => why,
        };
        if !super::automation::log_fire(&tx, "csat", r.conversation, "", now, detail)? {
            return Ok(false);
        }
        let Ok(out) = survey else {
            tx.commit()?;
            return Ok(false);
        };
        let message =
            super::outbox::enqueue_in(&tx, r.conversation, out, super::BOT, super::PRIORITY_REPLY, now, None)?;
        tx.execute(
            "INSERT INTO csat(conversation_id, contact_id, agent, message_id, asked_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![r.conversation, r.contact, r.agent, message, now],
        )?;
        // The survey is ours, not an answer: the conversation stays resolved.
        tx.execute("UPDATE conversations SET status = 'resolved', unanswered = 0 WHERE id = ?1", [r.conversation])?;
        tx.commit()?;
        Ok(true)
    }

    /// Presses on survey buttons (`csat:N`) since the cursor, recorded as scores (the
    /// latest press on a survey counts). A press that reopened the conversation (a
    /// WhatsApp press is a message) puts it back as resolved. How many were recorded.
    pub fn csat_presses(&mut self) -> Result<usize> {
        let after = self.numeric_cursor(PRESSES, "SELECT coalesce(max(id), 0) FROM message_events")?;
        let presses: Vec<(i64, MessageId, String, Millis)> = self
            .conn
            .prepare_cached(
                "SELECT id, message_id, detail, at FROM message_events \
                 WHERE id > ?1 AND kind = 'click' AND detail LIKE 'csat:%' ORDER BY id LIMIT 500",
            )?
            .query_map([after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let tx = self.write()?;
        let mut recorded = 0;
        for (_, message, data, at) in &presses {
            let Some(score) =
                data.strip_prefix("csat:").and_then(|n| n.parse::<i64>().ok()).filter(|n| (1..=5).contains(n))
            else {
                continue;
            };
            let conversation: Option<ConversationId> = tx
                .query_row("SELECT conversation_id FROM csat WHERE message_id = ?1", [message], |r| r.get(0))
                .optional()?;
            let Some(conversation) = conversation else { continue };
            tx.execute(
                "UPDATE csat SET score = ?2, answered_at = ?3 WHERE message_id = ?1",
                params![message, score, at],
            )?;
            tx.execute(
                "UPDATE conversations SET status = 'resolved', unanswered = 0 \
                 WHERE id = ?1 AND status = 'open' AND coalesce(last_inbound_at, 0) <= ?2",
                params![conversation, at],
            )?;
            recorded += 1;
        }
        if let Some((last, ..)) = presses.last() {
            super::set_sync_value(&tx, PRESSES.0, PRESSES.1, &last.to_string())?;
        }
        tx.commit()?;
        Ok(recorded)
    }

    /// The customer's words after their score, within `window`, as its comment: whether
    /// they were taken as one.
    pub fn csat_comment(
        &mut self,
        conversation: ConversationId,
        text: &str,
        at: Millis,
        window: Millis,
    ) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE csat SET comment = ?2 WHERE id = (SELECT id FROM csat WHERE conversation_id = ?1 \
               AND score IS NOT NULL AND comment IS NULL AND answered_at <= ?3 AND answered_at >= ?3 - ?4 \
               ORDER BY asked_at DESC LIMIT 1)",
            params![conversation, text, at, window],
        )? > 0)
    }

    /// A contact's surveys, newest first.
    pub fn csat_scores(&self, contact: ContactId) -> Result<Vec<Score>> {
        scores(&self.conn, contact)
    }
}

pub(super) fn scores(conn: &rusqlite::Connection, contact: ContactId) -> Result<Vec<Score>> {
    let mut stmt = conn.prepare_cached(
        "SELECT asked_at, score, comment, agent FROM csat WHERE contact_id = ?1 ORDER BY asked_at DESC LIMIT 20",
    )?;
    let rows = stmt.query_map([contact], |r| {
        Ok(Score { asked_at: r.get(0)?, score: r.get(1)?, comment: r.get(2)?, agent: r.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
