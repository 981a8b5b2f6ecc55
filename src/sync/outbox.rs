//! The outbox sender of one channel: claims due rows, paces them under the channel's
//! limits, sends a few at a time (never two to one chat at once, so a chat's messages
//! keep their order), and records the outcome: sent, retry later, or failed with a reason.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::time::Instant;

use super::{ChannelState, Pacer, StatusBoard};
use crate::channels::{Channel, SendError};
use crate::model::{CampaignId, now_ms};
use crate::store::{OutboxItem, Sent, SharedStore};

/// Sends in flight at once, per channel.
const CONCURRENCY: usize = 16;
/// How often the sender looks for rows other processes enqueued.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// A message still failing after this many tries fails for good.
pub const MAX_ATTEMPTS: i64 = 12;

struct Outcome {
    chat: String,
    hold_until: Option<Instant>,
    campaign: Option<CampaignId>,
    /// A send the platform accepted, recorded by the loop together with the others that
    /// finished meanwhile (one transaction for them all).
    sent: Option<Sent>,
}

/// How often one campaign's counts are read again for its finish and its brake: often
/// enough to stop a bad campaign within a fraction of a second, rarely enough to cost nothing.
const REVIEW_EVERY: Duration = Duration::from_millis(100);

/// Reviews the campaigns that had outcomes, each at most every `REVIEW_EVERY`.
async fn review_campaigns(
    store: &SharedStore,
    status: &StatusBoard,
    kind: crate::model::ChannelKind,
    to_review: &mut HashSet<CampaignId>,
    reviewed: &mut HashMap<CampaignId, Instant>,
) {
    let now = Instant::now();
    let due: Vec<CampaignId> = to_review
        .iter()
        .copied()
        .filter(|c| reviewed.get(c).is_none_or(|at| now.duration_since(*at) >= REVIEW_EVERY))
        .collect();
    for campaign in due {
        to_review.remove(&campaign);
        reviewed.insert(campaign, now);
        match store.run(move |s| crate::campaign::guard::review(s, campaign, crate::model::now_ms())).await {
            Ok(Some(reason)) => {
                tracing::warn!(channel = %kind, campaign = %campaign, %reason, "campaign paused");
                status.error(kind, format!("a campaign paused itself: {reason}"));
            }
            Ok(None) => {}
            Err(e) => status.error(kind, format!("cannot review a campaign: {e}")),
        }
    }
}

