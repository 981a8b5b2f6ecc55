//! A loopback emulator of the WhatsApp Cloud API. It takes our sends at
//! `POST /{version}/{phone_number_id}/messages` with a Bearer token, in the real shapes,
//! answers with a wamid (or Meta's error envelope), and reports what happened next the
//! way Meta does: signed webhook calls with `sent`, `delivered` and `read` statuses, or a
//! `failed` one (131047 when the 24-hour window is closed, 131050 after a marketing
//! stop). Its customers write, press reply buttons, and opt out.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

mod media;

use super::customers::CampaignReaction;
use super::push::{Pusher, ascii_json};
use super::{Customer, Rng, customers};
use crate::channels::signature::hmac_sha256_hex;
use crate::model::now_ms;

const DAY_MS: i64 = 24 * 3_600_000;

#[derive(Debug, Clone, Default)]
pub struct WhatsAppOptions {
    /// Customers answer our messages after a delay in this range.
    pub reply_delay: Option<(Duration, Duration)>,
    pub seed: u64,
}

/// What we sent, as the emulator received it.
#[derive(Debug, Clone, PartialEq)]
pub struct WaSent {
    pub path: String,
    pub authorization: String,
    pub body: Value,
    pub wamid: String,
}

struct WaState {
    token: String,
    phone_number_id: String,
    customers: HashMap<String, Customer>,
    last_inbound: HashMap<String, i64>,
    opted_out: HashSet<String>,
    rate_limited: bool,
    sent: Vec<WaSent>,
    next: u64,
    replying: HashSet<String>,
    broadcast: super::BroadcastSense,
    rng: Rng,
    /// Media by id: uploaded to `/PHONE_ID/media`, or sent by a customer.
    media: HashMap<String, media::Media>,
}

struct Shared {
    state: Mutex<WaState>,
    push: Pusher,
    options: WhatsAppOptions,
}

pub struct WhatsAppEmulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

/// A customer as WhatsApp knows them: `wa_id` is the phone number's digits.
pub fn wa_id(c: &Customer) -> String {
    format!("7916{:07}", c.id.unsigned_abs() % 10_000_000)
}

impl WhatsAppEmulator {
    pub async fn start(
        listen: SocketAddr,
        token: &str,
        phone_number_id: &str,
        app_secret: &str,
        customers: Vec<Customer>,
        options: WhatsAppOptions,
    ) -> std::io::Result<WhatsAppEmulator> {
        let secret = app_secret.as_bytes().to_vec();
        let (push, push_task) = Pusher::start(Arc::new(move |body: &[u8]| {
            ("X-Hub-Signature-256", format!("sha256={}", hmac_sha256_hex(&secret, body)))
        }));
        let shared = Arc::new(Shared {
            state: Mutex::new(WaState {
                token: token.into(),
                phone_number_id: phone_number_id.into(),
                customers: customers.into_iter().map(|c| (wa_id(&c), c)).collect(),
                last_inbound: HashMap::new(),
                opted_out: HashSet::new(),
                rate_limited: false,
                sent: Vec::new(),
                next: 1,
                replying: HashSet::new(),
                broadcast: Default::default(),
                rng: Rng::new(options.seed),
                media: HashMap::new(),
            }),
            push,
            options,
        });
        let app = Router::new()
            .route("/{version}/{phone}/messages", post(messages))
            .route("/{version}/{phone}/media", post(media::upload))
            .route("/media-download/{id}", get(media::download))
            .route("/{version}/{phone}", get(phone_info))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(WhatsAppEmulator { addr, shared, tasks: vec![server, push_task] })
    }

    /// The base URL to give the adapter (`api_url`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where the emulator delivers its webhook calls (our `/webhook/whatsapp`).
    pub fn set_webhook(&self, url: &str) {
        self.shared.push.set_url(Some(url.into()));
    }

    /// A customer writes; their 24-hour window opens.
    pub fn customer_says(&self, wa_id: &str, text: &str) -> String {
        customer_message(&self.shared, wa_id, json!({"type": "text", "text": {"body": text}}))
    }

    /// A customer picks a row of one of our list messages (`list_reply`, in reply to it).
    pub fn customer_chooses(&self, wa_id: &str, our_wamid: &str, row_id: &str, title: &str) -> String {
        let reply = json!({"type": "interactive", "context": {"from": "15550001111", "id": our_wamid},
            "interactive": {"type": "list_reply", "list_reply": {"id": row_id, "title": title}}});
        customer_message(&self.shared, wa_id, reply)
    }

