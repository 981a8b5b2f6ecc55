//! The sync engine: for each configured channel a receiver (the Telegram poller) and an
//! outbox sender, all writing to the store through their own connections. One engine per
//! store, guarded by `EngineLock`; it runs inside a console or headless (`serve`).

mod checkpoint;
mod http_server;
pub mod ingestor;
mod lock;
mod outbox;
mod poller;
mod ratelimit;
pub mod recovery;
pub mod scheduler;
mod vk_poller;
mod webhook;

pub use lock::{ConsolePresence, EngineLock};
pub use ratelimit::Pacer;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::channels::Channel;
use crate::config::WebhookConfig;
use crate::model::{ChannelKind, Millis, now_ms};
use crate::store::{IngestRules, SharedStore, Store, StoreError};
use ingestor::Ingestor;

/// How a channel is doing, as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChannelState {
    Starting,
    /// Working; the text says how (`polling`).
    Ok(String),
    /// A passing problem; it is being retried.
    Retrying(String),
    /// Unusable until the configuration is fixed (a rejected token).
    Down(String),
    /// The disk is full: updates are refused (and redelivered by the platform) until
    /// space is freed, then it heals by itself.
    DiskFull,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChannelStatus {
    pub state: ChannelState,
    pub last_error: Option<(Millis, String)>,
}

pub type StatusMap = BTreeMap<ChannelKind, ChannelStatus>;

/// Where the engine's tasks report how each channel is doing.
#[derive(Clone)]
pub struct StatusBoard {
    map: Arc<watch::Sender<StatusMap>>,
    /// Set when a write found the disk full; cleared once the log has been reclaimed.
    disk_full: Arc<std::sync::atomic::AtomicBool>,
}

impl StatusBoard {
    fn new(kinds: impl IntoIterator<Item = ChannelKind>) -> StatusBoard {
        let map =
            kinds.into_iter().map(|k| (k, ChannelStatus { state: ChannelState::Starting, last_error: None })).collect();
        StatusBoard { map: Arc::new(watch::channel(map).0), disk_full: Default::default() }
    }

    pub fn set(&self, kind: ChannelKind, state: ChannelState) {
        self.map.send_if_modified(|map| {
            let entry = map.entry(kind).or_insert(ChannelStatus { state: ChannelState::Starting, last_error: None });
            let changed = entry.state != state;
            if let ChannelState::Retrying(e) | ChannelState::Down(e) = &state {
                entry.last_error = Some((now_ms(), e.clone()));
            }
            entry.state = state;
            changed
        });
    }

    /// A send went through: a channel marked down (a rejected token) works again.
    pub fn recovered(&self, kind: ChannelKind) {
        self.map.send_if_modified(|map| match map.get_mut(&kind) {
            Some(entry) if matches!(entry.state, ChannelState::Down(_)) => {
                entry.state = ChannelState::Ok("sending".into());
                true
            }
            _ => false,
        });
    }

    pub fn error(&self, kind: ChannelKind, message: String) {
        self.map.send_modify(|map| {
            if let Some(entry) = map.get_mut(&kind) {
                entry.last_error = Some((now_ms(), message));
            }
        });
    }

    pub fn subscribe(&self) -> watch::Receiver<StatusMap> {
        self.map.subscribe()
    }
}

/// Stores inbound events for `kind` through the engine's one writer (group commit,
/// `ingestor`), which minds a full disk, and says on the status board what went wrong.
/// An error means nothing was stored (the caller does not acknowledge, and the platform
/// delivers again).
pub(crate) async fn store_events(
    ingestor: &Ingestor,
    status: &StatusBoard,
    kind: ChannelKind,
    events: Vec<crate::model::InboundEvent>,
    cursor: Option<ingestor::Cursor>,
) -> Result<crate::store::IngestReport, StoreError> {
    let result = ingestor.ingest(events, cursor).await;
    match &result {
        Err(StoreError::DiskFull(_)) => status.set(kind, ChannelState::DiskFull),
        Err(e) => status.error(kind, format!("cannot store an update: {e}")),
        Ok(_) => {}
    }
    result
}

/// Before storing a batch: logs what the adapter could not handle (raw, as JSON, so
/// control characters stay escaped; cut to a sane length).
pub fn note_events(kind: ChannelKind, events: &[crate::model::InboundEvent]) {
    for event in events {
        if let crate::model::InboundEvent::Unsupported { what, raw, .. } = event {
            tracing::info!(channel = %kind, what, raw = %truncate_raw(raw), "update not handled; kept in the log");
        }
    }
}

