//! The WhatsApp Cloud API adapter: sends over reqwest (there is no official Rust client),
//! verifies webhook signatures, and maps WhatsApp's error codes (not its HTTP statuses,
//! as Meta advises) to what the sender should do.

mod coexistence;
pub mod decode;

use std::time::Duration;

use serde_json::{Value, json};

use super::{RateProfile, SendError, Sent, signature};
use crate::config::{Secret, TemplateConfig, WhatsAppConfig};
use crate::model::{Button, ChannelKind, Content, InboundEvent, now_ms};
use crate::store::{OutboxItem, SharedStore};

#[derive(Clone)]
pub struct WhatsAppChannel {
    http: reqwest::Client,
    /// `{api_url}/{version}/{phone_number_id}`.
    base: String,
    token: Secret,
    app_secret: Secret,
    verify_token: Secret,
    rate_limits: bool,
    templates: Vec<TemplateConfig>,
    welcome: Option<String>,
}

impl WhatsAppChannel {
    pub fn new(config: &WhatsAppConfig) -> Result<WhatsAppChannel, String> {
        reqwest::Url::parse(&config.api_url).map_err(|e| format!("channels.whatsapp.api_url is not a URL: {e}"))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(WhatsAppChannel {
            http,
            base: format!(
                "{}/{}/{}",
                config.api_url.trim_end_matches('/'),
                config.api_version.trim_matches('/'),
                config.phone_number_id
            ),
            token: config.token.clone(),
            app_secret: config.app_secret.clone(),
            verify_token: config.verify_token.clone(),
            rate_limits: config.rate_limits,
            templates: config.templates.clone(),
            welcome: config.welcome.clone(),
        })
    }

    /// 80 messages a second per number; a reply to one customer at most once a second
    /// (WhatsApp's pair limit allows bursts, then answers 131056).
    pub fn rate_profile(&self) -> RateProfile {
        if !self.rate_limits {
            return RateProfile::UNLIMITED;
        }
        RateProfile {
            overall_per_sec: Some(80.0),
            per_chat: Duration::from_secs(1),
            per_group: Duration::from_secs(1),
            unanswered_per_hour: None,
        }
    }

    pub fn templates(&self) -> &[TemplateConfig] {
        &self.templates
    }

    /// True when `header` (`sha256=<hex>`) signs `body` with the app secret.
    pub fn verify(&self, body: &[u8], header: Option<&str>) -> bool {
        header
            .and_then(|h| h.strip_prefix("sha256="))
            .is_some_and(|hex| signature::verify(self.app_secret.expose().as_bytes(), body, hex))
    }

    /// The signature a webhook call carries (`X-Hub-Signature-256`).
    pub fn signature_of<'a>(&self, call: &'a super::hook::Call<'_>) -> Option<&'a str> {
        call.header("x-hub-signature-256")
    }

    /// A customer who opens the chat for the first time (`request_welcome`) gets the
    /// configured welcome, once per conversation: queued like any reply, so it is paced
    /// and retried by the sender.
    pub async fn welcome(&self, events: &[InboundEvent], store: &SharedStore) {
        let Some(text) = &self.welcome else { return };
        for chat in super::hook::opened(events) {
            let (chat, text) = (chat.to_string(), text.clone());
            let queued = store.run(move |s| s.enqueue_welcome(ChannelKind::WhatsApp, &chat, &text, now_ms())).await;
            if let Err(e) = queued {
                tracing::error!(channel = "whatsapp", error = %e, "cannot queue the welcome message");
            }
        }
    }

