//! Decoding Telegram updates into events: pure, no I/O. Every kind of message a customer
//! can send is kept (an attachment as a readable line plus its file id), edits, button
//! presses, blocks and deep links become their own events, and anything else is kept raw.

use serde_json::{Value, json};
use teloxide::types::{CallbackQuery, ChatMemberUpdated, MaybeInaccessibleMessage, Message, Update, UpdateKind, User};

use crate::model::{ChannelKind, ChatRef, Click, InboundEvent, InboundMessage, Membership, Peer};

/// What decoding needs from the configuration.
#[derive(Debug, Clone, Default)]
pub struct DecodeOptions {
    /// `/start` payloads beginning with one of these record a marketing opt-in.
    pub optin_prefixes: Vec<String>,
}

/// Turns one update, as the Bot API sent it, into the events it carries. What teloxide's
/// types cannot read (a kind newer than them) is kept raw.
pub fn decode_raw(raw: &Value, options: &DecodeOptions) -> Vec<InboundEvent> {
    // A service message (a member joined, a pin, a title…) is a notice, read from the raw
    // fields whatever teloxide's types know of them.
    if let Some(notice) = raw.get("message").and_then(super::service::decode) {
        return vec![InboundEvent::Message(notice)];
    }
    if let Some(reaction) = raw.get("message_reaction").and_then(reaction) {
        return vec![InboundEvent::Message(reaction)];
    }
    // teloxide's Update reads correctly only from text: from a Value it silently yields
    // an empty UpdateKind::Error.
    match serde_json::from_str::<Update>(&raw.to_string()) {
        Ok(update) if !matches!(update.kind, UpdateKind::Error(_)) => {
            let mut events = decode(&update, options);
            // What teloxide's types leave unshown is read from the raw message.
            let raw_message = raw.get("message").or_else(|| raw.get("edited_message"));
            for event in &mut events {
                let (InboundEvent::Message(m) | InboundEvent::Edited { message: m, .. }) = event else { continue };
                if m.kind != "unsupported" {
                    continue;
                }
                let Some(raw_message) = raw_message else { continue };
                let caption = raw_message["caption"].as_str().map(|c| format!("\n{c}")).unwrap_or_default();
                if let Some((kind, line, kept)) = super::kinds::describe(raw_message) {
                    m.kind = kind.into();
                    m.text = format!("{line}{caption}");
                    m.media = Some(kept.to_string());
                } else {
                    // Newer than this code: say what it carries, and keep all of it.
                    let fields = super::kinds::unknown_fields(raw_message);
                    m.text =
                        format!("[a kind of message switchboard does not show yet: {}]{caption}", fields.join(", "));
                    m.media = Some(json!({ "raw": raw_message }).to_string());
                }
            }
            // A forwarded message says where it came from.
            for event in &mut events {
                let (InboundEvent::Message(m) | InboundEvent::Edited { message: m, .. }) = event else { continue };
                if let Some((line, origin)) = raw_message.and_then(super::kinds::forwarded) {
                    m.text = format!("{line}\n{}", m.text);
                    let mut media = m.media.as_deref().and_then(|j| serde_json::from_str::<Value>(j).ok());
                    match &mut media {
                        Some(Value::Object(o)) => {
                            o.insert("forward_origin".into(), origin);
                        }
                        _ => media = Some(json!({ "forward_origin": origin })),
                    }
                    m.media = media.map(|v| v.to_string());
                }
            }
            // Kept as it came, not as teloxide would write it back.
            for event in &mut events {
                if let InboundEvent::Unsupported { raw: kept, .. } = event {
                    *kept = raw.to_string();
                }
            }
            events
        }
        _ => {
            let what = raw
                .as_object()
                .and_then(|o| o.keys().find(|k| *k != "update_id").cloned())
                .unwrap_or_else(|| "update".into());
            vec![InboundEvent::Unsupported { channel: ChannelKind::Telegram, what, raw: raw.to_string() }]
        }
    }
}