    /// A customer sends a photo (`image`) or a document with these bytes; its media id
    /// fetches them (`GET /MEDIA_ID`, then the URL with the token).
    pub fn customer_sends_media(&self, wa_id: &str, kind: &str, mime: &str, bytes: Vec<u8>, caption: &str) -> String {
        let id = {
            let mut state = lock(&self.shared);
            state.next += 1;
            let id = format!("{}", 1_000_000_000_000 + state.next);
            state.media.insert(id.clone(), media::Media { bytes, mime: mime.into() });
            id
        };
        let mut media = json!({"id": id, "mime_type": mime, "sha256": "ZmFrZQ=="});
        if !caption.is_empty() {
            media["caption"] = json!(caption);
        }
        if kind == "document" {
            media["filename"] = json!("счёт.pdf");
        }
        customer_message(&self.shared, wa_id, json!({"type": kind, kind: media}))
    }

    /// The bytes of media uploaded or sent, by id.
    pub fn media(&self, id: &str) -> Option<(Vec<u8>, String)> {
        lock(&self.shared).media.get(id).map(|m| (m.bytes.clone(), m.mime.clone()))
    }

    /// When the customer last wrote (their window runs a day from then).
    pub fn set_last_inbound(&self, wa_id: &str, at: i64) {
        lock(&self.shared).last_inbound.insert(wa_id.into(), at);
    }

    /// The customer's window closed a day and an hour ago (for sends, not for the store).
    pub fn close_window(&self, wa_id: &str) {
        lock(&self.shared).last_inbound.insert(wa_id.into(), now_ms() - DAY_MS - 3_600_000);
    }

    /// The customer stops marketing messages: a `user_preferences` webhook, and
    /// templates to them fail with 131050 from now on.
    pub fn opt_out(&self, wa_id: &str) {
        lock(&self.shared).opted_out.insert(wa_id.into());
        let body = envelope(
            "user_preferences",
            json!({"user_preferences": [{"wa_id": wa_id, "detail": "User requested to stop marketing messages",
                   "category": "marketing_messages", "value": "stop", "timestamp": now_ms() / 1000}]}),
        );
        self.shared.push.push(ascii_json(&body));
    }

    /// While set, sends are refused with 130429 (throughput limit).
    pub fn set_rate_limited(&self, limited: bool) {
        lock(&self.shared).rate_limited = limited;
    }

    pub fn sent(&self) -> Vec<WaSent> {
        lock(&self.shared).sent.clone()
    }

    /// Webhook calls not yet acknowledged, and acknowledged so far.
    pub fn webhooks_pending(&self) -> usize {
        self.shared.push.pending()
    }

    pub fn webhooks_delivered(&self) -> usize {
        self.shared.push.delivered()
    }
}

impl Drop for WhatsAppEmulator {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, WaState> {
    shared.state.lock().unwrap_or_else(|p| p.into_inner())
}

fn envelope(field: &str, value: Value) -> Value {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({"display_phone_number": "15550001111", "phone_number_id": "109876543210987"});
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": field, "value": value}]}]})
}

fn error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        axum::Json(
            json!({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}}),
        ),
    )
        .into_response()
}

