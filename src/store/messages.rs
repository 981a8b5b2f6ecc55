//! Messages of one conversation, read a window at a time by (sent_at, id) so a history
//! of any length scrolls without being loaded whole.

use rusqlite::{Row, params};

use super::{Result, Store, text_enum};
use crate::model::{ConversationId, DeliveryStatus, Direction, MessageId, Millis};

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
}

impl MessageRow {
    pub fn key(&self) -> MessageKey {
        MessageKey { sent_at: self.sent_at, id: self.id }
    }
}

/// A position in a conversation's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MessageKey {
    pub sent_at: Millis,
    pub id: MessageId,
}

const COLUMNS: &str = "id, direction, kind, body, sent_at, status, error, author, sender_name, edited_at";

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
    })
}

impl Store {
    /// Up to `limit` messages just before `before` (or the newest), oldest first.
    pub fn messages_before(
        &self,
        conversation: ConversationId,
        before: Option<MessageKey>,
        limit: usize,
    ) -> Result<Vec<MessageRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 \
               AND (?2 IS NULL OR (sent_at, id) < (?2, ?3)) \
             ORDER BY sent_at DESC, id DESC LIMIT ?4"
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
            "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 AND (sent_at, id) > (?2, ?3) \
             ORDER BY sent_at, id LIMIT ?4"
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
            "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 \
               AND (sent_at, id) >= (?2, ?3) AND (sent_at, id) <= (?4, ?5) \
             ORDER BY sent_at, id LIMIT ?6"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows =
            stmt.query_map(params![conversation, from.sent_at, from.id, to.sent_at, to.id, limit as i64], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One message, for tests and tools.
    pub fn message(&self, id: MessageId) -> Result<MessageRow> {
        let sql = format!("SELECT {COLUMNS} FROM messages WHERE id = ?1");
        Ok(self.conn.query_row(&sql, [id], from_row)?)
    }
}