/// A customer's reaction to a message (`message_reaction`, asked for in
/// `allowed_updates`), stored as WhatsApp's are: a `reaction` row that replies to the
/// message, which does not wait for an answer. Anonymous reactions (a channel's) have no
/// customer and are left out.
fn reaction(r: &Value) -> Option<InboundMessage> {
    let user = r.get("user")?;
    let user_id = user["id"].as_i64()?;
    let chat = &r["chat"];
    let chat_id = chat["id"].as_i64()?;
    let message_id = r["message_id"].as_i64()?;
    let name = [user["first_name"].as_str(), user["last_name"].as_str()].into_iter().flatten().collect::<Vec<_>>();
    let from = Peer {
        external_id: user_id.to_string(),
        display_name: if name.is_empty() { user_id.to_string() } else { name.join(" ") },
        username: user["username"].as_str().map(str::to_string),
        locale: user["language_code"].as_str().map(str::to_string),
    };
    let is_group = matches!(chat["type"].as_str(), Some("group" | "supergroup"));
    let title = match chat["title"].as_str() {
        Some(t) if is_group => t.to_string(),
        _ => from.display_name.clone(),
    };
    let emoji: Vec<&str> = r["new_reaction"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| x["emoji"].as_str().unwrap_or(if x["type"] == "paid" { "⭐" } else { "a custom emoji" }))
        .collect();
    let line = if emoji.is_empty() { "removed a reaction".to_string() } else { format!("reacted {}", emoji.join(" ")) };
    let date = r["date"].as_i64().unwrap_or(0);
    let chat = ChatRef { channel: ChannelKind::Telegram, external_chat_id: chat_id.to_string(), is_group, title };
    // One row per change: the same reaction changed twice is two rows.
    let id = format!("reaction:{message_id}:{user_id}:{date}");
    let mut m = InboundMessage::text(chat, from, id, line, date.saturating_mul(1000));
    m.kind = "reaction".into();
    m.reply_to = Some(message_id.to_string());
    m.media = Some(json!({ "old_reaction": r["old_reaction"], "new_reaction": r["new_reaction"] }).to_string());
    Some(m)
}

/// Turns one update into the events it carries.
pub fn decode(update: &Update, options: &DecodeOptions) -> Vec<InboundEvent> {
    let event = match &update.kind {
        UpdateKind::Message(msg) => decode_message(msg, options).map(InboundEvent::Message),
        UpdateKind::EditedMessage(msg) => decode_message(msg, options).map(|message| {
            let edited_at = msg.edit_date().map(|d| d.timestamp_millis()).unwrap_or(message.sent_at);
            InboundEvent::Edited { message, edited_at }
        }),
        // A press with no message to attach it to is still answered.
        UpdateKind::CallbackQuery(q) if q.message.is_none() => {
            return vec![InboundEvent::AnswerOnly { query_id: q.id.0.clone() }, unsupported(update)];
        }
        UpdateKind::CallbackQuery(q) => decode_click(q),
        UpdateKind::MyChatMember(m) => decode_membership(m),
        _ => None,
    };
    match event {
        Some(event) => vec![event],
        None => vec![unsupported(update)],
    }
}

fn unsupported(update: &Update) -> InboundEvent {
    let raw = match &update.kind {
        // An update teloxide could not read keeps its JSON as it came.
        UpdateKind::Error(value) => value.to_string(),
        _ => serde_json::to_string(update).unwrap_or_else(|e| format!("(cannot re-encode: {e})")),
    };
    InboundEvent::Unsupported { channel: ChannelKind::Telegram, what: kind_name(&update.kind).into(), raw }
}

fn peer(user: &User) -> Peer {
    Peer {
        external_id: user.id.0.to_string(),
        display_name: user.full_name(),
        username: user.username.clone(),
        locale: user.language_code.clone(),
    }
}

fn chat_ref(chat: &teloxide::types::Chat, fallback_title: &str) -> ChatRef {
    let is_group = chat.is_group() || chat.is_supergroup();
    let title = match chat.title() {
        Some(t) if is_group => t.to_string(),
        _ => fallback_title.to_string(),
    };
    ChatRef { channel: ChannelKind::Telegram, external_chat_id: chat.id.0.to_string(), is_group, title }
}