fn customer_message(shared: &Shared, wa_id: &str, mut message: Value) -> String {
    let (wamid, name) = {
        let mut state = lock(shared);
        state.next += 1;
        state.last_inbound.insert(wa_id.into(), now_ms());
        let name = state.customers.get(wa_id).map(Customer::full_name).unwrap_or_else(|| format!("+{wa_id}"));
        (format!("wamid.IN{:012}", state.next), name)
    };
    message["from"] = json!(wa_id);
    message["id"] = json!(wamid);
    message["timestamp"] = json!((now_ms() / 1000).to_string());
    let body =
        envelope("messages", json!({"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]}));
    shared.push.push(ascii_json(&body));
    wamid
}

fn status(shared: &Shared, wamid: &str, wa_id: &str, status: &str, errors: Option<Value>) {
    let mut s =
        json!({"id": wamid, "status": status, "timestamp": (now_ms() / 1000).to_string(), "recipient_id": wa_id});
    if let Some(errors) = errors {
        s["errors"] = errors;
    }
    shared.push.push(ascii_json(&envelope("messages", json!({"statuses": [s]}))));
}

async fn phone_info(
    State(shared): State<Arc<Shared>>,
    Path((_, phone)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&shared);
    if bearer(&headers) != Some(state.token.as_str()) {
        return error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token.");
    }
    // `GET /MEDIA_ID` shares the path's shape with `GET /PHONE_ID`.
    if let Some(media) = state.media.get(&phone) {
        return media::info(&phone, media, &headers);
    }
    axum::Json(json!({"id": phone, "display_phone_number": "+1 555-000-1111", "verified_name": "Switchboard Demo"}))
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ")
}

async fn messages(
    State(shared): State<Arc<Shared>>,
    Path((version, phone)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, 100, "(#100) Invalid JSON");
    };
    let mut state = lock(&shared);
    if bearer(&headers) != Some(state.token.as_str()) {
        return error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token.");
    }
    if phone != state.phone_number_id {
        return error(StatusCode::BAD_REQUEST, 100, "(#100) Unsupported post request: unknown phone number id");
    }
    let (Some(to), Some(kind)) = (body["to"].as_str().map(str::to_string), body["type"].as_str().map(str::to_string))
    else {
        return error(StatusCode::BAD_REQUEST, 100, "(#100) The parameter to is required.");
    };
    if body["messaging_product"] != "whatsapp" || body.get(&kind).is_none() {
        return error(StatusCode::BAD_REQUEST, 100, "(#100) Invalid parameter");
    }
    if state.rate_limited {
        return error(StatusCode::BAD_REQUEST, 130429, "(#130429) Rate limit hit");
    }
    if let Some(id) = body[&kind]["id"].as_str()
        && !state.media.contains_key(id)
    {
        return error(StatusCode::BAD_REQUEST, 131053, "(#131053) Media upload error: unknown media id");
    }
    state.next += 1;
    let wamid = format!("wamid.OUT{:012}", state.next);
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    state.sent.push(WaSent {
        path: format!("/{version}/{phone}/messages"),
        authorization,
        body: body.clone(),
        wamid: wamid.clone(),
    });
    let window_open = state.last_inbound.get(&to).is_some_and(|t| now_ms() - t < DAY_MS);
    let opted_out = state.opted_out.contains(&to);
    let customer = state.customers.get(&to).cloned();
    let broadcast = shared.options.reply_delay.is_some() && state.broadcast.note(&to);
    let choice = state.rng.below(100);
    let reaction = broadcast.then(|| customers::campaign_reaction(choice));
    let answer = customer.is_some()
        && (window_open || (broadcast && kind == "template" && !opted_out))
        && reaction.is_none_or(|r| r != CampaignReaction::Ignore)
        && state.replying.insert(to.clone());
    drop(state);
    // What happens next arrives later, as statuses: the send itself was accepted.
    let shared2 = shared.clone();
    let (wamid2, to2) = (wamid.clone(), to.clone());
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if kind != "template" && !window_open {
            let errors = json!([{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}]);
            return status(&shared2, &wamid2, &to2, "failed", Some(errors));
        }
        if kind == "template" && opted_out {
            let errors = json!([{"code": 131050, "title": "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business"}]);
            return status(&shared2, &wamid2, &to2, "failed", Some(errors));
        }
        for s in ["sent", "delivered", "read"] {
            status(&shared2, &wamid2, &to2, s, None);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    if answer && let (Some(c), Some((lo, hi))) = (customer, shared.options.reply_delay) {
        let shared3 = shared.clone();
        // Reply buttons, or a list message's rows: the customer may press one.
        let list = body["interactive"]["type"] == "list";
        let buttons: Vec<(String, String)> = if list {
            let sections = body["interactive"]["action"]["sections"].as_array().cloned().unwrap_or_default();
            sections
                .iter()
                .flat_map(|s| s["rows"].as_array().cloned().unwrap_or_default())
                .filter_map(|r| Some((r["id"].as_str()?.to_string(), r["title"].as_str()?.to_string())))
                .collect()
        } else {
            body["interactive"]["action"]["buttons"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|b| {
                    Some((b["reply"]["id"].as_str()?.to_string(), b["reply"]["title"].as_str()?.to_string()))
                })
                .collect()
        };
        let wamid3 = wamid.clone();
        tokio::spawn(async move {
            let delay = lo + Duration::from_millis(choice * hi.saturating_sub(lo).as_millis() as u64 / 100);
            tokio::time::sleep(delay).await;
            let press = match reaction {
                Some(r) => r == CampaignReaction::Press,
                None => choice < 70,
            };
            // Which one: the first of reply buttons, any row of a list.
            let pick = if list { buttons.get(choice as usize % buttons.len().max(1)) } else { buttons.first() };
            let reply = if let Some((id, title)) = pick.filter(|_| press) {
                let (kind, field) = if list { ("list_reply", "list_reply") } else { ("button_reply", "button_reply") };
                json!({"type": "interactive", "context": {"from": "15550001111", "id": wamid3},
                       "interactive": {"type": kind, field: {"id": id, "title": title}}})
            } else {
                let text = match reaction {
                    Some(CampaignReaction::Stop) => customers::stop_word(&c).to_string(),
                    Some(_) => customers::campaign_reply(&c, &mut Rng::new(choice + 7)).to_string(),
                    None => customers::reply(&c, &mut Rng::new(choice + 7)),
                };
                json!({"type": "text", "text": {"body": text}})
            };
            lock(&shared3).replying.remove(&to);
            customer_message(&shared3, &wa_id(&c), reply);
        });
    }
    axum::Json(json!({"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
        "messages": [{"id": wamid, "message_status": "accepted"}]}))
    .into_response()
}
