//! What a customer does besides writing, as the store records it: a press on a button
//! under one of our messages, a block or an unsubscribe (and their reversal), and the
//! consent events all of these write to the append-only ledger.

use rusqlite::{OptionalExtension, Transaction, params};

use super::ingest::{upsert_contact, upsert_conversation};
use super::{Result, StoreError};
use crate::model::{
    Access, Button, ChannelKind, Click, ContactId, ConversationId, InboundMessage, Membership, MessageId, Millis, Peer,
};

/// A button press: a line in the conversation ("pressed “Yes”") and a click event on
/// our message that carried the button. False for a redelivery.
pub(super) fn record_click(tx: &Transaction<'_>, c: &Click, now: Millis) -> Result<bool> {
    let contact = upsert_contact(tx, c.chat.channel, &c.from, now)?;
    let conversation = upsert_conversation(tx, &c.chat, contact, now)?;
    let target: Option<(MessageId, Option<String>)> = match &c.message_external_id {
        Some(ext) => tx
            .prepare_cached("SELECT id, buttons FROM messages WHERE conversation_id = ?1 AND external_id = ?2")?
            .query_row(params![conversation, ext], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?,
        None => None,
    };
    // Name the button by its text when we still have the message that carried it.
    let label = target
        .as_ref()
        .and_then(|(_, buttons)| buttons.as_deref())
        .and_then(|json| serde_json::from_str::<Vec<Vec<Button>>>(json).ok())
        .and_then(|rows| rows.into_iter().flatten().find(|b| b.callback_data.is_some() && b.callback_data == c.data))
        .map(|b| b.text)
        .or_else(|| c.label.clone())
        .or_else(|| c.data.clone())
        .unwrap_or_else(|| "a button".into());
    let notice = Notice {
        kind: "click",
        body: &format!("pressed “{label}”"),
        at: c.at,
        from: &c.from,
        external_id: &format!("cb:{}", c.query_id),
        reply_to: c.message_external_id.as_deref(),
    };
    if !insert_notice(tx, conversation, &notice, now)? {
        return Ok(false);
    }
    if let Some((id, _)) = target {
        tx.prepare_cached("INSERT INTO message_events(message_id, kind, detail, at) VALUES (?1, 'click', ?2, ?3)")?
            .execute(params![id, c.data, c.at])?;
    }
    if c.chat.channel.press_is_a_message() {
        // The customer spoke: the window opens, the conversation waits for an answer and
        // reopens, as for any message of theirs.
        tx.prepare_cached(
            "UPDATE conversations SET \
               last_preview = CASE WHEN ?2 >= last_message_at THEN ?3 ELSE last_preview END, \
               unanswered = CASE WHEN ?2 >= last_message_at THEN 1 ELSE unanswered END, \
               last_message_at = max(last_message_at, ?2), \
               last_inbound_at = max(coalesce(last_inbound_at, 0), ?2), \
               unread = unread + 1, \
               snoozed_until = CASE WHEN status = 'snoozed' THEN NULL ELSE snoozed_until END, \
           status = CASE WHEN status IN ('resolved', 'snoozed', 'pending') THEN 'open' ELSE status END \
             WHERE id = ?1",
        )?
        .execute(params![conversation, c.at, notice.body])?;
    } else {
        tx.prepare_cached(
            "UPDATE conversations SET last_message_at = max(last_message_at, ?2), unread = unread + 1 WHERE id = ?1",
        )?
        .execute(params![conversation, c.at])?;
    }
    Ok(true)
}

/// The customer blocked (or unblocked) us: a line in the conversation, the conversation
/// marked, and the consent ledger told. Unblocking restores service messages only: a
/// marketing opt-in needs a fresh, explicit one. False for a redelivery.
pub(super) fn record_membership(tx: &Transaction<'_>, m: &Membership, now: Millis) -> Result<bool> {
    let contact = upsert_contact(tx, m.chat.channel, &m.from, now)?;
    let conversation = upsert_conversation(tx, &m.chat, contact, now)?;
    let (what, key, source) = match (m.chat.channel.rules().access, m.blocked) {
        (Access::Subscribers, true) => ("unsubscribed", "unsubscribed", "platform_subscription"),
        (Access::Subscribers, false) => ("subscribed", "subscribed", "platform_subscription"),
        (Access::UntilBlocked, true) => ("blocked the bot", "blocked", "platform_block"),
        (Access::UntilBlocked, false) => ("unblocked the bot", "unblocked", "platform_block"),
        (Access::Permission, true) => ("denied messages from the community", "denied", "platform_permission"),
        (Access::Permission, false) => ("allowed messages from the community", "allowed", "platform_permission"),
    };
    let external_id = match &m.event_id {
        Some(id) => format!("member:{id}"),
        None => format!("member:{}:{key}", m.at),
    };
    let notice =
        Notice { kind: "system", body: what, at: m.at, from: &m.from, external_id: &external_id, reply_to: None };
    if !insert_notice(tx, conversation, &notice, now)? {
        return Ok(false);
    }
    let evidence = match (m.chat.channel, &m.key) {
        (ChannelKind::Telegram, _) => format!("my_chat_member: {key} at {}", m.at),
        (other, Some(source)) if !source.is_empty() => format!("{other} {key} at {} from `{source}`", m.at),
        (other, _) => format!("{other} {key} at {}", m.at),
    };
    if let Some(source) = m.key.as_deref().filter(|s| !s.is_empty()) {
        // Where the customer first came from; a later one does not rewrite it.
        tx.prepare_cached("UPDATE contacts SET source = ?2 WHERE id = ?1 AND source IS NULL")?
            .execute(params![contact, source])?;
    }
    if m.blocked {
        tx.prepare_cached("UPDATE conversations SET blocked_at = ?2 WHERE id = ?1")?
            .execute(params![conversation, m.at])?;
        for purpose in ["service", "marketing"] {
            insert_consent(tx, contact, m.chat.channel, purpose, "opt_out", source, &evidence, m.at)?;
        }
    } else {
        tx.prepare_cached("UPDATE conversations SET blocked_at = NULL WHERE id = ?1")?.execute([conversation])?;
        insert_consent(tx, contact, m.chat.channel, "service", "opt_in", source, &evidence, m.at)?;
    }
    Ok(true)
}

/// True when this very event is already in the ledger (a redelivered webhook).
#[allow(clippy::too_many_arguments)]
pub(super) fn consent_recorded(
    tx: &Transaction<'_>,
    contact: ContactId,
    channel: ChannelKind,
    purpose: &str,
    action: &str,
    evidence: &str,
    at: Millis,
) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM consent_events WHERE contact_id = ?1 AND channel = ?2 AND purpose = ?3 \
               AND action = ?4 AND evidence = ?5 AND at = ?6)",
        )?
        .query_row(params![contact, channel.as_str(), purpose, action, evidence, at], |r| r.get(0))?)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn insert_consent(
    tx: &Transaction<'_>,
    contact: ContactId,
    channel: ChannelKind,
    purpose: &str,
    action: &str,
    source: &str,
    evidence: &str,
    at: Millis,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO consent_events(contact_id, channel, purpose, action, source, evidence, recorded_by, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?2, ?7)",
    )?
    .execute(params![contact, channel.as_str(), purpose, action, source, evidence, at])?;
    Ok(())
}