fn decode_message(msg: &Message, options: &DecodeOptions) -> Option<InboundMessage> {
    // Channel posts and anonymous admins have no sender; they are not customers.
    let user = msg.from.as_ref()?;
    let from = peer(user);
    let chat = chat_ref(&msg.chat, &from.display_name);
    let (kind, text, media) = body(msg);
    let mut m = InboundMessage::text(chat, from, msg.id.0.to_string(), text, msg.date.timestamp_millis());
    m.kind = kind.into();
    m.media = media.map(|v| v.to_string());
    let entities = msg.entities().or_else(|| msg.caption_entities()).filter(|e| !e.is_empty());
    m.entities = entities.and_then(|e| serde_json::to_string(e).ok());
    m.reply_to = msg.reply_to_message().map(|r| r.id.0.to_string());
    if let Some(contact) = msg.contact()
        && contact.user_id == Some(user.id)
    {
        m.shared_phone = Some(normalise_phone(&contact.phone_number));
    }
    if let Some(payload) = msg.text().and_then(start_payload) {
        m.opt_in = options.optin_prefixes.iter().any(|p| !p.is_empty() && payload.starts_with(p.as_str()));
        m.start_payload = Some(payload);
    }
    Some(m)
}

/// The payload of `/start PAYLOAD` (also `/start@bot PAYLOAD`).
fn start_payload(text: &str) -> Option<String> {
    let rest = text.strip_prefix("/start")?;
    let rest = match rest.strip_prefix('@') {
        Some(r) => r.split_once(' ').map(|(_, p)| p).unwrap_or(""),
        None => rest.strip_prefix(' ')?,
    };
    let payload = rest.trim();
    (!payload.is_empty()).then(|| payload.to_string())
}

/// Telegram sometimes gives a shared number without its `+`.
fn normalise_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    format!("+{digits}")
}

/// A file size as people say it; Telegram leaves it out sometimes (teloxide: u32::MAX).
fn size(bytes: u32) -> Option<String> {
    match bytes {
        u32::MAX | 0 => None,
        b if b < 1024 => Some(format!("{b} B")),
        b if b < 1024 * 1024 => Some(format!("{} KB", b / 1024)),
        b => Some(format!("{:.1} MB", f64::from(b) / 1_048_576.0)),
    }
}

