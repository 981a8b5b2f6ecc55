//! The VK community-messages adapter (API 5.199) over reqwest, as PROTOCOLS.md §7
//! recommends: method calls with the community token, the Bots Long Poll server, sends
//! with a `random_id` derived from the outbox row (VK drops a repeat, so a crash between
//! the send and its commit never delivers twice), photos and documents through VK's
//! upload servers, callback-button answers, names looked up for the ids VK's events
//! carry, and VK's error codes mapped to what the sender
//! should do. Every API call waits its turn in one bucket of 20 a second per community
//! token, shared by the poller and the sender.

pub mod decode;
mod upload;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::hook::{Call, Refused};
use super::{RateProfile, SendError, Sent, signature};
use crate::config::{Secret, VkConfig, VkMode};
use crate::model::{Button, Content, InboundEvent, Peer, now_ms};
use crate::store::OutboxItem;

/// VK's limit for a community token.
const CALLS_PER_SEC: f64 = 20.0;

#[derive(Clone)]
pub struct VkChannel {
    http: reqwest::Client,
    /// For the long poll: its own timeout, longer than `wait`.
    poll_http: reqwest::Client,
    api_url: String,
    version: String,
    token: Secret,
    group_id: u64,
    mode: VkMode,
    secret: Option<Secret>,
    confirmation: Option<String>,
    rate_limits: bool,
    /// When the next API call may go (the shared bucket).
    next_call: Arc<tokio::sync::Mutex<Instant>>,
    /// Names already looked up, by user id.
    names: Arc<Mutex<HashMap<i64, String>>>,
}

/// Where to long-poll: `{server}?act=a_check&key={key}&ts={ts}&wait=25`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongPollServer {
    pub server: String,
    pub key: String,
    pub ts: String,
}

/// One long-poll answer.
#[derive(Debug, Clone, PartialEq)]
pub enum LongPoll {
    /// Events, and the `ts` to ask from next.
    Updates { ts: String, updates: Vec<Value> },
    /// 1: the history is outdated or partly lost: go on from `ts`, and catch up.
    Outdated { ts: String },
    /// 2: the key expired: get a new one, keep `ts`.
    KeyExpired,
    /// 3: the information was lost: get a new key and `ts`, and catch up.
    Lost,
}

