//! Decoding Viber REST Bot API callbacks into events: pure, no I/O. Timestamps are Unix
//! milliseconds; message tokens exceed 2^53 and are kept as the exact digits, never
//! through a float.

use serde_json::Value;

use crate::model::{ChannelKind, ChatRef, DeliveryStatus, InboundEvent, InboundMessage, Membership, Peer, Receipt};

/// One callback. `Ok(None)` for callbacks that carry nothing to store (`webhook`).
pub fn decode(body: &Value) -> Result<Vec<InboundEvent>, String> {
    let event = body["event"].as_str().ok_or("not a Viber callback: no `event`")?;
    let at = body["timestamp"].as_i64().unwrap_or(0);
    let token = token(&body["message_token"]);
    let events = match event {
        "message" => {
            let sender = &body["sender"];
            let peer = peer(sender).ok_or("a message without a sender id")?;
            let token = token.ok_or("a message without a message_token")?;
            vec![InboundEvent::Message(message(&body["message"], peer, token, at))]
        }
        "subscribed" | "conversation_started" => {
            let peer = peer(&body["user"]).ok_or("no user id")?;
            if event == "subscribed" {
                vec![InboundEvent::Membership(Membership {
                    chat: chat(&peer),
                    from: peer,
                    blocked: false,
                    at,
                    key: None,
                    event_id: None,
                })]
            } else {
                // Opening the chat is not a subscription; a deep-link context says where
                // the customer came from.
                let mut m = InboundMessage::text(
                    chat(&peer),
                    peer,
                    format!("open:{}", token.unwrap_or_else(|| at.to_string())),
                    "opened the chat".into(),
                    at,
                );
                m.kind = "system".into();
                m.start_payload = body["context"].as_str().filter(|c| !c.is_empty()).map(str::to_string);
                vec![InboundEvent::Opened(m)]
            }
        }
        "unsubscribed" => {
            let user = body["user_id"].as_str().ok_or("no user_id")?;
            let peer = Peer { external_id: user.into(), display_name: user.into(), username: None, locale: None };
            vec![InboundEvent::Membership(Membership {
                chat: chat(&peer),
                from: peer,
                blocked: true,
                at,
                key: None,
                event_id: None,
            })]
        }
        "delivered" | "seen" | "failed" => {
            let user = body["user_id"].as_str().ok_or("no user_id")?;
            let status = match event {
                "delivered" => DeliveryStatus::Delivered,
                // Sent once for a batch of unread messages: the one named is read, and
                // every earlier one with it.
                "seen" => DeliveryStatus::Read,
                _ => DeliveryStatus::Failed,
            };
            vec![InboundEvent::Receipt(Receipt {
                channel: ChannelKind::Viber,
                chat_id: user.into(),
                covers_earlier: event == "seen",
                message_external_id: token,
                status,
                error_code: None,
                error: (event == "failed").then(|| body["desc"].as_str().unwrap_or("the message failed").to_string()),
                at,
            })]
        }
        "webhook" | "client_status" | "action" => Vec::new(),
        other => {
            vec![InboundEvent::Unsupported { channel: ChannelKind::Viber, what: other.into(), raw: body.to_string() }]
        }
    };
    Ok(events)
}

/// A message token as its exact digits (it is a 64-bit integer).
pub fn token(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn peer(user: &Value) -> Option<Peer> {
    let id = user["id"].as_str()?;
    Some(Peer {
        external_id: id.into(),
        display_name: user["name"].as_str().filter(|n| !n.is_empty()).unwrap_or(id).to_string(),
        username: None,
        locale: user["language"].as_str().map(str::to_string),
    })
}

fn chat(peer: &Peer) -> ChatRef {
    ChatRef {
        channel: ChannelKind::Viber,
        external_chat_id: peer.external_id.clone(),
        is_group: false,
        title: peer.display_name.clone(),
    }
}

fn size(bytes: Option<u64>) -> Option<String> {
    match bytes? {
        0 => None,
        b if b < 1024 * 1024 => Some(format!("{} KB", b.div_ceil(1024))),
        b => Some(format!("{:.1} MB", b as f64 / 1_048_576.0)),
    }
}

fn message(m: &Value, peer: Peer, token: String, at: i64) -> InboundMessage {
    let kind = m["type"].as_str().unwrap_or("unknown");
    let text = m["text"].as_str().unwrap_or("").to_string();
    let caption = if text.is_empty() { String::new() } else { format!("\n{text}") };
    let (ours, line) = match kind {
        "text" => ("text", text.clone()),
        "picture" => ("photo", format!("[photo]{caption}")),
        "video" => {
            let detail =
                [m["duration"].as_u64().map(|d| format!("{}:{:02}", d / 60, d % 60)), size(m["size"].as_u64())]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ");
            (
                "video",
                if detail.is_empty() { format!("[video]{caption}") } else { format!("[video {detail}]{caption}") },
            )
        }
        "file" => {
            let name = m["file_name"].as_str().unwrap_or("file");
            let detail = [Some(name.to_string()), size(m["size"].as_u64())].into_iter().flatten().collect::<Vec<_>>();
            ("document", format!("[document {}]", detail.join(", ")))
        }
        "sticker" => ("sticker", "[sticker]".into()),
        "contact" => {
            let c = &m["contact"];
            let name = c["name"].as_str().unwrap_or("someone");
            let phone = c["phone_number"].as_str().unwrap_or("no number");
            ("contact", format!("[contact {name}, {phone}]"))
        }
        "location" => {
            let l = &m["location"];
            (
                "location",
                crate::channels::location_line(
                    crate::channels::number(&l["lat"]),
                    crate::channels::number(&l["lon"]),
                    "",
                ),
            )
        }
        "url" => ("link", format!("[link {}]", m["media"].as_str().unwrap_or(""))),
        _ => ("unsupported", format!("[a kind of message switchboard does not show yet: {kind}]")),
    };
    let mut msg = InboundMessage::text(chat(&peer), peer, token, line, at);
    msg.kind = ours.into();
    if kind != "text" {
        let mut media = m.clone();
        if let Some(obj) = media.as_object_mut() {
            obj.remove("text");
            obj.remove("tracking_data");
        }
        msg.media = Some(media.to_string());
    }
    msg.tracking = m["tracking_data"].as_str().filter(|t| !t.is_empty()).map(str::to_string);
    msg
}
