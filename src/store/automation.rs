//! What automation reads and writes: the customers' messages it has not looked at yet
//! (those after a cursor kept in `sync_state`), and, in one transaction per message,
//! each rule that fires (logged once per rule, conversation and period, so a message
//! seen twice fires nothing twice), the bot's reply queued, the rule's actions, and the
//! cursor moved past the message.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};
use crate::model::{ChannelKind, ContactId, ConversationId, MessageId, Millis, Outgoing};

/// A customer's message, with what the rules ask about its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoMessage {
    pub id: MessageId,
    pub conversation: ConversationId,
    pub channel: ChannelKind,
    pub contact: Option<ContactId>,
    pub is_group: bool,
    pub kind: String,
    pub body: String,
    pub sent_at: Millis,
    /// The customer blocked us, unsubscribed or denied messages: nothing reaches them.
    pub blocked: bool,
    /// Nothing came before it in the conversation.
    pub first: bool,
    /// Someone of the team (not a bot, a welcome or a campaign) has written in the
    /// conversation since it was last resolved.
    pub agent_replied: bool,
    /// When someone of the team last wrote in the conversation.
    pub agent_last: Option<Millis>,
}

/// A rule that fires on a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fire {
    /// `welcome`, `away`, `keyword:<name>`.
    pub rule: String,
    /// Once per (rule, conversation, period).
    pub period: String,
    /// The bot's reply, when it sends one (None: it could not, `detail` says why).
    pub reply: Option<String>,
    pub tag: Option<String>,
    pub stage: Option<String>,
    pub assign: Option<String>,
    pub detail: String,
}

/// When a rule last fired, for whom, and how often in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub rule: String,
    pub at: Millis,
    pub who: String,
    pub detail: String,
    pub times: i64,
}

/// The author of what automation sends.
pub const BOT: &str = "bot";
const CURSOR: (&str, &str) = ("automation", "after");

/// Logs a rule firing; false when it had fired already for this conversation and period.
pub(super) fn log_fire(
    tx: &rusqlite::Transaction<'_>,
    rule: &str,
    conversation: ConversationId,
    period: &str,
    now: Millis,
    detail: &str,
) -> rusqlite::Result<bool> {
    Ok(tx.execute(
        "INSERT OR IGNORE INTO automation_log(rule, conversation_id, period, fired_at, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![rule, conversation, period, now, detail],
    )? > 0)
}

impl Store {
    /// The last message automation has looked at. The first time, the newest message
    /// now: history that was there before automation is never answered.
    pub fn automation_after(&mut self) -> Result<i64> {
        self.numeric_cursor(CURSOR, "SELECT coalesce(max(id), 0) FROM messages")
    }

    /// The customers' messages after `after`, oldest first.
    pub fn automation_batch(&self, after: i64, limit: usize) -> Result<Vec<AutoMessage>> {
        let human = super::agents::human_author("o.author");
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT m.id, m.conversation_id, c.channel, c.contact_id, c.is_group, m.kind, m.body, m.sent_at, \
               c.blocked_at IS NOT NULL, \
               NOT EXISTS (SELECT 1 FROM messages p WHERE p.conversation_id = m.conversation_id AND p.id < m.id), \
               EXISTS (SELECT 1 FROM messages o WHERE o.conversation_id = m.conversation_id AND o.direction = 'out' \
                 AND o.kind <> 'note' AND o.sent_at > coalesce(c.resolved_at, 0) AND {human}), \
               (SELECT max(o.sent_at) FROM messages o WHERE o.conversation_id = m.conversation_id \
                 AND o.direction = 'out' AND o.kind <> 'note' AND {human}) \
             FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.id > ?1 AND m.direction = 'in' ORDER BY m.id LIMIT ?2",
        ))?;
        let rows = stmt.query_map(params![after, limit as i64], |r| {
            Ok(AutoMessage {
                id: r.get(0)?,
                conversation: r.get(1)?,
                channel: super::text_enum(r, 2)?,
                contact: r.get(3)?,
                is_group: r.get(4)?,
                kind: r.get(5)?,
                body: r.get(6)?,
                sent_at: r.get(7)?,
                blocked: r.get(8)?,
                first: r.get(9)?,
                agent_replied: r.get(10)?,
                agent_last: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// What the rules did about `message`, all at once with the cursor past it: the
    /// rules that fired now (not before).
    pub fn automation_commit(&mut self, message: &AutoMessage, fires: &[Fire], now: Millis) -> Result<Vec<String>> {
        let tx = self.write()?;
        let mut fired = Vec::new();
        for fire in fires {
            if !log_fire(&tx, &fire.rule, message.conversation, &fire.period, now, &fire.detail)? {
                continue;
            }
            if let Some(text) = &fire.reply {
                super::outbox::enqueue_in(
                    &tx,
                    message.conversation,
                    &Outgoing::text(text.clone()),
                    BOT,
                    super::PRIORITY_REPLY,
                    now,
                    None,
                )?;
            }
            if let (Some(tag), Some(contact)) = (&fire.tag, message.contact) {
                super::contact_card::insert_tag(&tx, contact, tag)?;
            }
            if let (Some(stage), Some(contact)) = (&fire.stage, message.contact) {
                tx.execute("UPDATE contacts SET stage = ?2 WHERE id = ?1", params![contact, stage])?;
            }
            if let Some(agent) = &fire.assign {
                tx.execute(
                    "UPDATE conversations SET assignee = ?2 WHERE id = ?1",
                    params![message.conversation, agent],
                )?;
            }
            fired.push(fire.rule.clone());
        }
        super::set_sync_value(&tx, CURSOR.0, CURSOR.1, &message.id.0.to_string())?;
        tx.commit()?;
        Ok(fired)
    }

    /// Each rule's last firing (and who it was for), and how often it fired in all.
    pub fn automation_fired(&self) -> Result<Vec<Fired>> {
        let mut stmt = self.conn.prepare(
            "SELECT l.rule, l.fired_at, c.title, l.detail, n.times FROM automation_log l \
             JOIN (SELECT rule, max(id) AS last, count(*) AS times FROM automation_log GROUP BY rule) n ON n.last = l.id \
             JOIN conversations c ON c.id = l.conversation_id ORDER BY l.rule",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Fired { rule: r.get(0)?, at: r.get(1)?, who: r.get(2)?, detail: r.get(3)?, times: r.get(4)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether a rule has fired for a conversation (in any period).
    pub fn automation_fired_for(&self, rule: &str, conversation: ConversationId) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM automation_log WHERE rule = ?1 AND conversation_id = ?2 LIMIT 1",
                params![rule, conversation],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}
