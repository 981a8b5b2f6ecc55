//! The Telegram adapter: teloxide 0.17 as a typed Bot API client (not its dispatcher),
//! pointed at the configured base URL so the public API, a self-hosted server and the
//! sandbox all work the same way.

use std::time::Duration;

use teloxide::payloads::GetUpdatesSetters;
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, Update, UpdateKind};
use teloxide::{ApiError, Bot, RequestError};

use super::{RateProfile, SendError, Sent};
use crate::config::TelegramConfig;
use crate::model::{ChannelKind, ChatRef, InboundEvent, InboundMessage, Millis, Peer, now_ms};

/// Telegram refuses longer texts ("1-4096 characters after entity parsing").
pub const MAX_TEXT_CHARS: usize = 4096;

#[derive(Clone)]
pub struct TelegramChannel {
    bot: Bot,
    poll_timeout_secs: u32,
    rate_limits: bool,
}

impl TelegramChannel {
    pub fn new(config: &TelegramConfig) -> Result<TelegramChannel, String> {
        let url =
            reqwest::Url::parse(&config.api_url).map_err(|e| format!("channels.telegram.api_url is not a URL: {e}"))?;
        Ok(TelegramChannel {
            bot: Bot::new(config.token.expose()).set_api_url(url),
            poll_timeout_secs: config.poll_timeout_secs,
            rate_limits: config.rate_limits,
        })
    }

    /// Telegram's published limits: about 30 messages a second overall, one a second to
    /// a chat, twenty a minute to a group.
    pub fn rate_profile(&self) -> RateProfile {
        if !self.rate_limits {
            return RateProfile::UNLIMITED;
        }
        RateProfile { overall_per_sec: Some(30.0), per_chat: Duration::from_secs(1), per_group: Duration::from_secs(3) }
    }

    /// Asks Telegram who the bot is: proves the URL and the token work, at once rather
    /// than after the first long poll. Returns the bot's username.
    pub async fn check(&self) -> Result<String, RequestError> {
        let me = self.bot.get_me().await?;
        Ok(me.username.clone().unwrap_or_else(|| me.first_name.clone()))
    }

    /// One long poll. `offset` is the first update id not yet stored; asking from it
    /// confirms everything before it to Telegram.
    pub async fn get_updates(&self, offset: Option<i32>) -> Result<Vec<Update>, RequestError> {
        let mut request = self.bot.get_updates().timeout(self.poll_timeout_secs).limit(100);
        if let Some(offset) = offset {
            request = request.offset(offset);
        }
        request.await
    }

    pub async fn send_text(&self, chat_id: &str, text: &str) -> Result<Sent, SendError> {
        let chat: i64 =
            chat_id.parse().map_err(|_| SendError::Permanent(format!("`{chat_id}` is not a Telegram chat id")))?;
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(SendError::Permanent(format!(
                "the message is {chars} characters long; Telegram takes at most {MAX_TEXT_CHARS}"
            )));
        }
        let message = self.bot.send_message(ChatId(chat), text).await.map_err(|e| classify(&e))?;
        // A message_id of 0 means the server scheduled the message: not a usable key.
        let external_id = (message.id.0 != 0).then(|| message.id.0.to_string());
        Ok(Sent { external_id, at: now_ms() })
    }
}

/// What a Bot API error means for the message. teloxide keeps the description but not
/// the error code, and does not know every current wording, so this goes by the
/// description's prefix ("Forbidden:" is 403, "Bad Request:" is 400, …).
pub fn classify(err: &RequestError) -> SendError {
    match err {
        RequestError::RetryAfter(after) => SendError::Retry {
            after: Some(after.duration()),
            reason: format!("Telegram asked to wait {}s (flood control)", after.duration().as_secs()),
        },
        RequestError::MigrateToChatId(to) => {
            SendError::Permanent(format!("the group became a supergroup with id {}; write there", to.0))
        }
        // hide_token has already taken the URL (and with it the token) out of the error.
        RequestError::Network(e) => SendError::Retry { after: None, reason: format!("network: {e}") },
        RequestError::InvalidJson { .. } => {
            SendError::Retry { after: None, reason: "Telegram answered with something that is not the Bot API".into() }
        }
        RequestError::Io(e) => SendError::Permanent(format!("cannot read the file to send: {e}")),
        RequestError::Api(api) => classify_api(api),
    }
}

