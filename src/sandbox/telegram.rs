//! A loopback emulator of the Telegram Bot API. It speaks the real wire format: methods
//! under `/bot<TOKEN>/<method>` matched case-insensitively (teloxide sends `SendMessage`),
//! JSON, query or multipart parameters, `{"ok":…}` envelopes with `error_code` and
//! `description`, long-polled `getUpdates` whose offset confirms earlier updates (an
//! unconfirmed update is delivered again), or webhook delivery retried until answered
//! 2xx. It can enforce Telegram's rate limits, answer 429 or 403 on demand, and its
//! scripted customers (see `script`) answer the agent.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Map, Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::Rng;
use super::customers::Customer;
use super::telegram_control::{
    control_pause, control_resume, control_say, control_sent, customer_edit, customer_message, customer_press,
    deliver_webhooks, set_blocked,
};
use super::telegram_updates::{BOT_ID, BOT_NAME, BOT_USERNAME, Said};

/// How the emulator and its customers behave.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Customers answer a message from the bot after a delay in this range.
    pub reply_delay: Option<(Duration, Duration)>,
    /// Now and then a customer writes unprompted.
    pub ambient_every: Option<Duration>,
    /// Message ids start after this, so they never collide with stored ones.
    pub first_message_id: i64,
    pub seed: u64,
    /// Answer 429 to sends that break Telegram's limits (1/s per chat, 20/min per
    /// group, 30/s overall, with 10% of slack for loopback jitter), and count them.
    pub enforce_limits: bool,
    /// Our messages with buttons the customers may press: (chat, message id, data).
    pub clickable: Vec<(i64, i64, String)>,
    /// How long each send takes to answer: a network's round trip.
    pub send_latency: Duration,
}

impl Default for EmulatorOptions {
    /// Quiet: customers speak only when a test makes them.
    fn default() -> Self {
        EmulatorOptions {
            reply_delay: None,
            ambient_every: None,
            first_message_id: 1000,
            seed: 1,
            enforce_limits: false,
            clickable: Vec::new(),
            send_latency: Duration::ZERO,
        }
    }
}

/// What the bot sent, as the emulator received it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SentMessage {
    /// `sendMessage`, `sendPhoto` or `sendDocument`; or `editMessageText` and
    /// `deleteMessage` for a change to one already sent.
    pub method: String,
    pub chat_id: i64,
    /// The text, or the caption.
    pub text: String,
    pub message_id: i64,
    /// `reply_markup` exactly as the bot sent it.
    pub reply_markup: Option<Value>,
    /// The photo or document: a URL or file id as sent, or `{"uploaded": name, "bytes": n}`.
    pub file: Option<Value>,
    /// Milliseconds since the emulator started.
    pub at_ms: u64,
}

pub(super) struct EmuState {
    pub(super) token: String,
    next_update_id: i64,
    pub(super) pending: VecDeque<(i64, Value)>,
    pub(super) customers: HashMap<i64, Customer>,
    pub(super) blocked: HashSet<i64>,
    pub(super) sent: Vec<SentMessage>,
    /// Our messages as Telegram would return them, for button presses.
    pub(super) ours: HashMap<(i64, i64), Value>,
    /// Each customer's last message, for edits.
    pub(super) last_said: HashMap<i64, (i64, i64)>,
    pub(super) next_message_id: i64,
    pub(super) paused: bool,
    pub(super) replying: HashSet<i64>,
    pub(super) broadcast: super::BroadcastSense,
    pub(super) rng: Rng,
    pub(super) injected_429: HashMap<i64, u64>,
    pub(super) provoked_429: usize,
    pub(super) per_chat: HashMap<i64, VecDeque<Instant>>,
    pub(super) overall: VecDeque<Instant>,
    answered: Vec<String>,
    pub(super) webhook: Option<(String, Option<String>)>,
}

pub(super) struct Shared {
    pub(super) state: Mutex<EmuState>,
    /// Bumped on every new update (wakes long polls and webhook delivery).
    pub(super) updates: watch::Sender<u64>,
    /// Bumped on every message the bot sends.
    pub(super) sent: watch::Sender<u64>,
    pub(super) options: EmulatorOptions,
    pub(super) started: Instant,
}

pub(super) type Emu = Arc<Shared>;

/// A running emulator. Dropping it stops the server and the customers.
pub struct TelegramEmulator {
    addr: SocketAddr,
    pub(super) shared: Emu,
    tasks: Vec<JoinHandle<()>>,
}

