//! Decoding WhatsApp Cloud API webhook bodies into events: pure, no I/O. A body can
//! carry several entries, changes, messages and statuses at once; senders are matched
//! to their profile names by `wa_id`, never by position. Timestamps are strings of Unix
//! seconds (an integer in `user_preferences`).

use serde_json::{Value, json};

use crate::model::{
    ChannelKind, ChatRef, Click, ConsentChange, DeliveryStatus, InboundEvent, InboundMessage, Millis, Peer, Receipt,
};

/// What a template's "Stop promotions" quick reply carries by convention.
pub const STOP_PAYLOADS: &[&str] = &["STOP_PROMOTIONS", "STOP", "UNSUBSCRIBE"];

/// The events of one webhook body. An error means the body is not a WhatsApp webhook.
pub fn decode(body: &Value) -> Result<Vec<InboundEvent>, String> {
    if body["object"] != "whatsapp_business_account" {
        return Err("not a whatsapp_business_account webhook".into());
    }
    let mut events = Vec::new();
    for entry in body["entry"].as_array().into_iter().flatten() {
        for change in entry["changes"].as_array().into_iter().flatten() {
            let value = &change["value"];
            match change["field"].as_str() {
                Some("messages") => {
                    for m in value["messages"].as_array().into_iter().flatten() {
                        events.extend(each(m, "message", || message(m, value)));
                    }
                    for s in value["statuses"].as_array().into_iter().flatten() {
                        events.extend(each(s, "status", || status(s)));
                    }
                }
                Some("user_preferences") => {
                    for p in value["user_preferences"].as_array().into_iter().flatten() {
                        events.extend(preference(p));
                    }
                }
                other => events.push(unsupported(other.unwrap_or("change"), change)),
            }
        }
    }
    Ok(events)
}

/// Decodes one message or status on its own: should a shape ever slip past the checks
/// and panic, that one item is kept raw as unsupported and the others in the same body
/// are still stored.
fn each(raw: &Value, what: &str, decode: impl FnOnce() -> Vec<InboundEvent>) -> Vec<InboundEvent> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode))
        .unwrap_or_else(|_| vec![unsupported(&format!("{what} that could not be decoded"), raw)])
}

fn unsupported(what: &str, raw: &Value) -> InboundEvent {
    InboundEvent::Unsupported { channel: ChannelKind::WhatsApp, what: what.into(), raw: raw.to_string() }
}

/// Unix seconds as WhatsApp writes them (a string, or a number) to milliseconds.
fn millis(v: &Value) -> Millis {
    let secs = v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())).unwrap_or(0);
    // Saturating: an absurd value stays absurd (and is replaced at ingest) instead of
    // overflowing.
    secs.saturating_mul(1000)
}

