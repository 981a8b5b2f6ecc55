//! A loopback emulator of the Telegram Bot API. It speaks the real wire format: methods
//! under `/bot<TOKEN>/<method>` matched case-insensitively (teloxide sends `SendMessage`),
//! JSON or query parameters, `{"ok":…}` envelopes with `error_code` and `description`,
//! long-polled `getUpdates` whose offset confirms earlier updates. Scripted customers
//! answer the agent after a short delay. A few control routes under `/sandbox/` let a
//! person or a test pause it, make a customer speak, or read what the bot sent.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Rng;
use super::customers::{self, Customer};

/// The bot the emulator pretends to be.
const BOT_ID: i64 = 7_000_000_001;
const BOT_NAME: &str = "Switchboard Demo";
const BOT_USERNAME: &str = "switchboard_demo_bot";

/// How the scripted customers behave.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Customers answer a message from the bot after a delay in this range.
    pub reply_delay: Option<(Duration, Duration)>,
    /// Now and then a customer writes unprompted.
    pub ambient_every: Option<Duration>,
    /// Message ids start after this, so they never collide with stored ones.
    pub first_message_id: i64,
    pub seed: u64,
}

impl Default for EmulatorOptions {
    /// Quiet: customers speak only when a test makes them.
    fn default() -> Self {
        EmulatorOptions { reply_delay: None, ambient_every: None, first_message_id: 1000, seed: 1 }
    }
}

/// What the bot sent, as the emulator received it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SentMessage {
    pub method: String,
    pub chat_id: i64,
    pub text: String,
    pub message_id: i64,
}

struct EmuState {
    token: String,
    next_update_id: i64,
    pending: Vec<(i64, Value)>,
    customers: HashMap<i64, Customer>,
    blocked: std::collections::HashSet<i64>,
    sent: Vec<SentMessage>,
    next_message_id: i64,
    paused: bool,
    replying: std::collections::HashSet<i64>,
    rng: Rng,
}

struct Shared {
    state: Mutex<EmuState>,
    /// Bumped on every new update (wakes long polls) and every message the bot sends.
    updates: watch::Sender<u64>,
    sent: watch::Sender<u64>,
    options: EmulatorOptions,
}

type Emu = Arc<Shared>;

/// A running emulator. Dropping it stops the server and the customers.
pub struct TelegramEmulator {
    addr: SocketAddr,
    shared: Emu,
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
                pending: Vec::new(),
                customers: customers.into_iter().map(|c| (c.id, c)).collect(),
                blocked: Default::default(),
                sent: Vec::new(),
                next_message_id: options.first_message_id + 1,
                paused: false,
                replying: Default::default(),
                rng: Rng::new(options.seed),
            }),
            updates: watch::channel(0).0,
            sent: watch::channel(0).0,
            options,
        });
        let app = Router::new()
            .route("/sandbox/pause", post(control_pause))
            .route("/sandbox/resume", post(control_resume))
            .route("/sandbox/say", post(control_say))
            .route("/sandbox/sent", get(control_sent))
            .route("/{bot}/{method}", any(api))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let mut tasks = vec![tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        })];
        if let Some(every) = shared.options.ambient_every {
            tasks.push(tokio::spawn(ambient(shared.clone(), every)));
        }
        Ok(TelegramEmulator { addr, shared, tasks })
    }

    /// The base URL to give the adapter (`api_url`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A customer writes `text` in their private chat; returns the update id.
    pub fn customer_says(&self, chat_id: i64, text: &str) -> i64 {
        push_customer_message(&self.shared, chat_id, text)
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

    /// Updates not yet confirmed by a `getUpdates` offset.
    pub fn pending_updates(&self) -> usize {
        lock(&self.shared).pending.len()
    }

    /// While paused, every send is refused with 429 and `retry_after` 1, as a flooded
    /// server would: the bot's messages stay queued on our side.
    pub fn set_paused(&self, paused: bool) {
        lock(&self.shared).paused = paused;
    }

    /// The customer blocks the bot: sends to them fail with 403.
    pub fn block(&self, chat_id: i64) {
        lock(&self.shared).blocked.insert(chat_id);
    }
}

