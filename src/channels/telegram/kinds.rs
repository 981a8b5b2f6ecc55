//! The Telegram message kinds that teloxide's types do not give us in a form we show
//! (audio, GIFs, round videos, venues, dice, polls, games, invoices, shared users and
//! chats, Web App data, stories, giveaways, checklists, Passport data): read from the raw
//! JSON of the `Message`, each as a readable line with its ids kept, so nothing a customer
//! sends is reduced to "a kind of message switchboard does not show yet".

use serde_json::{Value, json};

/// The kind, the line the agent reads, and what to keep of it, for the first of these
/// fields `msg` carries.
pub fn describe(msg: &Value) -> Option<(&'static str, String, Value)> {
    let duration = |v: &Value| v.as_u64().map(|s| format!("{}:{:02}", s / 60, s % 60));
    let join = |parts: Vec<Option<String>>| parts.into_iter().flatten().collect::<Vec<_>>().join(", ");
    let text = |v: &Value| v.as_str().map(str::to_string);
    if let Some(a) = msg.get("audio") {
        let name = match (a["performer"].as_str(), a["title"].as_str()) {
            (Some(p), Some(t)) => Some(format!("{p} – {t}")),
            (None, Some(t)) => Some(t.to_string()),
            _ => text(&a["file_name"]),
        };
        return Some(("audio", format!("[audio {}]", join(vec![name, duration(&a["duration"])])), keep(a)));
    }
    if let Some(a) = msg.get("animation") {
        let size = match (a["width"].as_u64(), a["height"].as_u64()) {
            (Some(w), Some(h)) => Some(format!("{w}x{h}")),
            _ => None,
        };
        return Some(("animation", format!("[GIF {}]", join(vec![size, duration(&a["duration"])])), keep(a)));
    }
    if let Some(v) = msg.get("video_note") {
        return Some(("video_note", format!("[round video {}]", join(vec![duration(&v["duration"])])), keep(v)));
    }
    // A venue also carries its `location`: the venue says more.
    if let Some(v) = msg.get("venue") {
        let l = &v["location"];
        let place = join(vec![text(&v["title"]), text(&v["address"])]);
        let line = crate::channels::location_line(
            crate::channels::number(&l["latitude"]),
            crate::channels::number(&l["longitude"]),
            &place,
        )
        .replacen("[location", "[venue", 1);
        return Some(("venue", line, v.clone()));
    }
    if let Some(d) = msg.get("dice") {
        let emoji = d["emoji"].as_str().unwrap_or("🎲");
        let value = d["value"].as_i64().map(|v| format!(" {v}")).unwrap_or_default();
        return Some(("dice", format!("[dice {emoji}{value}]"), d.clone()));
    }
    if let Some(p) = msg.get("poll") {
        let options: Vec<&str> =
            p["options"].as_array().into_iter().flatten().filter_map(|o| o["text"].as_str()).collect();
        let question = p["question"].as_str().unwrap_or("");
        return Some(("poll", format!("[poll “{question}”: {}]", options.join(" / ")), p.clone()));
    }
    if let Some(g) = msg.get("game") {
        return Some(("game", format!("[game {}]", g["title"].as_str().unwrap_or("")), g.clone()));
    }
    if let Some(i) = msg.get("invoice") {
        let amount = money(&i["total_amount"], i["currency"].as_str().unwrap_or(""));
        let line = format!("[invoice {}: {amount}]", i["title"].as_str().unwrap_or(""));
        return Some(("invoice", line, i.clone()));
    }
    if let Some(u) = msg.get("users_shared") {
        let names: Vec<String> = u["users"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|user| {
                let full = join(vec![text(&user["first_name"]), text(&user["last_name"])]).replace(", ", " ");
                let handle = user["username"].as_str().map(|n| format!("@{n}"));
                let id = user["user_id"].as_i64().map(|i| i.to_string());
                if full.is_empty() { handle.or(id).unwrap_or_default() } else { full }
            })
            .collect();
        return Some(("users_shared", format!("[shared users: {}]", names.join(", ")), u.clone()));
    }
    if let Some(c) = msg.get("chat_shared") {
        let id = c["chat_id"].as_i64().map(|i| i.to_string()).unwrap_or_default();
        let name = text(&c["title"]).or_else(|| c["username"].as_str().map(|u| format!("@{u}")));
        let line = match name {
            Some(n) => format!("[shared chat {n} ({id})]"),
            None => format!("[shared chat {id}]"),
        };
        return Some(("chat_shared", line, c.clone()));
    }
    if let Some(w) = msg.get("web_app_data") {
        let line =
            format!("[web app “{}”: {}]", w["button_text"].as_str().unwrap_or(""), w["data"].as_str().unwrap_or(""));
        return Some(("web_app_data", line, w.clone()));
    }
    if let Some(s) = msg.get("story") {
        let from = text(&s["chat"]["title"]).or_else(|| s["chat"]["username"].as_str().map(|u| format!("@{u}")));
        let line = format!("[story {}{}]", s["id"], from.map(|f| format!(" from {f}")).unwrap_or_default());
        return Some(("story", line, s.clone()));
    }
    if let Some(g) = msg.get("giveaway_winners") {
        let count = g["winner_count"].as_u64().unwrap_or(0);
        return Some(("giveaway_winners", format!("[giveaway winners: {count}]"), g.clone()));
    }
    if let Some(g) = msg.get("giveaway") {
        let count = g["winner_count"].as_u64().unwrap_or(0);
        let prize = g["prize_description"].as_str().map(|p| format!(", {p}")).unwrap_or_default();
        return Some(("giveaway", format!("[giveaway: {count} winners{prize}]"), g.clone()));
    }
    if let Some(c) = msg.get("checklist") {
        let tasks: Vec<&str> = c["tasks"].as_array().into_iter().flatten().filter_map(|t| t["text"].as_str()).collect();
        let line = format!("[checklist “{}”: {}]", c["title"].as_str().unwrap_or(""), tasks.join("; "));
        return Some(("checklist", line, c.clone()));
    }
    if let Some(r) = msg.get("rich_message") {
        let lines: Vec<String> = r["blocks"].as_array().into_iter().flatten().filter_map(block).collect();
        return Some(("rich_message", lines.join("\n"), r.clone()));
    }
    if let Some(p) = msg.get("passport_data") {
        let kinds: Vec<&str> = p["data"].as_array().into_iter().flatten().filter_map(|d| d["type"].as_str()).collect();
        return Some(("passport_data", format!("[Telegram Passport: {}]", kinds.join(", ")), json!({"types": kinds})));
    }
    None
}

