//! Domain types shared by every layer: ids, channels, directions, delivery states and the
//! events a channel adapter decodes from a platform payload.

use std::fmt;
use std::str::FromStr;

mod attachment;
mod inbound;
mod macros;
mod outgoing;
pub mod phone;
mod rules;
mod stop;
mod template;
pub mod when;
mod zone;

pub use attachment::{
    Attachment, attachments_dir, downloads_dir, is_attachment_token, picture_format, picture_mime, size_text,
};
pub use inbound::*;
pub use macros::{MACRO_ACTIONS, MacroAction};
pub use outgoing::*;
pub use rules::{Access, ButtonRules, ChatIdRule, Rules};
pub use stop::{StopPolicy, default_confirmations};
pub use template::TemplateConfig;
pub use zone::Zone;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
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

/// 2009-01-01T00:00:00Z: no messenger this console speaks to existed before it, so an
/// earlier platform time (0, negative, a missing field) is not a time at all.
pub const EARLIEST_PLATFORM_TIME: Millis = 1_230_768_000_000;

/// How far ahead of our clock a platform's time may be (clocks drift; a day is generous).
pub const MAX_PLATFORM_LEAD: Millis = 86_400_000;

/// A platform's time when it is believable, relative to `now`: after 2009 and at most a
/// day ahead. Milliseconds where seconds were meant land in year 58,000 and are refused
/// here, as are zero, negative and overflowing values. The caller then uses the arrival
/// time and keeps the platform's value beside it.
pub fn believable_time(at: Millis, now: Millis) -> Option<Millis> {
    (EARLIEST_PLATFORM_TIME..=now.saturating_add(MAX_PLATFORM_LEAD)).contains(&at).then_some(at)
}

/// A messenger we talk through. Stored as its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Telegram,
    WhatsApp,
    Viber,
    Vk,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 4] =
        [ChannelKind::Telegram, ChannelKind::WhatsApp, ChannelKind::Viber, ChannelKind::Vk];

    pub fn as_str(self) -> &'static str {
        self.rules().id
    }

    /// Whether `chat` can name a chat on this channel, checked before anything is queued
    /// so a typo fails at once instead of at the platform later.
    pub fn check_chat_id(self, chat: &str) -> Result<(), String> {
        let rules = self.rules();
        if (rules.chat_id.valid)(chat) {
            return Ok(());
        }
        Err(format!("`{chat}` is not a {} {}", rules.name, rules.chat_id.what))
    }

    /// The two-letter badge shown in the conversation list.
    pub fn badge(self) -> &'static str {
        self.rules().badge
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
    pub expected: String,
}

impl FromStr for ChannelKind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownValue {
            what: "channel",
            value: s.into(),
            expected: ChannelKind::ALL.map(ChannelKind::as_str).join(", "),
        })
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
            _ => Err(UnknownValue { what: "direction", value: s.into(), expected: "in, out".into() }),
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
                    expected: "received, queued, sending, sent, delivered, read, failed".into(),
                });
            }
        })
    }
}

/// The work state of a conversation, set by agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
            expected: "open, pending, snoozed, resolved".into(),
        })
    }
}
