//! Domain types shared by every layer: ids, channels, directions, delivery states and the
//! events a channel adapter decodes from a platform payload.

use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                i64::column_result(v).map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A row of `contacts`.
    ContactId
);
id_type!(
    /// A row of `conversations`.
    ConversationId
);
id_type!(
    /// A row of `messages`.
    MessageId
);
id_type!(
    /// A row of `campaigns`.
    CampaignId
);

/// UTC milliseconds since the Unix epoch: the one time representation in the store.
pub type Millis = i64;

/// Now, in [`Millis`].
pub fn now_ms() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

/// A messenger we talk through. Stored as its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelKind {
    Telegram,
    WhatsApp,
    Viber,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 3] = [ChannelKind::Telegram, ChannelKind::WhatsApp, ChannelKind::Viber];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Telegram => "telegram",
            ChannelKind::WhatsApp => "whatsapp",
            ChannelKind::Viber => "viber",
        }
    }

    /// The two-letter badge shown in the conversation list.
    pub fn badge(self) -> &'static str {
        match self {
            ChannelKind::Telegram => "TG",
            ChannelKind::WhatsApp => "WA",
            ChannelKind::Viber => "VB",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no known value of an enum stored as text.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} `{value}` (expected one of: {expected})")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl FromStr for ChannelKind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "telegram" => Ok(ChannelKind::Telegram),
            "whatsapp" => Ok(ChannelKind::WhatsApp),
            "viber" => Ok(ChannelKind::Viber),
            _ => Err(UnknownValue { what: "channel", value: s.into(), expected: "telegram, whatsapp, viber" }),
        }
    }
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

impl FromStr for Direction {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "in" => Ok(Direction::In),
            "out" => Ok(Direction::Out),
            _ => Err(UnknownValue { what: "direction", value: s.into(), expected: "in, out" }),
        }
    }
}

/// Where a message is on its way to the customer. Inbound messages are `Received`.
/// The order of the outbound states matters: a receipt never moves a message backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeliveryStatus {
    Received,
    Queued,
    Sending,
    Sent,
    Delivered,
    Read,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Received => "received",
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed => "failed",
        }
    }
}

impl FromStr for DeliveryStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "received" => DeliveryStatus::Received,
            "queued" => DeliveryStatus::Queued,
            "sending" => DeliveryStatus::Sending,
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "read" => DeliveryStatus::Read,
            "failed" => DeliveryStatus::Failed,
            _ => {
                return Err(UnknownValue {
                    what: "delivery status",
                    value: s.into(),
                    expected: "received, queued, sending, sent, delivered, read, failed",
                });
            }
        })
    }
}

/// The work state of a conversation, set by agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationStatus {
    Open,
    Pending,
    Snoozed,
    Resolved,
}

impl ConversationStatus {
    pub const ALL: [ConversationStatus; 4] = [
        ConversationStatus::Open,
        ConversationStatus::Pending,
        ConversationStatus::Snoozed,
        ConversationStatus::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Pending => "pending",
            ConversationStatus::Snoozed => "snoozed",
            ConversationStatus::Resolved => "resolved",
        }
    }
}

impl FromStr for ConversationStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| UnknownValue {
            what: "conversation status",
            value: s.into(),
            expected: "open, pending, snoozed, resolved",
        })
    }
}

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
    /// A phone number the customer shared as their own.
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
/// (blocked / unblocked the bot), Viber `unsubscribed` / `subscribed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub chat: ChatRef,
    pub from: Peer,
    pub blocked: bool,
    pub at: Millis,
}

/// Everything an adapter can decode from a payload, in the order it should be applied.
// Nearly every event is a message, so boxing it would only add an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundEvent {
    Message(InboundMessage),
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

/// A button under an outbound message: a link, or a reply the platform sends back to us
/// as a click. Stored as JSON rows of buttons, the shape Telegram uses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Button {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
}

impl Button {
    /// Parses `TEXT=https://…` (a link) or `TEXT=DATA` (a reply button carrying DATA).
    pub fn parse(spec: &str) -> Result<Button, String> {
        let (text, target) =
            spec.split_once('=').ok_or_else(|| format!("button `{spec}`: write TEXT=https://… or TEXT=DATA"))?;
        let text = text.trim();
        if text.is_empty() {
            return Err(format!("button `{spec}`: the text is empty"));
        }
        let target = target.trim();
        if target.starts_with("https://") || target.starts_with("http://") {
            reqwest::Url::parse(target).map_err(|e| format!("button `{spec}`: {e}"))?;
            Ok(Button { text: text.into(), url: Some(target.into()), callback_data: None })
        } else if target.is_empty() || target.len() > 64 {
            Err(format!("button `{spec}`: the data must be 1 to 64 bytes (it is {})", target.len()))
        } else {
            Ok(Button { text: text.into(), url: None, callback_data: Some(target.into()) })
        }
    }
}

/// What an agent or a script sends: text, optionally an attachment and buttons.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// `text`, `photo` or `document`.
    pub kind: String,
    /// The text, or the caption of an attachment.
    pub text: String,
    /// For `photo` and `document`: an http(s) URL or a local path.
    pub attachment: Option<String>,
    /// Rows of buttons.
    pub buttons: Vec<Vec<Button>>,
}

impl Outgoing {
    pub fn text(text: impl Into<String>) -> Outgoing {
        Outgoing { kind: "text".into(), text: text.into(), attachment: None, buttons: Vec::new() }
    }

    /// Whether `channel` would take this message; the reason when not. Checked before
    /// anything is queued, so the agent can fix the text rather than see it fail.
    pub fn check(&self, channel: ChannelKind) -> Result<(), String> {
        if self.text.trim().is_empty() && self.attachment.is_none() {
            return Err("there is nothing to send".into());
        }
        let (limit, what) = match self.attachment {
            Some(_) => (channel.caption_limit(), "caption"),
            None => (channel.text_limit(), "message"),
        };
        let chars = self.text.chars().count();
        if chars > limit {
            return Err(format!(
                "the {what} is {chars} characters long; {} takes at most {limit}: shorten it or send it in parts",
                channel.display_name()
            ));
        }
        Ok(())
    }
}

impl ChannelKind {
    /// The longest text one message may carry.
    pub fn text_limit(self) -> usize {
        match self {
            // "1-4096 characters after entities parsing" (Bot API sendMessage).
            ChannelKind::Telegram | ChannelKind::WhatsApp => 4096,
            ChannelKind::Viber => 7000,
        }
    }

    /// The longest caption under a photo or document.
    pub fn caption_limit(self) -> usize {
        match self {
            ChannelKind::Telegram | ChannelKind::WhatsApp => 1024,
            ChannelKind::Viber => 7000,
        }
    }

    /// The name people know.
    pub fn display_name(self) -> &'static str {
        match self {
            ChannelKind::Telegram => "Telegram",
            ChannelKind::WhatsApp => "WhatsApp",
            ChannelKind::Viber => "Viber",
        }
    }
}