impl TelegramEmulator {
    /// Serves on `listen` (port 0 picks a free one) with these customers.
    pub async fn start(
        listen: SocketAddr,
        token: &str,
        customers: Vec<Customer>,
        options: EmulatorOptions,
    ) -> std::io::Result<TelegramEmulator> {
        let shared = Arc::new(Shared {
            state: Mutex::new(EmuState {
                token: token.to_string(),
                next_update_id: 1,
                pending: VecDeque::new(),
                customers: customers.into_iter().map(|c| (c.id, c)).collect(),
                blocked: HashSet::new(),
                sent: Vec::new(),
                ours: HashMap::new(),
                last_said: HashMap::new(),
                next_message_id: options.first_message_id + 1,
                paused: false,
                replying: HashSet::new(),
                broadcast: Default::default(),
                rng: Rng::new(options.seed),
                injected_429: HashMap::new(),
                provoked_429: 0,
                per_chat: HashMap::new(),
                overall: VecDeque::new(),
                answered: Vec::new(),
                webhook: None,
            }),
            updates: watch::channel(0).0,
            sent: watch::channel(0).0,
            options,
            started: Instant::now(),
        });
        let app = Router::new()
            .route("/sandbox/pause", post(control_pause))
            .route("/sandbox/resume", post(control_resume))
            .route("/sandbox/say", post(control_say))
            .route("/sandbox/sent", get(control_sent))
            .route("/{bot}/{method}", any(api))
            .route("/file/{bot}/{*path}", get(super::telegram_files::file))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let mut tasks = vec![tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        })];
        tasks.push(tokio::spawn(deliver_webhooks(shared.clone())));
        if let Some(every) = shared.options.ambient_every {
            tasks.push(tokio::spawn(super::script::ambient(shared.clone(), every)));
        }
        Ok(TelegramEmulator { addr, shared, tasks })
    }

    /// The base URL to give the adapter (`api_url`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A customer writes `text` in their private chat; returns the update id.
    pub fn customer_says(&self, chat_id: i64, text: &str) -> i64 {
        customer_message(&self.shared, chat_id, &Said::Text(text.into()))
    }

    /// A customer does something other than write text (a photo, a location, a deep link).
    pub fn customer_does(&self, chat_id: i64, said: Said) -> i64 {
        customer_message(&self.shared, chat_id, &said)
    }

    /// A customer edits their last message.
    pub fn customer_edits_last(&self, chat_id: i64, text: &str) -> Option<i64> {
        customer_edit(&self.shared, chat_id, text)
    }

    /// A customer presses the button carrying `data` under our message `message_id`.
    pub fn customer_presses(&self, chat_id: i64, message_id: i64, data: &str) -> Option<i64> {
        customer_press(&self.shared, chat_id, message_id, data)
    }

    /// The customer blocks the bot: a `my_chat_member` update, and sends fail with 403.
    pub fn block(&self, chat_id: i64) {
        set_blocked(&self.shared, chat_id, true);
    }

    /// Sends to the customer fail with 403, but no update says so (as when that update
    /// has not been fetched yet).
    pub fn block_quietly(&self, chat_id: i64) {
        lock(&self.shared).blocked.insert(chat_id);
    }

    pub fn unblock(&self, chat_id: i64) {
        set_blocked(&self.shared, chat_id, false);
    }

    /// Queues a raw update (any shape) as Telegram would deliver it.
    pub fn push_update(&self, update: Value) -> i64 {
        push_update(&self.shared, update)
    }

    /// Every message the bot sent so far.
    pub fn sent(&self) -> Vec<SentMessage> {
        lock(&self.shared).sent.clone()
    }

    /// Waits until the bot has sent at least `n` messages, or `timeout` passes.
    pub async fn wait_for_sent(&self, n: usize, timeout: Duration) -> Vec<SentMessage> {
        let mut rx = self.shared.sent.subscribe();
        let _ = tokio::time::timeout(timeout, async {
            while lock(&self.shared).sent.len() < n {
                if rx.changed().await.is_err() {
                    break;
                }
            }
        })
        .await;
        self.sent()
    }

    /// Updates not yet confirmed (by a `getUpdates` offset or a 2xx webhook answer).
    pub fn pending_updates(&self) -> usize {
        lock(&self.shared).pending.len()
    }

    /// While paused, every send is refused with 429 and `retry_after` 1, as a flooded
    /// server would: the bot's messages stay queued on our side.
    pub fn set_paused(&self, paused: bool) {
        lock(&self.shared).paused = paused;
    }

    /// The next send to `chat_id` is answered 429 with `retry_after` = `secs`.
    pub fn inject_429(&self, chat_id: i64, secs: u64) {
        lock(&self.shared).injected_429.insert(chat_id, secs);
    }

    /// How many sends broke the enforced limits (each got a 429).
    pub fn provoked_429s(&self) -> usize {
        lock(&self.shared).provoked_429
    }

    /// The button presses the bot answered (`answerCallbackQuery`).
    pub fn answered_presses(&self) -> Vec<String> {
        lock(&self.shared).answered.clone()
    }
}

impl Drop for TelegramEmulator {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

pub(super) fn lock(emu: &Shared) -> std::sync::MutexGuard<'_, EmuState> {
    emu.state.lock().unwrap_or_else(|p| p.into_inner())
}

pub(super) fn ok(result: Value) -> Response {
    (StatusCode::OK, axum::Json(json!({"ok": true, "result": result}))).into_response()
}

pub(super) fn err(code: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    (StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST), axum::Json(body)).into_response()
}

