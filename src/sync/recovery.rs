//! After a crash: what becomes of the messages caught mid-request. Runs once, in
//! `Engine::start`, under the engine lock and before any sender starts: run by each
//! sender as it started, it re-queued messages another sender already had on the wire.
//!
//! The platform may or may not have received that one request. A reply goes back to the
//! queue (Telegram, WhatsApp and Viber have no idempotency key, so in that one window the
//! customer may get it twice; better than not at all). A campaign message goes at most
//! once: a promotion that arrives twice is the spam customers report, so it is skipped,
//! saying the platform may have it.

use crate::model::Millis;
use crate::store::{Result, Store};

/// What recovery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    pub requeued: usize,
    pub skipped: usize,
}

pub const CAMPAIGN_NOT_AGAIN: &str =
    "interrupted while sending; the platform may have it, and a campaign message is not sent twice";
pub const REPLY_AGAIN: &str = "interrupted while sending; sent again";

pub fn recover(store: &mut Store, now: Millis) -> Result<Recovered> {
    let mut done = Recovered::default();
    for (id, is_campaign) in store.interrupted_sends()? {
        if is_campaign {
            store.skip_campaign_message(id, "interrupted", CAMPAIGN_NOT_AGAIN, now)?;
            done.skipped += 1;
        } else {
            store.requeue(id, REPLY_AGAIN, now)?;
            done.requeued += 1;
        }
    }
    Ok(done)
}
