//! What the emulator's customers do on their own: answer the agent a few seconds after a
//! message (mostly in words, now and then with a photo, a location, an edit of what
//! they said, or a press on one of our buttons), and once in a while start talking.

use std::time::Duration;

use serde_json::Value;

use super::customers::{self, CampaignReaction, Customer};
use super::telegram::{Emu, lock};
use super::telegram_control::{customer_edit, customer_message, customer_press};
use super::telegram_updates::Said;

/// A customer's answer to `our_message`, after the configured delay. One pending
/// answer per customer: a burst of messages gets one reply.
pub(super) fn react(emu: &Emu, customer: &Customer, our_message: &Value) {
    let Some((lo, hi)) = emu.options.reply_delay else { return };
    let (delay, choice) = {
        let mut state = lock(emu);
        if state.broadcast.note(&customer.id.to_string()) {
            let roll = state.rng.below(100);
            drop(state);
            return react_to_broadcast(emu, customer, our_message, customers::campaign_reaction(roll), lo);
        }
        if !state.replying.insert(customer.id) {
            return;
        }
        let span = hi.saturating_sub(lo).as_millis().max(1) as u64;
        (lo + Duration::from_millis(state.rng.below(span)), state.rng.below(100))
    };
    let buttons = callback_data(our_message);
    let message_id = our_message["message_id"].as_i64().unwrap_or(0);
    let (emu, customer) = (emu.clone(), customer.clone());
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        lock(&emu).replying.remove(&customer.id);
        if !buttons.is_empty() && choice < 70 {
            let data = {
                let mut state = lock(&emu);
                let i = state.rng.below(buttons.len() as u64) as usize;
                buttons[i].clone()
            };
            customer_press(&emu, customer.id, message_id, &data);
            return;
        }
        act(&emu, &customer, choice, false);
    });
}

/// A customer's reaction to a message that came with a broadcast.
fn react_to_broadcast(
    emu: &Emu,
    customer: &Customer,
    our_message: &Value,
    reaction: CampaignReaction,
    delay: Duration,
) {
    let buttons = callback_data(our_message);
    let message_id = our_message["message_id"].as_i64().unwrap_or(0);
    let (emu, customer) = (emu.clone(), customer.clone());
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        match reaction {
            CampaignReaction::Ignore => {}
            CampaignReaction::Stop => {
                customer_message(&emu, customer.id, &Said::Text(customers::stop_word(&customer).into()));
            }
            CampaignReaction::Press => {
                if let Some(data) = buttons.first() {
                    customer_press(&emu, customer.id, message_id, data);
                }
            }
            CampaignReaction::Reply => {
                let text = customers::campaign_reply(&customer, &mut lock(&emu).rng).to_string();
                customer_message(&emu, customer.id, &Said::Text(text));
            }
        }
    });
}

/// Now and then a random customer does something unprompted.
pub(super) async fn ambient(emu: Emu, every: Duration) {
    loop {
        let (pause, customer, choice, press) = {
            let mut state = lock(&emu);
            let pause = every / 2 + Duration::from_millis(state.rng.below(every.as_millis().max(1) as u64));
            let mut ids: Vec<i64> = state.customers.keys().copied().collect();
            ids.sort_unstable();
            let pick = state.rng.below(ids.len().max(1) as u64) as usize;
            let customer = ids.get(pick).map(|id| state.customers[id].clone());
            let clickable = &emu.options.clickable;
            let press =
                (!clickable.is_empty()).then(|| clickable[state.rng.below(clickable.len() as u64) as usize].clone());
            (pause, customer, state.rng.below(100), press)
        };
        tokio::time::sleep(pause).await;
        let Some(customer) = customer else { continue };
        match press {
            // Someone answers one of the survey messages from the history.
            Some((chat, message_id, data)) if choice < 15 => {
                customer_press(&emu, chat, message_id, &data);
            }
            _ => act(&emu, &customer, choice, true),
        }
    }
}

/// One thing a customer does: mostly words; sometimes a photo, a location or an edit.
fn act(emu: &Emu, c: &Customer, choice: u64, first: bool) {
    let text = {
        let mut state = lock(emu);
        if first { customers::opener(c, &mut state.rng) } else { customers::reply(c, &mut state.rng) }
    };
    let said = match choice {
        0..15 => Said::Photo { caption: Some(photo_caption(c).into()) },
        15..25 => Said::Location { latitude: 55.7963 + (choice as f64) / 1000.0, longitude: 49.1064 },
        25..35 => {
            let fixed = format!("{text} ({})", if c.lang == "ru" { "поправка" } else { "edit" });
            if customer_edit(emu, c.id, &fixed).is_some() {
                return;
            }
            Said::Text(text)
        }
        _ => Said::Text(text),
    };
    customer_message(emu, c.id, &said);
}

fn photo_caption(c: &Customer) -> &'static str {
    if c.lang == "ru" {
        "Вот фото коробки, она помята 😕"
    } else {
        "Here's the box, it arrived damaged 😕"
    }
}

/// The callback data of every button under a message.
fn callback_data(message: &Value) -> Vec<String> {
    message["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|b| b["callback_data"].as_str().map(str::to_string))
        .collect()
}
