//! The Viber REST Bot API adapter: sends over reqwest, verifies callback signatures,
//! and maps Viber's errors, which come as HTTP 200 with a `status` in the body.

pub mod decode;

use std::time::Duration;

use serde_json::{Value, json};

use super::{RateProfile, SendError, Sent, signature};
use crate::config::{Secret, ViberConfig};
use crate::model::{ChannelKind, Content, InboundEvent, now_ms};
use crate::store::{OutboxItem, SharedStore};
use decode::token;

#[derive(Clone)]
pub struct ViberChannel {
    http: reqwest::Client,
    api_url: String,
    token: Secret,
    sender_name: String,
    welcome: Option<String>,
    rate_limits: bool,
    public_url: Option<reqwest::Url>,
}

impl ViberChannel {
    pub fn new(config: &ViberConfig) -> Result<ViberChannel, String> {
        reqwest::Url::parse(&config.api_url).map_err(|e| format!("channels.viber.api_url is not a URL: {e}"))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(ViberChannel {
            http,
            api_url: config.api_url.trim_end_matches('/').to_string(),
            token: config.token.clone(),
            sender_name: config.sender_name.clone(),
            welcome: config.welcome.clone(),
            rate_limits: config.rate_limits,
            public_url: match &config.public_url {
                Some(u) => {
                    Some(reqwest::Url::parse(u).map_err(|e| format!("channels.viber.public_url is not a URL: {e}"))?)
                }
                None => None,
            },
        })
    }

    /// Viber publishes no per-second limit for send_message, but allows at most 100
    /// messages an hour to a customer who does not answer.
    pub fn rate_profile(&self) -> RateProfile {
        if !self.rate_limits {
            return RateProfile::UNLIMITED;
        }
        RateProfile {
            overall_per_sec: None,
            per_chat: Duration::from_millis(200),
            per_group: Duration::from_millis(200),
            unanswered_per_hour: Some(100),
        }
    }

    /// True when `given` (`X-Viber-Content-Signature`, or the `sig` query parameter) signs
    /// `body` with the bot token.
    pub fn verify(&self, body: &[u8], given: Option<&str>) -> bool {
        given.is_some_and(|hex| signature::verify(self.token.expose().as_bytes(), body, hex))
    }

    /// The signature a callback carries: `X-Viber-Content-Signature`, or (older clients
    /// of the API) the `sig` query parameter.
    pub fn signature_of<'a>(&self, call: &'a super::hook::Call<'_>) -> Option<&'a str> {
        call.header("x-viber-content-signature").or_else(|| call.query.get("sig").map(String::as_str))
    }

    /// A customer who opens the chat (`conversation_started`) may get one welcome
    /// message, in the very answer to the callback: the body to answer with. Recorded
    /// first and sent only when new, so a redelivered opening, or a customer opening the
    /// chat again, gets no second welcome.
    pub async fn welcome(&self, events: &[InboundEvent], store: &SharedStore) -> Option<Value> {
        let text = self.welcome.clone()?;
        let user = super::hook::opened(events).next()?.to_string();
        let kind = ChannelKind::Viber;
        let body = json!({"sender": {"name": self.sender_name}, "type": "text", "text": text});
        match store.run(move |s| s.record_welcome(kind, &user, &text, now_ms())).await {
            Ok(true) => Some(body),
            Ok(false) => None,
            Err(e) => {
                tracing::error!(channel = %kind, error = %e, "cannot record the welcome message");
                None
            }
        }
    }

    /// Where Viber fetches an attachment: its URL as given, or, for a file attached in
    /// the console (`…/attachments/TOKEN/NAME`), the webhook server's `/media/TOKEN/NAME`
    /// under `public_url`; with the file's size when it is here.
    fn media_url(&self, source: &str) -> Result<(String, Option<u64>), SendError> {
        if source.starts_with("https://") || source.starts_with("http://") {
            return Ok((source.to_string(), None));
        }
        let path = std::path::Path::new(source);
        let (Some(name), Some(token)) = (
            path.file_name().and_then(|n| n.to_str()),
            path.parent().and_then(|p| p.file_name()).and_then(|t| t.to_str()),
        ) else {
            return Err(SendError::Permanent(format!("{source} is not a file attached in the console")));
        };
        let Some(base) = &self.public_url else {
            return Err(SendError::Permanent(
                "Viber fetches files by URL: set [channels.viber] public_url (the https address Viber reaches \
                 the webhook at) so the engine can serve the file"
                    .into(),
            ));
        };
        let size = std::fs::metadata(path).map_err(|e| SendError::Permanent(format!("{source}: {e}")))?.len();
        let mut url = base.clone();
        url.path_segments_mut()
            .map_err(|_| SendError::Permanent("channels.viber.public_url cannot take a path".into()))?
            .pop_if_empty()
            .extend(["media", token, name]);
        Ok((url.to_string(), Some(size)))
    }

    /// A customer's file, from the URL Viber put in the message.
    pub(crate) async fn download(&self, media: &Value, max: u64) -> Result<super::media::Downloaded, String> {
        let url = media["media"].as_str().ok_or("the message keeps no Viber media URL")?;
        let (bytes, content_type) = super::media::fetch(&self.http, url, None, max).await?;
        let name = media["file_name"].as_str().map(str::to_string).unwrap_or_default();
        Ok(super::media::Downloaded { bytes, content_type, name })
    }

