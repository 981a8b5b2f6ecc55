//! The webhook server's connections: accepted here rather than by `axum::serve` so that a
//! client cannot hold the server with stalled sockets. Headers must arrive within
//! `HEADER_TIMEOUT` (also between requests on a kept-alive connection), a whole request,
//! body included, within `REQUEST_TIMEOUT`, and at most `max_connections` are open at
//! once. When the cap is reached, a newcomer takes the place of the connection that has
//! sent nothing for the longest (stalled in its headers or its body, or idle), so
//! stalled clients can delay real ones by a connect, never starve them. Evicting is
//! always safe: nothing is answered 200 before it is committed, so a platform whose
//! request was cut delivers it again, and a redelivery is stored once.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use tower::ServiceExt;

/// How long a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take, from its headers to our answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server holds of one open connection.
struct Open {
    abort: AbortHandle,
    /// When the client last sent a byte, in milliseconds since the server started.
    last_read: Arc<AtomicU64>,
}

#[derive(Default)]
struct Connections {
    next: u64,
    open: BTreeMap<u64, Open>,
}

/// Serves `router` on `listener` until the task is aborted.
pub async fn run(listener: TcpListener, router: Router, max_connections: usize) {
    let connections = Arc::new(Mutex::new(Connections::default()));
    let started = Instant::now();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors, most likely: wait for some to close.
                tracing::warn!(error = %e, "cannot accept a webhook connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let mut guard = connections.lock().unwrap_or_else(|p| p.into_inner());
        if guard.open.len() >= max_connections {
            let quietest =
                guard.open.iter().min_by_key(|(_, c)| c.last_read.load(Ordering::Relaxed)).map(|(id, _)| *id);
            if let Some(evicted) = quietest.and_then(|id| guard.open.remove(&id)) {
                tracing::debug!(max_connections, "webhook connections at their cap: the quietest closed");
                evicted.abort.abort();
            }
        }
        let id = guard.next;
        guard.next += 1;
        let last_read = Arc::new(AtomicU64::new(started.elapsed().as_millis() as u64));
        let stream = Tracked { inner: stream, last_read: last_read.clone(), started };
        let task = tokio::spawn(connection(stream, router.clone(), id, connections.clone()));
        // Inserted while the lock is held, so the task's own removal comes after.
        guard.open.insert(id, Open { abort: task.abort_handle(), last_read });
    }
}

async fn connection(stream: Tracked, router: Router, id: u64, connections: Arc<Mutex<Connections>>) {
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let router = router.clone();
        async move {
            let answer = tokio::time::timeout(REQUEST_TIMEOUT, router.oneshot(request)).await;
            Ok::<_, std::convert::Infallible>(match answer {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => {
                    tracing::warn!("a webhook request took longer than {REQUEST_TIMEOUT:?}: dropped");
                    timed_out()
                }
            })
        }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(e) = served {
        tracing::debug!(error = %e, "webhook connection ended");
    }
    connections.lock().unwrap_or_else(|p| p.into_inner()).open.remove(&id);
}

/// A socket that notes when its client last sent something.
struct Tracked {
    inner: TcpStream,
    last_read: Arc<AtomicU64>,
    started: Instant,
}

impl AsyncRead for Tracked {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.last_read.store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

fn timed_out() -> Response<Body> {
    let mut response = Response::new(Body::from("the request took too long\n"));
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    response
}
