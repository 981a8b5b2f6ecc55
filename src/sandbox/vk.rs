//! A loopback emulator of VK's community-messages API (5.199) and its Bots Long Poll
//! server. It takes our calls at `/method/<name>` (form or query parameters, the token as
//! `Authorization: Bearer`), answers `{response}` or `{error: {error_code, error_msg}}` as
//! VK does (5 for a bad token, 901 for a customer who has not allowed messages), drops a
//! second `messages.send` with the same `random_id` as VK does, shows our sends back as
//! `message_reply`, and long-polls at `/lp` with `failed` 1, 2 and 3 on demand. Its
//! scripted customers write in Russian.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::{Customer, Rng, customers};
use crate::model::now_ms;

#[derive(Debug, Clone, Default)]
pub struct VkOptions {
    /// Customers answer our messages after a delay in this range.
    pub reply_delay: Option<(Duration, Duration)>,
    pub seed: u64,
    /// Longest a long poll is held (VK holds `wait` seconds; tests want less).
    pub max_wait: Option<Duration>,
}

/// A customer's VK id: a user id below the group-chat range.
pub fn peer_id(c: &Customer) -> i64 {
    51_400_000 + c.id.rem_euclid(1_000_000)
}

/// A call we made, as the emulator received it.
#[derive(Debug, Clone, PartialEq)]
pub struct VkCall {
    pub method: String,
    pub params: HashMap<String, String>,
}

struct VkState {
    token: String,
    group_id: i64,
    customers: HashMap<i64, Customer>,
    allowed: HashSet<i64>,
    /// Every event, numbered from 1; a poll from `ts` gets those numbered `ts` and up.
    events: Vec<Value>,
    key: String,
    keys_issued: u32,
    fail_next: Option<i64>,
    /// Each conversation's messages, oldest first.
    history: HashMap<i64, Vec<Value>>,
    unread: HashMap<i64, i64>,
    next_message_id: i64,
    sends: HashMap<i64, Value>,
    calls: Vec<VkCall>,
    delivered: Vec<(i64, String)>,
    /// Files uploaded: (kind, file name, bytes).
    uploads: Vec<(String, String, usize)>,
    attachments: Vec<String>,
    answered: Vec<String>,
    /// What groups.getLongPollSettings answers (a test turns Long Poll or an event off).
    long_poll_settings: Value,
    replying: HashSet<i64>,
    rng: Rng,
}

struct Shared {
    state: Mutex<VkState>,
    wake: Notify,
    options: VkOptions,
    addr: Mutex<Option<SocketAddr>>,
}

pub struct VkEmulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, VkState> {
    shared.state.lock().unwrap_or_else(|p| p.into_inner())
}