fn classify_api(api: &ApiError) -> SendError {
    // Known variants print Telegram's own description; unknown ones wrap it in quotes.
    let description = match api {
        ApiError::Unknown(text) => text.clone(),
        known => known.to_string(),
    };
    let d = description.as_str();
    if matches!(api, ApiError::BotBlocked) || d.starts_with("Forbidden: bot was blocked by the user") {
        return SendError::Permanent("the customer blocked the bot".into());
    }
    if matches!(api, ApiError::ChatNotFound) || d.starts_with("Bad Request: chat not found") {
        return SendError::Permanent("chat not found: the id is wrong or the customer never started the bot".into());
    }
    // Only the bare words mean a bad token; "Unauthorized: bot was kicked …" is teloxide's
    // older wording of a 403 about one chat.
    if matches!(api, ApiError::InvalidToken) || d == "Unauthorized" || d == "Not Found" {
        return SendError::ChannelDown("Telegram rejected the bot token".into());
    }
    if d.starts_with("Too Many Requests") {
        return SendError::Retry { after: None, reason: description.clone() };
    }
    if d.starts_with("Forbidden") || d.starts_with("Bad Request") || d.starts_with("Unauthorized:") {
        return SendError::Permanent(description.clone());
    }
    SendError::Retry { after: None, reason: description.clone() }
}

/// Turns one update into the events it carries. Text messages are decoded fully; other
/// message kinds are stored as a placeholder line (with the caption) so the agent sees
/// that something arrived; updates of other kinds are reported as unsupported.
pub fn decode(update: &Update) -> Vec<InboundEvent> {
    match &update.kind {
        UpdateKind::Message(msg) => decode_message(msg).into_iter().collect(),
        other => vec![InboundEvent::Unsupported { channel: ChannelKind::Telegram, what: kind_name(other).into() }],
    }
}

/// Telegram dates are whole seconds, ours milliseconds: a customer's answer in the same
/// second as our message would sort before it. A message that arrives within the second
/// its date names takes the arrival time instead; older ones (redeliveries) keep theirs.
pub fn refine_times(events: &mut [InboundEvent], received_at: Millis) {
    for event in events {
        if let InboundEvent::Message(m) = event
            && (0..1000).contains(&(received_at - m.sent_at))
        {
            m.sent_at = received_at;
        }
    }
}

fn decode_message(msg: &teloxide::types::Message) -> Option<InboundEvent> {
    let user = msg.from.as_ref()?;
    let is_group = msg.chat.is_group() || msg.chat.is_supergroup();
    let sender_name = user.full_name();
    let title = match msg.chat.title() {
        Some(t) if is_group => t.to_string(),
        _ => sender_name.clone(),
    };
    let (kind, text) = body(msg);
    Some(InboundEvent::Message(InboundMessage {
        chat: ChatRef { channel: ChannelKind::Telegram, external_chat_id: msg.chat.id.0.to_string(), is_group, title },
        from: Peer {
            external_id: user.id.0.to_string(),
            display_name: sender_name,
            username: user.username.clone(),
            locale: user.language_code.clone(),
        },
        external_id: msg.id.0.to_string(),
        kind: kind.into(),
        text,
        sent_at: msg.date.timestamp_millis(),
    }))
}

/// The message's kind and the text the agent sees for it.
fn body(msg: &teloxide::types::Message) -> (&'static str, String) {
    if let Some(text) = msg.text() {
        return ("text", text.to_string());
    }
    let caption = msg.caption().map(|c| format!(": {c}")).unwrap_or_default();
    let kind = if msg.photo().is_some() {
        "photo"
    } else if msg.document().is_some() {
        "document"
    } else if msg.video().is_some() {
        "video"
    } else if msg.voice().is_some() {
        "voice"
    } else if msg.sticker().is_some() {
        "sticker"
    } else if msg.location().is_some() {
        "location"
    } else if msg.contact().is_some() {
        "contact"
    } else {
        "unsupported"
    };
    (kind, format!("[{kind}]{caption}"))
}

