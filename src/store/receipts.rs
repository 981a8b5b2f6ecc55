//! Receipts move our messages forward (sent → delivered → read, or failed with the
//! platform's reason) and never backwards, whatever order they arrive in. Every receipt
//! lands in message_events once, so reports can count them.
//!
//! Read is final: a `failed` that arrives after `read` is recorded as an event but does
//! not turn a message the customer has read into a failed one. The customer saw it;
//! marking it failed would invite an agent to send it again.
//!
//! A receipt naming a message id we do not know yet is held (`held_receipts`) and applied
//! when a send records that id: WhatsApp's `delivered` can beat the send's own answer.

use rusqlite::{OptionalExtension, Transaction, params};

use super::Result;
use crate::model::{DeliveryStatus, MessageId, Millis, Receipt};

/// How long a receipt for an unknown message id is kept waiting for it.
const HOLD_FOR: Millis = 24 * 3_600_000;

/// Applies one receipt; false when it changed nothing (a duplicate, or a message not
/// known yet, whose receipt is held).
pub(super) fn apply_receipt(tx: &Transaction<'_>, r: &Receipt, now: Millis) -> Result<bool> {
    let conversation: Option<i64> = tx
        .prepare_cached("SELECT id FROM conversations WHERE channel = ?1 AND external_chat_id = ?2")?
        .query_row(params![r.channel.as_str(), r.chat_id], |row| row.get(0))
        .optional()?;
    let Some(conversation) = conversation else {
        hold(tx, r, now)?;
        return Ok(false);
    };
    let named: Option<(MessageId, String)> = match &r.message_external_id {
        Some(ext) => tx
            .prepare_cached(
                "SELECT id, status FROM messages WHERE conversation_id = ?1 AND external_id = ?2 AND direction = 'out' \
                   AND kind <> 'note'",
            )?
            .query_row(params![conversation, ext], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?,
        None => None,
    };
    let mut targets: Vec<(MessageId, String)> = named.iter().cloned().collect();
    if r.covers_earlier || r.message_external_id.is_none() {
        targets.extend(match &named {
            // Earlier than the one named, in the store's order: clocks may disagree.
            Some((id, _)) => tx
                .prepare_cached(
                    "SELECT id, status FROM messages WHERE conversation_id = ?1 AND direction = 'out' AND kind <> 'note' \
                       AND id < ?2 AND status IN ('sent', 'delivered')",
                )?
                .query_map(params![conversation, id], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?,
            // Nothing named, or a message not known yet: every one sent by then.
            None => tx
                .prepare_cached(
                    "SELECT id, status FROM messages WHERE conversation_id = ?1 AND direction = 'out' AND kind <> 'note' \
                       AND sent_at <= ?2 AND status IN ('sent', 'delivered')",
                )?
                .query_map(params![conversation, r.at], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?,
        });
    }
    if named.is_none() && r.message_external_id.is_some() {
        hold(tx, r, now)?;
    }
    if targets.is_empty() {
        return Ok(false);
    }
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
        let read_is_final = old == DeliveryStatus::Read && r.status == DeliveryStatus::Failed;
        if r.status > old && !read_is_final {
            advance(tx, id, r.status, r.error.as_deref())?;
        }
    }
    Ok(changed)
}

/// Keeps a receipt for a message id not recorded yet (only receipts that name one).
fn hold(tx: &Transaction<'_>, r: &Receipt, now: Millis) -> Result<()> {
    let Some(ext) = &r.message_external_id else { return Ok(()) };
    tx.prepare_cached("DELETE FROM held_receipts WHERE held_at < ?1")?.execute([now - HOLD_FOR])?;
    tx.prepare_cached(
        "INSERT INTO held_receipts(channel, chat_id, external_id, status, error_code, error, at, held_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(channel, external_id, status) DO NOTHING",
    )?
    .execute(params![r.channel.as_str(), r.chat_id, ext, r.status.as_str(), r.error_code, r.error, r.at, now])?;
    Ok(())
}

/// Applies the receipts held for `external_id`, now that our message `message` has it:
/// one indexed look-up on the send path, which finds nothing nearly always.
pub(super) fn release_held(tx: &Transaction<'_>, message: MessageId, external_id: &str, now: Millis) -> Result<()> {
    let held: Vec<Receipt> = tx
        .prepare_cached(
            "SELECT h.channel, h.chat_id, h.status, h.error_code, h.error, h.at FROM held_receipts h \
             WHERE h.external_id = ?2 AND h.channel = \
               (SELECT c.channel FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?1)",
        )?
        .query_map(params![message, external_id], |row| {
            Ok(Receipt {
                channel: super::text_enum(row, 0)?,
                chat_id: row.get(1)?,
                message_external_id: Some(external_id.to_string()),
                covers_earlier: false,
                status: row.get::<_, String>(2)?.parse().unwrap_or(DeliveryStatus::Sent),
                error_code: row.get(3)?,
                error: row.get(4)?,
                at: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if held.is_empty() {
        return Ok(());
    }
    tx.prepare_cached("DELETE FROM held_receipts WHERE channel = ?1 AND external_id = ?2")?
        .execute(params![held[0].channel.as_str(), external_id])?;
    // In the order the platform sent them; `apply_receipt` never moves backwards anyway.
    for r in held {
        apply_receipt(tx, &r, now)?;
    }
    Ok(())
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