/// A raw update for the log, cut to a sane length.
fn truncate_raw(raw: &str) -> String {
    const MAX: usize = 4096;
    match raw.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}… ({} bytes in all)", &raw[..i], raw.len()),
        None => raw.to_string(),
    }
}

/// A running engine. Dropping it stops its tasks and releases the lock.
pub struct Engine {
    _lock: Arc<EngineLock>,
    tasks: Vec<JoinHandle<()>>,
    status: StatusBoard,
    wake: Arc<Notify>,
    webhook_addr: Option<std::net::SocketAddr>,
    store_path: std::path::PathBuf,
}

impl Engine {
    /// Starts a receiver and a sender for every channel, and the webhook server when a
    /// channel takes pushed updates. Each task opens its own store connection. Must be
    /// called inside a tokio runtime.
    pub fn start(
        lock: EngineLock,
        store_path: &Path,
        channels: Vec<Channel>,
        webhook: &WebhookConfig,
    ) -> Result<Engine, EngineError> {
        Engine::start_with(
            lock,
            store_path,
            channels,
            webhook,
            &IngestRules::default(),
            &Default::default(),
            &Default::default(),
        )
    }

    /// `start`, with the configured STOP keywords and phone-number links for every
    /// message the engine stores, and auto-assignment as configured.
    pub fn start_with(
        lock: EngineLock,
        store_path: &Path,
        channels: Vec<Channel>,
        webhook: &WebhookConfig,
        rules: &IngestRules,
        assignment: &crate::config::AssignmentConfig,
        automation: &crate::automation::AutomationConfig,
    ) -> Result<Engine, EngineError> {
        // Every connection that stores inbound messages applies the same rules.
        let stop = &rules.stop;
        let receiving_store = || -> Result<Store, StoreError> {
            let mut store = engine_store(store_path)?;
            store.set_ingest_rules(rules.clone());
            Ok(store)
        };
        // Recovery runs once, here, under the engine lock and before any sender starts.
        // Run by each sender as it started, it re-queued the messages another channel's
        // sender, started a moment earlier, already had on the wire: sent twice.
        match recovery::recover(&mut Store::open(store_path)?, now_ms()) {
            Ok(r) if r == recovery::Recovered::default() => {}
            Ok(r) => {
                tracing::warn!(requeued = r.requeued, skipped = r.skipped, "sends interrupted by a crash recovered")
            }
            Err(e) => tracing::error!(error = %e, "cannot recover interrupted sends"),
        }
        let status = StatusBoard::new(channels.iter().map(Channel::kind));
        let wake = Arc::new(Notify::new());
        let mut tasks = Vec::new();
        let mut hooks = HashMap::new();
        // One writer for everything received, on every channel (group commit).
        let long_log = checkpoint::LongLog::default();
        let ingestor = Ingestor::start(receiving_store()?, status.disk_full.clone(), long_log.clone())
            .map_err(EngineError::Writer)?;
        for channel in channels {
            let kind = channel.kind();
            let sender_store = SharedStore::new(engine_store(store_path)?);
            tasks.push(tokio::spawn(outbox::run(channel.clone(), sender_store, status.clone(), wake.clone())));
            let store = SharedStore::new(receiving_store()?);
            match channel {
                Channel::Telegram(tg) if !tg.uses_webhook() => {
                    tasks.push(tokio::spawn(poller::run_telegram(tg, store, ingestor.clone(), status.clone())));
                }
                Channel::Vk(vk) if !vk.uses_callback() => {
                    tasks.push(tokio::spawn(vk_poller::run(vk, store, ingestor.clone(), status.clone())));
                }
                channel => {
                    if let Channel::Telegram(tg) = &channel {
                        tasks.push(tokio::spawn(register_telegram_webhook(tg.clone(), status.clone())));
                    } else {
                        status.set(kind, ChannelState::Ok("webhook".into()));
                    }
                    hooks.insert(kind, webhook::Hook { channel, store });
                }
            }
        }
        tasks.push(tokio::spawn(checkpoint::run(store_path.to_path_buf(), long_log)));
        tasks.push(tokio::spawn(scheduler::run(store_path.to_path_buf(), assignment.clone())));
        match crate::automation::Automation::new(automation) {
            Ok(a) if a.is_empty() => {}
            Ok(a) => tasks.push(tokio::spawn(crate::automation::run::run(
                store_path.to_path_buf(),
                a,
                stop.clone(),
                wake.clone(),
            ))),
            Err(e) => tracing::error!(error = %e, "automation is off"),
        }
        let lock = Arc::new(lock);
        // Weak: the engine alone keeps the lock, so dropping it releases the lock at once
        // (an aborted task drops what it holds only when the runtime next gets to it).
        tasks.push(tokio::spawn(publish_status(Arc::downgrade(&lock), status.subscribe())));
        let mut webhook_addr = None;
        if !hooks.is_empty() {
            let hooks = webhook::Hooks {
                hooks,
                ingestor,
                status: status.clone(),
                max_body: webhook.max_body_bytes,
                media_dir: Some(crate::model::attachments_dir(store_path)),
            };
            let (addr, task) = webhook::serve(webhook.listen, webhook.max_connections, hooks)
                .map_err(|source| EngineError::Listen { addr: webhook.listen, source })?;
            webhook_addr = Some(addr);
            tasks.push(task);
        }
        tracing::info!(pid = std::process::id(), "engine started");
        Ok(Engine { _lock: lock, tasks, status, wake, webhook_addr, store_path: store_path.to_path_buf() })
    }