    /// Meta's handshake: the challenge to echo when the mode and token are right.
    pub fn handshake<'a>(
        &self,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<&'a str>,
    ) -> Option<&'a str> {
        let token_ok =
            token.is_some_and(|t| signature::same_secret(t.as_bytes(), self.verify_token.expose().as_bytes()));
        (mode == Some("subscribe") && token_ok).then_some(challenge?)
    }

    /// The request body for one queued message; `uploaded` is the media id of its local
    /// file, uploaded first (`upload`).
    pub fn body(&self, item: &OutboxItem, uploaded: Option<&str>) -> Result<Value, SendError> {
        let mut body = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": item.chat_id});
        let buttons = &item.buttons;
        if !buttons.is_empty() && item.content != Content::Text {
            // Never dropped silently: a template brings its own buttons, and an attachment
            // goes as its own message here.
            return Err(SendError::Permanent("WhatsApp takes buttons only under a text message".into()));
        }
        match &item.content {
            Content::Template(call) => {
                let params: Vec<Value> = call.params.iter().map(|p| json!({"type": "text", "text": p})).collect();
                let mut template = json!({"name": call.name, "language": {"code": call.language}});
                if !params.is_empty() {
                    template["components"] = json!([{"type": "body", "parameters": params}]);
                }
                body["type"] = json!("template");
                body["template"] = template;
            }
            Content::Photo { source: link } | Content::Document { source: link } => {
                let kind = if matches!(item.content, Content::Photo { .. }) { "image" } else { "document" };
                let mut media = match uploaded {
                    _ if is_url(link) => json!({"link": link}),
                    Some(id) => json!({"id": id}),
                    None => return Err(SendError::Permanent("the file was not uploaded to WhatsApp".into())),
                };
                if !item.body.is_empty() {
                    media["caption"] = json!(item.body);
                }
                if kind == "document"
                    && let Some(name) = file_name(link)
                {
                    media["filename"] = json!(name);
                }
                body["type"] = json!(kind);
                body[kind] = media;
            }
            Content::Text if !buttons.is_empty() => {
                // The rules the composer and the planner asked already; a message queued
                // before them (or by hand) fails here with the same reason.
                let rules = ChannelKind::WhatsApp.rules();
                rules.buttons.check(buttons, rules.name).map_err(SendError::Permanent)?;
                let flat: Vec<&Button> = buttons.iter().flatten().collect();
                body["type"] = json!("interactive");
                body["interactive"] = match flat.as_slice() {
                    // One link: a call-to-action button that opens it.
                    [Button { url: Some(url), text, .. }] => json!({"type": "cta_url", "body": {"text": item.body},
                        "action": {"name": "cta_url", "parameters": {"display_text": text, "url": url}}}),
                    replies if replies.len() <= 3 => {
                        let replies: Vec<Value> = replies
                            .iter()
                            .map(|b| json!({"type": "reply", "reply": {"id": b.callback_data, "title": b.text}}))
                            .collect();
                        json!({"type": "button", "body": {"text": item.body}, "action": {"buttons": replies}})
                    }
                    // Past three, a list message: a button that opens the choices.
                    rows => {
                        let rows: Vec<Value> =
                            rows.iter().map(|b| json!({"id": b.callback_data, "title": b.text})).collect();
                        json!({"type": "list", "body": {"text": item.body},
                               "action": {"button": "Choose", "sections": [{"rows": rows}]}})
                    }
                };
            }
            Content::Text => {
                body["type"] = json!("text");
                body["text"] = json!({"body": item.body, "preview_url": false});
            }
        }
        Ok(body)
    }

    /// Whether the token and phone number id work: the number as WhatsApp shows it.
    pub async fn check(&self) -> Result<String, SendError> {
        let answer = self.call(self.http.get(&self.base)).await?;
        Ok(answer["display_phone_number"].as_str().unwrap_or("the number").to_string())
    }

    pub async fn send(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        let uploaded = match &item.content {
            Content::Photo { source } | Content::Document { source } if !is_url(source) => {
                Some(self.upload(std::path::Path::new(source)).await?)
            }
            _ => None,
        };
        let body = self.body(item, uploaded.as_deref())?;
        let answer = self.call(self.http.post(format!("{}/messages", self.base)).json(&body)).await?;
        let id = answer["messages"][0]["id"].as_str().map(str::to_string);
        Ok(Sent { external_id: id, at: now_ms() })
    }

    /// Uploads a local file (`POST /PHONE_ID/media`, multipart): the media id to send it by.
    async fn upload(&self, path: &std::path::Path) -> Result<String, SendError> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| SendError::Permanent(format!("cannot read {}: {e}", path.display())))?;
        let mime = mime_of(path, &bytes);
        let name = file_name(&path.to_string_lossy()).unwrap_or("file").to_string();
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name)
            .mime_str(mime)
            .map_err(|e| SendError::Permanent(format!("the file's type: {e}")))?;
        let form =
            reqwest::multipart::Form::new().text("messaging_product", "whatsapp").text("type", mime).part("file", part);
        let answer = self.call(self.http.post(format!("{}/media", self.base)).multipart(form)).await?;
        answer["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| SendError::Permanent(format!("WhatsApp took the file but gave no media id: {answer}")))
    }

    /// A customer's file: its short-lived URL from `GET /MEDIA_ID`, then the file from
    /// that URL with the bearer token.
    pub(crate) async fn download(&self, media: &Value, max: u64) -> Result<super::media::Downloaded, String> {
        let id = media["id"].as_str().ok_or("the message keeps no WhatsApp media id")?;
        let root = self.base.rsplit_once('/').map(|(root, _)| root).unwrap_or(&self.base);
        let info =
            self.call(self.http.get(format!("{root}/{id}"))).await.map_err(|e| format!("the media's URL: {e}"))?;
        if let Some(size) = info["file_size"].as_u64().filter(|s| *s > max) {
            return Err(format!(
                "it is {}; this console fetches at most {}",
                crate::model::size_text(size),
                crate::model::size_text(max)
            ));
        }
        let url = info["url"].as_str().ok_or("WhatsApp gave no URL for the media")?;
        let (bytes, content_type) = super::media::fetch(&self.http, url, Some(self.token.expose()), max).await?;
        let name = media["filename"].as_str().map(str::to_string).unwrap_or_default();
        let content_type = content_type.or_else(|| info["mime_type"].as_str().map(str::to_string));
        Ok(super::media::Downloaded { bytes, content_type, name })
    }

    /// Makes a Graph API call with the token: its JSON answer, or Meta's error envelope
    /// mapped by its code.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, SendError> {
        let response = request
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|e| SendError::Retry { after: None, reason: format!("network: {}", e.without_url()) })?;
        let status = response.status();
        let answer: Value = response.json().await.map_err(|e| SendError::Retry {
            after: None,
            reason: format!("WhatsApp answered {status} with something that is not JSON: {}", e.without_url()),
        })?;
        match answer.get("error") {
            None if status.is_success() => Ok(answer),
            error => {
                let error = error.cloned().unwrap_or_default();
                let (code, message) = (error["code"].as_i64().unwrap_or(0), error["message"].as_str().unwrap_or(""));
                Err(classify(code, message, status.as_u16()))
            }
        }
    }
}

