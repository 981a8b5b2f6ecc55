//! The Telegram adapter: teloxide 0.17 as a typed Bot API client (not its dispatcher),
//! pointed at the configured base URL so the public API, a self-hosted server and the
//! sandbox all work the same way.

use std::time::Duration;

use serde_json::{Value, json};
use teloxide::payloads::{SendDocumentSetters, SendMessageSetters, SendPhotoSetters, SetWebhookSetters};
use teloxide::prelude::Requester;
use teloxide::types::{CallbackQueryId, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile};
use teloxide::{ApiError, Bot, RequestError};

mod decode;
mod kinds;
mod service;

use super::{RateProfile, SendError, Sent};
use crate::config::{Secret, TelegramConfig, TelegramMode};
use crate::model::{Button, ChannelKind, Content, InboundEvent, Millis, now_ms};
use crate::store::OutboxItem;
pub use decode::{DecodeOptions, decode, decode_raw};

/// The presses among `events` that Telegram expects answered (answerCallbackQuery),
/// including one with no message to attach it to.
pub fn presses(events: &[InboundEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            InboundEvent::Click(c) => Some(c.query_id.clone()),
            InboundEvent::AnswerOnly { query_id } => Some(query_id.clone()),
            _ => None,
        })
        .collect()
}

#[derive(Clone)]
pub struct TelegramChannel {
    bot: Bot,
    /// For getUpdates, read as raw JSON (see `get_updates`).
    http: reqwest::Client,
    api_url: String,
    token: Secret,
    poll_timeout_secs: u32,
    rate_limits: bool,
    decode_options: DecodeOptions,
    mode: TelegramMode,
    secret_token: Option<Secret>,
    webhook_url: Option<String>,
}

impl TelegramChannel {
    pub fn new(config: &TelegramConfig) -> Result<TelegramChannel, String> {
        let url =
            reqwest::Url::parse(&config.api_url).map_err(|e| format!("channels.telegram.api_url is not a URL: {e}"))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            // The long poll itself, plus room for a slow answer.
            .timeout(Duration::from_secs(u64::from(config.poll_timeout_secs) + 10))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(TelegramChannel {
            bot: Bot::new(config.token.expose()).set_api_url(url),
            http,
            api_url: config.api_url.clone(),
            token: config.token.clone(),
            poll_timeout_secs: config.poll_timeout_secs,
            rate_limits: config.rate_limits,
            decode_options: DecodeOptions { optin_prefixes: config.optin_prefixes.clone() },
            mode: config.mode,
            secret_token: config.secret_token.clone(),
            webhook_url: config.webhook_url.clone(),
        })
    }

    /// True when Telegram pushes updates to our webhook instead of being polled.
    pub fn uses_webhook(&self) -> bool {
        self.mode == TelegramMode::Webhook
    }

    /// A webhook call must carry the configured secret token; without one configured,
    /// none is admitted. Decided from the headers alone: not one byte of the body is read.
    pub fn admit(&self, call: &super::hook::Call<'_>) -> Result<(), super::hook::Refused> {
        let expected = self.secret_token.as_ref().map(|s| s.expose().as_bytes()).unwrap_or_default();
        let given = call.header("x-telegram-bot-api-secret-token").unwrap_or_default().as_bytes();
        if expected.is_empty() || !super::signature::same_secret(given, expected) {
            return Err(super::hook::Refused {
                status: 401,
                answer: "wrong or missing secret token\n",
                log: "webhook call without the right secret token",
            });
        }
        Ok(())
    }

    /// Answers the presses among stored events (stored first, answered after: a press
    /// is never lost), each on its own so a slow answer holds nothing up.
    pub fn answer_presses(&self, events: &[InboundEvent]) {
        for id in presses(events) {
            let channel = self.clone();
            tokio::spawn(async move { channel.answer_click(&id).await });
        }
    }

