//! The engine's HTTP server for platforms that push updates (`[webhook] listen`): one
//! route, `/webhook/<channel>`, for every channel that takes them. What differs between
//! platforms (who may call, the signature, the body, the answer) is asked of the
//! channel (`channels::hook`). The caller is checked before the body is read, the body's
//! size is capped, and the answer is 200 only after the update is committed: an update
//! that could not be stored is answered 500, and the platform delivers it again. A bad
//! request is logged (never with a secret) and the server keeps serving.
//!
//! It also serves the files agents attach, at `/media/<token>/<name>`, for Viber, which
//! fetches attachments by URL: only files in the store's attachments directory, under
//! their random 128-bit directory names.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::task::JoinHandle;

use super::{ChannelState, StatusBoard};
use crate::channels::Channel;
use crate::channels::hook::{Answer, Call, Refused};
use crate::model::{ChannelKind, now_ms};
use crate::store::SharedStore;

/// One channel's route: the channel, and its own store connection for what it does
/// once an update is stored (a welcome to queue).
pub struct Hook {
    pub channel: Channel,
    pub store: SharedStore,
}

/// The routes to serve: every channel that takes pushed updates, at `/webhook/<channel>`.
pub struct Hooks {
    pub hooks: HashMap<ChannelKind, Hook>,
    /// The engine's one writer of what is received (group commit).
    pub ingestor: super::ingestor::Ingestor,
    pub status: StatusBoard,
    /// The body limit, applied once the caller has been admitted.
    pub max_body: usize,
    /// The attachments directory served at `/media/` (see `model::attachments_dir`).
    pub media_dir: Option<std::path::PathBuf>,
}

/// Binds `listen` now (so a taken port is an error at start) and serves the routes.
pub fn serve(
    listen: SocketAddr,
    max_connections: usize,
    hooks: Hooks,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = std::net::TcpListener::bind(listen)?;
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let addr = listener.local_addr()?;
    let router = Router::new()
        .route("/webhook/{channel}", get(handshake).post(receive))
        .route("/media/{token}/{name}", get(media))
        .with_state(Arc::new(hooks));
    let task = tokio::spawn(super::http_server::run(listener, router, max_connections));
    tracing::info!(%addr, "webhook server listening");
    Ok((addr, task))
}

fn refused(kind: ChannelKind, r: Refused) -> Response {
    tracing::warn!(channel = %kind, "{}: refused", r.log);
    (StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST), r.answer).into_response()
}

/// The hook for the channel the path names, if it takes webhooks here.
fn hook<'a>(hooks: &'a Hooks, name: &str) -> Option<(ChannelKind, &'a Hook)> {
    let kind: ChannelKind = name.parse().ok()?;
    hooks.hooks.get(&kind).map(|h| (kind, h))
}

/// A file an agent attached, for the platform to fetch; 404 for anything else.
async fn media(State(hooks): State<Arc<Hooks>>, Path((token, name)): Path<(String, String)>) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "no such file").into_response();
    let Some(dir) = &hooks.media_dir else { return not_found() };
    if !crate::model::is_attachment_token(&token)
        || name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\', '\0'])
    {
        return not_found();
    }
    let path = dir.join(&token).join(&name);
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let kind = crate::model::picture_mime(&bytes).unwrap_or("application/octet-stream");
            ([(axum::http::header::CONTENT_TYPE, kind)], bytes).into_response()
        }
        Err(_) => not_found(),
    }
}

/// A GET: the platform's check of the URL (Meta's verify-token handshake).
async fn handshake(
    State(hooks): State<Arc<Hooks>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some((kind, hook)) = hook(&hooks, &name) else {
        return (StatusCode::NOT_FOUND, "no such route\n").into_response();
    };
    match hook.channel.handshake(&Call { headers: &headers, query: &query }) {
        Some(Ok(challenge)) => (StatusCode::OK, challenge).into_response(),
        Some(Err(r)) => refused(kind, r),
        None => (StatusCode::METHOD_NOT_ALLOWED, "POST updates here\n").into_response(),
    }
}

/// A POST: the caller is admitted from its headers, the body read (capped) and verified
/// over its exact bytes, decoded, stored, and answered 200 only after the commit.
async fn receive(
    State(hooks): State<Arc<Hooks>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some((kind, hook)) = hook(&hooks, &name) else {
        return (StatusCode::NOT_FOUND, "no such route\n").into_response();
    };
    let call = Call { headers: &headers, query: &query };
    if let Err(r) = hook.channel.admit(&call) {
        return refused(kind, r);
    }
    let body = match axum::body::to_bytes(body, hooks.max_body).await {
        Ok(body) => body,
        Err(e) => {
            tracing::warn!(channel = %kind, error = %e, "webhook body not read: refused");
            return (StatusCode::PAYLOAD_TOO_LARGE, "the body is too large or was cut off\n").into_response();
        }
    };
    if let Err(r) = hook.channel.verify(&call, &body) {
        return refused(kind, r);
    }
    if let Some(answer) = hook.channel.early_answer(&body) {
        return (StatusCode::OK, answer).into_response();
    }
    let mut events = match hook.channel.decode_webhook(&body, now_ms()) {
        Ok(events) => events,
        Err(e) => {
            tracing::warn!(channel = %kind, error = %e, bytes = body.len(), "webhook body refused");
            return (StatusCode::BAD_REQUEST, format!("not a {} webhook body\n", kind.display_name())).into_response();
        }
    };
    hook.channel.complete(&mut events).await;
    super::note_events(kind, &events);
    let kept = events.clone();
    if let Err(e) = super::store_events(&hooks.ingestor, &hooks.status, kind, events, None).await {
        tracing::error!(channel = %kind, error = %e, "cannot store a webhook update");
        return (StatusCode::INTERNAL_SERVER_ERROR, "not stored; deliver it again\n").into_response();
    }
    hooks.status.set(kind, ChannelState::Ok("webhook".into()));
    match hook.channel.after_stored(&kept, &hook.store).await {
        Some(Answer::Json(answer)) => (StatusCode::OK, axum::Json(answer)).into_response(),
        Some(Answer::Text(answer)) => (StatusCode::OK, answer).into_response(),
        None => (StatusCode::OK, "ok\n").into_response(),
    }
}