pub(super) fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// JSON, query string and multipart parameters in one map; an uploaded file becomes
/// `{"uploaded": file name, "bytes": size}`.
async fn params(query: HashMap<String, String>, request: Request) -> Result<Map<String, Value>, Response> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let mut params = Map::new();
    if multipart {
        let bad = |e: axum::extract::multipart::MultipartError| err(400, &format!("Bad Request: {e}"), None);
        let mut form = Multipart::from_request(request, &()).await.map_err(|e| err(400, &e.body_text(), None))?;
        while let Some(field) = form.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_string();
            let file_name = field.file_name().map(str::to_string);
            let bytes = field.bytes().await.map_err(bad)?;
            let value = match file_name {
                Some(file) => json!({"uploaded": file, "bytes": bytes.len()}),
                None => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    serde_json::from_str(&text).unwrap_or(Value::String(text))
                }
            };
            params.insert(name, value);
        }
    } else {
        let body = axum::body::to_bytes(request.into_body(), 64 * 1024 * 1024)
            .await
            .map_err(|_| err(413, "Request Entity Too Large", None))?;
        if !body.is_empty() {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(map)) => params = map,
                _ => return Err(err(400, "Bad Request: can't parse JSON object", None)),
            }
        }
    }
    for (k, v) in query {
        params.entry(k).or_insert_with(|| serde_json::from_str(&v).unwrap_or(Value::String(v)));
    }
    // A field may name another part of the upload: "attach://<part>".
    let attached: Vec<(String, String)> = params
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.strip_prefix("attach://")?.to_string())))
        .collect();
    for (field, part) in attached {
        if let Some(file) = params.remove(&part) {
            params.insert(field, file);
        }
    }
    Ok(params)
}

async fn api(
    State(emu): State<Emu>,
    Path((bot, method)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    if bot.strip_prefix("bot") != Some(lock(&emu).token.as_str()) {
        return err(401, "Unauthorized", None);
    }
    let params = match params(query, request).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    match method.to_ascii_lowercase().as_str() {
        "getme" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": BOT_NAME, "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false, "has_main_web_app": false
        })),
        "getupdates" => get_updates(emu, params).await,
        "sendmessage" | "sendphoto" | "senddocument" => {
            let latency = emu.options.send_latency;
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            super::telegram_send::send(emu, &method, params)
        }
        "editmessagetext" | "deletemessage" => super::telegram_send::change(emu, &method, params),
        "getfile" => super::telegram_files::get_file(&params),
        "answercallbackquery" => {
            let id = params.get("callback_query_id").and_then(Value::as_str).unwrap_or_default().to_string();
            lock(&emu).answered.push(id);
            ok(json!(true))
        }
        "setwebhook" => {
            let url = params.get("url").and_then(Value::as_str).unwrap_or_default().to_string();
            let secret = params.get("secret_token").and_then(Value::as_str).map(str::to_string);
            lock(&emu).webhook = (!url.is_empty()).then_some((url, secret));
            emu.updates.send_modify(|n| *n += 1);
            ok(json!(true))
        }
        "deletewebhook" => {
            lock(&emu).webhook = None;
            ok(json!(true))
        }
        "getwebhookinfo" => {
            let state = lock(&emu);
            let url = state.webhook.as_ref().map(|(u, _)| u.clone()).unwrap_or_default();
            ok(json!({"url": url, "has_custom_certificate": false, "pending_update_count": state.pending.len()}))
        }
        _ => err(404, "Not Found: method not found", None),
    }
}

async fn get_updates(emu: Emu, params: Map<String, Value>) -> Response {
    if lock(&emu).webhook.is_some() {
        return err(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            None,
        );
    }
    let offset = params.get("offset").and_then(Value::as_i64);
    let limit = params.get("limit").and_then(Value::as_u64).unwrap_or(100).clamp(1, 100) as usize;
    let timeout = params.get("timeout").and_then(Value::as_u64).unwrap_or(0).min(50);
    let mut changes = emu.updates.subscribe();
    let deadline = Instant::now() + Duration::from_secs(timeout);
    loop {
        let batch: Vec<Value> = {
            let mut state = lock(&emu);
            if let Some(offset) = offset {
                // Asking from an offset confirms every update before it.
                state.pending.retain(|(id, _)| *id >= offset);
            }
            state.pending.iter().take(limit).map(|(_, u)| u.clone()).collect()
        };
        if !batch.is_empty() || Instant::now() >= deadline {
            return ok(Value::Array(batch));
        }
        if tokio::time::timeout_at(deadline, changes.changed()).await.is_err() {
            return ok(json!([]));
        }
    }
}

pub(super) fn push_update(emu: &Shared, mut update: Value) -> i64 {
    let id = {
        let mut state = lock(emu);
        let id = state.next_update_id;
        state.next_update_id += 1;
        update["update_id"] = json!(id);
        state.pending.push_back((id, update));
        id
    };
    emu.updates.send_modify(|n| *n += 1);
    id
}
