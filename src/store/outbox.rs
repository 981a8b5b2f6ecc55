//! The outbox: an outbound message is a row (status `queued`) before any network call.
//! `enqueue` writes the message and its outbox row in one transaction; the sender claims
//! due rows, and marks them sent, reschedules them, or fails them with a reason.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError};
use crate::model::{Button, CampaignId, ChannelKind, Content, ConversationId, MessageId, Millis, Outgoing};

/// Replies to customers go before campaign messages.
pub const PRIORITY_REPLY: i64 = 10;
pub const PRIORITY_CAMPAIGN: i64 = 0;

/// One message the sender has to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub channel: ChannelKind,
    pub chat_id: String,
    pub is_group: bool,
    /// The text, or the caption of an attachment.
    pub body: String,
    pub content: Content,
    /// Rows of buttons under it.
    pub buttons: Vec<Vec<Button>>,
    /// Set when the stored row cannot be read back into a message (a damaged button or
    /// template column): the sender fails it with this reason instead of sending.
    pub unreadable: Option<String>,
    pub attempts: i64,
    /// The campaign it belongs to: consent is checked again just before it goes.
    pub campaign: Option<CampaignId>,
    /// Set for a change to a message already sent (edit or delete), not a send.
    pub change: Option<super::Change>,
    /// The platform's id of the message, which a change addresses.
    pub external_id: Option<String>,
}

impl OutboxItem {
    /// A text message not (yet) in any store: for tools and tests.
    pub fn text(channel: ChannelKind, chat_id: &str, text: &str) -> OutboxItem {
        OutboxItem {
            message_id: MessageId(0),
            conversation_id: ConversationId(0),
            channel,
            chat_id: chat_id.into(),
            is_group: false,
            body: text.into(),
            content: Content::Text,
            buttons: Vec::new(),
            unreadable: None,
            attempts: 0,
            campaign: None,
            change: None,
            external_id: None,
        }
    }
}

/// Where a scripted send goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendTarget {
    pub channel: ChannelKind,
    pub chat_id: String,
}

/// The external id of a conversation's one welcome message.
pub const WELCOME_ID: &str = "welcome";

/// A send the platform accepted: the message, the platform's id for it, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub id: MessageId,
    pub external_id: Option<String>,
    pub at: Millis,
}

impl Store {
    /// Writes an outbound text message and its outbox row; it shows at once as queued.
    pub fn enqueue(
        &mut self,
        conversation: ConversationId,
        text: &str,
        author: &str,
        priority: i64,
        now: Millis,
    ) -> Result<MessageId> {
        self.enqueue_message(conversation, &Outgoing::text(text), author, priority, now)
    }

    /// Writes an outbound message (text, attachment, buttons) and its outbox row in one
    /// transaction.
    pub fn enqueue_message(
        &mut self,
        conversation: ConversationId,
        out: &Outgoing,
        author: &str,
        priority: i64,
        now: Millis,
    ) -> Result<MessageId> {
        let tx = self.write()?;
        let id = enqueue_in(&tx, conversation, out, author, priority, now, None)?;
        tx.commit()?;
        Ok(id)
    }

    /// Enqueues to a chat by its platform id, creating the conversation if this is the
    /// first message to it (a script notifying a customer, say).
    pub fn enqueue_to_chat(
        &mut self,
        target: &SendTarget,
        out: &Outgoing,
        author: &str,
        now: Millis,
    ) -> Result<(ConversationId, MessageId)> {
        // One statement: the engine may create the same conversation at the same moment
        // (a webhook from this customer), so a look-then-insert could collide.
        let conversation: ConversationId = self.conn.query_row(
            "INSERT INTO conversations(channel, external_chat_id, title, created_at) VALUES (?1, ?2, ?2, ?3) \
             ON CONFLICT(channel, external_chat_id) DO UPDATE SET title = title RETURNING id",
            params![target.channel.as_str(), target.chat_id, now],
            |r| r.get(0),
        )?;
        let message = self.enqueue_message(conversation, out, author, PRIORITY_REPLY, now)?;
        Ok((conversation, message))
    }

