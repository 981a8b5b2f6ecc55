//! The demo's past as the Reports screen reads it: each contact's way through the funnel
//! (a day or two per stage since its first message), a few conversations resolved with
//! the customer's satisfaction answer, and a campaign sent five days ago that some
//! customers read, clicked and answered, with a fifth of them held out. Written after the conversations are seeded.

use rusqlite::params;

use super::Rng;
use super::customers::Customer;
use super::seed::{channel_of, external_id};
use crate::model::{ChannelKind, ConversationStatus, Millis};
use crate::store::{Result, STAGES, Store};

const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;
const CAMPAIGN: &str = "black-friday-preview";

pub fn history(store: &mut Store, customers: &[Customer], now: Millis, rng: &mut Rng) -> Result<()> {
    let launched = now - 5 * DAY;
    let campaign: i64 = store.conn().query_row(
        "INSERT INTO campaigns(name, filter, template, state, created_at, launched_at, finished_at) \
         VALUES (?1, 'consent:marketing', ?2, 'done', ?3, ?3, ?4) RETURNING id",
        params![
            CAMPAIGN,
            "Скидки до 30% уже сегодня / Up to 30% off today: https://shop.example/bf",
            launched,
            launched + HOUR
        ],
        |r| r.get(0),
    )?;
    for (i, c) in customers.iter().enumerate() {
        let channel = channel_of(i);
        let chat = external_id(c, channel);
        let Some(contact) = store.contact_by_identity(channel, &chat)? else { continue };
        let Some(conversation) = store.find_conversation(channel, &chat)? else { continue };
        // Now and then a lead goes cold.
        let churned = i % 9 == 4 && store.contact_card(contact)?.stage != "new";
        let (stage, first): (String, Option<Millis>) =
            store.conn().query_row("SELECT stage, first_inbound_at FROM contacts WHERE id = ?1", [contact], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        // The funnel: new at the first message, then each stage up to the current one.
        let start = first.unwrap_or(now - 7 * DAY).min(now - DAY);
        let reached = STAGES.iter().position(|s| *s == stage).unwrap_or(0);
        let step = ((now - start) / (reached as Millis + 1)).max(HOUR);
        store.conn().execute("DELETE FROM stage_events WHERE contact_id = ?1", [contact])?;
        let mut from: Option<&str> = None;
        for (j, s) in STAGES.iter().take(reached + 1).enumerate() {
            let at = (start + j as Millis * step + rng.below((step / 2) as u64) as Millis).min(now - HOUR);
            store.conn().execute(
                "INSERT INTO stage_events(contact_id, from_stage, to_stage, at) VALUES (?1, ?2, ?3, ?4)",
                params![contact, from, s, at],
            )?;
            from = Some(s);
        }
        if churned {
            store.set_stage(contact, "churned")?;
            store.conn().execute(
                "UPDATE stage_events SET at = ?2 WHERE contact_id = ?1 AND to_stage = 'churned'",
                params![contact, now - DAY / 2],
            )?;
        }
        // The campaign, to whoever was opted in; the platforms' receipts as each gives them.
        let opted_in = i % 10 != 6 && i % 10 != 9;
        // A fifth of them held out, to measure the campaign against.
        if opted_in && i % 5 == 2 {
            store.conn().execute(
                "INSERT INTO campaign_recipients(campaign_id, contact_id, channel, variant, state) \
                 VALUES (?1, ?2, ?3, 'A', 'holdout')",
                params![campaign, contact, channel.as_str()],
            )?;
        } else if opted_in {
            let status = match (channel, rng.below(10)) {
                (ChannelKind::Telegram, _) => "sent",
                (ChannelKind::Vk, n) if n < 5 => "read",
                (ChannelKind::Vk, _) => "sent",
                (_, n) if n < 6 => "read",
                _ => "delivered",
            };
            let at = launched + i as Millis * 2_000;
            let message: i64 = store.conn().query_row(
                "INSERT INTO messages(conversation_id, direction, kind, body, sent_at, status, author, campaign_id, created_at) \
                 VALUES (?1, 'out', 'text', ?2, ?3, ?4, ?5, ?6, ?3) RETURNING id",
                params![
                    conversation,
                    "Скидки до 30% уже сегодня / Up to 30% off today: https://shop.example/bf",
                    at,
                    status,
                    format!("campaign:{CAMPAIGN}"),
                    campaign
                ],
                |r| r.get(0),
            )?;
            store.conn().execute(
                "INSERT INTO campaign_recipients(campaign_id, contact_id, channel, variant, state, message_id) \
                 VALUES (?1, ?2, ?3, 'A', 'sent', ?4)",
                params![campaign, contact, channel.as_str(), message],
            )?;
            if rng.below(4) == 0 {
                store.conn().execute(
                    "INSERT INTO message_events(message_id, kind, detail, at) VALUES (?1, 'click', 'https://shop.example/bf', ?2)",
                    params![message, at + rng.below(6 * HOUR as u64) as Millis],
                )?;
            }
        }
        // A third of the answered conversations were resolved, and most of those
        // customers said how it went.
        let answered: bool = store.conn().query_row(
            "SELECT unanswered = 0 AND last_outbound_at IS NOT NULL FROM conversations WHERE id = ?1",
            [conversation],
            |r| r.get(0),
        )?;
        if answered && i % 3 == 1 && i % 2 == 1 {
            let agent = if c.lang == "ru" { "maria" } else { "alex" };
            let last: Millis = store.conn().query_row(
                "SELECT last_message_at FROM conversations WHERE id = ?1",
                [conversation],
                |r| r.get(0),
            )?;
            let at = (last + 10 * 60_000).min(now - 60_000);
            store.assign(conversation, Some(agent))?;
            store.set_status_at(conversation, ConversationStatus::Resolved, at)?;
            let score = [5, 5, 4, 5, 3, 4, 2][i % 7];
            let answered = i % 5 != 0;
            store.conn().execute(
                "INSERT INTO csat(conversation_id, contact_id, agent, asked_at, score, answered_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![conversation, contact, agent, at, answered.then_some(score), answered.then_some(at + 3 * 60_000)],
            )?;
        }
    }
    Ok(())
}
