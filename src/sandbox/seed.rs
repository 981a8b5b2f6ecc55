//! The demo workspace's history: a few hundred messages over the last several days
//! between the scripted customers and the team, written through the same store calls as
//! live traffic (inbound through `ingest`).

use super::Rng;
use super::customers::{self, Customer};
use crate::model::{ChannelKind, ChatRef, DeliveryStatus, InboundEvent, InboundMessage, Millis, Peer};
use crate::store::{OutboundRecord, Result, Store};

const HOUR: Millis = 3_600_000;

/// Fills an empty store with a believable history ending shortly before `now`.
pub fn seed(store: &mut Store, customers: &[Customer], now: Millis, seed: u64) -> Result<()> {
    let mut rng = Rng::new(seed);
    for (i, c) in customers.iter().enumerate() {
        // Conversations start between 1 and 7 days ago; some are brand new.
        let mut t = now - (1 + rng.below(7 * 24)) as Millis * HOUR;
        let turns = 3 + rng.below(12) as usize;
        // About a third end with the customer waiting for an answer.
        let ends_waiting = i % 3 == 0;
        let mut message_id = 0i64;
        for turn in 0..turns {
            let customer_speaks = if turn + 1 == turns { ends_waiting } else { turn % 2 == 0 };
            t += (5 + rng.below(90)) as Millis * 60_000;
            if t > now - 60_000 {
                t = now - 60_000 - rng.below(600) as Millis * 1000;
            }
            message_id += 1;
            if customer_speaks {
                let text = if turn == 0 { customers::opener(c, &mut rng) } else { customers::reply(c, &mut rng) };
                store.ingest(&[inbound(c, message_id, &text, t)], None)?;
            } else {
                let conversation = store
                    .find_conversation(ChannelKind::Telegram, &c.id.to_string())?
                    .expect("the customer spoke first");
                let failed = i == 4 && turn == 1;
                store.record_outbound(
                    conversation,
                    &OutboundRecord {
                        text: customers::agent_line(c, &mut rng),
                        sent_at: t,
                        status: if failed { DeliveryStatus::Failed } else { DeliveryStatus::Sent },
                        error: failed.then_some("gave up after 12 tries: network: connection reset"),
                        author: if i % 2 == 0 { "maria" } else { "alex" },
                        external_id: (!failed).then(|| message_id.to_string()),
                    },
                )?;
            }
        }
        // One customer pastes terminal output: it must show as text, not act on the screen.
        if i == 1 {
            message_id += 1;
            let text = "Copied from the app: \x1b[31mERROR 502\x1b[0m \x1b]0;pwned\x07 what does it mean?";
            store.ingest(&[inbound(c, message_id, text, now - 30 * 60_000)], None)?;
        }
    }
    Ok(())
}

fn inbound(c: &Customer, message_id: i64, text: &str, at: Millis) -> InboundEvent {
    InboundEvent::Message(InboundMessage::text(chat(c), peer(c), message_id.to_string(), text.to_string(), at))
}

fn chat(c: &Customer) -> ChatRef {
    ChatRef {
        channel: ChannelKind::Telegram,
        external_chat_id: c.id.to_string(),
        is_group: false,
        title: c.full_name(),
    }
}

fn peer(c: &Customer) -> Peer {
    Peer {
        external_id: c.id.to_string(),
        display_name: c.full_name(),
        username: c.username.clone(),
        locale: Some(c.lang.to_string()),
    }
}
