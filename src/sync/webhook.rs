//! The engine's HTTP server for platforms that push updates (`[webhook] listen`). Each
//! route checks the caller's authenticity before reading the body, caps the body's size,
//! and answers 200 only after the update is committed: an update that could not be
//! stored is answered 500, and the platform delivers it again. A bad request is logged
//! (never with a secret) and the server keeps serving.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use tokio::task::JoinHandle;

use super::{ChannelState, StatusBoard};
use crate::channels::TelegramChannel;
use crate::channels::telegram::refine_times;
use crate::model::{ChannelKind, InboundEvent, now_ms};
use crate::store::SharedStore;

/// What the Telegram route needs.
pub struct TelegramHook {
    pub channel: TelegramChannel,
    pub store: SharedStore,
    pub status: StatusBoard,
}

/// Binds `listen` now (so a taken port is an error at start) and serves the routes.
pub fn serve(
    listen: SocketAddr,
    max_body: usize,
    telegram: Option<TelegramHook>,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = std::net::TcpListener::bind(listen)?;
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let addr = listener.local_addr()?;
    let mut router = Router::new();
    if let Some(hook) = telegram {
        router = router.route("/webhook/telegram", post(telegram_route).with_state(Arc::new(hook)));
    }
    let router = router.layer(DefaultBodyLimit::max(max_body));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the webhook server stopped");
        }
    });
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
    body: Bytes,
) -> (StatusCode, &'static str) {
    let kind = ChannelKind::Telegram;
    let expected = hook.channel.webhook_secret().map(|s| s.expose().as_bytes().to_vec()).unwrap_or_default();
    let given = headers.get("x-telegram-bot-api-secret-token").map(|v| v.as_bytes()).unwrap_or_default();
    if expected.is_empty() || !same_secret(given, &expected) {
        tracing::warn!(channel = %kind, "webhook call without the right secret token: refused");
        return (StatusCode::UNAUTHORIZED, "wrong or missing secret token\n");
    }
    let update: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            tracing::warn!(channel = %kind, bytes = body.len(), "webhook body is not a JSON object: refused");
            return (StatusCode::BAD_REQUEST, "the body is not a JSON object\n");
        }
    };
    let mut events = hook.channel.decode(&update);
    refine_times(&mut events, now_ms());
    let clicks: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            InboundEvent::Click(c) => Some(c.query_id.clone()),
            InboundEvent::Unsupported { what, raw, .. } => {
                tracing::info!(channel = %kind, what, raw = %raw, "update not handled; kept in the log");
                None
            }
            _ => None,
        })
        .collect();
    match hook.store.run(move |s| s.ingest(&events, None)).await {
        Ok(_) => {
            hook.status.set(kind, ChannelState::Ok("webhook".into()));
            for id in clicks {
                let channel = hook.channel.clone();
                tokio::spawn(async move { channel.answer_click(&id).await });
            }
            (StatusCode::OK, "ok\n")
        }
        Err(e) => {
            // Not acknowledged: Telegram delivers it again.
            tracing::error!(channel = %kind, error = %e, "cannot store a webhook update");
            hook.status.error(kind, format!("cannot store an update: {e}"));
            (StatusCode::INTERNAL_SERVER_ERROR, "not stored; deliver it again\n")
        }
    }
}
