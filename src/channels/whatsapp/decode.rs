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
                    let messages = value["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
                    let statuses = value["statuses"].as_array().map(Vec::as_slice).unwrap_or_default();
                    if messages.is_empty() && statuses.is_empty() && value.get("errors").is_some() {
                        // An error about the account or the app rather than a message:
                        // kept in the log and counted, where `doctor` shows it.
                        events.push(unsupported("errors", value));
                    }
                    for m in messages {
                        events.extend(each(m, "message", || message(m, value)));
                    }
                    for s in statuses {
                        events.extend(each(s, "status", || status(s)));
                    }
                }
                // Coexistence: the chat history of the WhatsApp Business app, shared once
                // the business is onboarded: each thread is one customer's, each message
                // theirs or the business's.
                Some("history") => {
                    for h in value["history"].as_array().into_iter().flatten() {
                        if h.get("errors").is_some() {
                            events.push(unsupported("history not shared", h));
                        }
                        for thread in h["threads"].as_array().into_iter().flatten() {
                            events
                                .extend(each(thread, "history thread", || super::coexistence::history(thread, value)));
                        }
                    }
                }
                // Coexistence: what the business did in the WhatsApp Business app.
                Some("smb_message_echoes") => {
                    for m in value["message_echoes"].as_array().into_iter().flatten() {
                        events.extend(each(m, "message echo", || super::coexistence::echo(m, value)));
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

pub(super) fn unsupported(what: &str, raw: &Value) -> InboundEvent {
    InboundEvent::Unsupported { channel: ChannelKind::WhatsApp, what: what.into(), raw: raw.to_string() }
}

/// Unix seconds as WhatsApp writes them (a string, or a number) to milliseconds.
fn millis(v: &Value) -> Millis {
    let secs = v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())).unwrap_or(0);
    // Saturating: an absurd value stays absurd (and is replaced at ingest) instead of
    // overflowing.
    secs.saturating_mul(1000)
}

