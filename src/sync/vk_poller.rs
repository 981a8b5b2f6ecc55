//! The VK Bots Long Poll loop. Like Telegram's offset, `ts` is stored in the same
//! transaction as the events it covers, so a crash redelivers rather than loses, and a
//! redelivery stores nothing twice (messages are keyed by their id in the conversation,
//! presses by their event id, permissions by the envelope's `event_id`). `failed` is
//! recovered as VK's SDKs do: 1, go on from the new `ts`; 2, a new key with our `ts`;
//! 3, a new key and `ts`. After 1 and 3, and at every start, what the poll may have
//! missed is caught up from the conversations with unread messages.

use std::time::Duration;

use super::ingestor::Ingestor;
use super::poller::Backoff;
use super::{ChannelState, StatusBoard};
use crate::channels::vk::{LongPoll, LongPollServer, VkChannel};
use crate::channels::{SendError, vk};
use crate::model::{ChannelKind, InboundEvent};
use crate::store::SharedStore;

const TS_KEY: &str = "ts";

/// The least time between two polls that brought nothing, whatever the server does with
/// `wait`.
const MIN_EMPTY_POLL: Duration = Duration::from_secs(1);

pub async fn run(vk: VkChannel, store: SharedStore, ingestor: Ingestor, status: StatusBoard) {
    let kind = ChannelKind::Vk;
    let stored = store.run(move |s| s.sync_value(kind.as_str(), TS_KEY)).await.ok().flatten();
    let mut backoff = Backoff::default();
    let connected = loop {
        match vk.check().await {
            Ok(name) => {
                tracing::info!(channel = %kind, name, "connected");
                break ChannelState::Ok(name);
            }
            Err(e) => wait_out(&status, e, &mut backoff, "groups.getById failed").await,
        }
    };
    status.set(kind, connected.clone());
    let mut server = server(&vk, &status, &mut backoff).await;
    // What came while the engine was down (or before it first ran) is in the
    // conversations with unread messages: caught up once, then polled from where we were.
    let mut ts = stored.unwrap_or_else(|| server.ts.clone());
    catch_up(&vk, &ingestor, &status, &ts).await;
    loop {
        let asked_at = tokio::time::Instant::now();
        match vk.poll(&server, &ts).await {
            Ok(LongPoll::Updates { ts: next, updates }) => {
                status.set(kind, connected.clone());
                backoff = Backoff::default();
                let empty = updates.is_empty();
                if !empty && !store_batch(&vk, &ingestor, &status, &updates, &next).await {
                    tokio::time::sleep(backoff.next()).await;
                    continue;
                }
                ts = next;
                if empty {
                    tokio::time::sleep_until(asked_at + MIN_EMPTY_POLL).await;
                }
            }
            Ok(LongPoll::Outdated { ts: next }) => {
                tracing::warn!(channel = %kind, "long poll history outdated (failed 1): catching up");
                catch_up(&vk, &ingestor, &status, &next).await;
                ts = next;
            }
            Ok(LongPoll::KeyExpired) => {
                tracing::info!(channel = %kind, "long poll key expired (failed 2): a new key, the same ts");
                server = self::server(&vk, &status, &mut backoff).await;
            }
            Ok(LongPoll::Lost) => {
                tracing::warn!(channel = %kind, "long poll information lost (failed 3): a new key and ts, catching up");
                server = self::server(&vk, &status, &mut backoff).await;
                ts = server.ts.clone();
                catch_up(&vk, &ingestor, &status, &ts).await;
            }
            Err(e) => wait_out(&status, e, &mut backoff, "long poll failed").await,
        }
    }
}

/// A long poll server, however long it takes to get one.
async fn server(vk: &VkChannel, status: &StatusBoard, backoff: &mut Backoff) -> LongPollServer {
    loop {
        match vk.long_poll_server().await {
            Ok(server) => return server,
            Err(e) => wait_out(status, e, backoff, "groups.getLongPollServer failed").await,
        }
    }
}

/// Decodes, names and stores a batch with the `ts` that follows it; answers its presses
/// once stored. False when it could not be stored (it is asked for again).
async fn store_batch(
    vk: &VkChannel,
    ingestor: &Ingestor,
    status: &StatusBoard,
    updates: &[serde_json::Value],
    ts: &str,
) -> bool {
    let kind = ChannelKind::Vk;
    let mut events: Vec<InboundEvent> = updates
        .iter()
        .flat_map(|u| {
            vk::decode::decode(u)
                .unwrap_or_else(|e| vec![InboundEvent::Unsupported { channel: kind, what: e, raw: u.to_string() }])
        })
        .collect();
    vk.name(&mut events).await;
    super::note_events(kind, &events);
    let stored = events.clone();
    match super::store_events(ingestor, status, kind, events, Some((kind.as_str(), TS_KEY, ts.to_string()))).await {
        Ok(report) => {
            tracing::debug!(?report, ts, "VK events stored");
            vk.answer_presses(&stored);
            true
        }
        Err(e) => {
            tracing::error!(channel = %kind, error = %e, "cannot store VK events");
            false
        }
    }
}

/// Stores what the conversations with unread messages hold, then `ts`: messages already
/// stored are not stored again.
async fn catch_up(vk: &VkChannel, ingestor: &Ingestor, status: &StatusBoard, ts: &str) {
    match vk.catch_up().await {
        Ok(missed) => {
            tracing::info!(channel = "vk", messages = missed.len(), "caught up");
            store_batch(vk, ingestor, status, &missed, ts).await;
        }
        Err(e) => tracing::warn!(channel = "vk", error = %e, "cannot catch up; going on from the new ts"),
    }
}

async fn wait_out(status: &StatusBoard, e: SendError, backoff: &mut Backoff, what: &str) {
    let (state, wait) = match e {
        SendError::ChannelDown(reason) => (ChannelState::Down(reason), Duration::from_secs(30)),
        SendError::Retry { after: Some(after), reason } => (ChannelState::Retrying(reason), after),
        other => (ChannelState::Retrying(format!("cannot reach VK: {other}")), backoff.next()),
    };
    tracing::warn!(channel = "vk", ?state, "{what}");
    status.set(ChannelKind::Vk, state);
    tokio::time::sleep(wait).await;
}