    /// Registers the configured public URL with Telegram (setWebhook), with the secret.
    /// Returns false when no URL is configured (registered by hand, then).
    pub async fn register_webhook(&self) -> Result<bool, SendError> {
        match &self.webhook_url {
            Some(url) => self.set_webhook(url).await.map(|()| true),
            None => Ok(false),
        }
    }

    /// Tells Telegram to call `url`, with the configured secret.
    pub async fn set_webhook(&self, url: &str) -> Result<(), SendError> {
        let Some(secret) = &self.secret_token else {
            return Err(SendError::Permanent("webhook mode needs channels.telegram.secret_token".into()));
        };
        let url = reqwest::Url::parse(url).map_err(|e| SendError::Permanent(format!("webhook URL: {e}")))?;
        self.bot.set_webhook(url).secret_token(secret.expose()).await.map_err(|e| classify(&e))?;
        Ok(())
    }

    /// Decodes one raw update with this channel's options.
    pub fn decode(&self, update: &Value) -> Vec<InboundEvent> {
        decode_raw(update, &self.decode_options)
    }

    /// Stops the customer's spinner after a button press. Failures do not matter: an
    /// old press can no longer be answered, and the press is already stored.
    pub async fn answer_click(&self, query_id: &str) {
        if let Err(e) = self.bot.answer_callback_query(CallbackQueryId(query_id.to_string())).await {
            tracing::debug!(error = %classify(&e), "answerCallbackQuery failed");
        }
    }

    /// Telegram's published limits: about 30 messages a second overall, one a second to
    /// a chat, twenty a minute to a group.
    pub fn rate_profile(&self) -> RateProfile {
        if !self.rate_limits {
            return RateProfile::UNLIMITED;
        }
        RateProfile {
            overall_per_sec: Some(30.0),
            per_chat: Duration::from_secs(1),
            per_group: Duration::from_secs(3),
            unanswered_per_hour: None,
        }
    }

    /// Asks Telegram who the bot is: proves the URL and the token work, at once rather
    /// than after the first long poll. Returns the bot's username. Read as raw JSON and
    /// only for `id` and `username`: a Bot API server older than 8.0, or an emulator,
    /// leaves out fields teloxide's `Me` requires, and that must not stop polling.
    pub async fn check(&self) -> Result<String, SendError> {
        let me = self.call("getMe", &json!({})).await?;
        let username = me["username"].as_str().map(str::to_string);
        match (me["id"].as_i64(), username) {
            (_, Some(name)) => Ok(name),
            (Some(id), None) => Ok(me["first_name"].as_str().map(str::to_string).unwrap_or_else(|| id.to_string())),
            (None, None) => Err(SendError::Retry {
                after: None,
                reason: "getMe answered without the bot's id: this server does not speak the Bot API".into(),
            }),
        }
    }