pub async fn run(channel: Channel, store: SharedStore, status: StatusBoard, wake: Arc<Notify>) {
    let kind = channel.kind();
    let profile = channel.rate_profile();
    let mut pacer = Pacer::new(profile, Instant::now());
    let mut in_flight: HashSet<String> = HashSet::new();
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Outcome>();
    // Campaigns with outcomes not yet reviewed (finish, brake), and when each was last.
    let mut to_review: HashSet<CampaignId> = HashSet::new();
    let mut reviewed: HashMap<CampaignId, Instant> = HashMap::new();
    loop {
        review_campaigns(&store, &status, kind, &mut to_review, &mut reviewed).await;
        let due = match store.run(move |s| s.outbox_due(kind, now_ms(), 256)).await {
            Ok(due) => due,
            Err(e) => {
                status.error(kind, format!("cannot read the outbox: {e}"));
                Vec::new()
            }
        };
        let mut next_wake = Instant::now() + IDLE_POLL;
        let mut starting = Vec::new();
        for item in due {
            if in_flight.contains(&item.chat_id) {
                continue;
            }
            let now = Instant::now();
            let ready = pacer.ready_at(&item.chat_id);
            if ready > now {
                next_wake = next_wake.min(ready);
                continue;
            }
            if let Some(cap) = profile.unanswered_per_hour.filter(|_| item.change.is_none())
                && let Some(wait_until) = over_hourly_cap(&store, &item, cap).await
            {
                let id = item.message_id;
                let reason =
                    format!("{} allows {cap} messages an hour to a customer who does not answer", kind.display_name());
                let _ = store.run(move |s| s.retry_later(id, wait_until, &reason, crate::model::now_ms())).await;
                continue;
            }
            let Ok(permit) = permits.clone().try_acquire_owned() else { break };
            let id = item.message_id;
            if let Some(campaign) = item.campaign {
                // An opt-out or a block since the launch wins over the plan.
                match store.run(move |s| crate::campaign::guard::may_go(s, id, crate::model::now_ms())).await {
                    Ok(true) => {}
                    Ok(false) => {
                        to_review.insert(campaign);
                        continue;
                    }
                    Err(e) => {
                        status.error(kind, format!("cannot check consent: {e}"));
                        continue;
                    }
                }
            }
            pacer.record(&item.chat_id, item.is_group, now);
            in_flight.insert(item.chat_id.clone());
            starting.push((item, permit));
        }
        // The sends that start together are marked in one transaction. A change leaves
        // the message's status as it is (it was sent).
        let sending: Vec<_> = starting.iter().filter(|(i, _)| i.change.is_none()).map(|(i, _)| i.message_id).collect();
        if !sending.is_empty()
            && let Err(e) = store.run(move |s| s.mark_sending_all(&sending, crate::model::now_ms())).await
        {
            status.error(kind, format!("cannot update the outbox: {e}"));
            starting.retain(|(item, _)| {
                if item.change.is_none() {
                    in_flight.remove(&item.chat_id);
                }
                item.change.is_some()
            });
        }
        for (item, permit) in starting {
            let (channel, store, status, done) = (channel.clone(), store.clone(), status.clone(), done_tx.clone());
            tokio::spawn(async move {
                let outcome = deliver(&channel, &store, &status, item).await;
                let _ = done.send(outcome);
                drop(permit);
            });
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep_until(next_wake) => {}
            Some(first) = done_rx.recv() => {
                let mut outcomes = vec![first];
                while let Ok(o) = done_rx.try_recv() {
                    outcomes.push(o);
                }
                // Recorded before their chats are free again, so the next look at the
                // outbox no longer finds them.
                let sent: Vec<Sent> = outcomes.iter().filter_map(|o| o.sent.clone()).collect();
                if !sent.is_empty()
                    && let Err(e) = store.run(move |s| s.mark_sent_all(&sent)).await
                {
                    status.error(kind, format!("cannot record a send: {e}"));
                }
                for o in outcomes {
                    in_flight.remove(&o.chat);
                    if let Some(c) = o.campaign {
                        to_review.insert(c);
                    }
                    if let Some(until) = o.hold_until {
                        pacer.hold(&o.chat, until);
                    }
                }
            }
        }
    }
}