fn peer(wa_id: &str, value: &Value) -> Peer {
    let name = value["contacts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["wa_id"] == wa_id)
        .and_then(|c| c["profile"]["name"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| format!("+{wa_id}"));
    Peer { external_id: wa_id.into(), display_name: name, username: None, locale: None }
}

fn chat(peer: &Peer) -> ChatRef {
    ChatRef {
        channel: ChannelKind::WhatsApp,
        external_chat_id: peer.external_id.clone(),
        is_group: false,
        title: peer.display_name.clone(),
    }
}

fn message(m: &Value, value: &Value) -> Vec<InboundEvent> {
    let (Some(from), Some(id)) = (m["from"].as_str(), m["id"].as_str()) else {
        return vec![unsupported("message without sender or id", m)];
    };
    let from = peer(from, value);
    let at = millis(&m["timestamp"]);
    let kind = m["type"].as_str().unwrap_or("unknown");
    // A customer who came from a click-to-WhatsApp ad: the ad is kept with the message
    // (headline, source URL, ctwa_clid) and becomes the contact's source.
    let referral = m.get("referral").filter(|r| r.is_object());
    let text_message = |kind: &str, text: String, media: Option<Value>| {
        let (text, media) = match referral {
            Some(r) => {
                let headline = r["headline"].as_str().map(|h| format!(" “{h}”")).unwrap_or_default();
                let url = r["source_url"].as_str().map(|u| format!(" {u}")).unwrap_or_default();
                let media = match media {
                    Some(Value::Object(mut o)) => {
                        o.insert("referral".into(), r.clone());
                        Value::Object(o)
                    }
                    _ => json!({ "referral": r }),
                };
                (format!("{text}\n[from an ad{headline}{url}]"), Some(media))
            }
            None => (text, media),
        };
        let mut msg = InboundMessage::text(chat(&from), from.clone(), id.into(), text, at);
        msg.kind = kind.into();
        msg.media = media.map(|v| v.to_string());
        msg.reply_to = m["context"]["id"].as_str().map(str::to_string);
        msg.start_payload = referral.map(|r| {
            let source = r["source_type"].as_str().unwrap_or("ad");
            let id = r["source_id"].as_str().or(r["source_url"].as_str()).unwrap_or("");
            format!("{source}:{id}")
        });
        msg
    };
    let click = |data: &str, label: &str| Click {
        chat: chat(&from),
        from: from.clone(),
        query_id: id.into(),
        message_external_id: m["context"]["id"].as_str().map(str::to_string),
        data: Some(data.into()),
        label: Some(label.into()),
        at,
    };
    match kind {
        "text" => {
            vec![InboundEvent::Message(text_message("text", m["text"]["body"].as_str().unwrap_or("").into(), None))]
        }
        "image" | "video" | "audio" | "voice" | "document" | "sticker" => {
            let media = &m[kind];
            let ours = match kind {
                "image" => "photo",
                // A voice note is sent as `audio` with `voice: true`; without the flag it
                // is an audio file the customer shared (a song, a recording).
                "audio" if media["voice"].as_bool() == Some(true) => "voice",
                other => other,
            };
            let detail = [media["filename"].as_str(), media["mime_type"].as_str()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            let line = if detail.is_empty() { format!("[{ours}]") } else { format!("[{ours} {detail}]") };
            let caption = media["caption"].as_str().map(|c| format!("\n{c}")).unwrap_or_default();
            let kept = json!({"id": media["id"], "mime_type": media["mime_type"], "sha256": media["sha256"], "filename": media["filename"]});
            vec![InboundEvent::Message(text_message(ours, format!("{line}{caption}"), Some(kept)))]
        }
        "location" => {
            let l = &m["location"];
            let place =
                [l["name"].as_str(), l["address"].as_str()].into_iter().flatten().collect::<Vec<_>>().join(", ");
            let line = super::location_line(super::number(&l["latitude"]), super::number(&l["longitude"]), &place);
            vec![InboundEvent::Message(text_message("location", line, Some(l.clone())))]
        }
        "contacts" => {
            let cards: Vec<String> = m["contacts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    let name = c["name"]["formatted_name"].as_str().unwrap_or("someone");
                    let phone = c["phones"][0]["phone"].as_str().unwrap_or("no number");
                    format!("[contact {name}, {phone}]")
                })
                .collect();
            vec![InboundEvent::Message(text_message("contact", cards.join("\n"), Some(m["contacts"].clone())))]
        }
        "interactive" => {
            let i = &m["interactive"];
            let reply = match i["type"].as_str() {
                Some("button_reply") => &i["button_reply"],
                Some("list_reply") => &i["list_reply"],
                _ => return vec![unsupported("interactive", m)],
            };
            let data = reply["id"].as_str().unwrap_or("");
            vec![InboundEvent::Click(click(data, reply["title"].as_str().unwrap_or(data)))]
        }
        "button" => {
            // A quick reply of a template, such as "Stop promotions".
            let payload = m["button"]["payload"].as_str().unwrap_or("");
            let text = m["button"]["text"].as_str().unwrap_or(payload);
            let mut events = vec![InboundEvent::Click(click(payload, text))];
            if STOP_PAYLOADS.iter().any(|p| p.eq_ignore_ascii_case(payload)) {
                events.push(InboundEvent::Consent(ConsentChange {
                    chat: chat(&from),
                    from: from.clone(),
                    purpose: "marketing",
                    opt_in: false,
                    source: "button",
                    evidence: format!("template quick reply `{payload}` ({id})"),
                    at,
                }));
            }
            events
        }
        "reaction" => {
            let r = &m["reaction"];
            let line = match r["emoji"].as_str().filter(|e| !e.is_empty()) {
                Some(emoji) => format!("reacted {emoji}"),
                None => "removed a reaction".into(),
            };
            let mut msg = text_message("reaction", line, None);
            msg.reply_to = r["message_id"].as_str().map(str::to_string);
            vec![InboundEvent::Message(msg)]
        }
        "edit" => {
            let e = &m["edit"];
            // The edited message must itself be an object: anything else is a bad edit,
            // kept raw, never indexed into (serde_json panics on indexing a non-object).
            let (Some(original), inner @ Value::Object(_)) = (e["original_message_id"].as_str(), &e["message"]) else {
                return vec![unsupported("edit", m)];
            };
            let mut inner = inner.clone();
            inner["from"] = json!(from.external_id);
            inner["id"] = json!(original);
            inner["timestamp"] = inner.get("timestamp").cloned().unwrap_or(m["timestamp"].clone());
            message(&inner, value)
                .into_iter()
                .map(|event| match event {
                    InboundEvent::Message(message) => InboundEvent::Edited { message, edited_at: at },
                    other => other,
                })
                .collect()
        }
        "revoke" => {
            let mut msg = text_message("system", "deleted a message".into(), None);
            msg.reply_to = m["revoke"]["original_message_id"].as_str().map(str::to_string);
            vec![InboundEvent::Message(msg)]
        }
        "system" => {
            let body = m["system"]["body"].as_str().unwrap_or("changed their WhatsApp account");
            vec![InboundEvent::Message(text_message("system", body.into(), None))]
        }
        // `unknown` is the older name; either may say why in `errors`.
        "unsupported" | "unknown" => {
            let e = &m["errors"][0];
            let why = match (e["title"].as_str(), e["code"].as_i64()) {
                (Some(title), Some(code)) => format!(": {title} ({code})"),
                (Some(title), None) => format!(": {title}"),
                (None, Some(code)) => format!(": error {code}"),
                (None, None) => String::new(),
            };
            let line = format!("[a kind of message WhatsApp does not pass to businesses{why}]");
            vec![InboundEvent::Message(text_message("unsupported", line, m.get("errors").cloned()))]
        }
        _ => vec![unsupported(kind, m)],
    }
}

/// What a failure code means, as the agent should read it.
pub fn failure_reason(code: i64, title: &str) -> String {
    match code {
        131047 => "the 24-hour window is closed: only an approved template reaches this customer now".into(),
        131050 => "the customer stopped marketing messages".into(),
        131026 => "undeliverable: not a WhatsApp number, or the customer's app is too old".into(),
        131049 => "not delivered to keep engagement healthy (a per-customer marketing cap): wait a day".into(),
        131056 => "too many messages to this customer in a short time".into(),
        130429 => "WhatsApp's throughput limit for this number was hit".into(),
        _ if title.is_empty() => format!("WhatsApp error {code}"),
        _ => format!("{title} (WhatsApp error {code})"),
    }
}

fn status(s: &Value) -> Vec<InboundEvent> {
    let (Some(id), Some(recipient)) = (s["id"].as_str(), s["recipient_id"].as_str()) else {
        return vec![unsupported("status without id or recipient", s)];
    };
    let status = match s["status"].as_str() {
        Some("sent") => DeliveryStatus::Sent,
        Some("delivered") => DeliveryStatus::Delivered,
        Some("read" | "played") => DeliveryStatus::Read,
        Some("failed") => DeliveryStatus::Failed,
        _ => return vec![unsupported("status", s)],
    };
    let error = &s["errors"][0];
    let code = error["code"].as_i64();
    let at = millis(&s["timestamp"]);
    let mut events = vec![InboundEvent::Receipt(Receipt {
        channel: ChannelKind::WhatsApp,
        chat_id: recipient.into(),
        message_external_id: Some(id.into()),
        covers_earlier: false,
        status,
        error_code: code,
        error: code.map(|c| failure_reason(c, error["title"].as_str().unwrap_or(""))),
        at,
    })];
    if code == Some(131050) {
        let from =
            Peer { external_id: recipient.into(), display_name: format!("+{recipient}"), username: None, locale: None };
        events.push(InboundEvent::Consent(ConsentChange {
            chat: chat(&from),
            from,
            purpose: "marketing",
            opt_in: false,
            source: "platform",
            evidence: format!("send of {id} failed with 131050"),
            at,
        }));
    }
    events
}

fn preference(p: &Value) -> Option<InboundEvent> {
    let wa_id = p["wa_id"].as_str()?;
    let opt_in = match p["value"].as_str()? {
        "stop" => false,
        // `signup`: the customer asked for marketing messages (Meta's opt-in flow).
        "resume" | "signup" => true,
        _ => return Some(unsupported("user_preferences", p)),
    };
    let from = Peer { external_id: wa_id.into(), display_name: format!("+{wa_id}"), username: None, locale: None };
    Some(InboundEvent::Consent(ConsentChange {
        chat: chat(&from),
        from,
        purpose: "marketing",
        opt_in,
        source: "platform",
        evidence: p["detail"].as_str().unwrap_or("user_preferences").to_string(),
        at: millis(&p["timestamp"]),
    }))
}
