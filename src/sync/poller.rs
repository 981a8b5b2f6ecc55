//! The Telegram long-poll loop. The offset is stored in the same transaction as the
//! updates it covers and only then sent back to Telegram (which confirms them), so a
//! crash at any point redelivers rather than loses, and redelivery stores nothing twice.

use std::time::Duration;

use super::ingestor::Ingestor;
use super::{ChannelState, StatusBoard};
use crate::channels::SendError;
use crate::channels::telegram::{self, TelegramChannel};
use crate::model::{ChannelKind, InboundEvent};
use crate::store::SharedStore;

const OFFSET_KEY: &str = "offset";

pub async fn run_telegram(tg: TelegramChannel, store: SharedStore, ingestor: Ingestor, status: StatusBoard) {
    let kind = ChannelKind::Telegram;
    let stored = store.run(move |s| s.sync_value(kind.as_str(), OFFSET_KEY)).await;
    let mut offset: Option<i64> = stored.ok().flatten().and_then(|v| v.parse().ok());
    let mut backoff = Backoff::default();
    // Check the token first so the status bar tells the truth at once.
    let connected = loop {
        match tg.check().await {
            Ok(bot) => {
                tracing::info!(channel = %kind, bot, "connected");
                break ChannelState::Ok(format!("@{bot}"));
            }
            Err(e) => {
                let (state, wait) = failure_state(e, &mut backoff);
                tracing::warn!(channel = %kind, ?state, "getMe failed");
                status.set(kind, state);
                tokio::time::sleep(wait).await;
            }
        }
    };
    status.set(kind, connected.clone());
    // The last batch that held nothing the offset could confirm, so a server that
    // keeps serving it is counted once, not once a second.
    let mut unconfirmable: Option<String> = None;
    loop {
        let asked_at = tokio::time::Instant::now();
        let updates = match tg.get_updates(offset).await {
            Ok(updates) => updates,
            Err(e) => {
                let (state, wait) = failure_state(e, &mut backoff);
                tracing::warn!(channel = %kind, ?state, "getUpdates failed");
                status.set(kind, state);
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        status.set(kind, connected.clone());
        backoff = Backoff::default();
        let (valid, out_of_range): (Vec<_>, Vec<_>) = updates.iter().partition(|u| update_id(u).is_some());
        // Updates no offset can name, kept raw as one batch.
        let odd = (!out_of_range.is_empty())
            .then(|| serde_json::Value::from(out_of_range.into_iter().cloned().collect::<Vec<_>>()).to_string());
        let Some(last) = valid.iter().filter_map(|u| update_id(u)).max() else {
            // Nothing to confirm: an empty answer, or only odd ids. Keep those once, and
            // never ask again sooner than a second later, whatever the server does with
            // `timeout`.
            if let Some(batch) = odd.filter(|b| unconfirmable.as_ref() != Some(b)) {
                let events = vec![odd_update(&batch)];
                super::note_events(kind, &events);
                if let Err(e) = super::store_events(&ingestor, &status, kind, events, None).await {
                    tracing::error!(error = %e, "cannot store an update");
                }
                unconfirmable = Some(batch);
            }
            tokio::time::sleep_until(asked_at + MIN_EMPTY_POLL).await;
            continue;
        };
        let next = last + 1;
        let mut events: Vec<InboundEvent> = valid.iter().flat_map(|u| tg.decode(u)).collect();
        events.extend(odd.as_deref().map(odd_update));
        telegram::refine_times(&mut events, crate::model::now_ms());
        super::note_events(kind, &events);
        let stored = events.clone();
        let cursor = Some((kind.as_str(), OFFSET_KEY, next.to_string()));
        match super::store_events(&ingestor, &status, kind, events, cursor).await {
            Ok(report) => {
                tracing::debug!(?report, next, "updates stored");
                offset = Some(next);
                // Stored first, answered after: a press is never lost to a crash, and
                // answering one twice after a redelivery is harmless.
                tg.answer_presses(&stored);
            }
            Err(e) => {
                // Not acknowledged: Telegram hands the same updates back next time.
                tracing::error!(error = %e, "cannot store updates");
                if !matches!(e, crate::store::StoreError::DiskFull(_)) {
                    status.set(kind, ChannelState::Retrying(format!("cannot store updates: {e}")));
                }
                tokio::time::sleep(backoff.next()).await;
            }
        }
    }
}

/// The shortest time between two getUpdates calls that brought nothing to store.
const MIN_EMPTY_POLL: Duration = Duration::from_secs(1);

/// An update's id when an offset can name it: Telegram's are 32-bit in practice and
/// offsets are signed 64-bit, so anything outside 0..i64::MAX cannot be confirmed.
fn update_id(update: &serde_json::Value) -> Option<i64> {
    update["update_id"].as_i64().filter(|id| (0..i64::MAX).contains(id))
}

/// Updates whose id cannot be confirmed, kept raw and counted.
fn odd_update(raw: &str) -> InboundEvent {
    InboundEvent::Unsupported {
        channel: ChannelKind::Telegram,
        what: "update with an unusable update_id".into(),
        raw: raw.into(),
    }
}

/// What a failed Bot API call means for the channel, and how long to wait.
fn failure_state(e: SendError, backoff: &mut Backoff) -> (ChannelState, Duration) {
    match e {
        SendError::ChannelDown(reason) => (ChannelState::Down(reason), Duration::from_secs(30)),
        SendError::Retry { after: Some(after), reason } => (ChannelState::Retrying(reason), after),
        other => (ChannelState::Retrying(format!("cannot reach Telegram: {other}")), backoff.next()),
    }
}

/// Exponential backoff from 1 s to 30 s.
#[derive(Debug, Default)]
pub(super) struct Backoff(u32);

impl Backoff {
    pub(super) fn next(&mut self) -> Duration {
        self.0 = (self.0 + 1).min(6);
        Duration::from_secs((1u64 << (self.0 - 1)).min(30))
    }
}