/// Sends one message and records what happened to it.
async fn deliver(channel: &Channel, store: &SharedStore, status: &StatusBoard, item: OutboxItem) -> Outcome {
    let kind = channel.kind();
    let id = item.message_id;
    if let Some(change) = item.change.clone() {
        return deliver_change(channel, store, status, item, change).await;
    }
    let result = channel.send(&item).await;
    let mut hold_until = None;
    let recorded = match result {
        Ok(sent) => {
            status.recovered(kind);
            let sent = Sent { id, external_id: sent.external_id, at: sent.at };
            return Outcome { chat: item.chat_id, hold_until, campaign: item.campaign, sent: Some(sent) };
        }
        Err(SendError::Permanent(reason)) => {
            tracing::info!(channel = %kind, message = %id, %reason, "send failed for good");
            store.run(move |s| s.fail(id, &reason, crate::model::now_ms())).await
        }
        Err(SendError::MarketingOptOut(reason)) => {
            let conversation = item.conversation_id;
            store
                .run(move |s| {
                    s.fail(id, &reason, crate::model::now_ms())?;
                    s.record_marketing_opt_out(conversation, &format!("a send failed: {reason}"), now_ms())
                })
                .await
        }
        Err(SendError::Unreachable(reason)) => {
            tracing::info!(channel = %kind, message = %id, %reason, "the customer cannot be reached");
            let conversation = item.conversation_id;
            store
                .run(move |s| {
                    s.fail(id, &reason, crate::model::now_ms())?;
                    s.record_unreachable(conversation, &format!("a send failed: {reason}"), now_ms())
                })
                .await
        }
        Err(SendError::Retry { after, reason }) => {
            let attempts = item.attempts + 1;
            if attempts >= MAX_ATTEMPTS {
                let reason = format!("gave up after {attempts} tries: {reason}");
                store.run(move |s| s.fail(id, &reason, crate::model::now_ms())).await
            } else {
                let wait = after.unwrap_or_else(|| backoff(attempts));
                if let Some(after) = after {
                    hold_until = Some(Instant::now() + after);
                }
                status.error(kind, format!("retrying a send: {reason}"));
                let at = now_ms() + wait.as_millis() as i64;
                store.run(move |s| s.retry_later(id, at, &reason, crate::model::now_ms())).await
            }
        }
        Err(SendError::ChannelDown(reason)) => {
            status.set(kind, ChannelState::Down(reason.clone()));
            let at = now_ms() + 30_000;
            store.run(move |s| s.retry_later(id, at, &reason, crate::model::now_ms())).await
        }
    };
    if let Err(e) = recorded {
        status.error(kind, format!("cannot record a send: {e}"));
    }
    Outcome { chat: item.chat_id, hold_until, campaign: item.campaign, sent: None }
}

/// Makes one change to a sent message and records what happened: done, tried again
/// later, or not done with the reason on the message (which keeps its status).
async fn deliver_change(
    channel: &Channel,
    store: &SharedStore,
    status: &StatusBoard,
    item: OutboxItem,
    change: crate::store::Change,
) -> Outcome {
    let kind = channel.kind();
    let id = item.message_id;
    let mut hold_until = None;
    let recorded = match channel.send(&item).await {
        Ok(done) => {
            status.recovered(kind);
            store.run(move |s| s.mark_changed(id, &change, done.at)).await
        }
        Err(SendError::Retry { after, reason }) if item.attempts + 1 < MAX_ATTEMPTS => {
            if let Some(after) = after {
                hold_until = Some(Instant::now() + after);
            }
            let at = now_ms() + after.unwrap_or_else(|| backoff(item.attempts + 1)).as_millis() as i64;
            store.run(move |s| s.retry_change_later(id, at, &reason, now_ms())).await
        }
        Err(SendError::ChannelDown(reason)) => {
            status.set(kind, ChannelState::Down(reason.clone()));
            store.run(move |s| s.retry_change_later(id, now_ms() + 30_000, &reason, now_ms())).await
        }
        Err(
            SendError::Permanent(reason)
            | SendError::Unreachable(reason)
            | SendError::MarketingOptOut(reason)
            | SendError::Retry { reason, .. },
        ) => {
            tracing::info!(channel = %kind, message = %id, %reason, "a change to a sent message failed");
            store.run(move |s| s.change_failed(id, &change, &reason, now_ms())).await
        }
    };
    if let Err(e) = recorded {
        status.error(kind, format!("cannot record a change: {e}"));
    }
    Outcome { chat: item.chat_id, hold_until, campaign: None, sent: None }
}

/// When the customer has had `cap` of our messages in the last hour without answering:
/// the time the oldest of them leaves the hour.
async fn over_hourly_cap(store: &SharedStore, item: &OutboxItem, cap: u32) -> Option<i64> {
    const HOUR: i64 = 3_600_000;
    let conversation = item.conversation_id;
    let since = now_ms() - HOUR;
    let (count, oldest) = store.run(move |s| s.unanswered_sent_since(conversation, since)).await.ok()?;
    (count >= i64::from(cap)).then(|| oldest.unwrap_or(since) + HOUR)
}

/// 2 s, 4 s, 8 s … up to 5 minutes.
fn backoff(attempts: i64) -> Duration {
    Duration::from_secs((1u64 << attempts.clamp(1, 9)).min(300))
}
