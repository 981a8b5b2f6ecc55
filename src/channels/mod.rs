//! Channels: one adapter per messenger behind a closed enum. Each decodes platform
//! payloads into `InboundEvent`s, sends one message, and says how fast it may send.

pub mod hook;
pub mod media;
pub mod signature;
pub mod telegram;
pub mod viber;
pub mod vk;
pub mod whatsapp;

use std::time::Duration;

use crate::model::{ChannelKind, Millis};
use crate::store::OutboxItem;

pub use telegram::TelegramChannel;
pub use viber::ViberChannel;
pub use vk::VkChannel;
pub use whatsapp::WhatsAppChannel;

/// A message the platform accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The platform's id of the message, when it gave a usable one.
    pub external_id: Option<String>,
    pub at: Millis,
}

/// Why a send did not go through, and what the sender should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// A passing problem; try again. `after` is the platform's own wait when it gave one.
    #[error("{reason}")]
    Retry { after: Option<Duration>, reason: String },
    /// The platform refused this message for good (no such chat, too long).
    #[error("{0}")]
    Permanent(String),
    /// The customer cannot be reached at all any more (blocked us, deleted the account):
    /// the message fails and the block is recorded.
    #[error("{0}")]
    Unreachable(String),
    /// The customer stopped marketing messages: this one fails and the opt-out is recorded.
    #[error("{0}")]
    MarketingOptOut(String),
    /// The channel itself is unusable (bad token): nothing can be sent until it is fixed.
    #[error("{0}")]
    ChannelDown(String),
}

/// How fast a channel may send: the pacer keeps under these.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateProfile {
    /// Messages per second over all chats; `None` for no limit.
    pub overall_per_sec: Option<f64>,
    /// The least time between two messages to one private chat.
    pub per_chat: Duration,
    /// The least time between two messages to one group.
    pub per_group: Duration,
    /// At most this many messages to one customer in an hour while they do not answer
    /// (Viber's rule).
    pub unanswered_per_hour: Option<u32>,
}

impl RateProfile {
    pub const UNLIMITED: RateProfile = RateProfile {
        overall_per_sec: None,
        per_chat: Duration::ZERO,
        per_group: Duration::ZERO,
        unanswered_per_hour: None,
    };
}

/// A configured messenger.
#[derive(Clone)]
pub enum Channel {
    Telegram(TelegramChannel),
    WhatsApp(WhatsAppChannel),
    Viber(ViberChannel),
    Vk(VkChannel),
}

/// A number as platforms write one: a JSON number, or a string of one (Viber's SDKs send
/// coordinates as strings). None for anything else, or a value that is not finite.
pub(crate) fn number(v: &serde_json::Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())).filter(|f: &f64| f.is_finite())
}

/// A location as a line of text: coordinates to 5 decimals (about a metre), or a plain
/// `[location]` when the platform sent none that can be read (never a made-up 0, 0).
pub(crate) fn location_line(lat: Option<f64>, lon: Option<f64>, place: &str) -> String {
    match (lat, lon, place.is_empty()) {
        (Some(lat), Some(lon), true) => format!("[location {lat:.5}, {lon:.5}]"),
        (Some(lat), Some(lon), false) => format!("[location {lat:.5}, {lon:.5}: {place}]"),
        (_, _, true) => "[location]".into(),
        (_, _, false) => format!("[location: {place}]"),
    }
}

impl Channel {
    pub fn kind(&self) -> ChannelKind {
        match self {
            Channel::Telegram(_) => ChannelKind::Telegram,
            Channel::WhatsApp(_) => ChannelKind::WhatsApp,
            Channel::Viber(_) => ChannelKind::Viber,
            Channel::Vk(_) => ChannelKind::Vk,
        }
    }

    pub async fn send(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        if let Some(reason) = &item.unreadable {
            return Err(SendError::Permanent(reason.clone()));
        }
        if let Some(change) = &item.change {
            return match self {
                Channel::Telegram(tg) => tg.change(item, change).await,
                other => Err(SendError::Permanent(format!(
                    "{} does not let a business change a sent message",
                    other.kind().display_name()
                ))),
            };
        }
        match self {
            Channel::Telegram(tg) => tg.send(item).await,
            Channel::WhatsApp(wa) => wa.send(item).await,
            Channel::Viber(vb) => vb.send(item).await,
            Channel::Vk(vk) => vk.send(item).await,
        }
    }

    pub fn rate_profile(&self) -> RateProfile {
        match self {
            Channel::Telegram(tg) => tg.rate_profile(),
            Channel::WhatsApp(wa) => wa.rate_profile(),
            Channel::Viber(vb) => vb.rate_profile(),
            Channel::Vk(vk) => vk.rate_profile(),
        }
    }
}
