//! Ingest: decoded inbound events land in one transaction together with the channel
//! cursor that covers them, so a crash either keeps both or neither. A message seen twice
//! is stored once (`UNIQUE(conversation_id, external_id)`).

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Result, Store};
use crate::model::{ContactId, ConversationId, InboundEvent, InboundMessage, Millis, now_ms};

/// What one ingest did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestReport {
    pub stored: usize,
    pub duplicates: usize,
    pub unsupported: usize,
}

/// A cursor to advance in the same transaction: (channel, key, value).
pub type Cursor<'a> = (&'a str, &'a str, String);

impl Store {
    /// Stores `events` and advances `cursor` atomically.
    pub fn ingest(&mut self, events: &[InboundEvent], cursor: Option<Cursor<'_>>) -> Result<IngestReport> {
        let tx = self.conn.transaction()?;
        let mut report = IngestReport::default();
        let now = now_ms();
        for event in events {
            match event {
                InboundEvent::Message(m) => {
                    if insert_inbound(&tx, m, now)? {
                        report.stored += 1;
                    } else {
                        report.duplicates += 1;
                    }
                }
                InboundEvent::Unsupported { .. } => report.unsupported += 1,
            }
        }
        if let Some((channel, key, value)) = cursor {
            tx.execute(
                "INSERT INTO sync_state(channel, key, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(channel, key) DO UPDATE SET value = excluded.value",
                params![channel, key, value],
            )?;
        }
        tx.commit()?;
        Ok(report)
    }
}

/// The contact behind a platform identity, created on first sight.
fn upsert_contact(tx: &Transaction<'_>, m: &InboundMessage, now: Millis) -> Result<ContactId> {
    let channel = m.chat.channel.as_str();
    let existing: Option<ContactId> = tx
        .prepare_cached("SELECT contact_id FROM identities WHERE channel = ?1 AND external_id = ?2")?
        .query_row(params![channel, m.from.external_id], |r| r.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    tx.prepare_cached("INSERT INTO contacts(display_name, locale, created_at) VALUES (?1, ?2, ?3)")?
        .execute(params![m.from.display_name, m.from.locale, now])?;
    let contact = ContactId(tx.last_insert_rowid());
    tx.prepare_cached(
        "INSERT INTO identities(contact_id, channel, external_id, username, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![contact, channel, m.from.external_id, m.from.username, now])?;
    Ok(contact)
}

fn upsert_conversation(
    tx: &Transaction<'_>,
    m: &InboundMessage,
    contact: ContactId,
    now: Millis,
) -> Result<ConversationId> {
    // A group belongs to no one contact; its title follows the platform's.
    let owner = (!m.chat.is_group).then_some(contact);
    let id = tx
        .prepare_cached(
            "INSERT INTO conversations(channel, external_chat_id, contact_id, is_group, title, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT(channel, external_chat_id) DO UPDATE SET \
               title = CASE WHEN excluded.is_group THEN excluded.title ELSE title END, \
               contact_id = coalesce(contact_id, excluded.contact_id) \
             RETURNING id",
        )?
        .query_row(
            params![m.chat.channel.as_str(), m.chat.external_chat_id, owner, m.chat.is_group, m.chat.title, now],
            |r| r.get(0),
        )?;
    Ok(id)
}

/// Inserts one inbound message; false when it was already stored.
fn insert_inbound(tx: &Transaction<'_>, m: &InboundMessage, now: Millis) -> Result<bool> {
    let contact = upsert_contact(tx, m, now)?;
    let conversation = upsert_conversation(tx, m, contact, now)?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO messages(conversation_id, direction, kind, body, sent_at, status, \
               sender_external_id, sender_name, external_id, created_at) \
             VALUES (?1, 'in', ?2, ?3, ?4, 'received', ?5, ?6, ?7, ?8) \
             ON CONFLICT(conversation_id, external_id) DO NOTHING",
        )?
        .execute(params![
            conversation,
            m.kind,
            m.text,
            m.sent_at,
            m.from.external_id,
            m.from.display_name,
            m.external_id,
            now
        ])?;
    if inserted == 0 {
        return Ok(false);
    }
    // A new message from the customer reopens a resolved or snoozed conversation and
    // puts it at the top of the list. The preview follows only the newest message.
    tx.prepare_cached(
        "UPDATE conversations SET \
           last_preview = CASE WHEN ?2 >= last_message_at THEN ?3 ELSE last_preview END, \
           unanswered = CASE WHEN ?2 >= last_message_at THEN 1 ELSE unanswered END, \
           last_message_at = max(last_message_at, ?2), \
           last_inbound_at = max(coalesce(last_inbound_at, 0), ?2), \
           unread = unread + 1, \
           status = CASE WHEN status IN ('resolved', 'snoozed') THEN 'open' ELSE status END \
         WHERE id = ?1",
    )?
    .execute(params![conversation, m.sent_at, preview(&m.text)])?;
    Ok(true)
}

/// The first line of a message, short enough for the list.
pub(super) fn preview(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    line.chars().take(120).collect()
}

/// An outbound message that already happened elsewhere (the demo's history, an import).
#[derive(Debug, Clone)]
pub struct OutboundRecord<'a> {
    pub text: &'a str,
    pub sent_at: Millis,
    pub status: crate::model::DeliveryStatus,
    pub error: Option<&'a str>,
    pub author: &'a str,
    pub external_id: Option<String>,
}

impl Store {
    /// Records an outbound message that needs no sending.
    pub fn record_outbound(&mut self, conversation: ConversationId, m: &OutboundRecord<'_>) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO messages(conversation_id, direction, kind, body, sent_at, status, error, author, external_id, created_at) \
             VALUES (?1, 'out', 'text', ?2, ?3, ?4, ?5, ?6, ?7, ?3)",
            params![conversation, m.text, m.sent_at, m.status.as_str(), m.error, m.author, m.external_id],
        )?;
        tx.execute(
            "UPDATE conversations SET last_outbound_at = max(coalesce(last_outbound_at, 0), ?2), \
               last_preview = CASE WHEN ?2 >= last_message_at THEN ?3 ELSE last_preview END, \
               unanswered = CASE WHEN ?2 >= last_message_at THEN 0 ELSE unanswered END, \
               unread = CASE WHEN ?2 >= last_message_at THEN 0 ELSE unread END, \
               last_message_at = max(last_message_at, ?2) WHERE id = ?1",
            params![conversation, m.sent_at, preview(m.text)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The highest numeric message id seen on `channel`, so a fresh emulator can number
    /// its messages after it.
    pub fn max_numeric_external_id(&self, channel: crate::model::ChannelKind) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT coalesce(max(CAST(m.external_id AS INTEGER)), 0) FROM messages m \
             JOIN conversations c ON c.id = m.conversation_id WHERE c.channel = ?1",
            [channel.as_str()],
            |r| r.get(0),
        )?)
    }

    /// Forgets a channel's cursors (the demo's emulator starts afresh each run).
    pub fn reset_sync(&self, channel: crate::model::ChannelKind) -> Result<()> {
        self.conn.execute("DELETE FROM sync_state WHERE channel = ?1", [channel.as_str()])?;
        Ok(())
    }
}