impl Drop for TelegramEmulator {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn lock(emu: &Shared) -> std::sync::MutexGuard<'_, EmuState> {
    emu.state.lock().unwrap_or_else(|p| p.into_inner())
}

fn ok(result: Value) -> Response {
    (StatusCode::OK, axum::Json(json!({"ok": true, "result": result}))).into_response()
}

fn err(code: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    (StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST), axum::Json(body)).into_response()
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn api(
    State(emu): State<Emu>,
    Path((bot, method)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if bot.strip_prefix("bot") != Some(lock(&emu).token.as_str()) {
        return err(401, "Unauthorized", None);
    }
    let mut params: serde_json::Map<String, Value> = if body.is_empty() {
        Default::default()
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(map)) => map,
            _ => return err(400, "Bad Request: can't parse JSON object", None),
        }
    };
    for (k, v) in query {
        params.entry(k).or_insert_with(|| serde_json::from_str(&v).unwrap_or(Value::String(v)));
    }
    match method.to_ascii_lowercase().as_str() {
        "getme" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": BOT_NAME, "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false, "has_main_web_app": false
        })),
        "getupdates" => get_updates(emu, params).await,
        "sendmessage" => send_message(emu, params),
        "deletewebhook" | "setmycommands" | "answercallbackquery" => ok(json!(true)),
        "getwebhookinfo" => {
            let pending = lock(&emu).pending.len();
            ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": pending}))
        }
        _ => err(404, "Not Found: method not found", None),
    }
}

async fn get_updates(emu: Emu, params: serde_json::Map<String, Value>) -> Response {
    let offset = params.get("offset").and_then(Value::as_i64);
    let limit = params.get("limit").and_then(Value::as_u64).unwrap_or(100).clamp(1, 100) as usize;
    let timeout = params.get("timeout").and_then(Value::as_u64).unwrap_or(0).min(50);
    let mut changes = emu.updates.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let batch: Vec<Value> = {
            let mut state = lock(&emu);
            if let Some(offset) = offset {
                // Asking from an offset confirms every update before it.
                state.pending.retain(|(id, _)| *id >= offset);
            }
            state.pending.iter().take(limit).map(|(_, u)| u.clone()).collect()
        };
        if !batch.is_empty() || tokio::time::Instant::now() >= deadline {
            return ok(Value::Array(batch));
        }
        if tokio::time::timeout_at(deadline, changes.changed()).await.is_err() {
            return ok(json!([]));
        }
    }
}

fn send_message(emu: Emu, params: serde_json::Map<String, Value>) -> Response {
    let Some(chat_id) = params.get("chat_id").and_then(Value::as_i64) else {
        return err(400, "Bad Request: chat_id is empty", None);
    };
    let text = params.get("text").and_then(Value::as_str).unwrap_or("").to_string();
    let mut state = lock(&emu);
    if state.paused {
        return err(429, "Too Many Requests: retry after 1", Some(json!({"retry_after": 1})));
    }
    if text.trim().is_empty() {
        return err(400, "Bad Request: message text is empty", None);
    }
    if text.chars().count() > 4096 {
        return err(400, "Bad Request: message is too long", None);
    }
    let Some(customer) = state.customers.get(&chat_id).cloned() else {
        return err(400, "Bad Request: chat not found", None);
    };
    if state.blocked.contains(&chat_id) {
        return err(403, "Forbidden: bot was blocked by the user", None);
    }
    let message_id = state.next_message_id;
    state.next_message_id += 1;
    state.sent.push(SentMessage { method: "sendMessage".into(), chat_id, text: text.clone(), message_id });
    let reply_after = match emu.options.reply_delay {
        Some((lo, hi)) if state.replying.insert(chat_id) => {
            let span = hi.saturating_sub(lo).as_millis().max(1) as u64;
            Some(lo + Duration::from_millis(state.rng.below(span)))
        }
        _ => None,
    };
    drop(state);
    emu.sent.send_modify(|n| *n += 1);
    let chat = private_chat(&customer);
    if let Some(delay) = reply_after {
        let emu = emu.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let text = {
                let mut state = lock(&emu);
                state.replying.remove(&chat_id);
                customers::reply(&customer, &mut state.rng)
            };
            push_customer_message(&emu, chat_id, &text);
        });
    }
    ok(json!({
        "message_id": message_id,
        "from": {"id": BOT_ID, "is_bot": true, "first_name": BOT_NAME, "username": BOT_USERNAME},
        "chat": chat,
        "date": now_secs(),
        "text": text,
    }))
}

