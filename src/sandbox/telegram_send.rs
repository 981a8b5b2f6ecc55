//! What the emulator does with a message the bot sends (`sendMessage`, `sendPhoto`,
//! `sendDocument`): Telegram's refusals (flood control, limits, empty or over-long text,
//! unknown chat, a block), the message as Telegram returns it, a record for tests, and
//! the customer's reaction.

use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::time::Instant;

use axum::response::Response;

use super::telegram::{Emu, EmuState, SentMessage, err, lock, now_secs, ok};
use super::telegram_updates as updates;

/// Why Telegram would refuse a send to `chat` now, if it would (the limits).
fn over_limit(state: &mut EmuState, chat: i64, now: Instant) -> bool {
    let second = Duration::from_secs(1);
    while state.overall.front().is_some_and(|t| now - *t > second) {
        state.overall.pop_front();
    }
    let sends = state.per_chat.entry(chat).or_default();
    while sends.front().is_some_and(|t| now - *t > Duration::from_secs(60)) {
        sends.pop_front();
    }
    let group = chat < 0;
    let too_soon = sends.back().is_some_and(|t| now - *t < Duration::from_millis(900));
    let too_many_in_group = group && sends.len() >= 22;
    too_soon || too_many_in_group || state.overall.len() >= 33
}

pub(super) fn send(emu: Emu, method: &str, params: Map<String, Value>) -> Response {
    let Some(chat_id) = params.get("chat_id").and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok())) else {
        return err(400, "Bad Request: chat_id is empty", None);
    };
    let method = match method.to_ascii_lowercase().as_str() {
        "sendphoto" => "sendPhoto",
        "senddocument" => "sendDocument",
        _ => "sendMessage",
    };
    let (text, file) = match method {
        "sendMessage" => (params.get("text").and_then(Value::as_str).unwrap_or("").to_string(), None),
        _ => {
            let key = if method == "sendPhoto" { "photo" } else { "document" };
            let Some(file) = params.get(key).cloned() else {
                return err(400, &format!("Bad Request: there is no {key} in the request"), None);
            };
            (params.get("caption").and_then(Value::as_str).unwrap_or("").to_string(), Some(file))
        }
    };
    let reply_markup = params.get("reply_markup").cloned();
    let mut state = lock(&emu);
    if state.paused {
        return err(429, "Too Many Requests: retry after 1", Some(json!({"retry_after": 1})));
    }
    if let Some(secs) = state.injected_429.remove(&chat_id) {
        return err(429, &format!("Too Many Requests: retry after {secs}"), Some(json!({"retry_after": secs})));
    }
    let now = Instant::now();
    if emu.options.enforce_limits && over_limit(&mut state, chat_id, now) {
        state.provoked_429 += 1;
        return err(429, "Too Many Requests: retry after 1", Some(json!({"retry_after": 1})));
    }
    if method == "sendMessage" && text.trim().is_empty() {
        return err(400, "Bad Request: message text is empty", None);
    }
    let limit = if method == "sendMessage" { 4096 } else { 1024 };
    if text.chars().count() > limit {
        let what = if method == "sendMessage" { "message is too long" } else { "message caption is too long" };
        return err(400, &format!("Bad Request: {what}"), None);
    }
    let Some(customer) = state.customers.get(&chat_id).cloned() else {
        return err(400, "Bad Request: chat not found", None);
    };
    if state.blocked.contains(&chat_id) {
        return err(403, "Forbidden: bot was blocked by the user", None);
    }
    state.overall.push_back(now);
    state.per_chat.entry(chat_id).or_default().push_back(now);
    let message_id = state.next_message_id;
    state.next_message_id += 1;
    let mut message = json!({
        "message_id": message_id, "from": updates::bot_user(), "chat": updates::private_chat(&customer), "date": now_secs(),
    });
    match (method, &file) {
        ("sendPhoto", _) => {
            message["photo"] = json!([{"file_id": format!("AgAC-sent-{message_id}"), "file_unique_id": format!("s{message_id}"), "width": 800, "height": 600, "file_size": 64000}]);
        }
        ("sendDocument", _) => {
            let name = file.as_ref().and_then(|f| f["uploaded"].as_str()).unwrap_or("file").to_string();
            message["document"] = json!({"file_id": format!("BQAC-sent-{message_id}"), "file_unique_id": format!("d{message_id}"), "file_name": name, "mime_type": "application/octet-stream", "file_size": 1000});
        }
        _ => message["text"] = json!(text),
    }
    if method != "sendMessage" && !text.is_empty() {
        message["caption"] = json!(text);
    }
    if let Some(markup) = &reply_markup {
        message["reply_markup"] = markup.clone();
    }
    state.ours.insert((chat_id, message_id), message.clone());
    let at_ms = now.duration_since(emu.started).as_millis() as u64;
    state.sent.push(SentMessage { method: method.into(), chat_id, text, message_id, reply_markup, file, at_ms });
    drop(state);
    emu.sent.send_modify(|n| *n += 1);
    super::script::react(&emu, &customer, &message);
    ok(message)
}

/// `editMessageText` and `deleteMessage` on a message the bot sent, with Telegram's
/// answers: "not modified" for the same text, "not found" for an unknown or deleted
/// one. Each change is recorded in `sent` under its method, with the new text.
pub(super) fn change(emu: Emu, method: &str, params: Map<String, Value>) -> Response {
    let chat_id = params.get("chat_id").and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()));
    let message_id = params.get("message_id").and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()));
    let (Some(chat_id), Some(message_id)) = (chat_id, message_id) else {
        return err(400, "Bad Request: chat_id and message_id are required", None);
    };
    let edit = method.eq_ignore_ascii_case("editmessagetext");
    let mut state = lock(&emu);
    if state.paused {
        return err(429, "Too Many Requests: retry after 1", Some(json!({"retry_after": 1})));
    }
    let Some(message) = state.ours.get_mut(&(chat_id, message_id)) else {
        let what = if edit { "message to edit not found" } else { "message to delete not found" };
        return err(400, &format!("Bad Request: {what}"), None);
    };
    let text = params.get("text").and_then(Value::as_str).unwrap_or("").to_string();
    let answer = if edit {
        if text.trim().is_empty() {
            return err(400, "Bad Request: message text is empty", None);
        }
        if message["text"].as_str() == Some(text.as_str()) {
            return err(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly \
                 the same as a current content and reply markup of the message",
                None,
            );
        }
        message["text"] = json!(text);
        message["edit_date"] = json!(now_secs());
        message.clone()
    } else {
        state.ours.remove(&(chat_id, message_id));
        json!(true)
    };
    let at_ms = Instant::now().duration_since(emu.started).as_millis() as u64;
    let method = if edit { "editMessageText" } else { "deleteMessage" };
    state.sent.push(SentMessage {
        method: method.into(),
        chat_id,
        text,
        message_id,
        reply_markup: None,
        file: None,
        at_ms,
    });
    drop(state);
    emu.sent.send_modify(|n| *n += 1);
    ok(answer)
}
