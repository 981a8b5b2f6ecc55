//! Messages of one conversation (or of one person across channels), read a window at a
//! time by (sent_at, id) so a history of any length scrolls without being loaded whole.

use rusqlite::{Row, params};

use super::{Result, Store, text_enum};
use crate::model::{ChannelKind, ContactId, ConversationId, DeliveryStatus, Direction, MessageId, Millis};

/// One message as the conversation view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: MessageId,
    pub direction: Direction,
    pub kind: String,
    pub body: String,
    pub sent_at: Millis,
    pub status: DeliveryStatus,
    pub error: Option<String>,
    pub author: Option<String>,
    pub sender_name: Option<String>,
    pub edited_at: Option<Millis>,
    /// Formatting as the platform gave it (JSON).
    pub entities: Option<String>,
    /// Rows of buttons under our message (JSON).
    pub buttons: Option<String>,
    /// The message this one replies to, when it is in the store: (who, text).
    pub quote: Option<(String, String)>,
    /// Our message, deleted for the customer too (Telegram's deleteMessage): kept here.
    pub deleted_at: Option<Millis>,
    /// Its platform id: an edit or a delete needs one.
    pub external_id: Option<String>,
}

impl MessageRow {
    pub fn key(&self) -> MessageKey {
        MessageKey { sent_at: self.sent_at, id: self.id }
    }
}

/// A message of a person's timeline, with the conversation and channel it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRow {
    pub conversation: ConversationId,
    pub channel: ChannelKind,
    pub message: MessageRow,
}

/// A position in a conversation's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MessageKey {
    pub sent_at: Millis,
    pub id: MessageId,
}

/// The message and, through the chat's unique key, the one it quotes.
const COLUMNS: &str = "m.id, m.direction, m.kind, m.body, m.sent_at, m.status, m.error, m.author, m.sender_name, \
     m.edited_at, m.entities, m.buttons, \
     CASE q.direction WHEN 'in' THEN coalesce(q.sender_name, 'customer') ELSE coalesce(q.author, 'us') END, q.body, \
     m.deleted_at, m.external_id \
     FROM messages m LEFT JOIN messages q \
       ON q.conversation_id = m.conversation_id AND q.external_id = m.reply_to_external_id AND m.kind <> 'click'";

fn from_row(r: &Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: r.get(0)?,
        direction: text_enum(r, 1)?,
        kind: r.get(2)?,
        body: r.get(3)?,
        sent_at: r.get(4)?,
        status: text_enum(r, 5)?,
        error: r.get(6)?,
        author: r.get(7)?,
        sender_name: r.get(8)?,
        edited_at: r.get(9)?,
        entities: r.get(10)?,
        buttons: r.get(11)?,
        quote: match (r.get::<_, Option<String>>(12)?, r.get::<_, Option<String>>(13)?) {
            (Some(who), Some(body)) => Some((who, body)),
            _ => None,
        },
        deleted_at: r.get(14)?,
        external_id: r.get(15)?,
    })
}

/// A customer's message with a file to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaMessage {
    pub id: MessageId,
    pub kind: String,
    /// The line the timeline shows (`[photo 1280x960]` and the caption).
    pub body: String,
    pub sent_at: Millis,
    /// What fetches it (JSON, as the decoder kept it).
    pub media: String,
}

/// The kinds of message whose file an agent can open.
pub const MEDIA_KINDS: &[&str] = &["photo", "document", "voice", "audio", "video", "video_note", "sticker"];

impl Store {
    /// The customer's latest messages with a file (photo, document, voice, audio,
    /// video, sticker), newest first.
    pub fn media_messages(&self, conversation: ConversationId, limit: usize) -> Result<Vec<MediaMessage>> {
        let kinds = MEDIA_KINDS.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ");
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id, kind, body, sent_at, media FROM messages \
             WHERE conversation_id = ?1 AND direction = 'in' AND media IS NOT NULL AND kind IN ({kinds}) \
             ORDER BY sent_at DESC, id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![conversation, limit as i64], |r| {
            Ok(MediaMessage { id: r.get(0)?, kind: r.get(1)?, body: r.get(2)?, sent_at: r.get(3)?, media: r.get(4)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Up to `limit` messages just before `before` (or the newest), oldest first.
    pub fn messages_before(
        &self,
        conversation: ConversationId,
        before: Option<MessageKey>,
        limit: usize,
    ) -> Result<Vec<MessageRow>> {
        let sql = format!(
            "SELECT {COLUMNS} WHERE m.conversation_id = ?1 \
               AND (?2 IS NULL OR (m.sent_at, m.id) < (?2, ?3)) \
             ORDER BY m.sent_at DESC, m.id DESC LIMIT ?4"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![conversation, before.map(|k| k.sent_at), before.map(|k| k.id), limit as i64],
            from_row,
        )?;
        let mut rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.reverse();
        Ok(rows)
    }

    /// Up to `limit` messages just after `after`, oldest first.
    pub fn messages_after(
        &self,
        conversation: ConversationId,
        after: MessageKey,
        limit: usize,
    ) -> Result<Vec<MessageRow>> {
        let sql = format!(
            "SELECT {COLUMNS} WHERE m.conversation_id = ?1 AND (m.sent_at, m.id) > (?2, ?3) \
             ORDER BY m.sent_at, m.id LIMIT ?4"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![conversation, after.sent_at, after.id, limit as i64], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The messages from `from` to `to` inclusive: a refresh of a window already shown.
    pub fn messages_between(
        &self,
        conversation: ConversationId,
        from: MessageKey,
        to: MessageKey,
        limit: usize,
    ) -> Result<Vec<MessageRow>> {
        let sql = format!(
            "SELECT {COLUMNS} WHERE m.conversation_id = ?1 \
               AND (m.sent_at, m.id) >= (?2, ?3) AND (m.sent_at, m.id) <= (?4, ?5) \
             ORDER BY m.sent_at, m.id LIMIT ?6"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows =
            stmt.query_map(params![conversation, from.sent_at, from.id, to.sent_at, to.id, limit as i64], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A person's whole story: up to `limit` messages just before `before` (or the newest)
    /// across every conversation of the contact, on every channel, oldest first. Each
    /// conversation is read by its own index and the pages merged, so a contact with one
    /// long conversation costs a page, not the conversation.
    pub fn timeline_before(
        &self,
        contact: ContactId,
        before: Option<MessageKey>,
        limit: usize,
    ) -> Result<Vec<TimelineRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, channel FROM conversations WHERE contact_id = ?1 AND NOT is_group ORDER BY id",
        )?;
        let chats = stmt
            .query_map([contact], |r| Ok((r.get::<_, ConversationId>(0)?, text_enum::<ChannelKind>(r, 1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut rows = Vec::new();
        for (conversation, channel) in chats {
            for message in self.messages_before(conversation, before, limit)? {
                rows.push(TimelineRow { conversation, channel, message });
            }
        }
        rows.sort_by_key(|r| r.message.key());
        let keep = rows.len().saturating_sub(limit);
        rows.drain(..keep);
        Ok(rows)
    }

    /// One message, for tests and tools.
    pub fn message(&self, id: MessageId) -> Result<MessageRow> {
        let sql = format!("SELECT {COLUMNS} WHERE m.id = ?1");
        Ok(self.conn.query_row(&sql, [id], from_row)?)
    }
}