fn private_chat(c: &Customer) -> Value {
    let mut chat = json!({"id": c.id, "type": "private", "first_name": c.first_name});
    if let Some(last) = &c.last_name {
        chat["last_name"] = json!(last);
    }
    if let Some(u) = &c.username {
        chat["username"] = json!(u);
    }
    chat
}

fn user(c: &Customer) -> Value {
    let mut user = json!({"id": c.id, "is_bot": false, "first_name": c.first_name, "language_code": c.lang});
    if let Some(last) = &c.last_name {
        user["last_name"] = json!(last);
    }
    if let Some(u) = &c.username {
        user["username"] = json!(u);
    }
    user
}

fn push_update(emu: &Shared, mut update: Value) -> i64 {
    let id = {
        let mut state = lock(emu);
        let id = state.next_update_id;
        state.next_update_id += 1;
        update["update_id"] = json!(id);
        state.pending.push((id, update));
        id
    };
    emu.updates.send_modify(|n| *n += 1);
    id
}

fn push_customer_message(emu: &Shared, chat_id: i64, text: &str) -> i64 {
    let (customer, message_id) = {
        let mut state = lock(emu);
        let customer = state.customers.get(&chat_id).cloned().unwrap_or_else(|| Customer {
            id: chat_id,
            first_name: format!("Customer {chat_id}"),
            last_name: None,
            username: None,
            lang: "en",
        });
        state.customers.entry(chat_id).or_insert_with(|| customer.clone());
        let id = state.next_message_id;
        state.next_message_id += 1;
        (customer, id)
    };
    push_update(
        emu,
        json!({"message": {
            "message_id": message_id, "date": now_secs(), "chat": private_chat(&customer),
            "from": user(&customer), "text": text
        }}),
    )
}

/// Now and then a random customer starts a conversation.
async fn ambient(emu: Emu, every: Duration) {
    loop {
        let jitter = Duration::from_millis(lock(&emu).rng.below(every.as_millis().max(1) as u64));
        tokio::time::sleep(every / 2 + jitter).await;
        let (chat, text) = {
            let mut state = lock(&emu);
            let mut ids: Vec<i64> = state.customers.keys().copied().collect();
            ids.sort_unstable();
            if ids.is_empty() {
                continue;
            }
            let chat = ids[state.rng.below(ids.len() as u64) as usize];
            let customer = state.customers[&chat].clone();
            (chat, customers::opener(&customer, &mut state.rng))
        };
        push_customer_message(&emu, chat, &text);
    }
}

async fn control_pause(State(emu): State<Emu>) -> &'static str {
    lock(&emu).paused = true;
    "paused\n"
}

async fn control_resume(State(emu): State<Emu>) -> &'static str {
    lock(&emu).paused = false;
    "resumed\n"
}

async fn control_say(State(emu): State<Emu>, Query(q): Query<HashMap<String, String>>) -> Response {
    match (q.get("chat").and_then(|c| c.parse::<i64>().ok()), q.get("text")) {
        (Some(chat), Some(text)) => {
            let id = push_customer_message(&emu, chat, text);
            (StatusCode::OK, format!("update {id}\n")).into_response()
        }
        _ => (StatusCode::BAD_REQUEST, "needs ?chat=ID&text=TEXT\n").into_response(),
    }
}

async fn control_sent(State(emu): State<Emu>) -> Response {
    axum::Json(lock(&emu).sent.clone()).into_response()
}
