//! Changes to our own messages already sent: an edit (new text) or a delete, which
//! Telegram lets a bot make (`editMessageText`, `deleteMessage`). A change is an outbox
//! row like a send, with the same guarantees: written before any network call, done
//! again after a crash (both are idempotent at Telegram's end: "not modified" and "not
//! found" count as done), and recorded with its outcome. The message keeps its status;
//! a deleted one stays in the store, marked.

use rusqlite::{OptionalExtension, params};

use super::{PRIORITY_REPLY, Result, Store};
use crate::model::{ChannelKind, MessageId, Millis};

/// Bots may delete a message for 48 hours after it was sent.
pub const DELETE_WITHIN: Millis = 48 * 3_600_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Edit(String),
    Delete,
}

impl Change {
    /// What the agent asked: the outbox's action, and the word for events and errors.
    pub fn what(&self) -> &'static str {
        match self {
            Change::Edit(_) => "edit",
            Change::Delete => "delete",
        }
    }

    /// The same, done: for the message's events and the reason a change failed.
    fn done(&self) -> &'static str {
        match self {
            Change::Edit(_) => "edited",
            Change::Delete => "deleted",
        }
    }
}

/// The message a change is asked for, as far as deciding whether it may be made.
struct Target {
    direction: String,
    kind: String,
    status: String,
    external: Option<String>,
    sent_at: Millis,
    deleted_at: Option<Millis>,
    channel: String,
    chat: String,
    pending: bool,
}

impl Store {
    /// Queues a change to our sent message `id` at `now`. `Ok(Err(why))` when it cannot
    /// be changed: not ours, not sent yet, not on Telegram, deleted, too old to delete,
    /// or a change to it is still on its way.
    pub fn request_change(
        &mut self,
        id: MessageId,
        change: &Change,
        now: Millis,
    ) -> Result<std::result::Result<(), String>> {
        let tx = self.write()?;
        let row = tx
            .query_row(
                "SELECT m.direction, m.kind, m.status, m.external_id, m.sent_at, m.deleted_at, c.channel, \
                   c.external_chat_id, EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = m.id) \
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?1",
                [id],
                |r| {
                    Ok(Target {
                        direction: r.get(0)?,
                        kind: r.get(1)?,
                        status: r.get(2)?,
                        external: r.get(3)?,
                        sent_at: r.get(4)?,
                        deleted_at: r.get(5)?,
                        channel: r.get(6)?,
                        chat: r.get(7)?,
                        pending: r.get(8)?,
                    })
                },
            )
            .optional()?;
        let Some(Target { direction, kind, status, external, sent_at, deleted_at, channel, chat, pending }) = row
        else {
            return Ok(Err("no such message".into()));
        };
        let refused = if direction != "out" || kind == "note" {
            Some("only our own sent replies can be changed".to_string())
        } else if channel != ChannelKind::Telegram.as_str() {
            let name = channel.parse::<ChannelKind>().map(|k| k.display_name()).unwrap_or(channel.as_str());
            Some(format!("{name} does not let a business edit or delete a sent message"))
        } else if deleted_at.is_some() {
            Some("it is deleted already".into())
        } else if pending {
            Some("it is still on its way, or a change to it is".into())
        } else if external.is_none() || !matches!(status.as_str(), "sent" | "delivered" | "read") {
            Some("it has not been sent".into())
        } else if matches!(change, Change::Edit(_)) && kind != "text" {
            Some("only a text message can be edited".into())
        } else if matches!(change, Change::Delete) && now - sent_at > DELETE_WITHIN {
            Some("Telegram lets a bot delete a message for 48 hours only".into())
        } else {
            None
        };
        if let Some(why) = refused {
            return Ok(Err(why));
        }
        let new_body = match change {
            Change::Edit(text) => Some(text.as_str()),
            Change::Delete => None,
        };
        tx.execute(
            "INSERT INTO outbox(message_id, channel, chat_id, priority, next_attempt_at, action, new_body) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id, channel, chat, PRIORITY_REPLY, now, change.what(), new_body],
        )?;
        tx.execute(
            "INSERT INTO message_events(message_id, kind, detail, at) VALUES (?1, ?2, ?3, ?4)",
            params![id, format!("{}_requested", change.what()), new_body, now],
        )?;
        tx.commit()?;
        Ok(Ok(()))
    }

    /// Telegram made the change: the store shows it.
    pub fn mark_changed(&mut self, id: MessageId, change: &Change, at: Millis) -> Result<()> {
        let tx = self.write()?;
        match change {
            Change::Edit(text) => {
                // The list's preview follows when this is the conversation's newest message.
                tx.execute(
                    "UPDATE conversations SET last_preview = ?2 \
                     WHERE id = (SELECT conversation_id FROM messages WHERE id = ?1) \
                       AND last_message_at = (SELECT sent_at FROM messages WHERE id = ?1)",
                    params![id, super::ingest::preview(text)],
                )?;
                tx.execute(
                    "UPDATE messages SET body = ?2, edited_at = ?3, error = NULL WHERE id = ?1",
                    params![id, text, at],
                )?
            }
            Change::Delete => {
                tx.execute("UPDATE messages SET deleted_at = ?2, error = NULL WHERE id = ?1", params![id, at])?
            }
        };
        tx.execute("DELETE FROM outbox WHERE message_id = ?1", [id])?;
        tx.execute(
            "INSERT INTO message_events(message_id, kind, at) VALUES (?1, ?2, ?3)",
            params![id, change.done(), at],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A passing failure of a change: tried again at `at`; the message keeps its status.
    pub fn retry_change_later(&mut self, id: MessageId, at: Millis, reason: &str, now: Millis) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE message_id = ?1",
            params![id, at, reason],
        )?;
        tx.execute(
            "INSERT INTO message_events(message_id, kind, detail, at) VALUES (?1, 'change_retry', ?2, ?3)",
            params![id, reason, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The change cannot be made: the message stays as it was, with the reason shown.
    pub fn change_failed(&mut self, id: MessageId, change: &Change, reason: &str, now: Millis) -> Result<()> {
        let tx = self.write()?;
        let shown = format!("not {}: {reason}", change.done());
        tx.execute("UPDATE messages SET error = ?2 WHERE id = ?1", params![id, shown])?;
        tx.execute("DELETE FROM outbox WHERE message_id = ?1", [id])?;
        tx.execute(
            "INSERT INTO message_events(message_id, kind, detail, at) VALUES (?1, 'change_failed', ?2, ?3)",
            params![id, reason, now],
        )?;
        tx.commit()?;
        Ok(())
    }
}