/// The customer `id` names: a phone number (`wa_id`) or, for a customer who hides it
/// behind a username, the business-scoped user id (BSUID). Their profile is matched by
/// either, never by position.
fn peer(id: &str, value: &Value) -> Peer {
    let profile = value["contacts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["wa_id"] == id || c["user_id"] == id)
        .map(|c| &c["profile"]);
    let username = profile.and_then(|p| p["username"].as_str()).map(str::to_string);
    let name = profile.and_then(|p| p["name"].as_str()).map(str::to_string).unwrap_or_else(|| match &username {
        Some(u) => u.clone(),
        None if id.bytes().all(|b| b.is_ascii_digit()) => format!("+{id}"),
        None => id.to_string(),
    });
    Peer { external_id: id.into(), display_name: name, username, locale: None }
}

/// The sender's number as WhatsApp vouches for it: the `wa_id` they write from (their
/// id, or the one their profile gives beside a BSUID).
fn vouched_phone(id: &str, value: &Value) -> Option<String> {
    let wa_id = if id.bytes().all(|b| b.is_ascii_digit()) {
        Some(id)
    } else {
        value["contacts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["user_id"] == id)
            .and_then(|c| c["wa_id"].as_str())
    };
    wa_id.and_then(crate::model::phone::from_platform_digits)
}

/// Who sent a message: the phone number, or only the BSUID when the number is hidden.
fn sender(m: &Value) -> Option<&str> {
    m["from"].as_str().filter(|f| !f.is_empty()).or(m["from_user_id"].as_str().filter(|f| !f.is_empty()))
}

fn chat(peer: &Peer) -> ChatRef {
    ChatRef {
        channel: ChannelKind::WhatsApp,
        external_chat_id: peer.external_id.clone(),
        is_group: false,
        title: peer.display_name.clone(),
    }
}

pub(super) fn message(m: &Value, value: &Value) -> Vec<InboundEvent> {
    let (Some(from), Some(id)) = (sender(m), m["id"].as_str()) else {
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
        msg.shared_phone = vouched_phone(&from.external_id, value);
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
            let line = crate::channels::location_line(
                crate::channels::number(&l["latitude"]),
                crate::channels::number(&l["longitude"]),
                &place,
            );
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
            match i["type"].as_str() {
                Some(t @ ("button_reply" | "list_reply")) => {
                    let reply = &i[t];
                    let data = reply["id"].as_str().unwrap_or("");
                    vec![InboundEvent::Click(click(data, reply["title"].as_str().unwrap_or(data)))]
                }
                // The customer answered our request to call them: a press on it.
                Some("call_permission_reply") => {
                    let r = &i["call_permission_reply"];
                    let answer = r["response"].as_str().unwrap_or("answered");
                    let until = r["expiration_timestamp"].as_i64().and_then(|t| chrono::DateTime::from_timestamp(t, 0));
                    let label = match until {
                        Some(until) if answer == "accept" => {
                            format!("call permission: accept (until {})", until.format("%Y-%m-%d %H:%M UTC"))
                        }
                        _ => format!("call permission: {answer}"),
                    };
                    vec![InboundEvent::Click(click(&format!("call_permission:{answer}"), &label))]
                }
                // A WhatsApp Flow the customer filled in: their answers are the message.
                Some("nfm_reply") => {
                    let r = &i["nfm_reply"];
                    let (line, answers) = flow_reply(r);
                    vec![InboundEvent::Message(text_message("flow_reply", line, Some(answers)))]
                }
                // No content (WhatsApp says why in the body's `errors`), or a kind of
                // reply newer than this code: the customer did send something.
                _ => vec![InboundEvent::Message(placeholder(m, value, text_message))],
            }
        }
        "order" => {
            let o = &m["order"];
            vec![InboundEvent::Message(text_message("order", order_line(o), Some(o.clone())))]
        }
        "request_welcome" => {
            let mut opened = text_message("system", "opened the chat".into(), None);
            opened.external_id = format!("open:{id}");
            vec![InboundEvent::Opened(opened)]
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
        // `unknown` is the older name; either may say why in `errors`. A type newer
        // than this code is shown the same way, with the raw message kept.
        _ => vec![InboundEvent::Message(placeholder(m, value, text_message))],
    }
}

/// A row for a message whose content cannot be shown: what WhatsApp said about it (the
/// message's or the body's `errors`), and the raw message kept for later.
fn placeholder(
    m: &Value,
    value: &Value,
    make: impl Fn(&str, String, Option<Value>) -> InboundMessage,
) -> InboundMessage {
    let errors = m.get("errors").or(value.get("errors")).cloned();
    let e = errors.as_ref().map(|e| &e[0]).unwrap_or(&Value::Null);
    let detail = e["error_data"]["details"].as_str().map(|d| format!(", {d}")).unwrap_or_default();
    let why = match (e["title"].as_str(), e["code"].as_i64()) {
        (Some(title), Some(code)) => format!(": {title} ({code}{detail})"),
        (Some(title), None) => format!(": {title}"),
        (None, Some(code)) => format!(": error {code}"),
        (None, None) => String::new(),
    };
    let line = match m["type"].as_str() {
        Some("unsupported" | "unknown") | None => {
            format!("[a kind of message WhatsApp does not pass to businesses{why}]")
        }
        Some(kind) => format!("[a WhatsApp message switchboard cannot show ({kind}){why}]"),
    };
    make("unsupported", line, Some(json!({ "errors": errors, "raw": m })))
}

/// A filled-in Flow: its name and each answer as `field: value` (the flow token, which
/// only matches the answer to our send, is kept but not shown).
fn flow_reply(r: &Value) -> (String, Value) {
    let answers: Value = r["response_json"].as_str().and_then(|j| serde_json::from_str(j).ok()).unwrap_or(Value::Null);
    let fields: Vec<String> = answers
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| *k != "flow_token")
        .map(|(k, v)| format!("{}: {}", k.replace('_', " "), v.as_str().map(str::to_string).unwrap_or(v.to_string())))
        .collect();
    let name = r["name"].as_str().filter(|n| *n != "flow").map(|n| format!(" “{n}”")).unwrap_or_default();
    let mut line = format!("[form{name} filled in]");
    for f in &fields {
        line.push('\n');
        line.push_str(f);
    }
    (line, json!({ "name": r["name"], "body": r["body"], "answers": answers }))
}

/// A cart sent from the catalog: each item with its quantity and price, and the total.
fn order_line(o: &Value) -> String {
    let items = o["product_items"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut total = 0.0;
    let mut currency = None;
    let lines: Vec<String> = items
        .iter()
        .map(|item| {
            let name = item["product_retailer_id"].as_str().unwrap_or("an item");
            let qty = crate::channels::number(&item["quantity"]).unwrap_or(1.0);
            let price = crate::channels::number(&item["item_price"]);
            let cur = item["currency"].as_str().unwrap_or("");
            if let Some(p) = price {
                total += p * qty;
                currency.get_or_insert(cur);
            }
            match price {
                Some(p) => format!("{qty} × {name} at {p} {cur}"),
                None => format!("{qty} × {name}"),
            }
        })
        .collect();
    let mut line = format!("[order of {} item(s)", items.len());
    if let Some(cur) = currency {
        line.push_str(&format!(", {} {cur}", (total * 100.0).round() / 100.0));
    }
    line.push(']');
    for l in lines {
        line.push('\n');
        line.push_str(&l);
    }
    if let Some(note) = o["text"].as_str().filter(|t| !t.trim().is_empty()) {
        line.push('\n');
        line.push_str(note);
    }
    line
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
    let recipient = s["recipient_id"].as_str().or(s["recipient_user_id"].as_str());
    let (Some(id), Some(recipient)) = (s["id"].as_str(), recipient) else {
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
    let Some(wa_id) = p["wa_id"].as_str().or(p["user_id"].as_str()) else {
        // Without a customer the change cannot be put in anyone's ledger: logged.
        return Some(unsupported("user_preferences without wa_id", p));
    };
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