/// One block of a rich message (Bot API 10.1) as the lines an agent reads: its text,
/// a table row by row, a list item by item; media as a bracketed word with its caption.
/// A block of a type newer than this code still shows whatever text it holds.
fn block(b: &Value) -> Option<String> {
    let kind = b["type"].as_str().unwrap_or("");
    let text = rich_text(&b["text"]);
    let line = match kind {
        "table" => b["cells"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|row| {
                row.as_array().into_iter().flatten().map(|c| rich_text(&c["text"])).collect::<Vec<_>>().join(" | ")
            })
            .collect::<Vec<_>>()
            .join("\n"),
        "list" => b["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| {
                let inner: Vec<String> = item["blocks"].as_array().into_iter().flatten().filter_map(block).collect();
                let own = rich_text(&item["text"]);
                format!("• {}", if inner.is_empty() { own } else { inner.join(" ") })
            })
            .collect::<Vec<_>>()
            .join("\n"),
        "divider" => "—".into(),
        "photo" | "video" | "animation" | "audio" | "voice_note" | "document" | "map" | "collage" | "slideshow" => {
            let caption = rich_text(&b["caption"]["text"]);
            if caption.is_empty() {
                format!("[{}]", kind.replace('_', " "))
            } else {
                format!("[{}] {caption}", kind.replace('_', " "))
            }
        }
        _ => {
            let inner: Vec<String> = b["blocks"].as_array().into_iter().flatten().filter_map(block).collect();
            match (text.is_empty(), inner.is_empty()) {
                (false, true) => text,
                (true, false) => inner.join("\n"),
                (false, false) => format!("{text}\n{}", inner.join("\n")),
                (true, true) => return None,
            }
        }
    };
    (!line.is_empty()).then_some(line)
}

/// Rich text as plain text: a string, a run of rich texts, or a styled piece (bold, a
/// link, code…) whose own `text` holds more of the same.
fn rich_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().map(rich_text).collect(),
        Value::Object(o) => o.get("text").map(rich_text).unwrap_or_default(),
        _ => String::new(),
    }
}

/// The fields of a message beyond those every message has: what a kind newer than this
/// code is made of, to name it in the placeholder.
pub fn unknown_fields(msg: &Value) -> Vec<String> {
    const COMMON: &[&str] = &[
        "message_id",
        "message_thread_id",
        "from",
        "sender_chat",
        "sender_boost_count",
        "sender_business_bot",
        "date",
        "business_connection_id",
        "chat",
        "is_topic_message",
        "is_automatic_forward",
        "reply_to_message",
        "external_reply",
        "quote",
        "reply_to_story",
        "via_bot",
        "edit_date",
        "has_protected_content",
        "is_from_offline",
        "is_paid_post",
        "media_group_id",
        "author_signature",
        "paid_star_count",
        "caption",
        "caption_entities",
        "show_caption_above_media",
        "has_media_spoiler",
        "effect_id",
        "reply_markup",
        "link_preview_options",
        "forward_origin",
        "forward_from",
        "forward_from_chat",
        "forward_from_message_id",
        "forward_signature",
        "forward_sender_name",
        "forward_date",
        "direct_messages_topic",
        "reply_to_checklist_task_id",
        "reply_to_poll_option_id",
        "suggested_post_info",
        "receiver_user",
        "ephemeral_message_id",
    ];
    let fields: Vec<String> = msg
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .filter(|k| !COMMON.contains(&k.as_str()))
        .cloned()
        .collect();
    if fields.is_empty() { vec!["no content".into()] } else { fields }
}

