//! What a channel adapter decodes from a platform payload: messages, edits, button
//! presses, blocks and subscriptions, receipts for our messages, and consent changes.

use super::{ChannelKind, DeliveryStatus, Millis};

/// A person on the other side of a chat, as a platform describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The platform's user id, as text (Viber ids exceed 2^53).
    pub external_id: String,
    pub display_name: String,
    pub username: Option<String>,
    pub locale: Option<String>,
}

/// The chat a message belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRef {
    pub channel: ChannelKind,
    /// The platform's chat id, as text.
    pub external_chat_id: String,
    /// `private` or `group`.
    pub is_group: bool,
    /// Group title, or the customer's name for a private chat.
    pub title: String,
}

/// A message a customer sent, decoded from a platform payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub chat: ChatRef,
    pub from: Peer,
    /// Unique within the chat: the key that makes a payload seen twice be stored once.
    pub external_id: String,
    /// `text`, `photo`, `document`, `video`, `voice`, `sticker`, `location`, `contact`, …
    pub kind: String,
    /// The text, or for an attachment a readable line describing it and its caption.
    pub text: String,
    pub sent_at: Millis,
    /// Formatting and links as the platform gave them (JSON; Telegram's offsets are in
    /// UTF-16 code units).
    pub entities: Option<String>,
    /// The attachment (JSON: file id, size, duration, coordinates …), so it can be
    /// fetched or shown later.
    pub media: Option<String>,
    /// The platform id of the message this one replies to.
    pub reply_to: Option<String>,
    /// A phone number the platform vouches is the sender's (`+` and digits): a Telegram
    /// contact shared by its owner, the `wa_id` a WhatsApp customer writes from.
    pub shared_phone: Option<String>,
    /// The payload of a deep link (`/start PAYLOAD`): where the customer came from.
    pub start_payload: Option<String>,
    /// Set when the payload is a marketing opt-in: the evidence to record.
    pub opt_in: bool,
    /// What the platform echoed from our last message (Viber `tracking_data`): a reply
    /// whose text is one of that message's buttons is a press on it.
    pub tracking: Option<String>,
}

impl InboundMessage {
    /// A plain text message; the other fields start empty.
    pub fn text(chat: ChatRef, from: Peer, external_id: String, text: String, sent_at: Millis) -> InboundMessage {
        InboundMessage {
            chat,
            from,
            external_id,
            kind: "text".into(),
            text,
            sent_at,
            entities: None,
            media: None,
            reply_to: None,
            shared_phone: None,
            start_payload: None,
            opt_in: false,
            tracking: None,
        }
    }
}

/// A customer pressed a button under one of our messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Click {
    pub chat: ChatRef,
    pub from: Peer,
    /// The platform's id of this press (answered, and the key that stores it once).
    pub query_id: String,
    /// The platform id of our message that carried the button, when known.
    pub message_external_id: Option<String>,
    /// What the button carries (`callback_data`, a reply id, a template payload).
    pub data: Option<String>,
    /// The button's text when the platform says it (WhatsApp does; Telegram does not).
    pub label: Option<String>,
    pub at: Millis,
}

/// A customer can no longer be reached, or can again: Telegram `my_chat_member`
/// (blocked / unblocked the bot), Viber `unsubscribed` / `subscribed`, VK
/// `message_deny` / `message_allow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub chat: ChatRef,
    pub from: Peer,
    pub blocked: bool,
    pub at: Millis,
    /// Where the customer allowed messages (VK's `message_allow` key): kept as the
    /// evidence, and as the contact's source when it has none.
    pub key: Option<String>,
    /// The platform's id of this event, when it has one (VK's `event_id`): a redelivery
    /// is stored once even though the event carries no time of its own.
    pub event_id: Option<String>,
}

/// Everything an adapter can decode from a payload, in the order it should be applied.
// Nearly every event is a message, so boxing it would only add an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundEvent {
    Message(InboundMessage),
    /// The customer opened the chat (Viber `conversation_started`, WhatsApp
    /// `request_welcome`): stored as a notice; the channel's welcome may answer it.
    Opened(InboundMessage),
    /// Something the business itself did elsewhere (the WhatsApp Business app, in
    /// coexistence), told back to us: `chat` and `from` name the customer, the rest is
    /// what the business sent. With `edited_at`, it is a new version of one of ours.
    Echo {
        message: InboundMessage,
        edited_at: Option<Millis>,
        /// Who the store names as its author ("business app", a VK admin).
        author: String,
    },
    /// A new version of a message the customer already sent.
    Edited {
        message: InboundMessage,
        edited_at: Millis,
    },
    Click(Click),
    Membership(Membership),
    /// What happened to one of our messages (a delivery or read receipt, a late failure).
    Receipt(Receipt),
    /// A consent change the platform reports (WhatsApp marketing stop / resume).
    Consent(ConsentChange),
    /// A button press with nothing to attach it to (a press on an inline-mode message):
    /// nothing is stored, but the press is answered so the customer's spinner stops.
    AnswerOnly {
        query_id: String,
    },
    /// An update this adapter does not handle: counted, and kept raw in the log.
    Unsupported {
        channel: ChannelKind,
        what: String,
        raw: String,
    },
}

/// A receipt for one of our messages, or (for Viber's `seen`) for every earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub channel: ChannelKind,
    /// The platform's chat id (WhatsApp `recipient_id`, Viber `user_id`).
    pub chat_id: String,
    /// Our message's platform id; None means every earlier message in the chat.
    pub message_external_id: Option<String>,
    /// The receipt also covers every earlier message of ours in the chat (Viber's `seen`
    /// names the newest message read). Earlier means earlier in the store, not by a
    /// clock: ours and the platform's may disagree.
    pub covers_earlier: bool,
    /// `Sent`, `Delivered`, `Read` or `Failed`.
    pub status: DeliveryStatus,
    /// For a failure: the platform's code, if any, and a readable reason.
    pub error_code: Option<i64>,
    pub error: Option<String>,
    pub at: Millis,
}

/// A consent event a platform reports about a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentChange {
    pub chat: ChatRef,
    pub from: Peer,
    /// `marketing` or `service`.
    pub purpose: &'static str,
    pub opt_in: bool,
    /// Where it came from: `platform`, `button`, ….
    pub source: &'static str,
    pub evidence: String,
    pub at: Millis,
}
