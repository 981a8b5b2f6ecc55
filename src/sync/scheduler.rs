//! The engine's scheduler: wakes snoozed conversations when their time comes, and runs
//! auto-assignment's rounds when it is on. The clock is a parameter (`tick` takes
//! `now`), so tests move time instead of waiting; the loop sleeps until the next snooze
//! is due, and looks again at least every few seconds, since consoles and scripts in
//! other processes snooze conversations and agents come and go.

use std::time::Duration;

use crate::config::{AssignmentConfig, AutoAssign};
use crate::model::{ConversationId, Millis, now_ms};
use crate::store::{PRESENCE_FRESH, Store, StoreError};

/// The longest the loop sleeps without looking: a snooze set elsewhere to a minute from
/// now still wakes within this of its time.
const LOOK_AGAIN: Duration = Duration::from_secs(5);

/// Wakes what is due at `now`; returns what it woke. A read when nothing is due: the
/// engine and every console call this, and a write would take the store's lock each time.
pub fn tick(store: &Store, now: Millis) -> Result<Vec<ConversationId>, StoreError> {
    if store.next_wake()?.is_none_or(|due| due > now) {
        return Ok(Vec::new());
    }
    let woken = store.wake_snoozed(now)?;
    if !woken.is_empty() {
        tracing::info!(conversations = woken.len(), "snoozed conversations woken");
    }
    Ok(woken)
}

/// One auto-assignment round at `now`, when it is on; returns what went to whom.
pub fn assign(
    store: &mut Store,
    now: Millis,
    config: &AssignmentConfig,
) -> Result<Vec<(ConversationId, String)>, StoreError> {
    if config.auto == AutoAssign::Off {
        return Ok(Vec::new());
    }
    let assigned = store.auto_assign(now, PRESENCE_FRESH, config.cap)?;
    for (conversation, agent) in &assigned {
        tracing::info!(conversation = conversation.0, agent, "assigned automatically");
    }
    Ok(assigned)
}

pub async fn run(store_path: std::path::PathBuf, assignment: AssignmentConfig) {
    let mut store = match super::engine_store(&store_path) {
        Ok(store) => store,
        Err(e) => {
            tracing::error!(error = %e, "the scheduler cannot open the store; snoozes will not wake");
            return;
        }
    };
    loop {
        if let Err(e) = tick(&store, now_ms()) {
            tracing::warn!(error = %e, "cannot wake snoozed conversations; trying again");
        }
        if let Err(e) = assign(&mut store, now_ms(), &assignment) {
            tracing::warn!(error = %e, "cannot assign waiting conversations; trying again");
        }
        let wait = match store.next_wake() {
            Ok(Some(at)) => Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0)).min(LOOK_AGAIN),
            _ => LOOK_AGAIN,
        };
        tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
    }
}