    /// The update types asked for. Set explicitly: by default Telegram leaves out
    /// `message_reaction` and `chat_member`, and a missing parameter keeps whatever an
    /// earlier client set. Types the decoder does not handle yet are kept raw and counted.
    pub const ALLOWED_UPDATES: &'static [&'static str] = &[
        "message",
        "edited_message",
        "callback_query",
        "my_chat_member",
        "chat_member",
        "message_reaction",
        "message_reaction_count",
        "chat_join_request",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "poll_answer",
    ];

    /// One long poll, answered as raw JSON updates so that nothing teloxide's types cannot
    /// read is lost. `offset` is the first update id not yet stored; asking from it
    /// confirms everything before it to Telegram.
    pub async fn get_updates(&self, offset: Option<i64>) -> Result<Vec<Value>, SendError> {
        let mut body =
            json!({ "timeout": self.poll_timeout_secs, "limit": 100, "allowed_updates": Self::ALLOWED_UPDATES });
        if let Some(offset) = offset {
            body["offset"] = json!(offset);
        }
        match self.call("getUpdates", &body).await? {
            Value::Array(updates) => Ok(updates),
            _ => Err(SendError::Retry { after: None, reason: "getUpdates answered without a list".into() }),
        }
    }

    /// One Bot API method, its `result` as raw JSON. The URL holds the token: it never
    /// goes into an error.
    async fn call(&self, method: &str, body: &Value) -> Result<Value, SendError> {
        let url = format!("{}/bot{}/{method}", self.api_url.trim_end_matches('/'), self.token.expose());
        let response = self
            .http
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(|e| SendError::Retry { after: None, reason: format!("network: {}", e.without_url()) })?;
        let status = response.status();
        let envelope: Value = response.json().await.map_err(|e| SendError::Retry {
            after: None,
            reason: format!("Telegram answered {status} with something that is not the Bot API: {}", e.without_url()),
        })?;
        if envelope["ok"] == json!(true) {
            return envelope.get("result").cloned().ok_or_else(|| SendError::Retry {
                after: None,
                reason: format!("{method} answered `ok` without a result: this server does not speak the Bot API"),
            });
        }
        let code = envelope["error_code"].as_u64().unwrap_or(u64::from(status.as_u16()));
        let description = envelope["description"].as_str().unwrap_or("no description").to_string();
        let retry_after = envelope["parameters"]["retry_after"].as_u64().map(Duration::from_secs);
        Err(match code {
            401 | 404 => SendError::ChannelDown("Telegram rejected the bot token".into()),
            429 => SendError::Retry { after: retry_after, reason: description },
            _ => classify_description(&description),
        })
    }

    /// Sends one queued message: text, or a photo or document (by URL or local path) with
    /// its caption, with inline buttons when it has them.
    pub async fn send(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        let chat: i64 = item
            .chat_id
            .parse()
            .map_err(|_| SendError::Permanent(format!("`{}` is not a Telegram chat id", item.chat_id)))?;
        let chat = ChatId(chat);
        let markup = if item.buttons.is_empty() { None } else { Some(keyboard(&item.buttons)?) };
        let text = item.body.as_str();
        let result = match &item.content {
            Content::Photo { source } => {
                check_length(text, ChannelKind::Telegram.rules().caption_limit, "caption")?;
                let mut request = self.bot.send_photo(chat, input_file(source)?);
                if !text.is_empty() {
                    request = request.caption(text);
                }
                if let Some(markup) = markup {
                    request = request.reply_markup(markup);
                }
                request.await
            }
            Content::Document { source } => {
                check_length(text, ChannelKind::Telegram.rules().caption_limit, "caption")?;
                let mut request = self.bot.send_document(chat, input_file(source)?);
                if !text.is_empty() {
                    request = request.caption(text);
                }
                if let Some(markup) = markup {
                    request = request.reply_markup(markup);
                }
                request.await
            }
            Content::Template(_) => {
                return Err(SendError::Permanent("templates are WhatsApp's; Telegram takes text".into()));
            }
            Content::Text => {
                check_length(text, ChannelKind::Telegram.rules().text_limit, "message")?;
                let mut request = self.bot.send_message(chat, text);
                if let Some(markup) = markup {
                    request = request.reply_markup(markup);
                }
                request.await
            }
        };
        let message = result.map_err(|e| classify(&e))?;
        // A message_id of 0 means the server scheduled the message: not a usable key.
        let external_id = (message.id.0 != 0).then(|| message.id.0.to_string());
        Ok(Sent { external_id, at: now_ms() })
    }

    /// A change to our message already sent: its text edited, or the message deleted.
    /// Done again after a crash, so Telegram's "not modified" and "not found" (for a
    /// delete) count as done.
    pub async fn change(&self, item: &OutboxItem, change: &crate::store::Change) -> Result<Sent, SendError> {
        let chat: i64 = item
            .chat_id
            .parse()
            .map_err(|_| SendError::Permanent(format!("`{}` is not a Telegram chat id", item.chat_id)))?;
        let id: i32 = item
            .external_id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| SendError::Permanent("the message has no Telegram id".into()))?;
        let (chat, id) = (ChatId(chat), teloxide::types::MessageId(id));
        let result = match change {
            crate::store::Change::Edit(text) => {
                check_length(text, ChannelKind::Telegram.rules().text_limit, "message")?;
                self.bot.edit_message_text(chat, id, text).await.map(|_| ())
            }
            crate::store::Change::Delete => self.bot.delete_message(chat, id).await.map(|_| ()),
        };
        match result {
            Ok(()) => Ok(Sent { external_id: item.external_id.clone(), at: now_ms() }),
            Err(RequestError::Api(ApiError::MessageNotModified | ApiError::MessageToDeleteNotFound)) => {
                Ok(Sent { external_id: item.external_id.clone(), at: now_ms() })
            }
            Err(e) => Err(classify(&e)),
        }
    }

    /// A customer's file: `getFile` for its path, then the file from the Bot API's file
    /// URL (which holds the token: never shown). Bots may fetch 20 MB at most.
    pub(crate) async fn download(&self, media: &Value, max: u64) -> Result<super::media::Downloaded, String> {
        let file_id = media["file_id"].as_str().ok_or("the message keeps no Telegram file id")?;
        let file = self.call("getFile", &json!({ "file_id": file_id })).await.map_err(|e| format!("getFile: {e}"))?;
        if let Some(size) = file["file_size"].as_u64().filter(|s| *s > max) {
            return Err(format!(
                "it is {}; Telegram lets a bot fetch at most {}",
                crate::model::size_text(size),
                crate::model::size_text(max)
            ));
        }
        let path = file["file_path"].as_str().ok_or("Telegram gave no path for the file (too large for a bot?)")?;
        let url = format!("{}/file/bot{}/{path}", self.api_url.trim_end_matches('/'), self.token.expose());
        let (bytes, content_type) = super::media::fetch(&self.http, &url, None, max).await?;
        let name = media["file_name"].as_str().map(str::to_string).unwrap_or_default();
        Ok(super::media::Downloaded { bytes, content_type, name })
    }

    /// A plain text message, for tools and tests.
    pub async fn send_text(&self, chat_id: &str, text: &str) -> Result<Sent, SendError> {
        let item = OutboxItem::text(crate::model::ChannelKind::Telegram, chat_id, text);
        self.send(&item).await
    }
}

