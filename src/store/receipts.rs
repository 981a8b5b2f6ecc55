//! Receipts move our messages forward (sent → delivered → read, or failed with the
//! platform's reason) and never backwards, whatever order they arrive in. Every receipt
//! lands in message_events once, so reports can count them.

use rusqlite::{OptionalExtension, Transaction, params};

use super::Result;
use crate::model::{DeliveryStatus, MessageId, Receipt};

/// Applies one receipt; false when it changed nothing (unknown message, duplicate).
pub(super) fn apply_receipt(tx: &Transaction<'_>, r: &Receipt) -> Result<bool> {
    let conversation: Option<i64> = tx
        .prepare_cached("SELECT id FROM conversations WHERE channel = ?1 AND external_chat_id = ?2")?
        .query_row(params![r.channel.as_str(), r.chat_id], |row| row.get(0))
        .optional()?;
    let Some(conversation) = conversation else { return Ok(false) };
    let targets: Vec<(MessageId, String)> = match &r.message_external_id {
        Some(ext) => tx
            .prepare_cached(
                "SELECT id, status FROM messages WHERE conversation_id = ?1 AND external_id = ?2 AND direction = 'out'",
            )?
            .query_map(params![conversation, ext], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?,
        // "Seen" covers every earlier message of ours that was not read yet.
        None => tx
            .prepare_cached(
                "SELECT id, status FROM messages WHERE conversation_id = ?1 AND direction = 'out' \
                   AND sent_at <= ?2 AND status IN ('sent', 'delivered')",
            )?
            .query_map(params![conversation, r.at], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?,
    };
    let mut changed = false;
    for (id, old) in targets {
        let seen: bool = tx
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM message_events WHERE message_id = ?1 AND kind = 'receipt' AND status = ?2)",
            )?
            .query_row(params![id, r.status.as_str()], |row| row.get(0))?;
        if seen {
            continue;
        }
        tx.prepare_cached(
            "INSERT INTO message_events(message_id, kind, status, detail, at) VALUES (?1, 'receipt', ?2, ?3, ?4)",
        )?
        .execute(params![id, r.status.as_str(), r.error, r.at])?;
        changed = true;
        let old: DeliveryStatus = old.parse().unwrap_or(DeliveryStatus::Queued);
        if r.status > old {
            advance(tx, id, r.status, r.error.as_deref())?;
        }
    }
    Ok(changed)
}

fn advance(tx: &Transaction<'_>, id: MessageId, status: DeliveryStatus, error: Option<&str>) -> Result<()> {
    tx.prepare_cached("UPDATE messages SET status = ?2, error = ?3 WHERE id = ?1")?.execute(params![
        id,
        status.as_str(),
        error
    ])?;
    if status == DeliveryStatus::Failed {
        // A late failure: nothing more to send for this message.
        tx.prepare_cached("DELETE FROM outbox WHERE message_id = ?1")?.execute([id])?;
    }
    Ok(())
}
