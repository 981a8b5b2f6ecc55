//! A loopback emulator of the Viber REST Bot API. It takes our calls at `/pa/<method>`
//! with `X-Viber-Auth-Token`, answers HTTP 200 with a `status` as Viber does (6 for a
//! customer who is not subscribed, 12 for rate control), and sends callbacks signed with
//! `X-Viber-Content-Signature`: messages, keyboard replies, subscriptions, the
//! `conversation_started` whose answer may carry a welcome, and delivered/seen receipts.
//! Message tokens are above 2^53, like Viber's.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::customers::CampaignReaction;
use super::push::Pusher;
use super::{Customer, Rng, customers};
use crate::channels::signature::hmac_sha256_hex;
use crate::model::now_ms;

/// Tokens start here: well above 2^53, where a float would lose them.
const FIRST_TOKEN: u64 = 5_741_311_803_571_721_000;

#[derive(Debug, Clone, Default)]
pub struct ViberOptions {
    /// Customers answer our messages after a delay in this range.
    pub reply_delay: Option<(Duration, Duration)>,
    pub seed: u64,
}

/// A call we made, as the emulator received it.
#[derive(Debug, Clone, PartialEq)]
pub struct ViberCall {
    pub method: String,
    pub auth_token: String,
    pub body: Value,
}

struct ViberState {
    token: String,
    customers: HashMap<String, Customer>,
    subscribed: HashSet<String>,
    rate_limited: bool,
    calls: Vec<ViberCall>,
    next_token: u64,
    /// The tracking data of our last message to each customer (echoed on their replies).
    tracking: HashMap<String, String>,
    replying: HashSet<String>,
    broadcast: super::BroadcastSense,
    rng: Rng,
}

struct Shared {
    state: Mutex<ViberState>,
    push: Pusher,
    options: ViberOptions,
    token: String,
}

pub struct ViberEmulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

/// A customer as Viber knows them: an opaque id with `=`.
pub fn user_id(c: &Customer) -> String {
    format!("{:012X}vb+Q==", c.id.unsigned_abs())
}