fn check_length(text: &str, max: usize, what: &str) -> Result<(), SendError> {
    let chars = text.chars().count();
    if chars > max {
        return Err(SendError::Permanent(format!(
            "the {what} is {chars} characters long; Telegram takes at most {max}"
        )));
    }
    Ok(())
}

/// An http(s) URL Telegram downloads itself, or a local file we upload.
fn input_file(source: &str) -> Result<InputFile, SendError> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let url = reqwest::Url::parse(source).map_err(|e| SendError::Permanent(format!("`{source}`: {e}")))?;
        return Ok(InputFile::url(url));
    }
    let path = std::path::Path::new(source);
    if !path.is_file() {
        return Err(SendError::Permanent(format!("no file at {source}")));
    }
    Ok(InputFile::file(path.to_path_buf()))
}

/// Our stored rows of buttons as Telegram's inline keyboard.
fn keyboard(rows: &[Vec<Button>]) -> Result<InlineKeyboardMarkup, SendError> {
    let mut keyboard = Vec::with_capacity(rows.len());
    for row in rows {
        let mut buttons = Vec::with_capacity(row.len());
        for b in row {
            buttons.push(match (&b.url, &b.callback_data) {
                (Some(url), _) => {
                    let url = reqwest::Url::parse(url)
                        .map_err(|e| SendError::Permanent(format!("button `{}`: {e}", b.text)))?;
                    InlineKeyboardButton::url(b.text.clone(), url)
                }
                (None, Some(data)) => InlineKeyboardButton::callback(b.text.clone(), data.clone()),
                (None, None) => return Err(SendError::Permanent(format!("button `{}` has no link or data", b.text))),
            });
        }
        keyboard.push(buttons);
    }
    Ok(InlineKeyboardMarkup::new(keyboard))
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
    if matches!(api, ApiError::InvalidToken) {
        return SendError::ChannelDown("Telegram rejected the bot token".into());
    }
    if matches!(api, ApiError::BotBlocked) {
        return SendError::Unreachable("the customer blocked the bot".into());
    }
    if matches!(api, ApiError::UserDeactivated) {
        return SendError::Unreachable("the customer's account is deleted".into());
    }
    if matches!(api, ApiError::ChatNotFound) {
        return classify_description("Bad Request: chat not found");
    }
    // Known variants print Telegram's own description; unknown ones wrap it in quotes.
    match api {
        ApiError::Unknown(text) => classify_description(text),
        known => classify_description(&known.to_string()),
    }
}

