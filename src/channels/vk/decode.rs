//! Decoding VK events (Bots Long Poll updates and Callback API calls share the shape
//! `{type, event_id, v, object, group_id}`) into events: pure, no I/O. A message's id in
//! the store is its `conversation_message_id`: unique within the conversation, and the id
//! that button presses, edits, replies and our own sends (seen back as `message_reply`)
//! all carry. Ids are read as numbers or strings. Names are not in VK's events: the
//! adapter fills them in (`users.get`) before the events are stored.

use serde_json::{Value, json};

use crate::model::{
    ChannelKind, ChatRef, Click, DeliveryStatus, InboundEvent, InboundMessage, Membership, Millis, Peer, Receipt,
};

/// Peer ids from here up are group chats (`2000000000 + chat_id`).
pub const CHAT_PEER_BASE: i64 = 2_000_000_000;

/// The events of one VK event object. An error means it is not a VK event at all.
pub fn decode(event: &Value) -> Result<Vec<InboundEvent>, String> {
    let kind = event["type"].as_str().ok_or("no `type`: not a VK event")?;
    let object = &event["object"];
    let decoded = match kind {
        // Since 5.103 `{message, client_info}`; before, the bare message.
        "message_new" => message(object.get("message").unwrap_or(object)).map(InboundEvent::Message),
        "message_edit" => edit(object),
        "message_reply" => echo(object, None),
        "message_event" => press(object),
        "message_allow" | "message_deny" => membership(object, kind == "message_allow", event["event_id"].as_str()),
        "message_read" => read(object),
        _ => None,
    };
    Ok(vec![decoded.unwrap_or_else(|| unsupported(kind, event))])
}

fn unsupported(what: &str, raw: &Value) -> InboundEvent {
    InboundEvent::Unsupported { channel: ChannelKind::Vk, what: what.into(), raw: raw.to_string() }
}

