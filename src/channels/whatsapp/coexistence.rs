//! Coexistence: what the business does in the WhatsApp Business app on the number the
//! API also serves. Messages it sends, edits or deletes there come back as echoes
//! (`smb_message_echoes`), and its past chats as `history`; both are stored as ours, by
//! "business app", in the customer's conversation.

use serde_json::{Value, json};

use super::decode::{message, unsupported};
use crate::model::InboundEvent;

/// One customer's thread of the shared chat history: their messages as theirs, the
/// business's as ours (sent from the app), each stored once however often it is shared.
pub(super) fn history(thread: &Value, value: &Value) -> Vec<InboundEvent> {
    let Some(customer) = thread["id"].as_str() else { return vec![unsupported("history thread without id", thread)] };
    let mut events = Vec::new();
    for m in thread["messages"].as_array().into_iter().flatten() {
        if m["from"].as_str().map(digits) == Some(digits(customer)) {
            events.extend(message(m, value));
        } else {
            let mut ours = m.clone();
            ours["to"] = json!(customer);
            events.extend(echo(&ours, value));
        }
    }
    events
}

/// A message the business sent, edited or deleted in the WhatsApp Business app. The
/// customer is the party that is not the business's own number (`to`, as a rule).
pub(super) fn echo(m: &Value, value: &Value) -> Vec<InboundEvent> {
    let business = value["metadata"]["display_phone_number"].as_str().map(digits).unwrap_or_default();
    let ours = |id: &&str| !business.is_empty() && digits(id) == business;
    let Some(customer) = ["to", "to_user_id", "from"]
        .into_iter()
        .filter_map(|k| m[k].as_str().filter(|id| !id.is_empty()))
        .find(|id| !ours(id))
    else {
        return vec![unsupported("message echo without a customer", m)];
    };
    let mut inner = m.clone();
    inner["from"] = json!(customer);
    let deleted = m["type"] == "revoke";
    message(&inner, value)
        .into_iter()
        .map(|event| match event {
            InboundEvent::Message(mut message) if deleted => {
                message.text = "deleted this message in the WhatsApp Business app".into();
                InboundEvent::Echo { message, edited_at: None, author: ECHO_AUTHOR.into() }
            }
            InboundEvent::Message(message) => {
                InboundEvent::Echo { message, edited_at: None, author: ECHO_AUTHOR.into() }
            }
            InboundEvent::Edited { message, edited_at } => {
                InboundEvent::Echo { message, edited_at: Some(edited_at), author: ECHO_AUTHOR.into() }
            }
            other => other,
        })
        .collect()
}

/// Who the store names as the author of what the business did in its app.
const ECHO_AUTHOR: &str = "business app";

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}