    /// Queued messages of `channel` due by `now`, most urgent first.
    pub fn outbox_due(&self, channel: ChannelKind, now: Millis, limit: usize) -> Result<Vec<OutboxItem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.message_id, m.conversation_id, o.chat_id, c.is_group, m.kind, m.body, \
               json_extract(m.media, '$.source'), m.buttons, o.attempts, m.campaign_id, o.action, o.new_body, \
               m.external_id \
             FROM outbox o JOIN messages m ON m.id = o.message_id JOIN conversations c ON c.id = m.conversation_id \
             WHERE o.channel = ?1 AND o.next_attempt_at <= ?2 AND (o.action <> 'send' OR m.status = 'queued' \
               AND (m.campaign_id IS NULL OR (SELECT k.state FROM campaigns k WHERE k.id = m.campaign_id) = 'running')) \
             ORDER BY o.priority DESC, o.next_attempt_at, o.message_id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![channel.as_str(), now, limit as i64], |r| {
            let (kind, attachment, buttons): (String, Option<String>, Option<String>) =
                (r.get(4)?, r.get(6)?, r.get(7)?);
            let content = Content::from_stored(&kind, attachment.as_deref());
            let buttons: std::result::Result<Vec<Vec<Button>>, String> = match buttons {
                Some(json) => serde_json::from_str(&json).map_err(|e| format!("the buttons are not readable: {e}")),
                None => Ok(Vec::new()),
            };
            let unreadable = content.as_ref().err().or(buttons.as_ref().err()).cloned();
            let change = match (r.get::<_, String>(10)?.as_str(), r.get::<_, Option<String>>(11)?) {
                ("edit", text) => Some(super::Change::Edit(text.unwrap_or_default())),
                ("delete", _) => Some(super::Change::Delete),
                _ => None,
            };
            Ok(OutboxItem {
                message_id: r.get(0)?,
                conversation_id: r.get(1)?,
                channel,
                chat_id: r.get(2)?,
                is_group: r.get(3)?,
                body: r.get(5)?,
                content: content.unwrap_or(Content::Text),
                buttons: buttons.unwrap_or_default(),
                unreadable,
                attempts: r.get(8)?,
                // A change is the agent's, whatever the message was: no campaign rules.
                campaign: if change.is_some() { None } else { r.get(9)? },
                change,
                external_id: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// When the next queued message of `channel` falls due, if any.
    pub fn outbox_next_due(&self, channel: ChannelKind) -> Result<Option<Millis>> {
        Ok(self.conn.query_row(
            "SELECT min(o.next_attempt_at) FROM outbox o JOIN messages m ON m.id = o.message_id \
             WHERE o.channel = ?1 AND (o.action <> 'send' OR m.status = 'queued' AND (m.campaign_id IS NULL \
               OR (SELECT k.state FROM campaigns k WHERE k.id = m.campaign_id) = 'running'))",
            [channel.as_str()],
            |r| r.get(0),
        )?)
    }

    /// The sender is about to call the platform.
    pub fn mark_sending(&mut self, id: MessageId, now: Millis) -> Result<()> {
        self.set_message_status(id, "sending", now)
    }

    /// The sender is about to call the platform for each of `ids`: one transaction for
    /// the sends that start together.
    pub fn mark_sending_all(&mut self, ids: &[MessageId], now: Millis) -> Result<()> {
        let tx = self.write()?;
        for &id in ids {
            status_in(&tx, id, "sending", now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The platform accepted the message.
    pub fn mark_sent(&mut self, id: MessageId, external_id: Option<&str>, at: Millis) -> Result<()> {
        self.mark_sent_all(&[Sent { id, external_id: external_id.map(str::to_string), at }])
    }

    /// The platform accepted each of these: one transaction for the sends that finished
    /// together.
    pub fn mark_sent_all(&mut self, sent: &[Sent]) -> Result<()> {
        let tx = self.write()?;
        for Sent { id, external_id, at } in sent {
            let (id, at) = (*id, *at);
            tx.prepare_cached("UPDATE messages SET status = 'sent', error = NULL WHERE id = ?1")?.execute([id])?;
            if let Some(ext) = external_id {
                // A platform id already taken in this chat (never expected) is not worth
                // failing a delivered message over: the message simply keeps no id.
                tx.prepare_cached("UPDATE OR IGNORE messages SET external_id = ?2 WHERE id = ?1")?
                    .execute(params![id, ext])?;
                // Receipts that beat this answer have waited for the id.
                super::receipts::release_held(&tx, id, ext, at)?;
            }
            tx.prepare_cached("DELETE FROM outbox WHERE message_id = ?1")?.execute([id])?;
            tx.prepare_cached(
                "INSERT INTO message_events(message_id, kind, status, at) VALUES (?1, 'status', 'sent', ?2)",
            )?
            .execute(params![id, at])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A passing failure: try again at `at`. The reason shows on the message meanwhile.
    pub fn retry_later(&mut self, id: MessageId, at: Millis, reason: &str, now: Millis) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE message_id = ?1",
            params![id, at, reason],
        )?;
        tx.execute("UPDATE messages SET status = 'queued', error = ?2 WHERE id = ?1", params![id, reason])?;
        tx.execute(
            "INSERT INTO message_events(message_id, kind, status, detail, at) VALUES (?1, 'retry', 'queued', ?2, ?3)",
            params![id, reason, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A permanent failure: the message shows it with its reason and leaves the outbox.
    pub fn fail(&mut self, id: MessageId, reason: &str, now: Millis) -> Result<()> {
        let tx = self.write()?;
        tx.execute("UPDATE messages SET status = 'failed', error = ?2 WHERE id = ?1", params![id, reason])?;
        tx.execute("DELETE FROM outbox WHERE message_id = ?1", [id])?;
        tx.execute(
            "INSERT INTO message_events(message_id, kind, status, detail, at) VALUES (?1, 'status', 'failed', ?2, ?3)",
            params![id, reason, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The platform says the customer cannot be reached (blocked us): the conversation
    /// shows it, and the ledger records an opt-out of everything, once.
    pub fn record_unreachable(&mut self, conversation: ConversationId, evidence: &str, at: Millis) -> Result<()> {
        let tx = self.write()?;
        let newly = tx.execute(
            "UPDATE conversations SET blocked_at = ?2 WHERE id = ?1 AND blocked_at IS NULL",
            params![conversation, at],
        )?;
        if newly == 1 {
            super::customer_actions::record_consent_for_conversation(
                &tx,
                conversation,
                "opt_out",
                &["service", "marketing"],
                "platform_block",
                evidence,
                at,
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The platform refused a marketing message because the customer opted out: the
    /// ledger records it.
    pub fn record_marketing_opt_out(&mut self, conversation: ConversationId, evidence: &str, at: Millis) -> Result<()> {
        let tx = self.write()?;
        super::customer_actions::record_consent_for_conversation(
            &tx,
            conversation,
            "opt_out",
            &["marketing"],
            "platform",
            evidence,
            at,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records the welcome message a platform delivered in its webhook answer (Viber's
    /// `conversation_started`), once per conversation however often the platform delivers
    /// the opening again: false when it was already there.
    pub fn record_welcome(&mut self, channel: ChannelKind, chat_id: &str, text: &str, now: Millis) -> Result<bool> {
        let Some(conversation) = self.find_conversation(channel, chat_id)? else { return Ok(false) };
        let record = super::OutboundRecord {
            text,
            sent_at: now,
            status: crate::model::DeliveryStatus::Sent,
            error: None,
            author: super::BOT,
            // One welcome per conversation: a redelivered "opened the chat" finds it there.
            external_id: Some(WELCOME_ID.into()),
            buttons: None,
        };
        let new = self.record_outbound(conversation, &record)?;
        if new {
            let tx = self.write()?;
            super::automation::log_fire(&tx, "welcome", conversation, "", now, "sent")?;
            tx.commit()?;
        }
        Ok(new)
    }

    /// Queues the welcome message for a customer who just opened the chat (WhatsApp's
    /// `request_welcome`), unless the conversation already has one: false then.
    pub fn enqueue_welcome(&mut self, channel: ChannelKind, chat_id: &str, text: &str, now: Millis) -> Result<bool> {
        let Some(conversation) = self.find_conversation(channel, chat_id)? else { return Ok(false) };
        let tx = self.write()?;
        // Once per conversation (welcomes from before the automation log have the author
        // `welcome`).
        let earlier: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM messages WHERE conversation_id = ?1 AND direction = 'out' AND author = 'welcome')",
            [conversation],
            |r| r.get(0),
        )?;
        if earlier || !super::automation::log_fire(&tx, "welcome", conversation, "", now, "sent")? {
            return Ok(false);
        }
        enqueue_in(&tx, conversation, &Outgoing::text(text), super::BOT, PRIORITY_REPLY, now, None)?;
        tx.commit()?;
        Ok(true)
    }

    /// Our messages to a conversation that went out in the last hour since the customer
    /// last wrote, and when the oldest of them went: Viber's hourly cap.
    pub fn unanswered_sent_since(&self, conversation: ConversationId, since: Millis) -> Result<(i64, Option<Millis>)> {
        Ok(self.conn.query_row(
            "SELECT count(*), min(m.sent_at) FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.conversation_id = ?1 AND m.direction = 'out' AND m.kind <> 'note' \
               AND m.status IN ('sent', 'delivered', 'read') \
               AND m.sent_at > max(?2, coalesce(c.last_inbound_at, 0))",
            params![conversation, since],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Messages caught mid-request by a crash (`sending`, still in the outbox), with
    /// whether each is a campaign's. What becomes of them is `sync::recovery`'s rule.
    pub fn interrupted_sends(&self) -> Result<Vec<(MessageId, bool)>> {
        let mut stmt = self.conn.prepare(
            "SELECT m.id, m.campaign_id IS NOT NULL FROM messages m JOIN outbox o ON o.message_id = m.id \
             WHERE m.status = 'sending' ORDER BY m.id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A private note in the conversation: stored with the messages (it shows in the
    /// timeline and the export as kind `note`, by its author) but never sent, never
    /// counted as a reply, and never changes whether the conversation waits.
    pub fn add_note(
        &mut self,
        conversation: ConversationId,
        author: &str,
        text: &str,
        now: Millis,
    ) -> Result<MessageId> {
        let tx = self.write()?;
        super::agents::known(&tx, author, now)?;
        tx.execute(
            "INSERT INTO messages(conversation_id, direction, kind, body, sent_at, status, author, created_at) \
             VALUES (?1, 'out', 'note', ?2, ?3, 'sent', ?4, ?3)",
            params![conversation, text, now, author],
        )?;
        let id = MessageId(tx.last_insert_rowid());
        tx.commit()?;
        Ok(id)
    }

    /// Queues a conversation's failed replies again (an agent's `resend`), as new
    /// attempts at the front of the queue; campaign messages are left alone (a campaign
    /// decides its own retries). Returns how many went back.
    pub fn resend_failed(&mut self, conversation: ConversationId, by: &str, now: Millis) -> Result<usize> {
        let tx = self.write()?;
        let failed: Vec<(MessageId, String, String)> = tx
            .prepare(
                "SELECT m.id, c.channel, c.external_chat_id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE m.conversation_id = ?1 AND m.direction = 'out' AND m.status = 'failed' AND m.campaign_id IS NULL \
                   AND m.kind <> 'note' ORDER BY m.id",
            )?
            .query_map([conversation], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (id, channel, chat) in &failed {
            tx.execute("UPDATE messages SET status = 'queued', error = NULL WHERE id = ?1", [id])?;
            tx.execute(
                "INSERT INTO outbox(message_id, channel, chat_id, priority, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT(message_id) DO UPDATE SET next_attempt_at = excluded.next_attempt_at, attempts = 0",
                params![id, channel, chat, PRIORITY_REPLY, now],
            )?;
            tx.execute(
                "INSERT INTO message_events(message_id, kind, status, detail, at) VALUES (?1, 'retry', 'queued', ?2, ?3)",
                params![id, format!("sent again by {by}"), now],
            )?;
        }
        tx.commit()?;
        Ok(failed.len())
    }

    /// Puts a message back in the queue, saying why in its events.
    pub fn requeue(&mut self, id: MessageId, why: &str, now: Millis) -> Result<()> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO message_events(message_id, kind, status, detail, at) VALUES (?1, 'retry', 'queued', ?2, ?3)",
            params![id, why, now],
        )?;
        tx.execute("UPDATE messages SET status = 'queued' WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    fn set_message_status(&mut self, id: MessageId, status: &str, now: Millis) -> Result<()> {
        let tx = self.write()?;
        status_in(&tx, id, status, now)?;
        tx.commit()?;
        Ok(())
    }
}

/// Sets a message's status in `tx`, with its event.
fn status_in(tx: &rusqlite::Transaction<'_>, id: MessageId, status: &str, now: Millis) -> Result<()> {
    tx.prepare_cached("UPDATE messages SET status = ?2, error = NULL WHERE id = ?1")?.execute(params![id, status])?;
    tx.prepare_cached("INSERT INTO message_events(message_id, kind, status, at) VALUES (?1, 'status', ?2, ?3)")?
        .execute(params![id, status, now])?;
    Ok(())
}

/// Writes an outbound message and its outbox row inside `tx`. Only a person's message
/// answers the customer: after a campaign's or the bot's (an away reply, say), an
/// unanswered conversation stays unanswered.
pub(super) fn enqueue_in(
    tx: &rusqlite::Transaction<'_>,
    conversation: ConversationId,
    out: &Outgoing,
    author: &str,
    priority: i64,
    now: Millis,
    campaign: Option<CampaignId>,
) -> Result<MessageId> {
    if campaign.is_none() {
        super::agents::known(tx, author, now)?;
    }
    let (channel, chat_id): (String, String) = tx
        .prepare_cached("SELECT channel, external_chat_id FROM conversations WHERE id = ?1")?
        .query_row([conversation], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("conversation {conversation} does not exist")))?;
    let media = out.attachment.as_ref().map(|a| serde_json::json!({ "source": a }).to_string());
    let buttons = (!out.buttons.is_empty()).then(|| serde_json::to_string(&out.buttons).unwrap_or_default());
    let body = match (&out.attachment, out.text.is_empty()) {
        (Some(a), true) => format!("[{} {a}]", out.kind),
        _ => out.text.clone(),
    };
    tx.prepare_cached(
        "INSERT INTO messages(conversation_id, direction, kind, body, media, buttons, sent_at, status, author, \
           created_at, campaign_id) VALUES (?1, 'out', ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?6, ?8)",
    )?
    .execute(params![conversation, out.kind, body, media, buttons, now, author, campaign])?;
    let id = MessageId(tx.last_insert_rowid());
    tx.prepare_cached(
        "INSERT INTO outbox(message_id, channel, chat_id, priority, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id, channel, chat_id, priority, now])?;
    tx.prepare_cached("INSERT INTO message_events(message_id, kind, status, at) VALUES (?1, 'status', 'queued', ?2)")?
        .execute(params![id, now])?;
    let answered = campaign.is_none() && !super::agents::is_machine(author);
    tx.prepare_cached(
        "UPDATE conversations SET last_message_at = max(last_message_at, ?2), last_outbound_at = ?2, \
           last_preview = ?3, unanswered = unanswered * NOT ?4, unread = unread * NOT ?4 WHERE id = ?1",
    )?
    .execute(params![conversation, now, super::ingest::preview(&body), answered])?;
    Ok(id)
}