/// Consent events for the contact of a private conversation (a block or an opt-out
/// seen on send).
pub(super) fn record_consent_for_conversation(
    tx: &Transaction<'_>,
    conversation: ConversationId,
    action: &str,
    purposes: &[&str],
    source: &str,
    evidence: &str,
    at: Millis,
) -> Result<()> {
    let row: Option<(Option<ContactId>, String)> = tx
        .query_row("SELECT contact_id, channel FROM conversations WHERE id = ?1", [conversation], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((Some(contact), channel)) = row else { return Ok(()) };
    let channel: ChannelKind =
        channel.parse().map_err(|e: crate::model::UnknownValue| StoreError::NotFound(e.to_string()))?;
    for purpose in purposes {
        insert_consent(tx, contact, channel, purpose, action, source, evidence, at)?;
    }
    Ok(())
}

/// A line in the conversation saying what the customer did (a press, a block).
struct Notice<'a> {
    kind: &'a str,
    body: &'a str,
    at: Millis,
    from: &'a Peer,
    /// The key that stores it once however often it is delivered.
    external_id: &'a str,
    reply_to: Option<&'a str>,
}

/// Stores a notice; false when it is already stored.
fn insert_notice(tx: &Transaction<'_>, conversation: ConversationId, n: &Notice<'_>, now: Millis) -> Result<bool> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO messages(conversation_id, direction, kind, body, sent_at, status, sender_external_id, \
               sender_name, external_id, reply_to_external_id, created_at) \
             VALUES (?1, 'in', ?2, ?3, ?4, 'received', ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT(conversation_id, external_id) DO NOTHING",
        )?
        .execute(params![
            conversation,
            n.kind,
            n.body,
            n.at,
            n.from.external_id,
            n.from.display_name,
            n.external_id,
            n.reply_to,
            now
        ])?;
    Ok(inserted == 1)
}