/// An id VK may write as a number or as a string.
pub fn int(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn millis(v: &Value) -> Millis {
    int(v).unwrap_or(0).saturating_mul(1000)
}

/// A person by their id, named `id…` until the adapter learns their name.
pub fn peer(user_id: i64) -> Peer {
    Peer { external_id: user_id.to_string(), display_name: format!("id{user_id}"), username: None, locale: None }
}

fn chat(peer_id: i64, from: &Peer) -> ChatRef {
    let is_group = peer_id >= CHAT_PEER_BASE;
    let title = if is_group { format!("VK chat {}", peer_id - CHAT_PEER_BASE) } else { from.display_name.clone() };
    ChatRef { channel: ChannelKind::Vk, external_chat_id: peer_id.to_string(), is_group, title }
}

/// The message's id in its conversation.
fn message_key(m: &Value) -> Option<String> {
    int(&m["conversation_message_id"]).filter(|c| *c > 0).or(int(&m["id"]).filter(|i| *i > 0)).map(|i| i.to_string())
}

/// A customer's message: its text, each attachment as a readable line with what fetches
/// it kept, a reply, forwards, a keyboard button's payload.
pub fn message(m: &Value) -> Option<InboundMessage> {
    let from_id = int(&m["from_id"])?;
    let peer_id = int(&m["peer_id"]).unwrap_or(from_id);
    let id = message_key(m)?;
    let from = peer(from_id);
    let (kind, mut text, media) = body(m);
    let forwards = m["fwd_messages"].as_array().map(Vec::len).unwrap_or(0);
    if forwards > 0 {
        text = format!("[forwarded {forwards} message(s)]\n{text}").trim_end().to_string();
    }
    let mut msg = InboundMessage::text(chat(peer_id, &from), from, id, text, millis(&m["date"]));
    msg.kind = kind.into();
    let payload = m.get("payload").filter(|p| !p.is_null());
    msg.media = match (media, payload) {
        (None, None) => None,
        (media, payload) => Some(json!({ "attachments": media, "payload": payload }).to_string()),
    };
    msg.reply_to = message_key(&m["reply_message"]);
    msg.entities = m.get("format_data").filter(|f| !f.is_null()).map(Value::to_string);
    Some(msg)
}

/// The kind, the text, and the attachments to keep.
fn body(m: &Value) -> (&'static str, String, Option<Value>) {
    let text = m["text"].as_str().unwrap_or("").to_string();
    let attachments = m["attachments"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut lines: Vec<String> = Vec::new();
    let mut kind = "text";
    for a in attachments {
        let t = a["type"].as_str().unwrap_or("");
        let item = &a[t];
        let (k, line) = attachment(t, item);
        if kind == "text" {
            kind = k;
        }
        lines.push(line);
    }
    let geo = m.get("geo").filter(|g| g.is_object());
    if let Some(g) = geo {
        let c = &g["coordinates"];
        let place = g["place"]["title"].as_str().unwrap_or("");
        lines.push(crate::channels::location_line(
            crate::channels::number(&c["latitude"]),
            crate::channels::number(&c["longitude"]),
            place,
        ));
        if kind == "text" {
            kind = "location";
        }
    }
    let kept = (!attachments.is_empty() || geo.is_some()).then(|| json!({ "items": attachments, "geo": geo }));
    let all: Vec<String> = lines.into_iter().chain((!text.is_empty()).then_some(text)).collect();
    (kind, all.join("\n"), kept)
}

/// One attachment as (our kind, a line).
fn attachment(t: &str, a: &Value) -> (&'static str, String) {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let duration = |v: &Value| int(v).map(|d| format!(" {}:{:02}", d / 60, d % 60)).unwrap_or_default();
    match t {
        "photo" => {
            let biggest = a["sizes"]
                .as_array()
                .into_iter()
                .flatten()
                .max_by_key(|z| int(&z["width"]).unwrap_or(0) * int(&z["height"]).unwrap_or(0));
            let size = biggest
                .and_then(|z| Some(format!(" {}x{}", int(&z["width"])?, int(&z["height"])?)))
                .unwrap_or_default();
            ("photo", format!("[photo{size}]"))
        }
        "doc" => ("document", format!("[document {}]", s(&a["title"])).replace(" ]", "]")),
        "audio_message" => ("voice", format!("[voice message{}]", duration(&a["duration"]))),
        "audio" => ("audio", format!("[audio {} – {}]", s(&a["artist"]), s(&a["title"]))),
        "video" => ("video", format!("[video {}{}]", s(&a["title"]), duration(&a["duration"])).replace(" ]", "]")),
        "sticker" => ("sticker", "[sticker]".into()),
        "wall" => {
            let owner = int(&a["owner_id"]).or(int(&a["from_id"])).unwrap_or(0);
            let post = format!("wall{owner}_{}", int(&a["id"]).unwrap_or(0));
            let text: String = s(&a["text"]).chars().take(80).collect();
            let line =
                if text.is_empty() { format!("[wall post {post}]") } else { format!("[wall post {post}: {text}]") };
            ("link", line)
        }
        "link" => {
            let title = s(&a["title"]);
            let url = s(&a["url"]);
            ("link", if title.is_empty() { format!("[link {url}]") } else { format!("[link {title} {url}]") })
        }
        "market" => ("link", format!("[product {}]", s(&a["title"]))),
        "poll" => ("poll", format!("[poll “{}”]", s(&a["question"]))),
        "gift" => ("sticker", "[gift]".into()),
        "graffiti" => ("photo", "[graffiti]".into()),
        other => ("unsupported", format!("[{} attachment]", if other.is_empty() { "an unknown" } else { other })),
    }
}

/// `message_edit`: a customer's message or (out = 1) one of ours changed.
fn edit(m: &Value) -> Option<InboundEvent> {
    let edited_at = int(&m["update_time"]).map(|t| t * 1000).unwrap_or_else(|| millis(&m["date"]));
    if int(&m["out"]) == Some(1) {
        return echo(m, Some(edited_at));
    }
    message(m).map(|message| InboundEvent::Edited { message, edited_at })
}

/// `message_reply` (or an edit of ours): a message of the community's, sent by us or
/// typed by an admin in VK. `random_id` names our outbox row when we sent it.
fn echo(m: &Value, edited_at: Option<Millis>) -> Option<InboundEvent> {
    let peer_id = int(&m["peer_id"])?;
    let customer = peer(peer_id);
    let id = message_key(m)?;
    let (kind, text, media) = body(m);
    let mut message = InboundMessage::text(chat(peer_id, &customer), customer, id, text, millis(&m["date"]));
    message.kind = kind.into();
    message.media = media.map(|v| v.to_string());
    message.reply_to = message_key(&m["reply_message"]);
    message.tracking = int(&m["random_id"]).filter(|r| *r != 0).map(|r| r.to_string());
    let author = match int(&m["admin_author_id"]) {
        Some(admin) => format!("VK admin id{admin}"),
        None => "VK".into(),
    };
    Some(InboundEvent::Echo { message, edited_at, author })
}

/// `message_event`: a press on a callback button under one of our messages. Its
/// `event_id` (not the envelope's) is what answers it.
fn press(o: &Value) -> Option<InboundEvent> {
    let user = int(&o["user_id"])?;
    let peer_id = int(&o["peer_id"]).unwrap_or(user);
    let from = peer(user);
    let data = match &o["payload"] {
        // Our button's payload is a JSON string; VK may hand it back as JSON or encoded.
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::String(inner)) => Some(inner),
            _ => Some(s.clone()),
        },
        Value::Null => None,
        other => Some(other.to_string()),
    };
    Some(InboundEvent::Click(Click {
        chat: chat(peer_id, &from),
        query_id: o["event_id"].as_str()?.to_string(),
        message_external_id: int(&o["conversation_message_id"]).map(|c| c.to_string()),
        data,
        label: None,
        // A press carries no time of its own: the arrival time is used.
        at: 0,
        from,
    }))
}