fn kind_name(kind: &UpdateKind) -> &'static str {
    match kind {
        UpdateKind::Message(_) => "message",
        UpdateKind::EditedMessage(_) => "edited_message",
        UpdateKind::ChannelPost(_) => "channel_post",
        UpdateKind::EditedChannelPost(_) => "edited_channel_post",
        UpdateKind::CallbackQuery(_) => "callback_query",
        UpdateKind::MyChatMember(_) => "my_chat_member",
        UpdateKind::ChatMember(_) => "chat_member",
        UpdateKind::Error(_) => "undecodable update",
        _ => "other update",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(json: &str) -> Update {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn decodes_a_private_text_message() {
        let u = update(
            r#"{"update_id":7,"message":{"message_id":42,"date":1700000000,
            "chat":{"id":111,"type":"private","first_name":"Анна","last_name":"Петрова"},
            "from":{"id":111,"is_bot":false,"first_name":"Анна","last_name":"Петрова","language_code":"ru"},
            "text":"Добрый день! 👋"}}"#,
        );
        let events = decode(&u);
        let InboundEvent::Message(m) = &events[0] else { panic!("{events:?}") };
        assert_eq!(m.text, "Добрый день! 👋");
        assert_eq!(m.external_id, "42");
        assert_eq!(m.chat.external_chat_id, "111");
        assert_eq!(m.from.display_name, "Анна Петрова");
        assert_eq!(m.from.locale.as_deref(), Some("ru"));
        assert_eq!(m.sent_at, 1_700_000_000_000);
        assert!(!m.chat.is_group);
    }

    #[test]
    fn decodes_a_group_message_with_its_title() {
        let u = update(
            r#"{"update_id":8,"message":{"message_id":5,"date":1700000000,
            "chat":{"id":-1001234,"type":"supergroup","title":"Wholesale buyers"},
            "from":{"id":222,"is_bot":false,"first_name":"Bob"},"text":"hi all"}}"#,
        );
        let InboundEvent::Message(m) = &decode(&u)[0] else { panic!() };
        assert!(m.chat.is_group);
        assert_eq!(m.chat.title, "Wholesale buyers");
        assert_eq!(m.chat.external_chat_id, "-1001234");
    }

    #[test]
    fn times_within_the_dated_second_take_the_arrival_time() {
        let u = update(
            r#"{"update_id":1,"message":{"message_id":1,"date":1700000000,
            "chat":{"id":1,"type":"private","first_name":"A"},"from":{"id":1,"is_bot":false,"first_name":"A"},"text":"x"}}"#,
        );
        let mut live = decode(&u);
        refine_times(&mut live, 1_700_000_000_456);
        let InboundEvent::Message(m) = &live[0] else { panic!() };
        assert_eq!(m.sent_at, 1_700_000_000_456);
        let mut late = decode(&u);
        refine_times(&mut late, 1_700_000_005_000);
        let InboundEvent::Message(m) = &late[0] else { panic!() };
        assert_eq!(m.sent_at, 1_700_000_000_000);
    }

    #[test]
    fn other_updates_are_unsupported_not_errors() {
        let u = update(r#"{"update_id":9,"something_new":{"x":1}}"#);
        assert!(matches!(decode(&u)[0], InboundEvent::Unsupported { .. }));
    }

    #[test]
    fn classifies_by_description() {
        let blocked = RequestError::Api(ApiError::BotBlocked);
        assert_eq!(classify(&blocked), SendError::Permanent("the customer blocked the bot".into()));
        let unknown =
            RequestError::Api(ApiError::Unknown("Forbidden: bot can't initiate conversation with a user".into()));
        assert!(matches!(classify(&unknown), SendError::Permanent(r) if r.contains("initiate")));
        let flood = RequestError::RetryAfter(teloxide::types::Seconds::from_seconds(3));
        assert!(matches!(classify(&flood), SendError::Retry { after: Some(d), .. } if d == Duration::from_secs(3)));
        let kicked = RequestError::Api(ApiError::BotKicked);
        assert!(matches!(classify(&kicked), SendError::Permanent(r) if r.contains("kicked")));
        let token = RequestError::Api(ApiError::InvalidToken);
        assert!(matches!(classify(&token), SendError::ChannelDown(_)));
        let server = RequestError::Api(ApiError::Unknown("Internal Server Error".into()));
        assert!(matches!(classify(&server), SendError::Retry { .. }));
    }
}
