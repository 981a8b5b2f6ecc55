//! Webhook delivery for the emulators of platforms that push (WhatsApp, Viber): bodies
//! are POSTed in order, signed the way the platform signs, and retried with backoff
//! until the receiver answers 2xx.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How a platform signs a body: the header name, and the value for given bytes.
pub type Signer = Arc<dyn Fn(&[u8]) -> (&'static str, String) + Send + Sync>;

/// A queue of webhook bodies to deliver to one URL.
#[derive(Clone)]
pub struct Pusher {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Mutex<VecDeque<Vec<u8>>>,
    url: Mutex<Option<String>>,
    wake: Notify,
    delivered: Mutex<usize>,
}

impl Pusher {
    /// Starts delivering; bodies wait until a URL is set.
    pub fn start(signer: Signer) -> (Pusher, JoinHandle<()>) {
        let pusher = Pusher {
            inner: Arc::new(Inner {
                queue: Mutex::new(VecDeque::new()),
                url: Mutex::new(None),
                wake: Notify::new(),
                delivered: Mutex::new(0),
            }),
        };
        let task = tokio::spawn(deliver(pusher.clone(), signer));
        (pusher, task)
    }

    pub fn set_url(&self, url: Option<String>) {
        *self.inner.url.lock().unwrap_or_else(|p| p.into_inner()) = url;
        self.inner.wake.notify_one();
    }

    pub fn url(&self) -> Option<String> {
        self.inner.url.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Queues a body, exactly as it will be sent (and signed).
    pub fn push(&self, body: Vec<u8>) {
        self.inner.queue.lock().unwrap_or_else(|p| p.into_inner()).push_back(body);
        self.inner.wake.notify_one();
    }

    /// Bodies not yet acknowledged.
    pub fn pending(&self) -> usize {
        self.inner.queue.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Bodies acknowledged with 2xx so far.
    pub fn delivered(&self) -> usize {
        *self.inner.delivered.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn deliver(pusher: Pusher, signer: Signer) {
    let client = reqwest::Client::new();
    let mut backoff = Duration::from_millis(100);
    loop {
        let next = {
            let url = pusher.url();
            let front = pusher.inner.queue.lock().unwrap_or_else(|p| p.into_inner()).front().cloned();
            url.zip(front)
        };
        let Some((url, body)) = next else {
            pusher.inner.wake.notified().await;
            continue;
        };
        let (header, signature) = signer(&body);
        let sent = client
            .post(&url)
            .header("content-type", "application/json")
            .header(header, signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                pusher.inner.queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                *pusher.inner.delivered.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                backoff = Duration::from_millis(100);
            }
            _ => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// JSON with every non-ASCII character written as `\uXXXX`, as Meta writes the bodies
/// it signs.
pub fn ascii_json(value: &serde_json::Value) -> Vec<u8> {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out.into_bytes()
}