/// `message_read`: the customer read our messages up to the one named (VK gives read
/// receipts, unlike Telegram): it and every earlier one of ours are read.
fn read(o: &Value) -> Option<InboundEvent> {
    let peer = int(&o["peer_id"]).or(int(&o["from_id"]))?;
    Some(InboundEvent::Receipt(Receipt {
        channel: ChannelKind::Vk,
        chat_id: peer.to_string(),
        message_external_id: int(&o["conversation_message_id"]).map(|c| c.to_string()),
        covers_earlier: true,
        status: DeliveryStatus::Read,
        error_code: None,
        error: None,
        // No time of its own: the arrival time.
        at: 0,
    }))
}

/// `message_allow` (the customer allowed messages, or wrote first; `key` says where)
/// and `message_deny`.
fn membership(o: &Value, allowed: bool, event_id: Option<&str>) -> Option<InboundEvent> {
    let user = int(&o["user_id"])?;
    let from = peer(user);
    Some(InboundEvent::Membership(Membership {
        chat: chat(user, &from),
        from,
        blocked: !allowed,
        // No time of its own either.
        at: 0,
        key: o["key"].as_str().filter(|k| !k.is_empty()).map(str::to_string),
        event_id: event_id.map(str::to_string),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_as_strings_or_numbers_and_an_unknown_event_is_kept() {
        let m = json!({"type": "message_new", "object": {"message": {"id": "12", "conversation_message_id": 7,
                        "from_id": "51422811", "peer_id": 51422811, "date": 1773134000, "text": "Привет 👋"}}});
        let events = decode(&m).unwrap();
        let InboundEvent::Message(msg) = &events[0] else { panic!("{events:?}") };
        assert_eq!((msg.external_id.as_str(), msg.chat.external_chat_id.as_str()), ("7", "51422811"));
        assert!(matches!(&decode(&json!({"type": "wall_post_new", "object": {}})).unwrap()[0],
                         InboundEvent::Unsupported { what, .. } if what == "wall_post_new"));
        assert!(decode(&json!({"object": {}})).is_err());
    }
}