impl ViberEmulator {
    pub async fn start(
        listen: SocketAddr,
        token: &str,
        customers: Vec<Customer>,
        options: ViberOptions,
    ) -> std::io::Result<ViberEmulator> {
        let key = token.as_bytes().to_vec();
        let (push, push_task) =
            Pusher::start(Arc::new(move |body: &[u8]| ("X-Viber-Content-Signature", hmac_sha256_hex(&key, body))));
        let shared = Arc::new(Shared {
            state: Mutex::new(ViberState {
                token: token.into(),
                customers: customers.into_iter().map(|c| (user_id(&c), c)).collect(),
                subscribed: HashSet::new(),
                rate_limited: false,
                calls: Vec::new(),
                next_token: FIRST_TOKEN,
                tracking: HashMap::new(),
                replying: HashSet::new(),
                broadcast: Default::default(),
                rng: Rng::new(options.seed),
            }),
            push,
            options,
            token: token.into(),
        });
        let app = Router::new().route("/pa/{method}", post(api)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(ViberEmulator { addr, shared, tasks: vec![server, push_task] })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where callbacks go, as `set_webhook` would set it.
    pub fn set_webhook(&self, url: &str) {
        self.shared.push.set_url(Some(url.into()));
    }

    /// A customer writes (which subscribes them).
    pub fn customer_says(&self, user: &str, text: &str) -> String {
        customer_message(&self.shared, user, json!({"type": "text", "text": text}))
    }

    /// A customer presses a keyboard button: a message whose text is its ActionBody.
    pub fn customer_presses(&self, user: &str, action_body: &str) -> String {
        customer_message(&self.shared, user, json!({"type": "text", "text": action_body}))
    }

    /// A customer opens the chat (`conversation_started`), not subscribed yet.
    pub fn customer_opens(&self, user: &str, context: &str) {
        let body = {
            let state = lock(&self.shared);
            json!({"event": "conversation_started", "timestamp": now_ms(), "message_token": state.next_token,
                   "type": "open", "context": context, "user": user_json(&state, user), "subscribed": false})
        };
        self.shared.push.push(body.to_string().into_bytes());
    }

    pub fn customer_subscribes(&self, user: &str) {
        let body = {
            let mut state = lock(&self.shared);
            state.subscribed.insert(user.into());
            json!({"event": "subscribed", "timestamp": now_ms(), "user": user_json(&state, user), "message_token": state.next_token})
        };
        self.shared.push.push(body.to_string().into_bytes());
    }

    pub fn customer_unsubscribes(&self, user: &str) {
        lock(&self.shared).subscribed.remove(user);
        let body =
            json!({"event": "unsubscribed", "timestamp": now_ms(), "user_id": user, "message_token": FIRST_TOKEN - 1});
        self.shared.push.push(body.to_string().into_bytes());
    }

    /// The customer is subscribed, as if they had subscribed long ago.
    pub fn subscribe_quietly(&self, user: &str) {
        lock(&self.shared).subscribed.insert(user.into());
    }

    /// While set, sends answer status 12 (rate control).
    pub fn set_rate_limited(&self, limited: bool) {
        lock(&self.shared).rate_limited = limited;
    }

    pub fn calls(&self) -> Vec<ViberCall> {
        lock(&self.shared).calls.clone()
    }

    pub fn webhooks_pending(&self) -> usize {
        self.shared.push.pending()
    }
}

impl Drop for ViberEmulator {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, ViberState> {
    shared.state.lock().unwrap_or_else(|p| p.into_inner())
}

fn user_json(state: &ViberState, user: &str) -> Value {
    let c = state.customers.get(user);
    json!({"id": user, "name": c.map(Customer::full_name).unwrap_or_else(|| "Viber user".into()),
           "avatar": "", "country": "RU", "language": c.map(|c| c.lang).unwrap_or("en"), "api_version": 10})
}

fn customer_message(shared: &Shared, user: &str, mut message: Value) -> String {
    let body = {
        let mut state = lock(shared);
        state.subscribed.insert(user.into());
        state.next_token += 1;
        if let Some(tracking) = state.tracking.get(user) {
            message["tracking_data"] = json!(tracking);
        }
        json!({"event": "message", "timestamp": now_ms(), "chat_hostname": "SN-EMU_", "message_token": state.next_token,
               "sender": user_json(&state, user), "message": message, "silent": false})
    };
    shared.push.push(body.to_string().into_bytes());
    body["message_token"].to_string()
}

async fn api(
    State(shared): State<Arc<Shared>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let auth = headers.get("x-viber-auth-token").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut state = lock(&shared);
    state.calls.push(ViberCall { method: method.clone(), auth_token: auth.clone(), body: body.clone() });
    if auth != state.token {
        return axum::Json(json!({"status": 2, "status_message": "invalidAuthToken"})).into_response();
    }
    match method.as_str() {
        "get_account_info" => {
            axum::Json(json!({"status": 0, "status_message": "ok", "id": "pa:5000", "name": "Switchboard Demo",
            "uri": "switchboard_demo", "subscribers_count": state.subscribed.len()}))
            .into_response()
        }
        "set_webhook" => {
            let url = body["url"].as_str().unwrap_or_default().to_string();
            drop(state);
            shared.push.set_url((!url.is_empty()).then_some(url));
            // Viber probes the URL at once.
            shared.push.push(
                json!({"event": "webhook", "timestamp": now_ms(), "message_token": FIRST_TOKEN - 2})
                    .to_string()
                    .into_bytes(),
            );
            axum::Json(json!({"status": 0, "status_message": "ok", "event_types": body["event_types"]})).into_response()
        }
        "send_message" => {
            let Some(receiver) = body["receiver"].as_str().map(str::to_string) else {
                return axum::Json(json!({"status": 4, "status_message": "missingData: receiver"})).into_response();
            };
            if body["sender"]["name"].as_str().is_none_or(str::is_empty) {
                return axum::Json(json!({"status": 4, "status_message": "missingData: sender.name"})).into_response();
            }
            if !state.subscribed.contains(&receiver) {
                return axum::Json(json!({"status": 6, "status_message": "notSubscribed"})).into_response();
            }
            if state.rate_limited {
                return axum::Json(json!({"status": 12, "status_message": "Too many requests"})).into_response();
            }
            state.next_token += 1;
            let token = state.next_token;
            match body["tracking_data"].as_str() {
                Some(t) => state.tracking.insert(receiver.clone(), t.to_string()),
                None => state.tracking.remove(&receiver),
            };
            let customer = state.customers.get(&receiver).cloned();
            let broadcast = shared.options.reply_delay.is_some() && state.broadcast.note(&receiver);
            let choice = state.rng.below(100);
            let reaction = broadcast.then(|| customers::campaign_reaction(choice));
            let answer = customer.is_some()
                && reaction.is_none_or(|r| r != CampaignReaction::Ignore)
                && state.replying.insert(receiver.clone());
            drop(state);
            let buttons: Vec<String> = body["keyboard"]["Buttons"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|b| b["ActionType"] == "reply")
                .filter_map(|b| b["ActionBody"].as_str().map(str::to_string))
                .collect();
            let shared2 = shared.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                for event in ["delivered", "seen"] {
                    let callback =
                        json!({"event": event, "timestamp": now_ms(), "message_token": token, "user_id": receiver});
                    shared2.push.push(callback.to_string().into_bytes());
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                if answer && let (Some(c), Some((lo, hi))) = (customer, shared2.options.reply_delay) {
                    let delay = lo + Duration::from_millis(choice * hi.saturating_sub(lo).as_millis() as u64 / 100);
                    tokio::time::sleep(delay).await;
                    lock(&shared2).replying.remove(&receiver);
                    let press = match reaction {
                        Some(r) => r == CampaignReaction::Press,
                        None => choice < 70,
                    };
                    let text = match (buttons.first().filter(|_| press), reaction) {
                        (Some(pressed), _) => pressed.clone(),
                        (None, Some(CampaignReaction::Stop)) => customers::stop_word(&c).to_string(),
                        (None, Some(_)) => customers::campaign_reply(&c, &mut Rng::new(choice + 11)).to_string(),
                        (None, None) => customers::reply(&c, &mut Rng::new(choice + 11)),
                    };
                    customer_message(&shared2, &receiver, json!({"type": "text", "text": text}));
                }
            });
            axum::Json(json!({"status": 0, "status_message": "ok", "message_token": token, "chat_hostname": "SN-EMU_", "billing_status": 1}))
                .into_response()
        }
        _ => axum::Json(json!({"status": 3, "status_message": "badData: unknown method"})).into_response(),
    }
}

/// The token the emulator signs with, for tests that sign by hand.
impl ViberEmulator {
    pub fn token(&self) -> &str {
        &self.shared.token
    }
}
