//! The engine's HTTP server for platforms that push updates (`[webhook] listen`). Each
//! route checks the caller's authenticity before reading the body, caps the body's size,
//! and answers 200 only after the update is committed: an update that could not be
//! stored is answered 500, and the platform delivers it again. A bad request is logged
//! (never with a secret) and the server keeps serving.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Query;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::task::JoinHandle;

use super::{ChannelState, StatusBoard};
use crate::channels::telegram::refine_times;
use crate::channels::{TelegramChannel, ViberChannel, WhatsAppChannel, viber_decode, whatsapp_decode};
use crate::model::{ChannelKind, InboundEvent, now_ms};
use crate::store::SharedStore;

/// What the Telegram route needs.
pub struct TelegramHook {
    pub channel: TelegramChannel,
    pub store: SharedStore,
    pub status: StatusBoard,
    /// The body limit, applied once the secret has been checked.
    pub max_body: usize,
}

/// What the WhatsApp routes need.
pub struct WhatsAppHook {
    pub channel: WhatsAppChannel,
    pub store: SharedStore,
    pub status: StatusBoard,
}

/// What the Viber route needs.
pub struct ViberHook {
    pub channel: ViberChannel,
    pub store: SharedStore,
    pub status: StatusBoard,
}

/// The routes to serve, one per channel that takes pushed updates.
#[derive(Default)]
pub struct Hooks {
    pub telegram: Option<TelegramHook>,
    pub whatsapp: Option<WhatsAppHook>,
    pub viber: Option<ViberHook>,
}

impl Hooks {
    pub fn is_empty(&self) -> bool {
        self.telegram.is_none() && self.whatsapp.is_none() && self.viber.is_none()
    }
}

/// Binds `listen` now (so a taken port is an error at start) and serves the routes.
pub fn serve(
    listen: SocketAddr,
    max_body: usize,
    max_connections: usize,
    hooks: Hooks,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = std::net::TcpListener::bind(listen)?;
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let addr = listener.local_addr()?;
    let mut router = Router::new();
    if let Some(hook) = hooks.telegram {
        router = router.route("/webhook/telegram", post(telegram_route).with_state(Arc::new(hook)));
    }
    if let Some(hook) = hooks.viber {
        router = router.route("/webhook/viber", post(viber_route).with_state(Arc::new(hook)));
    }
    if let Some(hook) = hooks.whatsapp {
        router =
            router.route("/webhook/whatsapp", get(whatsapp_handshake).post(whatsapp_route).with_state(Arc::new(hook)));
    }
    let router = router.layer(DefaultBodyLimit::max(max_body));
    let task = tokio::spawn(super::http_server::run(listener, router, max_connections));
    tracing::info!(%addr, "webhook server listening");
    Ok((addr, task))
}

/// Compares without stopping at the first difference, so timing tells nothing.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

async fn telegram_route(
    State(hook): State<Arc<TelegramHook>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> (StatusCode, &'static str) {
    let kind = ChannelKind::Telegram;
    let expected = hook.channel.webhook_secret().map(|s| s.expose().as_bytes().to_vec()).unwrap_or_default();
    let given = headers.get("x-telegram-bot-api-secret-token").map(|v| v.as_bytes()).unwrap_or_default();
    if expected.is_empty() || !same_secret(given, &expected) {
        // Answered from the headers alone: not one byte of the body is read.
        tracing::warn!(channel = %kind, "webhook call without the right secret token: refused");
        return (StatusCode::UNAUTHORIZED, "wrong or missing secret token\n");
    }
    let body = match axum::body::to_bytes(body, hook.max_body).await {
        Ok(body) => body,
        Err(e) => {
            tracing::warn!(channel = %kind, error = %e, "webhook body not read: refused");
            return (StatusCode::PAYLOAD_TOO_LARGE, "the body is too large or was cut off\n");
        }
    };
    let update: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            tracing::warn!(channel = %kind, bytes = body.len(), "webhook body is not a JSON object: refused");
            return (StatusCode::BAD_REQUEST, "the body is not a JSON object\n");
        }
    };
    let mut events = hook.channel.decode(&update);
    refine_times(&mut events, now_ms());
    let (answer, presses) = store(&hook.store, &hook.status, kind, events).await;
    // Stored first, answered after: a press is never lost.
    if answer.0 == StatusCode::OK {
        for id in presses {
            let channel = hook.channel.clone();
            tokio::spawn(async move { channel.answer_click(&id).await });
        }
    }
    answer
}

