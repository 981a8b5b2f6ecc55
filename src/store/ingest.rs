//! Ingest: decoded inbound events land in one transaction together with the channel
//! cursor that covers them, so a crash either keeps both or neither. A message seen twice
//! is stored once (`UNIQUE(conversation_id, external_id)`).

use rusqlite::{OptionalExtension, Transaction, params};

use super::customer_actions as actions;
use super::{Result, Store};
use crate::model::phone::{LinkMode, Linking};
use crate::model::{
    Access, ChannelKind, ChatRef, Click, ConsentChange, ContactId, ConversationId, InboundEvent, InboundMessage,
    Membership, MessageId, Millis, Peer, Receipt, believable_time,
};

/// What one ingest did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestReport {
    pub stored: usize,
    pub duplicates: usize,
    pub edits: usize,
    pub clicks: usize,
    pub receipts: usize,
    pub unsupported: usize,
}

/// A cursor to advance in the same transaction: (channel, key, value).
pub type Cursor<'a> = (&'a str, &'a str, String);

impl Store {
    /// Stores `events` and advances `cursor` atomically.
    /// `now` is the arrival time: a platform time that cannot be believed is replaced by it.
    pub fn ingest(&mut self, events: &[InboundEvent], cursor: Option<Cursor<'_>>, now: Millis) -> Result<IngestReport> {
        let rules = self.rules.clone();
        let tx = self.write()?;
        let report = apply(&tx, events, cursor, &rules, now)?;
        tx.commit()?;
        Ok(report)
    }