/// Where a forwarded message came from, as a line, and the origin to keep: Bot API 7's
/// `forward_origin`, or the older `forward_from*` fields.
pub fn forwarded(msg: &Value) -> Option<(String, Value)> {
    let user_name = |u: &Value| {
        let full = [u["first_name"].as_str(), u["last_name"].as_str()].into_iter().flatten().collect::<Vec<_>>();
        match (full.is_empty(), u["username"].as_str()) {
            (false, _) => full.join(" "),
            (true, Some(n)) => format!("@{n}"),
            (true, None) => "someone".into(),
        }
    };
    let chat_name = |c: &Value| {
        c["title"]
            .as_str()
            .map(str::to_string)
            .or(c["username"].as_str().map(|u| format!("@{u}")))
            .unwrap_or("a chat".into())
    };
    if let Some(o) = msg.get("forward_origin").filter(|o| o.is_object()) {
        let who = match o["type"].as_str() {
            Some("user") => user_name(&o["sender_user"]),
            Some("hidden_user") => o["sender_user_name"].as_str().unwrap_or("someone").to_string(),
            Some("chat") => chat_name(&o["sender_chat"]),
            Some("channel") => chat_name(&o["chat"]),
            _ => "elsewhere".into(),
        };
        return Some((format!("[forwarded from {who}]"), o.clone()));
    }
    let who = msg
        .get("forward_from")
        .map(user_name)
        .or(msg.get("forward_from_chat").map(chat_name))
        .or(msg["forward_sender_name"].as_str().map(str::to_string))?;
    let origin = json!({ "sender": who, "date": msg["forward_date"] });
    Some((format!("[forwarded from {who}]"), origin))
}

/// A file's ids and details, without thumbnails.
fn keep(file: &Value) -> Value {
    let mut kept = file.clone();
    if let Some(o) = kept.as_object_mut() {
        o.remove("thumbnail");
        o.remove("thumb");
    }
    kept
}

/// An amount in the currency's smallest units, as people read it: two decimals but for
/// Telegram Stars (`XTR`) and the currencies without minor units.
pub fn money(amount: &Value, currency: &str) -> String {
    let Some(n) = amount.as_i64() else { return currency.to_string() };
    match currency {
        "XTR" => format!("{n} ⭐"),
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "PYG" => format!("{n} {currency}"),
        _ => format!("{}.{:02} {currency}", n / 100, (n % 100).abs()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_reads_as_a_line_and_keeps_its_ids() {
        let audio = json!({"audio": {"file_id": "AUD1", "file_unique_id": "u", "duration": 185, "performer": "Земфира", "title": "Искала"}});
        assert_eq!(describe(&audio).unwrap().1, "[audio Земфира – Искала, 3:05]");
        assert_eq!(describe(&audio).unwrap().2["file_id"], "AUD1");
        let venue = json!({"venue": {"location": {"latitude": 55.796127, "longitude": 49.106405}, "title": "Кремль", "address": "Казань"},
                           "location": {"latitude": 55.796127, "longitude": 49.106405}});
        assert_eq!(
            describe(&venue).unwrap(),
            ("venue", "[venue 55.79613, 49.10641: Кремль, Казань]".into(), venue["venue"].clone())
        );
        let dice = json!({"dice": {"emoji": "🎯", "value": 6}});
        assert_eq!(describe(&dice).unwrap().1, "[dice 🎯 6]");
        let poll = json!({"poll": {"id": "1", "question": "Когда удобно?", "options": [{"text": "Утром", "voter_count": 0}, {"text": "Вечером", "voter_count": 0}]}});
        assert_eq!(describe(&poll).unwrap().1, "[poll “Когда удобно?”: Утром / Вечером]");
        let invoice = json!({"invoice": {"title": "Заказ 5512", "description": "", "start_parameter": "", "currency": "RUB", "total_amount": 150050}});
        assert_eq!(describe(&invoice).unwrap().1, "[invoice Заказ 5512: 1500.50 RUB]");
        let shared = json!({"users_shared": {"request_id": 1, "users": [{"user_id": 5, "first_name": "Luigi"}, {"user_id": 6, "username": "peach"}]}});
        assert_eq!(describe(&shared).unwrap().1, "[shared users: Luigi, @peach]");
        assert!(describe(&json!({"text": "hi"})).is_none());
        assert_eq!(money(&json!(50), "XTR"), "50 ⭐");
    }
}