    /// Where the webhook server listens, when it runs.
    pub fn webhook_addr(&self) -> Option<std::net::SocketAddr> {
        self.webhook_addr
    }

    pub fn status(&self) -> watch::Receiver<StatusMap> {
        self.status.subscribe()
    }

    /// Notifying this makes the senders look at the outbox now rather than at their
    /// next poll (something was just enqueued in this process).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen for webhooks on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("cannot start the writer of received messages: {0}")]
    Writer(std::io::Error),
}

/// A connection for one of the engine's tasks. The engine runs its own checkpointer
/// (`checkpoint`), so no write of the engine stops to checkpoint the log itself.
pub(crate) fn engine_store(path: &Path) -> Result<Store, StoreError> {
    let store = Store::open(path)?;
    store.leave_checkpoints_to_checkpointer()?;
    Ok(store)
}

/// Keeps the lock file's status line current, for consoles in other processes.
async fn publish_status(lock: std::sync::Weak<EngineLock>, mut status: watch::Receiver<StatusMap>) {
    loop {
        let line = serde_json::to_string(&*status.borrow_and_update()).unwrap_or_default();
        // Held only while writing, never across the wait below.
        let published = match lock.upgrade() {
            Some(lock) => lock.publish(&line),
            None => return,
        };
        if let Err(e) = published {
            tracing::debug!(error = %e, "cannot publish the engine's status");
        }
        if status.changed().await.is_err() {
            return;
        }
    }
}

/// What an engine in another process last published, if one runs: its pid and status.
pub fn engine_elsewhere(lock_path: &Path) -> Option<(u32, StatusMap)> {
    let (pid, line) = EngineLock::published(lock_path)?;
    Some((pid, serde_json::from_str(&line).unwrap_or_default()))
}

/// Webhook mode: tell Telegram where to call, when a public URL is configured.
async fn register_telegram_webhook(tg: crate::channels::TelegramChannel, status: StatusBoard) {
    let kind = ChannelKind::Telegram;
    match tg.register_webhook().await {
        Ok(true) => status.set(kind, ChannelState::Ok("webhook".into())),
        Ok(false) => status.set(kind, ChannelState::Ok("webhook (URL registered by hand)".into())),
        Err(e) => status.set(kind, ChannelState::Retrying(format!("setWebhook failed: {e}"))),
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        // A clean stop leaves no log behind: the next start, perhaps on a fuller disk,
        // begins with everything in the database file.
        match rusqlite::Connection::open(&self.store_path).and_then(|c| {
            c.busy_timeout(std::time::Duration::from_secs(2))?;
            checkpoint::checkpoint(&c, "TRUNCATE")
        }) {
            Ok((0, _, _)) => tracing::info!("engine stopped; the store's log is checkpointed"),
            Ok(_) => tracing::info!("engine stopped; the store's log is left for the next start"),
            Err(e) => tracing::warn!(error = %e, "engine stopped; cannot checkpoint the store's log"),
        }
    }
}