    /// The send_message body for one queued message. Messages with buttons carry
    /// `sb:<our id>` as tracking data, so the reply a button sends can be matched to it.
    pub fn body(&self, item: &OutboxItem) -> Result<Value, SendError> {
        let mut body = json!({
            "receiver": item.chat_id, "min_api_version": 1, "sender": {"name": self.sender_name},
        });
        match &item.content {
            Content::Photo { source } => {
                body["type"] = json!("picture");
                body["media"] = json!(self.media_url(source)?.0);
                body["text"] = json!(item.body);
            }
            Content::Document { source } => {
                let (url, size) = self.media_url(source)?;
                let name = source.rsplit(['/', '\\']).next().filter(|n| !n.is_empty()).unwrap_or("file");
                body["type"] = json!("file");
                body["media"] = json!(url);
                body["file_name"] = json!(name);
                // Viber wants the size; a remote file's is not known here.
                body["size"] = json!(size.unwrap_or(0));
            }
            Content::Template(_) => {
                return Err(SendError::Permanent("templates are WhatsApp's; Viber takes text".into()));
            }
            Content::Text => {
                body["type"] = json!("text");
                body["text"] = json!(item.body);
            }
        }
        if !item.buttons.is_empty() {
            let mut buttons = Vec::new();
            for row in &item.buttons {
                let columns = (6 / row.len().max(1)).max(1);
                for b in row {
                    buttons.push(match (&b.url, &b.callback_data) {
                        (Some(url), _) => {
                            json!({"Columns": columns, "Rows": 1, "ActionType": "open-url", "ActionBody": url, "Text": b.text})
                        }
                        (None, Some(data)) => {
                            json!({"Columns": columns, "Rows": 1, "ActionType": "reply", "ActionBody": data, "Text": b.text})
                        }
                        (None, None) => return Err(SendError::Permanent(format!("button `{}` has no link or data", b.text))),
                    });
                }
            }
            body["keyboard"] = json!({"Type": "keyboard", "DefaultHeight": false, "Buttons": buttons});
            body["tracking_data"] = json!(format!("sb:{}", item.message_id.0));
        }
        Ok(body)
    }

    async fn call(&self, method: &str, body: &Value) -> Result<Value, SendError> {
        let response = self
            .http
            .post(format!("{}/pa/{method}", self.api_url))
            .header("X-Viber-Auth-Token", self.token.expose())
            .json(body)
            .send()
            .await
            .map_err(|e| SendError::Retry { after: None, reason: format!("network: {}", e.without_url()) })?;
        let status = response.status();
        if status.is_server_error() {
            return Err(SendError::Retry { after: None, reason: format!("Viber answered {status}") });
        }
        response.json().await.map_err(|e| SendError::Retry {
            after: None,
            reason: format!("Viber answered {status} with something that is not JSON: {}", e.without_url()),
        })
    }

    pub async fn send(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        let answer = self.call("send_message", &self.body(item)?).await?;
        match answer["status"].as_i64() {
            Some(0) => Ok(Sent { external_id: token(&answer["message_token"]), at: now_ms() }),
            Some(code) => Err(classify(code, answer["status_message"].as_str().unwrap_or(""))),
            None => Err(SendError::Retry { after: None, reason: "Viber's answer has no status".into() }),
        }
    }

    /// Asks Viber to call `url` (set_webhook); Viber probes it at once.
    pub async fn set_webhook(&self, url: &str) -> Result<(), SendError> {
        let body = json!({"url": url, "event_types": ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"], "send_name": true, "send_photo": false});
        let answer = self.call("set_webhook", &body).await?;
        match answer["status"].as_i64() {
            Some(0) => Ok(()),
            Some(code) => Err(classify(code, answer["status_message"].as_str().unwrap_or(""))),
            None => Err(SendError::Retry { after: None, reason: "Viber's answer has no status".into() }),
        }
    }

    /// Whether the token works: the account's name.
    pub async fn check(&self) -> Result<String, SendError> {
        let answer = self.call("get_account_info", &json!({})).await?;
        match answer["status"].as_i64() {
            Some(0) => Ok(answer["name"].as_str().unwrap_or("the bot").to_string()),
            Some(code) => Err(classify(code, answer["status_message"].as_str().unwrap_or(""))),
            None => Err(SendError::Retry { after: None, reason: "Viber's answer has no status".into() }),
        }
    }
}

/// What a Viber status code means for the message.
pub fn classify(code: i64, message: &str) -> SendError {
    match code {
        2 => SendError::ChannelDown("Viber rejected the bot token".into()),
        6 => SendError::Unreachable("the customer is not subscribed (or unsubscribed)".into()),
        5 => SendError::Permanent("the receiver is not a Viber user".into()),
        10 => SendError::ChannelDown(
            "Viber needs a webhook set before it sends (switchboard doctor --set-webhook)".into(),
        ),
        12 | 18 => SendError::Retry {
            after: Some(Duration::from_secs(60)),
            reason: "Viber's rate control: too many messages (at most 100 an hour to a customer who does not answer)"
                .into(),
        },
        _ => SendError::Permanent(format!("{message} (Viber status {code})")),
    }
}