/// What an error code means for the message.
pub fn classify(code: i64, message: &str, http: u16) -> SendError {
    let reason = decode::failure_reason(code, message);
    match code {
        0 | 190 => SendError::ChannelDown("WhatsApp rejected the access token".into()),
        131056 => SendError::Retry { after: Some(Duration::from_secs(6)), reason },
        4 | 80007 | 130429 | 131057 | 131000 | 131016 => SendError::Retry { after: None, reason },
        131050 => SendError::MarketingOptOut(reason),
        _ if http >= 500 => SendError::Retry { after: None, reason },
        _ => SendError::Permanent(reason),
    }
}

fn is_url(source: &str) -> bool {
    source.starts_with("https://") || source.starts_with("http://")
}

/// The last part of a path or URL, when there is one.
fn file_name(source: &str) -> Option<&str> {
    source.rsplit(['/', '\\']).next().filter(|n| !n.is_empty())
}

/// The type WhatsApp is told a file has: a picture by its content, a document by its
/// extension among those WhatsApp takes.
fn mime_of(path: &std::path::Path, bytes: &[u8]) -> &'static str {
    if let Some(picture) = crate::model::picture_mime(bytes) {
        return picture;
    }
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "mp4" => "video/mp4",
        "ogg" => "audio/ogg",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}