/// What a Bot API error description means, by its prefix: "Forbidden:" is a 403,
/// "Bad Request:" a 400. Only the bare "Unauthorized" and "Not Found" mean a bad token;
/// "Unauthorized: bot was kicked …" is an older wording of a 403 about one chat.
fn classify_description(d: &str) -> SendError {
    let description = d.to_string();
    if d.starts_with("Forbidden: bot was blocked by the user") {
        return SendError::Unreachable("the customer blocked the bot".into());
    }
    if d.starts_with("Forbidden: user is deactivated") {
        return SendError::Unreachable("the customer's account is deleted".into());
    }
    if d.starts_with("Bad Request: chat not found") {
        return SendError::Permanent("chat not found: the id is wrong or the customer never started the bot".into());
    }
    if d == "Unauthorized" || d == "Not Found" {
        return SendError::ChannelDown("Telegram rejected the bot token".into());
    }
    if d.starts_with("Too Many Requests") {
        return SendError::Retry { after: None, reason: description };
    }
    if d.starts_with("Forbidden") || d.starts_with("Bad Request") || d.starts_with("Unauthorized:") {
        return SendError::Permanent(description);
    }
    SendError::Retry { after: None, reason: description }
}

/// Telegram dates are whole seconds, ours milliseconds: a customer's answer in the same
/// second as our message would sort before it. A message that arrives within the second
/// its date names takes the arrival time instead; older ones (redeliveries) keep theirs.
/// A button press carries no time at all and takes the arrival time.
pub fn refine_times(events: &mut [InboundEvent], received_at: Millis) {
    for event in events {
        match event {
            InboundEvent::Message(m) if (0..1000).contains(&(received_at - m.sent_at)) => m.sent_at = received_at,
            InboundEvent::Click(c) if c.at == 0 => c.at = received_at,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presses_and_fresh_messages_take_the_arrival_time() {
        use crate::model::{ChannelKind, ChatRef, Click, InboundMessage, Peer};
        let chat = ChatRef {
            channel: ChannelKind::Telegram,
            external_chat_id: "1".into(),
            is_group: false,
            title: "A".into(),
        };
        let peer = Peer { external_id: "1".into(), display_name: "A".into(), username: None, locale: None };
        let fresh = InboundMessage::text(chat.clone(), peer.clone(), "1".into(), "x".into(), 1_700_000_000_000);
        let old = InboundMessage::text(chat.clone(), peer.clone(), "2".into(), "x".into(), 1_699_999_990_000);
        let click =
            Click { chat, from: peer, query_id: "q".into(), message_external_id: None, data: None, label: None, at: 0 };
        let mut events = vec![InboundEvent::Message(fresh), InboundEvent::Message(old), InboundEvent::Click(click)];
        refine_times(&mut events, 1_700_000_000_456);
        let times: Vec<i64> = events
            .iter()
            .map(|e| match e {
                InboundEvent::Message(m) => m.sent_at,
                InboundEvent::Click(c) => c.at,
                _ => 0,
            })
            .collect();
        assert_eq!(times, [1_700_000_000_456, 1_699_999_990_000, 1_700_000_000_456]);
    }

    #[test]
    fn classifies_by_description() {
        let blocked = RequestError::Api(ApiError::BotBlocked);
        assert_eq!(classify(&blocked), SendError::Unreachable("the customer blocked the bot".into()));
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