impl VkChannel {
    /// A customer's file, from the URL VK put in the message's first attachment: the
    /// largest size of a photo, a document's URL, a voice message's recording.
    pub(crate) async fn download(&self, media: &Value, max: u64) -> Result<super::media::Downloaded, String> {
        let a = &media["attachments"][0];
        let t = a["type"].as_str().unwrap_or("");
        let item = &a[t];
        let (url, name) = match t {
            "photo" | "graffiti" => {
                let biggest = item["sizes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .max_by_key(|z| decode::int(&z["width"]).unwrap_or(0) * decode::int(&z["height"]).unwrap_or(0));
                (biggest.and_then(|z| z["url"].as_str()).or(item["url"].as_str()), String::new())
            }
            "doc" => {
                let title = item["title"].as_str().unwrap_or("");
                let ext = item["ext"].as_str().unwrap_or("");
                let name = if ext.is_empty() || title.ends_with(&format!(".{ext}")) {
                    title.to_string()
                } else {
                    format!("{title}.{ext}")
                };
                (item["url"].as_str(), name)
            }
            "audio_message" => (item["link_ogg"].as_str().or(item["link_mp3"].as_str()), String::new()),
            "" => return Err("the message keeps no VK attachment".into()),
            other => return Err(format!("VK gives no file for a {other} attachment")),
        };
        let url = url.ok_or("VK gave no URL for the attachment")?;
        let (bytes, content_type) = super::media::fetch(&self.http, url, None, max).await?;
        Ok(super::media::Downloaded { bytes, content_type, name })
    }

    pub fn new(config: &VkConfig) -> Result<VkChannel, String> {
        reqwest::Url::parse(&config.api_url).map_err(|e| format!("channels.vk.api_url is not a URL: {e}"))?;
        if config.group_id == 0 {
            return Err("channels.vk.group_id must be the community's id (a positive number)".into());
        }
        let client = |timeout: u64| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(timeout))
                .build()
                .map_err(|e| format!("cannot build an HTTP client: {e}"))
        };
        Ok(VkChannel {
            http: client(30)?,
            // wait=25, plus the margin vksdk leaves.
            poll_http: client(35)?,
            api_url: config.api_url.trim_end_matches('/').to_string(),
            version: config.api_version.clone(),
            token: config.token.clone(),
            group_id: config.group_id,
            mode: config.mode,
            secret: config.secret.clone(),
            confirmation: config.confirmation.clone(),
            rate_limits: config.rate_limits,
            next_call: Arc::new(tokio::sync::Mutex::new(Instant::now())),
            names: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    pub fn group_id(&self) -> u64 {
        self.group_id
    }

    /// True when VK calls us (Callback API) instead of being long-polled.
    pub fn uses_callback(&self) -> bool {
        self.mode == VkMode::Callback
    }

    /// The sender's pacing: VK's one limit is per token, kept by `call` for every call,
    /// so the sender adds none of its own.
    pub fn rate_profile(&self) -> RateProfile {
        RateProfile::UNLIMITED
    }

    /// Waits for this call's turn in the community token's bucket.
    async fn turn(&self) {
        if !self.rate_limits {
            return;
        }
        let at = {
            let mut next = self.next_call.lock().await;
            let at = (*next).max(Instant::now());
            *next = at + Duration::from_secs_f64(1.0 / CALLS_PER_SEC);
            at
        };
        tokio::time::sleep_until(at).await;
    }

    /// Calls an API method: its `response`, or VK's error mapped by its code.
    pub async fn call(&self, method: &str, params: &[(&str, String)]) -> Result<Value, SendError> {
        self.turn().await;
        let mut form: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form.push(("v", &self.version));
        let response = self
            .http
            .post(format!("{}/method/{method}", self.api_url))
            .bearer_auth(self.token.expose())
            .form(&form)
            .send()
            .await
            .map_err(|e| SendError::Retry { after: None, reason: format!("network: {}", e.without_url()) })?;
        let status = response.status();
        if status.is_server_error() {
            return Err(SendError::Retry { after: None, reason: format!("VK answered {status}") });
        }
        let answer: Value = response.json().await.map_err(|e| SendError::Retry {
            after: None,
            reason: format!("VK answered {status} with something that is not JSON: {}", e.without_url()),
        })?;
        if let Some(error) = answer.get("error") {
            let code = decode::int(&error["error_code"]).unwrap_or(0);
            return Err(classify(code, error["error_msg"].as_str().unwrap_or("")));
        }
        answer.get("response").cloned().ok_or_else(|| SendError::Retry {
            after: None,
            reason: "VK's answer has neither response nor error".into(),
        })
    }

    /// Whether the token works: the community's name (`groups.getById`).
    pub async fn check(&self) -> Result<String, SendError> {
        let answer = self.call("groups.getById", &[("group_id", self.group_id.to_string())]).await?;
        // 5.199 answers {groups: [...]}; older versions a bare array.
        let group = answer.get("groups").map(|g| &g[0]).unwrap_or(&answer[0]);
        Ok(group["name"].as_str().unwrap_or("the community").to_string())
    }

    /// The Bots Long Poll server to ask (`groups.getLongPollServer`).
    pub async fn long_poll_server(&self) -> Result<LongPollServer, SendError> {
        let r = self.call("groups.getLongPollServer", &[("group_id", self.group_id.to_string())]).await?;
        let text = |v: &Value| v.as_str().map(str::to_string).or_else(|| decode::int(v).map(|i| i.to_string()));
        match (r["server"].as_str(), r["key"].as_str(), text(&r["ts"])) {
            (Some(server), Some(key), Some(ts)) => Ok(LongPollServer { server: server.into(), key: key.into(), ts }),
            _ => Err(SendError::Retry {
                after: None,
                reason: "groups.getLongPollServer gave no server, key or ts".into(),
            }),
        }
    }

    /// One long poll from `ts` (the server holds it up to 25 s).
    pub async fn poll(&self, server: &LongPollServer, ts: &str) -> Result<LongPoll, SendError> {
        let answer: Value = self
            .poll_http
            .get(&server.server)
            .query(&[("act", "a_check"), ("key", server.key.as_str()), ("ts", ts), ("wait", "25")])
            .send()
            .await
            .map_err(|e| SendError::Retry { after: None, reason: format!("long poll: {}", e.without_url()) })?
            .json()
            .await
            .map_err(|e| SendError::Retry { after: None, reason: format!("long poll answer: {}", e.without_url()) })?;
        // `ts` is a string, but a number next to `failed`.
        let ts =
            answer["ts"].as_str().map(str::to_string).or_else(|| decode::int(&answer["ts"]).map(|t| t.to_string()));
        match (decode::int(&answer["failed"]), ts) {
            (None, Some(ts)) => {
                Ok(LongPoll::Updates { ts, updates: answer["updates"].as_array().cloned().unwrap_or_default() })
            }
            (Some(1), Some(ts)) => Ok(LongPoll::Outdated { ts }),
            (Some(2), _) => Ok(LongPoll::KeyExpired),
            (Some(3), _) => Ok(LongPoll::Lost),
            (failed, _) => Err(SendError::Retry {
                after: Some(Duration::from_secs(5)),
                reason: format!("long poll answered failed={failed:?}"),
            }),
        }
    }

    /// Messages in conversations with unread messages, newest last, as `message_new`
    /// events: the catch-up after the long poll lost some (`failed` 1 or 3). Stored like
    /// any, so what was already there is not stored twice.
    pub async fn catch_up(&self) -> Result<Vec<Value>, SendError> {
        let group = ("group_id", self.group_id.to_string());
        let list = self
            .call("messages.getConversations", &[group.clone(), ("filter", "unread".into()), ("count", "200".into())])
            .await?;
        let mut events = Vec::new();
        for item in list["items"].as_array().into_iter().flatten() {
            let Some(peer) = decode::int(&item["conversation"]["peer"]["id"]) else { continue };
            let unread = decode::int(&item["conversation"]["unread_count"]).unwrap_or(1).clamp(1, 200);
            let history = self
                .call(
                    "messages.getHistory",
                    &[group.clone(), ("peer_id", peer.to_string()), ("count", unread.to_string())],
                )
                .await?;
            let mut messages: Vec<Value> = history["items"].as_array().cloned().unwrap_or_default();
            messages.reverse();
            for m in messages.into_iter().filter(|m| decode::int(&m["out"]) != Some(1)) {
                events.push(json!({"type": "message_new", "object": {"message": m}}));
            }
        }
        Ok(events)
    }

    /// Fills in the names VK's events leave out (`users.get`), from a cache, so a
    /// conversation is titled by the customer's name rather than `id…`. A failed look-up
    /// leaves the ids: the events are stored either way.
    pub async fn name(&self, events: &mut [InboundEvent]) {
        let wanted: Vec<i64> = {
            let names = self.names.lock().unwrap_or_else(|p| p.into_inner());
            let mut ids: Vec<i64> = events
                .iter()
                .filter_map(peer_of)
                .filter_map(|p| p.external_id.parse::<i64>().ok())
                .filter(|id| *id > 0 && *id < decode::CHAT_PEER_BASE && !names.contains_key(id))
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        if !wanted.is_empty() {
            let ids = wanted.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            match self.call("users.get", &[("user_ids", ids)]).await {
                Ok(users) => {
                    let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
                    for u in users.as_array().into_iter().flatten() {
                        let full = [u["first_name"].as_str(), u["last_name"].as_str()]
                            .into_iter()
                            .flatten()
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(" ");
                        if let (Some(id), false) = (decode::int(&u["id"]), full.is_empty()) {
                            names.insert(id, full);
                        }
                    }
                }
                Err(e) => tracing::debug!(error = %e, "users.get failed; ids shown instead of names"),
            }
        }
        let names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        for event in events.iter_mut() {
            rename(event, &names);
        }
    }

    /// Stops the spinner of a callback-button press (`messages.sendMessageEventAnswer`).
    /// Failures do not matter: the press is stored already.
    pub async fn answer_press(&self, event_id: &str, user_id: &str, peer_id: &str) {
        let params =
            [("event_id", event_id.to_string()), ("user_id", user_id.to_string()), ("peer_id", peer_id.to_string())];
        if let Err(e) = self.call("messages.sendMessageEventAnswer", &params).await {
            tracing::debug!(error = %e, "sendMessageEventAnswer failed");
        }
    }

    /// Answers the presses among stored events, each on its own.
    pub fn answer_presses(&self, events: &[InboundEvent]) {
        for event in events {
            if let InboundEvent::Click(c) = event {
                let (vk, c) = (self.clone(), c.clone());
                tokio::spawn(async move {
                    vk.answer_press(&c.query_id, &c.from.external_id, &c.chat.external_chat_id).await
                });
            }
        }
    }

    /// The `messages.send` parameters for one queued message.
    pub fn params(&self, item: &OutboxItem) -> Result<Vec<(&'static str, String)>, SendError> {
        let mut params = vec![
            ("peer_ids", item.chat_id.clone()),
            ("random_id", random_id(item.message_id.0).to_string()),
            ("message", item.body.clone()),
        ];
        if let Content::Template(_) = &item.content {
            return Err(SendError::Permanent("templates are WhatsApp's; VK takes text".into()));
        }
        if !item.buttons.is_empty() {
            params.push(("keyboard", keyboard(&item.buttons)?.to_string()));
        }
        Ok(params)
    }

    pub async fn send(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        let mut params = self.params(item)?;
        match &item.content {
            Content::Photo { source } => params.push(("attachment", self.upload_photo(&item.chat_id, source).await?)),
            Content::Document { source } => {
                params.push(("attachment", self.upload_document(&item.chat_id, source).await?))
            }
            Content::Text | Content::Template(_) => {}
        }
        let answer = self.call("messages.send", &params).await?;
        // With peer_ids, one result per peer, with the id in the conversation.
        let result = &answer[0];
        if let Some(error) = result.get("error").filter(|e| !e.is_null()) {
            let code = decode::int(&error["code"]).or(decode::int(&error["error_code"])).unwrap_or(0);
            return Err(classify(code, error["description"].as_str().or(error["error_msg"].as_str()).unwrap_or("")));
        }
        let id = decode::int(&result["conversation_message_id"]).or(decode::int(&result["message_id"]));
        Ok(Sent { external_id: id.map(|i| i.to_string()), at: now_ms() })
    }

    /// Callback mode: a call is read in full (the secret is in the body).
    pub fn admit(&self, _call: &Call<'_>) -> Result<(), Refused> {
        Ok(())
    }

    /// The `secret` in the body must be the configured one (compared in constant time).
    pub fn verify(&self, body: &[u8]) -> Result<(), Refused> {
        let given: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let expected = self.secret.as_ref().map(|s| s.expose().as_bytes()).unwrap_or_default();
        let ok = given["type"] == "confirmation"
            || (!expected.is_empty()
                && signature::same_secret(given["secret"].as_str().unwrap_or("").as_bytes(), expected));
        ok.then_some(()).ok_or(Refused { status: 403, answer: "Bad Secret", log: "VK callback with a wrong secret" })
    }

    /// The answer to VK's `confirmation` call: the configured string, as the plain body.
    /// None for any other call (or a confirmation for another community).
    pub fn confirmation(&self, body: &[u8]) -> Option<String> {
        let given: Value = serde_json::from_slice(body).ok()?;
        (given["type"] == "confirmation" && decode::int(&given["group_id"]) == Some(self.group_id as i64))
            .then(|| self.confirmation.clone())
            .flatten()
    }
}

/// The customer an event names, to look up their name.
fn peer_of(event: &InboundEvent) -> Option<&Peer> {
    match event {
        InboundEvent::Message(m) | InboundEvent::Opened(m) | InboundEvent::Edited { message: m, .. } => Some(&m.from),
        InboundEvent::Echo { message, .. } => Some(&message.from),
        InboundEvent::Click(c) => Some(&c.from),
        InboundEvent::Membership(m) => Some(&m.from),
        _ => None,
    }
}

fn rename(event: &mut InboundEvent, names: &HashMap<i64, String>) {
    let name = |p: &Peer| p.external_id.parse::<i64>().ok().and_then(|id| names.get(&id)).cloned();
    let (chat, from) = match event {
        InboundEvent::Message(m) | InboundEvent::Opened(m) | InboundEvent::Edited { message: m, .. } => {
            (&mut m.chat, &mut m.from)
        }
        InboundEvent::Echo { message, .. } => (&mut message.chat, &mut message.from),
        InboundEvent::Click(c) => (&mut c.chat, &mut c.from),
        InboundEvent::Membership(m) => (&mut m.chat, &mut m.from),
        _ => return,
    };
    if let Some(n) = name(from) {
        if !chat.is_group {
            chat.title = n.clone();
        }
        from.display_name = n;
    }
}

/// The `random_id` of an outbox row: the row's id, a positive 31-bit number, so VK drops
/// a second send of the same row (the current bots guide calls it int32).
pub fn random_id(message_id: i64) -> i64 {
    let id = message_id & 0x7fff_ffff;
    if id == 0 { 1 } else { id }
}

/// Rows of buttons as an inline keyboard: a link opens it, a reply button is a
/// callback button whose payload (a JSON string) comes back in `message_event`.
pub fn keyboard(rows: &[Vec<Button>]) -> Result<Value, SendError> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut buttons = Vec::with_capacity(row.len());
        for b in row {
            buttons.push(match (&b.url, &b.callback_data) {
                (Some(url), _) => json!({"action": {"type": "open_link", "link": url, "label": b.text}}),
                (None, Some(data)) => json!({"action": {"type": "callback", "label": b.text,
                                                        "payload": Value::String(data.clone()).to_string()}}),
                (None, None) => return Err(SendError::Permanent(format!("button `{}` has no link or data", b.text))),
            });
        }
        out.push(buttons);
    }
    Ok(json!({"inline": true, "buttons": out}))
}

/// What an error code means for the message (PROTOCOLS.md §7.8).
pub fn classify(code: i64, message: &str) -> SendError {
    match code {
        5 => SendError::ChannelDown("VK rejected the community token".into()),
        15 => SendError::ChannelDown("the community token lacks a right it needs (messages)".into()),
        6 => {
            SendError::Retry { after: Some(Duration::from_secs(1)), reason: "VK: too many requests per second".into() }
        }
        9 => SendError::Retry { after: Some(Duration::from_secs(60)), reason: "VK's flood control".into() },
        10 => SendError::Retry { after: None, reason: "VK's internal error".into() },
        29 => {
            SendError::Retry { after: Some(Duration::from_secs(300)), reason: "VK's rate limit for the method".into() }
        }
        18 => SendError::Unreachable("the user was deleted or banned".into()),
        900 => SendError::Unreachable("the user is on the community's blacklist".into()),
        901 => SendError::Unreachable("the customer has not allowed messages from the community".into()),
        902 => SendError::Unreachable("the customer's privacy settings refuse messages from the community".into()),
        914 => SendError::Permanent("the message is too long for VK (9000 characters at most)".into()),
        911 => SendError::Permanent("VK refused the keyboard".into()),
        _ if message.is_empty() => SendError::Permanent(format!("VK error {code}")),
        _ => SendError::Permanent(format!("{message} (VK error {code})")),
    }
}