/// The message and button a tracked reply pressed, if its text is one of the buttons of
/// the message its tracking names (`sb:<our message id>`, set when we send buttons).
pub(super) fn tracked_press(
    tx: &Transaction<'_>,
    conversation: ConversationId,
    m: &InboundMessage,
) -> Result<Option<(MessageId, String)>> {
    let Some(ours) = m.tracking.as_deref().and_then(|t| t.strip_prefix("sb:")).and_then(|id| id.parse::<i64>().ok())
    else {
        return Ok(None);
    };
    let buttons: Option<String> = tx
        .prepare_cached("SELECT buttons FROM messages WHERE id = ?1 AND conversation_id = ?2 AND direction = 'out'")?
        .query_row(params![ours, conversation], |r| r.get(0))
        .optional()?
        .flatten();
    let rows: Vec<Vec<Button>> = buttons.and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default();
    let pressed = rows.into_iter().flatten().find(|b| b.callback_data.as_deref() == Some(m.text.trim()));
    Ok(pressed.map(|b| (MessageId(ours), b.text)))
}

/// Stores a tracked reply as a press on our message.
pub(super) fn record_tracked_press(
    tx: &Transaction<'_>,
    conversation: ConversationId,
    m: &InboundMessage,
    (ours, label): (MessageId, String),
    now: Millis,
) -> Result<bool> {
    let notice = Notice {
        kind: "click",
        body: &format!("pressed “{label}”"),
        at: m.sent_at,
        from: &m.from,
        external_id: &m.external_id,
        reply_to: None,
    };
    if !insert_notice(tx, conversation, &notice, now)? {
        return Ok(false);
    }
    tx.prepare_cached("INSERT INTO message_events(message_id, kind, detail, at) VALUES (?1, 'click', ?2, ?3)")?
        .execute(params![ours, m.text.trim(), m.sent_at])?;
    tx.prepare_cached(
        "UPDATE conversations SET last_message_at = max(last_message_at, ?2), last_inbound_at = ?2, \
           unread = unread + 1 WHERE id = ?1",
    )?
    .execute(params![conversation, m.sent_at])?;
    Ok(true)
}

/// Where only subscribers may be written to (Viber), a customer's message subscribes
/// them, with no `subscribed` callback: the first one, or one after an unsubscribe,
/// records that.
pub(super) fn implicit_subscription(
    tx: &Transaction<'_>,
    channel: ChannelKind,
    contact: ContactId,
    conversation: ConversationId,
    token: &str,
    at: Millis,
) -> Result<()> {
    let (blocked, subscribed): (bool, bool) = tx
        .prepare_cached(
            "SELECT (SELECT blocked_at IS NOT NULL FROM conversations WHERE id = ?1), \
               EXISTS(SELECT 1 FROM consent_events WHERE contact_id = ?2 AND channel = ?3 AND purpose = 'service')",
        )?
        .query_row(params![conversation, contact, channel.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if blocked || !subscribed {
        tx.prepare_cached("UPDATE conversations SET blocked_at = NULL WHERE id = ?1")?.execute([conversation])?;
        let evidence = format!("a message from the customer subscribes them ({token})");
        insert_consent(tx, contact, channel, "service", "opt_in", "platform_subscription", &evidence, at)?;
    }
    Ok(())
}

/// A STOP message: a marketing opt-out with the message as evidence, and (while the
/// platform still lets us write to the customer) one confirmation, queued as a reply.
/// Runs once per message: a redelivered one is not stored again.
pub(super) fn keyword_opt_out(
    tx: &Transaction<'_>,
    contact: ContactId,
    conversation: ConversationId,
    m: &InboundMessage,
    stop: &super::StopPolicy,
    now: Millis,
) -> Result<()> {
    let evidence = format!("message {}: {}", m.external_id, m.text.trim());
    insert_consent(tx, contact, m.chat.channel, "marketing", "opt_out", "keyword", &evidence, m.sent_at)?;
    let blocked: bool = tx
        .prepare_cached("SELECT blocked_at IS NOT NULL FROM conversations WHERE id = ?1")?
        .query_row([conversation], |r| r.get(0))?;
    if let (Some(text), false) = (stop.confirmation(&m.text, m.from.locale.as_deref()), blocked) {
        let out = crate::model::Outgoing::text(text);
        super::outbox::enqueue_in(tx, conversation, &out, "switchboard", super::PRIORITY_REPLY, now, None)?;
    }
    Ok(())
}