impl VkEmulator {
    /// Customers start out allowing messages, as if each had written before.
    pub async fn start(
        listen: SocketAddr,
        token: &str,
        group_id: i64,
        customers: Vec<Customer>,
        options: VkOptions,
    ) -> std::io::Result<VkEmulator> {
        let rng = Rng::new(options.seed);
        let shared = Arc::new(Shared {
            state: Mutex::new(VkState {
                token: token.into(),
                group_id,
                allowed: customers.iter().map(peer_id).collect(),
                customers: customers.into_iter().map(|c| (peer_id(&c), Customer { lang: "ru", ..c })).collect(),
                events: Vec::new(),
                key: "key1".into(),
                keys_issued: 1,
                fail_next: None,
                history: HashMap::new(),
                unread: HashMap::new(),
                next_message_id: 10_000,
                sends: HashMap::new(),
                calls: Vec::new(),
                delivered: Vec::new(),
                uploads: Vec::new(),
                attachments: Vec::new(),
                answered: Vec::new(),
                long_poll_settings: json!({"is_enabled": true, "api_version": "5.199",
                    "events": {"message_new": 1, "message_reply": 1, "message_edit": 1, "message_event": 1,
                               "message_allow": 1, "message_deny": 1, "message_read": 1}}),
                replying: HashSet::new(),
                rng,
            }),
            wake: Notify::new(),
            options,
            addr: Mutex::new(None),
        });
        let app = Router::new()
            .route("/method/{method}", post(api).get(api))
            .route("/lp", get(long_poll))
            .route("/upload/{kind}", post(upload))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        *shared.addr.lock().unwrap_or_else(|p| p.into_inner()) = Some(addr);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(VkEmulator { addr, shared, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A customer writes; returns the message's id in the conversation.
    pub fn customer_says(&self, peer: i64, text: &str) -> i64 {
        customer_message(&self.shared, peer, json!({"text": text}))
    }

    /// A customer presses a callback button under our message `cmid`.
    pub fn customer_presses(&self, peer: i64, cmid: i64, payload: &str) -> String {
        let event_id = format!("press{}", now_ms());
        push(
            &self.shared,
            "message_event",
            json!({"user_id": peer, "peer_id": peer, "event_id": event_id,
            "payload": serde_json::from_str::<Value>(payload).unwrap_or(json!(payload)), "conversation_message_id": cmid}),
        );
        event_id
    }

    /// The customer allows messages from the community (from a page with `key`).
    pub fn customer_allows(&self, peer: i64, key: &str) {
        lock(&self.shared).allowed.insert(peer);
        push(&self.shared, "message_allow", json!({"user_id": peer, "key": key}));
    }

    /// The customer denies them: sends fail with 901 from now on.
    pub fn customer_denies(&self, peer: i64) {
        lock(&self.shared).allowed.remove(&peer);
        push(&self.shared, "message_deny", json!({"user_id": peer}));
    }

    /// The next long poll answers `{"failed": code}`. With 1, it also skips ahead past
    /// every event not fetched yet, as a lost history does; with 2 or 3 the key changes.
    pub fn fail_next_poll(&self, code: i64) {
        let mut state = lock(&self.shared);
        state.fail_next = Some(code);
        if code != 1 {
            state.keys_issued += 1;
            state.key = format!("key{}", state.keys_issued);
        }
        drop(state);
        self.shared.wake.notify_waiters();
    }

    /// A customer writes while the long poll loses track: the poll answers `failed` with
    /// `code` and never delivers this message, which only a catch-up finds.
    pub fn customer_says_unseen(&self, peer: i64, code: i64, text: &str) -> i64 {
        let cmid = {
            let mut state = lock(&self.shared);
            let (cmid, _) = new_message(&mut state, peer, peer, text, None);
            state.fail_next = Some(code);
            if code != 1 {
                state.keys_issued += 1;
                state.key = format!("key{}", state.keys_issued);
            }
            cmid
        };
        self.shared.wake.notify_waiters();
        cmid
    }

    /// Messages delivered to customers: (peer, text), once each.
    pub fn delivered(&self) -> Vec<(i64, String)> {
        lock(&self.shared).delivered.clone()
    }

    /// What `groups.getLongPollSettings` answers from now on.
    pub fn set_long_poll_settings(&self, settings: Value) {
        lock(&self.shared).long_poll_settings = settings;
    }

    /// Files uploaded: (photo or doc, the file's name, its size).
    pub fn uploads(&self) -> Vec<(String, String, usize)> {
        lock(&self.shared).uploads.clone()
    }

    /// The `attachment` of every message sent with one.
    pub fn attachments(&self) -> Vec<String> {
        lock(&self.shared).attachments.clone()
    }

    /// Callback presses answered with sendMessageEventAnswer, by their event id.
    pub fn answered(&self) -> Vec<String> {
        lock(&self.shared).answered.clone()
    }

    pub fn calls(&self) -> Vec<VkCall> {
        lock(&self.shared).calls.clone()
    }
}

impl Drop for VkEmulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Queues an event for the long poll.
fn push(shared: &Shared, kind: &str, object: Value) {
    {
        let mut state = lock(shared);
        let n = state.events.len() + 1;
        let group = state.group_id;
        state.events.push(json!({"group_id": group, "type": kind, "event_id": format!("{:040x}", n), "v": "5.199",
                                 "object": object}));
    }
    shared.wake.notify_waiters();
}

/// A message in `peer`'s conversation: (its conversation id, the message).
fn new_message(state: &mut VkState, peer: i64, from: i64, text: &str, random_id: Option<i64>) -> (i64, Value) {
    state.next_message_id += 1;
    let history = state.history.entry(peer).or_default();
    // After whatever the store may hold from before (the demo's seeded history).
    let cmid = 1000 + history.len() as i64 + 1;
    let out = i64::from(from < 0);
    let mut m = json!({"id": state.next_message_id, "date": now_ms() / 1000, "peer_id": peer, "from_id": from,
                       "text": text, "out": out, "conversation_message_id": cmid, "attachments": [], "fwd_messages": [],
                       "important": false, "is_hidden": false});
    if let Some(r) = random_id {
        m["random_id"] = json!(r);
    }
    history.push(m.clone());
    if out == 1 {
        state.unread.insert(peer, 0);
    } else {
        *state.unread.entry(peer).or_default() += 1;
    }
    (cmid, m)
}

fn customer_message(shared: &Shared, peer: i64, content: Value) -> i64 {
    let (cmid, message) = {
        let mut state = lock(shared);
        state.allowed.insert(peer);
        let text = content["text"].as_str().unwrap_or("");
        new_message(&mut state, peer, peer, text, None)
    };
    push(
        shared,
        "message_new",
        json!({"message": message, "client_info": {"button_actions": ["text", "open_link", "callback", "location"],
               "keyboard": true, "inline_keyboard": true, "carousel": true, "lang_id": 0}}),
    );
    cmid
}

fn error(code: i64, msg: &str) -> axum::Json<Value> {
    axum::Json(json!({"error": {"error_code": code, "error_msg": msg, "request_params": []}}))
}

async fn api(
    State(shared): State<Arc<Shared>>,
    Path(method): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::Json<Value> {
    let mut params = query;
    // A form body: read through the URL parser that reqwest already brings.
    if let Ok(form) = reqwest::Url::parse(&format!("http://form/?{}", String::from_utf8_lossy(&body))) {
        for (k, v) in form.query_pairs() {
            params.insert(k.into_owned(), v.into_owned());
        }
    }
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let token = bearer.map(str::to_string).or_else(|| params.get("access_token").cloned()).unwrap_or_default();
    let mut state = lock(&shared);
    state.calls.push(VkCall { method: method.clone(), params: params.clone() });
    if token != state.token {
        return error(5, "User authorization failed: invalid access_token (4).");
    }
    if params.get("v").is_none_or(String::is_empty) {
        return error(8, "Invalid request: v is required");
    }
    let int = |k: &str| params.get(k).and_then(|v| v.parse::<i64>().ok());
    let group = state.group_id;
    match method.as_str() {
        "groups.getById" => axum::Json(json!({"response": {"groups": [{"id": group, "name": "Switchboard Demo",
            "screen_name": "switchboard_demo", "type": "group"}], "profiles": []}})),
        "groups.getLongPollServer" => {
            let addr = shared.addr.lock().unwrap_or_else(|p| p.into_inner()).expect("bound");
            let ts = (state.events.len() + 1).to_string();
            axum::Json(json!({"response": {"server": format!("http://{addr}/lp"), "key": state.key, "ts": ts}}))
        }
        "groups.getLongPollSettings" => axum::Json(json!({"response": state.long_poll_settings})),
        "users.get" => {
            let ids = params.get("user_ids").cloned().unwrap_or_default();
            let users: Vec<Value> = ids
                .split(',')
                .filter_map(|id| id.trim().parse::<i64>().ok())
                .map(|id| match state.customers.get(&id) {
                    Some(c) => json!({"id": id, "first_name": c.first_name, "last_name": c.last_name.clone().unwrap_or_default()}),
                    None => json!({"id": id, "first_name": "DELETED", "last_name": "", "deactivated": "deleted"}),
                })
                .collect();
            axum::Json(json!({"response": users}))
        }
        "photos.getMessagesUploadServer" | "docs.getMessagesUploadServer" => {
            let addr = shared.addr.lock().unwrap_or_else(|p| p.into_inner()).expect("bound");
            let kind = if method.starts_with("photos") { "photo" } else { "doc" };
            axum::Json(json!({"response": {"upload_url": format!("http://{addr}/upload/{kind}"), "album_id": -3,
                                           "group_id": group}}))
        }
        "photos.saveMessagesPhoto" => match (params.get("photo"), params.get("hash")) {
            (Some(photo), Some(hash)) if hash == "h4sh" => {
                let id: i64 = photo.trim_start_matches("uploaded:").parse().unwrap_or(0);
                axum::Json(json!({"response": [{"id": 457_000_000 + id, "owner_id": -group, "access_key": "k3y"}]}))
            }
            _ => error(100, "One of the parameters specified was missing or invalid: hash"),
        },
        "docs.save" => match params.get("file") {
            Some(file) if file.starts_with("uploaded:") => {
                let id: i64 = file.trim_start_matches("uploaded:").parse().unwrap_or(0);
                let title = params.get("title").cloned().unwrap_or_default();
                axum::Json(
                    json!({"response": {"type": "doc", "doc": {"id": 600_000 + id, "owner_id": -group, "title": title}}}),
                )
            }
            _ => error(100, "One of the parameters specified was missing or invalid: file"),
        },
        "messages.sendMessageEventAnswer" => {
            let id = params.get("event_id").cloned().unwrap_or_default();
            state.answered.push(id);
            axum::Json(json!({"response": 1}))
        }
        "messages.getConversations" => {
            let items: Vec<Value> = state
                .history
                .iter()
                .filter(|(peer, _)| state.unread.get(peer).copied().unwrap_or(0) > 0)
                .map(|(peer, h)| {
                    json!({"conversation": {"peer": {"id": peer, "type": "user", "local_id": peer},
                    "unread_count": state.unread[peer]}, "last_message": h.last()})
                })
                .collect();
            axum::Json(json!({"response": {"count": items.len(), "items": items}}))
        }
        "messages.getHistory" => {
            let peer = int("peer_id").unwrap_or(0);
            let count = int("count").unwrap_or(20).clamp(0, 200) as usize;
            let items: Vec<Value> = state.history.get(&peer).into_iter().flatten().rev().take(count).cloned().collect();
            axum::Json(json!({"response": {"count": items.len(), "items": items}}))
        }
        "messages.send" => {
            let Some(peer) = int("peer_ids").or(int("peer_id")) else {
                return error(100, "One of the parameters specified was missing or invalid: peer_id");
            };
            let Some(random_id) = int("random_id") else { return error(100, "random_id is required") };
            let text = params.get("message").cloned().unwrap_or_default();
            if text.chars().count() > 9000 {
                return error(914, "Message is too long");
            }
            if !state.allowed.contains(&peer) {
                return error(901, "Can't send messages for users without permission");
            }
            // VK drops a repeat of the same random_id: the first send's result again.
            if let Some(result) = state.sends.get(&random_id) {
                return axum::Json(json!({"response": [result]}));
            }
            if let Some(a) = params.get("attachment").filter(|a| !a.is_empty()) {
                state.attachments.push(a.clone());
            }
            let (cmid, message) = new_message(&mut state, peer, -group, &text, Some(random_id));
            let result = json!({"peer_id": peer, "message_id": message["id"], "conversation_message_id": cmid});
            state.sends.insert(random_id, result.clone());
            state.delivered.push((peer, text));
            let customer = state.customers.get(&peer).cloned();
            let answer = customer.is_some() && state.replying.insert(peer);
            let choice = state.rng.below(100);
            let buttons: Vec<String> = params
                .get("keyboard")
                .and_then(|k| serde_json::from_str::<Value>(k).ok())
                .and_then(|k| k["buttons"].as_array().cloned())
                .into_iter()
                .flatten()
                .flat_map(|row| row.as_array().cloned().unwrap_or_default())
                .filter(|b| b["action"]["type"] == "callback")
                .filter_map(|b| b["action"]["payload"].as_str().map(str::to_string))
                .collect();
            drop(state);
            push(&shared, "message_reply", message);
            let shared2 = shared.clone();
            tokio::spawn(async move {
                let (Some(c), Some((lo, hi))) = (customer, shared2.options.reply_delay) else { return };
                // The customer reads it a moment later.
                tokio::time::sleep(Duration::from_millis(400)).await;
                push(
                    &shared2,
                    "message_read",
                    json!({"from_id": peer, "peer_id": peer, "conversation_message_id": cmid}),
                );
                if !answer {
                    return;
                }
                let delay = lo + Duration::from_millis(choice * hi.saturating_sub(lo).as_millis() as u64 / 100);
                tokio::time::sleep(delay).await;
                lock(&shared2).replying.remove(&peer);
                match buttons.first().filter(|_| choice < 60) {
                    Some(payload) => {
                        let event_id = format!("press{}", now_ms());
                        push(
                            &shared2,
                            "message_event",
                            json!({"user_id": peer, "peer_id": peer, "event_id": event_id,
                            "payload": serde_json::from_str::<Value>(payload).unwrap_or(json!(payload)),
                            "conversation_message_id": cmid}),
                        );
                    }
                    None => {
                        let text = customers::reply(&c, &mut Rng::new(choice + 11));
                        customer_message(&shared2, peer, json!({"text": text}));
                    }
                }
            });
            axum::Json(json!({"response": [result]}))
        }
        _ => error(3, "Unknown method passed"),
    }
}

/// An upload server: takes the multipart file and answers what the save method takes.
async fn upload(
    State(shared): State<Arc<Shared>>,
    Path(kind): Path<String>,
    mut form: axum::extract::Multipart,
) -> axum::Json<Value> {
    let field_name = if kind == "photo" { "photo" } else { "file" };
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() != Some(field_name) {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_string();
        let Ok(bytes) = field.bytes().await else { break };
        let mut state = lock(&shared);
        state.uploads.push((kind.clone(), name, bytes.len()));
        let n = state.uploads.len();
        return axum::Json(match kind.as_str() {
            "photo" => json!({"server": 845, "photo": format!("uploaded:{n}"), "hash": "h4sh"}),
            _ => json!({"file": format!("uploaded:{n}")}),
        });
    }
    axum::Json(json!({"error": "no file"}))
}

async fn long_poll(State(shared): State<Arc<Shared>>, Query(q): Query<HashMap<String, String>>) -> axum::Json<Value> {
    let wait = q.get("wait").and_then(|w| w.parse::<u64>().ok()).unwrap_or(25).min(90);
    let wait = shared.options.max_wait.map_or(Duration::from_secs(wait), |m| m.min(Duration::from_secs(wait)));
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let notified = shared.wake.notified();
        {
            let mut state = lock(&shared);
            let next = state.events.len() + 1;
            if let Some(code) = state.fail_next.take() {
                // `ts` is a number beside `failed`.
                return axum::Json(match code {
                    1 => json!({"failed": 1, "ts": next}),
                    c => json!({"failed": c}),
                });
            }
            if q.get("key") != Some(&state.key) {
                return axum::Json(json!({"failed": 2}));
            }
            // A `ts` this server never gave (from another run): the history is lost.
            let Some(ts) = q.get("ts").and_then(|t| t.parse::<usize>().ok()).filter(|t| (1..=next).contains(t)) else {
                return axum::Json(json!({"failed": 1, "ts": next}));
            };
            if ts < next {
                let updates: Vec<Value> = state.events[ts.saturating_sub(1)..].to_vec();
                return axum::Json(json!({"ts": next.to_string(), "updates": updates}));
            }
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            let next = lock(&shared).events.len() + 1;
            return axum::Json(json!({"ts": next.to_string(), "updates": []}));
        }
    }
}