    /// Group commit: stores each batch as `ingest` would, all in one transaction, so the
    /// batches that arrived together share one commit (and one write of every page they
    /// touch). Each batch gets its own answer. When any batch fails, or the commit does,
    /// nothing of the group stays and each batch is stored again in a transaction of its
    /// own, so a batch that cannot be stored fails alone, exactly as it would have alone.
    pub fn ingest_together(
        &mut self,
        batches: &[(&[InboundEvent], Option<Cursor<'_>>)],
        now: Millis,
    ) -> Vec<Result<IngestReport>> {
        if batches.len() > 1 {
            let rules = self.rules.clone();
            let together = self.write().map_err(super::StoreError::from).and_then(|tx| {
                let reports = batches
                    .iter()
                    .map(|(events, cursor)| apply(&tx, events, cursor.clone(), &rules, now))
                    .collect::<Result<Vec<_>>>()?;
                tx.commit()?;
                Ok(reports)
            });
            match together {
                Ok(reports) => return reports.into_iter().map(Ok).collect(),
                Err(e) => {
                    tracing::debug!(error = %e, batches = batches.len(), "a group failed; storing its batches one by one")
                }
            }
        }
        batches.iter().map(|(events, cursor)| self.ingest(events, cursor.clone(), now)).collect()
    }
}

/// What ingest applies to each message: the STOP keywords (`[consent]`) and the
/// phone-number links (`[contacts]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestRules {
    pub stop: crate::model::StopPolicy,
    pub linking: Linking,
}

impl From<crate::model::StopPolicy> for IngestRules {
    fn from(stop: crate::model::StopPolicy) -> IngestRules {
        IngestRules { stop, linking: Linking::default() }
    }
}

/// Stores `events` and advances `cursor` in `tx`.
fn apply(
    tx: &Transaction<'_>,
    events: &[InboundEvent],
    cursor: Option<Cursor<'_>>,
    rules: &IngestRules,
    now: Millis,
) -> Result<IngestReport> {
    let mut report = IngestReport::default();
    for event in events {
        match event {
            InboundEvent::Message(m) | InboundEvent::Opened(m) => {
                if insert_inbound(tx, m, None, Some(rules), now)? {
                    report.stored += 1;
                } else {
                    report.duplicates += 1;
                }
            }
            InboundEvent::Echo { message, edited_at: None, author } => {
                if insert_echo(tx, message, None, author, now)? {
                    report.stored += 1;
                } else {
                    report.duplicates += 1;
                }
            }
            InboundEvent::Echo { message, edited_at: Some(edited_at), author } => {
                if apply_edit(tx, message, *edited_at, Direction::Out(author), now)? {
                    report.edits += 1;
                } else {
                    report.duplicates += 1;
                }
            }
            InboundEvent::Edited { message, edited_at } => {
                if apply_edit(tx, message, *edited_at, Direction::In, now)? {
                    report.edits += 1;
                } else {
                    report.duplicates += 1;
                }
            }
            InboundEvent::Click(click) => {
                let click = &Click { at: believable_time(click.at, now).unwrap_or(now), ..click.clone() };
                if actions::record_click(tx, click, now)? {
                    report.clicks += 1;
                } else {
                    report.duplicates += 1;
                }
            }
            InboundEvent::Membership(m) => {
                let m = &Membership { at: believable_time(m.at, now).unwrap_or(now), ..m.clone() };
                if !actions::record_membership(tx, m, now)? {
                    report.duplicates += 1;
                }
            }
            InboundEvent::Receipt(r) => {
                let r = &Receipt { at: believable_time(r.at, now).unwrap_or(now), ..r.clone() };
                if super::receipts::apply_receipt(tx, r, now)? {
                    report.receipts += 1;
                } else {
                    report.duplicates += 1;
                }
            }
            InboundEvent::Consent(c) => {
                let c = &ConsentChange { at: believable_time(c.at, now).unwrap_or(now), ..c.clone() };
                let contact = upsert_contact(tx, c.chat.channel, &c.from, now)?;
                upsert_conversation(tx, &c.chat, contact, now)?;
                let action = if c.opt_in { "opt_in" } else { "opt_out" };
                if !actions::consent_recorded(tx, contact, c.chat.channel, c.purpose, action, &c.evidence, c.at)? {
                    actions::insert_consent(
                        tx,
                        contact,
                        c.chat.channel,
                        c.purpose,
                        action,
                        c.source,
                        &c.evidence,
                        c.at,
                    )?;
                }
            }
            InboundEvent::AnswerOnly { .. } => {}
            InboundEvent::Unsupported { channel, .. } => {
                report.unsupported += 1;
                // Counted where `doctor` and tests can see it.
                tx.prepare_cached(
                    "INSERT INTO sync_state(channel, key, value) VALUES (?1, 'unsupported', '1') \
                     ON CONFLICT(channel, key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                )?
                .execute([channel.as_str()])?;
            }
        }
    }
    if let Some((channel, key, value)) = cursor {
        super::set_sync_value(tx, channel, key, &value)?;
    }
    Ok(report)
}

/// The contact behind a platform identity, created on first sight.
pub(super) fn upsert_contact(
    tx: &Transaction<'_>,
    channel: ChannelKind,
    peer: &Peer,
    now: Millis,
) -> Result<ContactId> {
    Ok(identity_contact(tx, channel, peer, now)?.0)
}

/// The contact behind a platform identity, and whether the identity is new.
fn identity_contact(tx: &Transaction<'_>, channel: ChannelKind, peer: &Peer, now: Millis) -> Result<(ContactId, bool)> {
    let existing: Option<ContactId> = tx
        .prepare_cached("SELECT contact_id FROM identities WHERE channel = ?1 AND external_id = ?2")?
        .query_row(params![channel.as_str(), peer.external_id], |r| r.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok((id, false));
    }
    tx.prepare_cached("INSERT INTO contacts(display_name, locale, created_at) VALUES (?1, ?2, ?3)")?
        .execute(params![peer.display_name, peer.locale, now])?;
    let contact = ContactId(tx.last_insert_rowid());
    tx.prepare_cached(
        "INSERT INTO identities(contact_id, channel, external_id, username, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![contact, channel.as_str(), peer.external_id, peer.username, now])?;
    Ok((contact, true))
}

pub(super) fn upsert_conversation(
    tx: &Transaction<'_>,
    chat: &ChatRef,
    contact: ContactId,
    now: Millis,
) -> Result<ConversationId> {
    // A group belongs to no one contact; its title follows the platform's. A private
    // chat first made by a send (titled with its bare id) takes the customer's name
    // when they first write; after that an agent's rename sticks.
    let owner = (!chat.is_group).then_some(contact);
    let id = tx
        .prepare_cached(
            "INSERT INTO conversations(channel, external_chat_id, contact_id, is_group, title, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT(channel, external_chat_id) DO UPDATE SET \
               title = CASE WHEN excluded.is_group OR contact_id IS NULL OR title = external_chat_id \
                 THEN excluded.title ELSE title END, \
               contact_id = coalesce(contact_id, excluded.contact_id) \
             RETURNING id",
        )?
        .query_row(
            params![chat.channel.as_str(), chat.external_chat_id, owner, chat.is_group, chat.title, now],
            |r| r.get(0),
        )?;
    Ok(id)
}

/// Inserts one inbound message (with `edited_at` when it first arrives as an edit);
/// false when it was already stored.
fn insert_inbound(
    tx: &Transaction<'_>,
    m: &InboundMessage,
    edited_at: Option<Millis>,
    rules: Option<&IngestRules>,
    now: Millis,
) -> Result<bool> {
    // A time no platform could have meant (0, ancient, milliseconds read as seconds)
    // becomes the arrival time; the platform's value is kept as an event below.
    let at = believable_time(m.sent_at, now).unwrap_or(now);
    let (contact, new) = identity_contact(tx, m.chat.channel, &m.from, now)?;
    // An edit of a message never stored links nothing: the next message will.
    let linking = rules.map_or(Linking { mode: LinkMode::Off, ..Linking::default() }, |r| r.linking);
    let contact = super::people::vouched_phone(tx, m, contact, new, &linking, now)?;
    let conversation = upsert_conversation(tx, &m.chat, contact, now)?;
    // A reply that is the text of a button under our tracked message is a press on it.
    if let Some(pressed) = actions::tracked_press(tx, conversation, m)? {
        return actions::record_tracked_press(tx, conversation, m, pressed, now);
    }
    let inserted = tx
        .prepare_cached(
            "INSERT INTO messages(conversation_id, direction, kind, body, entities, media, reply_to_external_id, \
               sent_at, edited_at, status, sender_external_id, sender_name, external_id, created_at) \
             VALUES (?1, 'in', ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'received', ?9, ?10, ?11, ?12) \
             ON CONFLICT(conversation_id, external_id) DO NOTHING",
        )?
        .execute(params![
            conversation,
            m.kind,
            m.text,
            m.entities,
            m.media,
            m.reply_to,
            at,
            edited_at,
            m.from.external_id,
            m.from.display_name,
            m.external_id,
            now
        ])?;
    if inserted == 0 {
        return Ok(false);
    }
    if at != m.sent_at {
        tx.prepare_cached(
            "INSERT INTO message_events(message_id, kind, detail, at) VALUES (?1, 'platform_time', ?2, ?3)",
        )?
        .execute(params![
            tx.last_insert_rowid(),
            format!("the platform said {} ms; arrival time used", m.sent_at),
            now
        ])?;
    }
    // A new message from the customer reopens a resolved, snoozed or pending conversation and
    // puts it at the top of the list; a notice (a reaction, a member joining) does not.
    // The preview follows only the newest message.
    tx.prepare_cached(
        "UPDATE conversations SET \
           last_preview = CASE WHEN ?2 >= last_message_at THEN ?3 ELSE last_preview END, \
           unanswered = CASE WHEN ?2 >= last_message_at THEN ?4 ELSE unanswered END, \
           last_message_at = max(last_message_at, ?2), \
           last_inbound_at = max(coalesce(last_inbound_at, 0), ?2), \
           unread = unread + 1, inbound_count = inbound_count + 1, \
           snoozed_until = CASE WHEN ?4 = 1 AND status = 'snoozed' THEN NULL ELSE snoozed_until END, \
           status = CASE WHEN ?4 = 1 AND status IN ('resolved', 'snoozed', 'pending') THEN 'open' ELSE status END \
         WHERE id = ?1",
    )?
    .execute(params![conversation, at, preview(&m.text), i64::from(!is_notice(&m.kind))])?;
    if let Some(payload) = &m.start_payload {
        // Where the customer first came from; a later link does not rewrite it.
        tx.prepare_cached("UPDATE contacts SET source = ?2 WHERE id = ?1 AND source IS NULL")?
            .execute(params![contact, payload])?;
        if m.opt_in {
            actions::insert_consent(tx, contact, m.chat.channel, "marketing", "opt_in", "start_link", payload, at)?;
        }
    }
    if m.chat.channel.rules().access == Access::Subscribers && !is_notice(&m.kind) {
        actions::implicit_subscription(tx, m.chat.channel, contact, conversation, &m.external_id, at)?;
    }
    if let Some(stop) = rules.map(|r| &r.stop)
        && m.kind == "text"
        && stop.matches(&m.text)
    {
        actions::keyword_opt_out(tx, contact, conversation, m, stop, now)?;
    }
    Ok(true)
}

/// Who wrote an edited message: the customer, or the business (an echo, by its author).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction<'a> {
    In,
    Out(&'a str),
}

/// A new version of a message: the old text goes to message_events. An edit of a
/// message we never stored is stored as it now reads, on the side that wrote it. False
/// for a redelivery.
fn apply_edit(
    tx: &Transaction<'_>,
    m: &InboundMessage,
    edited_at: Millis,
    side: Direction,
    now: Millis,
) -> Result<bool> {
    let edited_at = believable_time(edited_at, now).unwrap_or(now);
    let contact = upsert_contact(tx, m.chat.channel, &m.from, now)?;
    let conversation = upsert_conversation(tx, &m.chat, contact, now)?;
    let stored: Option<(MessageId, String, Option<Millis>)> = tx
        .prepare_cached("SELECT id, body, edited_at FROM messages WHERE conversation_id = ?1 AND external_id = ?2")?
        .query_row(params![conversation, m.external_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((id, old_body, old_edit)) = stored else {
        return match side {
            Direction::In => insert_inbound(tx, m, Some(edited_at), None, now),
            Direction::Out(author) => insert_echo(tx, m, Some(edited_at), author, now),
        };
    };
    if old_edit.is_some_and(|t| t >= edited_at) {
        return Ok(false);
    }
    tx.prepare_cached("INSERT INTO message_events(message_id, kind, detail, at) VALUES (?1, 'edit', ?2, ?3)")?
        .execute(params![id, old_body, edited_at])?;
    tx.prepare_cached(
        "UPDATE messages SET body = ?2, entities = ?3, media = coalesce(?4, media), edited_at = ?5 WHERE id = ?1",
    )?
    .execute(params![id, m.text, m.entities, m.media, edited_at])?;
    tx.prepare_cached(
        "UPDATE conversations SET last_preview = ?2 WHERE id = ?1 AND last_message_at = \
           (SELECT sent_at FROM messages WHERE id = ?3)",
    )?
    .execute(params![conversation, preview(&m.text), id])?;
    Ok(true)
}

/// Stores a message the business sent from elsewhere as one of ours, already sent; it
/// answers the customer as a reply from the console would. False when already stored.
fn insert_echo(
    tx: &Transaction<'_>,
    m: &InboundMessage,
    edited_at: Option<Millis>,
    author: &str,
    now: Millis,
) -> Result<bool> {
    let at = believable_time(m.sent_at, now).unwrap_or(now);
    let contact = upsert_contact(tx, m.chat.channel, &m.from, now)?;
    let conversation = upsert_conversation(tx, &m.chat, contact, now)?;
    // Our own send seen back from the platform (VK's message_reply names the outbox row
    // in its random_id), perhaps before the sender recorded it: it is that row, not a
    // new one. Its platform id is filled in here if the sender has not yet.
    if let Some(ours) = m.tracking.as_deref().and_then(|t| t.parse::<i64>().ok()) {
        let found = tx
            .prepare_cached(
                "UPDATE messages SET external_id = coalesce(external_id, ?3) \
                 WHERE id = ?1 AND conversation_id = ?2 AND direction = 'out' AND kind <> 'note'",
            )?
            .execute(params![ours, conversation, m.external_id])?;
        if found > 0 {
            return Ok(false);
        }
    }
    let inserted = tx
        .prepare_cached(
            "INSERT INTO messages(conversation_id, direction, kind, body, entities, media, reply_to_external_id, \
               sent_at, edited_at, status, author, external_id, created_at) \
             VALUES (?1, 'out', ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'sent', ?9, ?10, ?11) \
             ON CONFLICT(conversation_id, external_id) DO NOTHING",
        )?
        .execute(params![
            conversation,
            m.kind,
            m.text,
            m.entities,
            m.media,
            m.reply_to,
            at,
            edited_at,
            author,
            m.external_id,
            now
        ])?;
    if inserted == 0 {
        return Ok(false);
    }
    answered(tx, conversation, at, &m.text)?;
    Ok(true)
}

/// Our message at `at` answers the conversation, when it is its newest: the preview
/// follows it, nothing waits or is unread any more.
fn answered(tx: &Transaction<'_>, conversation: ConversationId, at: Millis, text: &str) -> Result<()> {
    tx.prepare_cached(
        "UPDATE conversations SET last_outbound_at = max(coalesce(last_outbound_at, 0), ?2), \
           last_preview = CASE WHEN ?2 >= last_message_at THEN ?3 ELSE last_preview END, \
           unanswered = CASE WHEN ?2 >= last_message_at THEN 0 ELSE unanswered END, \
           unread = CASE WHEN ?2 >= last_message_at THEN 0 ELSE unread END, \
           last_message_at = max(last_message_at, ?2) WHERE id = ?1",
    )?
    .execute(params![conversation, at, preview(text)])?;
    Ok(())
}

/// A notice about the customer (opened the chat, reacted, deleted a message) rather
/// than something they said: it does not wait for an answer, nor subscribe anyone.
fn is_notice(kind: &str) -> bool {
    matches!(kind, "system" | "reaction")
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
    /// Rows of buttons under it (JSON), as `Outgoing` stores them.
    pub buttons: Option<String>,
}

impl Store {
    /// Records an outbound message that needs no sending; false when one with the same
    /// external id is already there.
    pub fn record_outbound(&mut self, conversation: ConversationId, m: &OutboundRecord<'_>) -> Result<bool> {
        let tx = self.write()?;
        let inserted = tx.execute(
            "INSERT INTO messages(conversation_id, direction, kind, body, buttons, sent_at, status, error, author, \
               external_id, created_at) \
             VALUES (?1, 'out', 'text', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?4) \
             ON CONFLICT(conversation_id, external_id) DO NOTHING",
            params![conversation, m.text, m.buttons, m.sent_at, m.status.as_str(), m.error, m.author, m.external_id],
        )?;
        if inserted == 0 {
            return Ok(false);
        }
        super::agents::known(&tx, m.author, m.sent_at)?;
        answered(&tx, conversation, m.sent_at, m.text)?;
        tx.commit()?;
        Ok(true)
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