/// Meta's handshake: echo `hub.challenge` when `hub.verify_token` is ours.
async fn whatsapp_handshake(
    State(hook): State<Arc<WhatsAppHook>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> (StatusCode, String) {
    let get = |k: &str| q.get(k).map(String::as_str);
    match hook.channel.handshake(get("hub.mode"), get("hub.verify_token"), get("hub.challenge")) {
        Some(challenge) => (StatusCode::OK, challenge.to_string()),
        None => {
            tracing::warn!(channel = "whatsapp", "webhook handshake with a wrong verify token: refused");
            (StatusCode::FORBIDDEN, "Forbidden".into())
        }
    }
}

async fn whatsapp_route(
    State(hook): State<Arc<WhatsAppHook>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let kind = ChannelKind::WhatsApp;
    // Over the exact bytes received: Meta signs its own \uXXXX escapes.
    let signature = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    if !hook.channel.verify(&body, signature) {
        tracing::warn!(channel = %kind, "webhook call with a bad or missing signature: refused");
        return (StatusCode::UNAUTHORIZED, "bad signature\n");
    }
    let events = match serde_json::from_slice::<Value>(&body)
        .map_err(|e| e.to_string())
        .and_then(|v| whatsapp_decode::decode(&v))
    {
        Ok(events) => events,
        Err(e) => {
            tracing::warn!(channel = %kind, error = %e, bytes = body.len(), "webhook body refused");
            return (StatusCode::BAD_REQUEST, "not a WhatsApp webhook body\n");
        }
    };
    let opened: Vec<String> = opened(&events).collect();
    let answer = store(&hook.store, &hook.status, kind, events).await.0;
    // A customer who opens the chat for the first time (`request_welcome`) gets the
    // configured welcome, once per conversation: queued like any reply, so it is paced
    // and retried by the sender.
    if let (StatusCode::OK, Some(text)) = (answer.0, hook.channel.welcome_text()) {
        for chat in opened {
            let text = text.to_string();
            if let Err(e) = hook.store.run(move |s| s.enqueue_welcome(kind, &chat, &text, crate::model::now_ms())).await
            {
                tracing::error!(channel = %kind, error = %e, "cannot queue the welcome message");
            }
        }
    }
    answer
}

/// The chats whose customer just opened them.
fn opened(events: &[InboundEvent]) -> impl Iterator<Item = String> + '_ {
    events.iter().filter_map(|e| match e {
        InboundEvent::Opened(m) => Some(m.chat.external_chat_id.clone()),
        _ => None,
    })
}

/// Stores the events and says how to answer: 200 only after the commit. Also returns
/// the button presses among them, to answer once stored.
async fn store(
    store: &SharedStore,
    status: &StatusBoard,
    kind: ChannelKind,
    events: Vec<InboundEvent>,
) -> ((StatusCode, &'static str), Vec<String>) {
    let presses = super::note_events(kind, &events);
    let answer = match super::store_events(store, status, kind, events, None).await {
        Ok(_) => {
            status.set(kind, ChannelState::Ok("webhook".into()));
            (StatusCode::OK, "ok\n")
        }
        Err(e) => {
            tracing::error!(channel = %kind, error = %e, "cannot store a webhook update");
            (StatusCode::INTERNAL_SERVER_ERROR, "not stored; deliver it again\n")
        }
    };
    (answer, presses)
}

async fn viber_route(
    State(hook): State<Arc<ViberHook>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let kind = ChannelKind::Viber;
    // The signature comes in a header, or (older clients of the API) as ?sig=.
    let signature = headers
        .get("x-viber-content-signature")
        .and_then(|v| v.to_str().ok())
        .or_else(|| q.get("sig").map(String::as_str));
    if !hook.channel.verify(&body, signature) {
        tracing::warn!(channel = %kind, "webhook call with a bad or missing signature: refused");
        return (StatusCode::UNAUTHORIZED, "bad signature\n").into_response();
    }
    let parsed = serde_json::from_slice::<Value>(&body).map_err(|e| e.to_string());
    let events = match parsed.and_then(|v| viber_decode::decode(&v)) {
        Ok(decoded) => decoded,
        Err(e) => {
            tracing::warn!(channel = %kind, error = %e, bytes = body.len(), "webhook body refused");
            return (StatusCode::BAD_REQUEST, "not a Viber callback\n").into_response();
        }
    };
    let started_by = opened(&events).next();
    let (answer, _) = store(&hook.store, &hook.status, kind, events).await;
    if answer.0 != StatusCode::OK {
        return answer.into_response();
    }
    // A customer who opens the chat may get one welcome message, in this very answer.
    match (started_by, hook.channel.welcome(), hook.channel.welcome_text().map(str::to_string)) {
        (Some(user), Some(welcome), Some(text)) => {
            // Recorded first and sent only when new: a redelivered opening, or a customer
            // opening the chat again, gets no second welcome.
            match hook.store.run(move |s| s.record_welcome(kind, &user, &text, crate::model::now_ms())).await {
                Ok(true) => (StatusCode::OK, axum::Json(welcome)).into_response(),
                Ok(false) => answer.into_response(),
                Err(e) => {
                    tracing::error!(channel = %kind, error = %e, "cannot record the welcome message");
                    answer.into_response()
                }
            }
        }
        _ => answer.into_response(),
    }
}