fn duration(secs: u32) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// The kind, the line the agent reads, and the attachment's details.
fn body(msg: &Message) -> (&'static str, String, Option<Value>) {
    if let Some(text) = msg.text() {
        return ("text", text.to_string(), None);
    }
    let caption = msg.caption().map(|c| format!("\n{c}")).unwrap_or_default();
    let join = |parts: Vec<Option<String>>| parts.into_iter().flatten().collect::<Vec<_>>().join(", ");
    let (kind, line, media) = if let Some(sizes) = msg.photo() {
        // The same photo in several sizes: keep the largest.
        let p = sizes.iter().max_by_key(|p| u64::from(p.width) * u64::from(p.height));
        let Some(p) = p else { return ("photo", format!("[photo]{caption}"), None) };
        let line = format!(
            "[photo {}x{}{}]",
            p.width,
            p.height,
            size(p.file.size).map(|s| format!(", {s}")).unwrap_or_default()
        );
        (
            "photo",
            line,
            json!({"file_id": p.file.id.0, "file_unique_id": p.file.unique_id.0, "width": p.width, "height": p.height, "file_size": p.file.size}),
        )
    } else if let Some(d) = msg.document() {
        let name = d.file_name.clone().unwrap_or_else(|| "file".into());
        let mime = d.mime_type.as_ref().map(|m| m.to_string());
        let line = format!("[document {}]", join(vec![Some(name.clone()), mime.clone(), size(d.file.size)]));
        (
            "document",
            line,
            json!({"file_id": d.file.id.0, "file_name": name, "mime_type": mime, "file_size": d.file.size}),
        )
    } else if let Some(v) = msg.video() {
        let secs = v.duration.seconds();
        let line = format!(
            "[video {}]",
            join(vec![Some(duration(secs)), Some(format!("{}x{}", v.width, v.height)), size(v.file.size)])
        );
        (
            "video",
            line,
            json!({"file_id": v.file.id.0, "duration": secs, "width": v.width, "height": v.height, "file_size": v.file.size}),
        )
    } else if let Some(v) = msg.voice() {
        let secs = v.duration.seconds();
        (
            "voice",
            format!("[voice message {}]", duration(secs)),
            json!({"file_id": v.file.id.0, "duration": secs, "file_size": v.file.size}),
        )
    } else if let Some(s) = msg.sticker() {
        let emoji = s.emoji.clone().unwrap_or_default();
        ("sticker", format!("[sticker {emoji}]").replace(" ]", "]"), json!({"file_id": s.file.id.0, "emoji": s.emoji}))
    } else if let Some(l) = msg.location() {
        let live = if l.live_period.is_some() { "live location" } else { "location" };
        (
            "location",
            format!("[{live} {:.5}, {:.5}]", l.latitude, l.longitude),
            json!({"latitude": l.latitude, "longitude": l.longitude, "horizontal_accuracy": l.horizontal_accuracy}),
        )
    } else if let Some(c) = msg.contact() {
        let name =
            [Some(c.first_name.clone()), c.last_name.clone()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let phone = normalise_phone(&c.phone_number);
        (
            "contact",
            format!("[contact {name}, {phone}]"),
            json!({"phone_number": phone, "first_name": c.first_name, "last_name": c.last_name, "user_id": c.user_id.map(|u| u.0)}),
        )
    } else {
        return ("unsupported", format!("[a kind of message switchboard does not show yet]{caption}"), None);
    };
    (kind, format!("{line}{caption}"), Some(media))
}

fn decode_click(q: &CallbackQuery) -> Option<InboundEvent> {
    let from = peer(&q.from);
    // A press on a message in an inline query result has no chat: nothing to attach it to.
    let message = q.message.as_ref()?;
    let (chat, message_id) = match message {
        MaybeInaccessibleMessage::Regular(m) => (&m.chat, m.id),
        MaybeInaccessibleMessage::Inaccessible(m) => (&m.chat, m.message_id),
    };
    Some(InboundEvent::Click(Click {
        chat: chat_ref(chat, &from.display_name),
        query_id: q.id.0.clone(),
        message_external_id: (message_id.0 != 0).then(|| message_id.0.to_string()),
        data: q.data.clone(),
        label: None,
        // A press carries no time of its own: `refine_times` gives it the arrival time.
        at: 0,
        from,
    }))
}

fn decode_membership(m: &ChatMemberUpdated) -> Option<InboundEvent> {
    // Only private chats: there, this update means the user blocked or unblocked us.
    if !m.chat.is_private() {
        return None;
    }
    let blocked = m.new_chat_member.kind.is_banned();
    if !blocked && !m.new_chat_member.kind.is_member() {
        return None;
    }
    let from = peer(&m.from);
    Some(InboundEvent::Membership(Membership {
        chat: chat_ref(&m.chat, &from.display_name),
        from,
        blocked,
        at: m.date.timestamp_millis(),
        key: None,
        event_id: None,
    }))
}

fn kind_name(kind: &UpdateKind) -> &'static str {
    match kind {
        UpdateKind::Message(_) => "message",
        UpdateKind::EditedMessage(_) => "edited_message",
        UpdateKind::ChannelPost(_) => "channel_post",
        UpdateKind::EditedChannelPost(_) => "edited_channel_post",
        UpdateKind::CallbackQuery(_) => "callback_query",
        UpdateKind::MyChatMember(_) => "my_chat_member",
        UpdateKind::ChatMember(_) => "chat_member",
        UpdateKind::MessageReaction(_) => "message_reaction",
        UpdateKind::BusinessMessage(_) => "business_message",
        UpdateKind::Error(_) => "undecodable update",
        _ => "other update",
    }
}
