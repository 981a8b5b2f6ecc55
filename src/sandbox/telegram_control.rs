//! Ways to make things happen in the emulator: what a customer does (write, edit,
//! press a button, block the bot), the HTTP control routes a person or a test can call,
//! and webhook delivery, which POSTs each update until the bot answers 2xx.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::customers::Customer;
use super::telegram::{Emu, EmuState, Shared, lock, now_secs, push_update};
use super::telegram_updates::{self as updates, Said};

fn customer(state: &mut EmuState, chat_id: i64) -> Customer {
    state
        .customers
        .entry(chat_id)
        .or_insert_with(|| Customer {
            id: chat_id,
            first_name: format!("Customer {chat_id}"),
            last_name: None,
            username: None,
            lang: "en",
        })
        .clone()
}

pub(super) fn customer_message(emu: &Shared, chat_id: i64, said: &Said) -> i64 {
    let message = {
        let mut state = lock(emu);
        let customer = customer(&mut state, chat_id);
        let id = state.next_message_id;
        state.next_message_id += 1;
        let date = now_secs();
        state.last_said.insert(chat_id, (id, date));
        updates::message(&customer, id, date, said)
    };
    push_update(emu, json!({ "message": message }))
}

pub(super) fn customer_edit(emu: &Shared, chat_id: i64, text: &str) -> Option<i64> {
    let message = {
        let mut state = lock(emu);
        let (id, date) = *state.last_said.get(&chat_id)?;
        let customer = customer(&mut state, chat_id);
        let mut m = updates::message(&customer, id, date, &Said::Text(text.into()));
        m["edit_date"] = json!(now_secs().max(date + 1));
        m
    };
    Some(push_update(emu, json!({ "edited_message": message })))
}

pub(super) fn customer_press(emu: &Shared, chat_id: i64, message_id: i64, data: &str) -> Option<i64> {
    let update = {
        let mut state = lock(emu);
        let customer = customer(&mut state, chat_id);
        // A message this emulator did not send (one from the demo's history) is described
        // the way Telegram describes a message it no longer has: inaccessible.
        let ours =
            state.ours.get(&(chat_id, message_id)).cloned().unwrap_or_else(
                || json!({"chat": updates::private_chat(&customer), "message_id": message_id, "date": 0}),
            );
        let query = format!("{}{}", chat_id.unsigned_abs() % 100_000, state.rng.next_u64() % 1_000_000_000);
        updates::callback_query(&customer, &query, ours, data)
    };
    Some(push_update(emu, update))
}

pub(super) fn set_blocked(emu: &Shared, chat_id: i64, blocked: bool) {
    let update = {
        let mut state = lock(emu);
        if blocked {
            state.blocked.insert(chat_id);
        } else {
            state.blocked.remove(&chat_id);
        }
        let customer = customer(&mut state, chat_id);
        updates::my_chat_member(&customer, now_secs(), blocked)
    };
    push_update(emu, update);
}

/// Webhook mode: each pending update is POSTed in order until the bot answers 2xx,
/// with the secret header when one was set; a failure is retried with backoff.
pub(super) async fn deliver_webhooks(emu: Emu) {
    let client = reqwest::Client::new();
    let mut changes = emu.updates.subscribe();
    let mut backoff = Duration::from_millis(100);
    loop {
        let next = {
            let state = lock(&emu);
            state.webhook.clone().zip(state.pending.front().cloned())
        };
        let Some(((url, secret), (id, update))) = next else {
            let _ = changes.changed().await;
            continue;
        };
        let mut request = client.post(&url).json(&update);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        match request.send().await {
            Ok(r) if r.status().is_success() => {
                lock(&emu).pending.retain(|(pending, _)| *pending != id);
                backoff = Duration::from_millis(100);
            }
            _ => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

pub(super) async fn control_pause(State(emu): State<Emu>) -> &'static str {
    lock(&emu).paused = true;
    "paused\n"
}

pub(super) async fn control_resume(State(emu): State<Emu>) -> &'static str {
    lock(&emu).paused = false;
    "resumed\n"
}

pub(super) async fn control_say(State(emu): State<Emu>, Query(q): Query<HashMap<String, String>>) -> Response {
    match (q.get("chat").and_then(|c| c.parse::<i64>().ok()), q.get("text")) {
        (Some(chat), Some(text)) => {
            let id = customer_message(&emu, chat, &Said::Text(text.clone()));
            (StatusCode::OK, format!("update {id}\n")).into_response()
        }
        _ => (StatusCode::BAD_REQUEST, "needs ?chat=ID&text=TEXT\n").into_response(),
    }
}

pub(super) async fn control_sent(State(emu): State<Emu>) -> Response {
    axum::Json(lock(&emu).sent.clone()).into_response()
}
