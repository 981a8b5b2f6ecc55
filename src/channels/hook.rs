//! What a channel does with a call to its webhook route, asked of `Channel` so that one
//! route serves every channel that takes pushed updates: who may call (checked from the
//! headers before a byte of the body is read, then over the exact bytes), what the body
//! says, Meta-style handshakes, and what to do once the events are stored (answer the
//! presses, welcome a customer who opened the chat).

use std::collections::HashMap;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::Channel;
use crate::model::{InboundEvent, Millis};
use crate::store::SharedStore;

/// A call to the webhook route, as far as the headers and the query go.
pub struct Call<'a> {
    pub headers: &'a HeaderMap,
    pub query: &'a HashMap<String, String>,
}

impl Call<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A call refused: the HTTP status to answer, the text to answer with, and what to log
/// (never a secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub answer: &'static str,
    pub log: &'static str,
}

impl Refused {
    pub const BAD_SIGNATURE: Refused =
        Refused { status: 401, answer: "bad signature\n", log: "webhook call with a bad or missing signature" };
}

impl Channel {
    /// Whether this channel takes pushed updates at `/webhook/<channel>`.
    pub fn takes_webhooks(&self) -> bool {
        match self {
            Channel::Telegram(tg) => tg.uses_webhook(),
            Channel::WhatsApp(_) | Channel::Viber(_) => true,
            Channel::Vk(vk) => vk.uses_callback(),
        }
    }

    /// Checks what can be checked before the body is read: a call without the secret
    /// or signature is refused without reading it.
    pub fn admit(&self, call: &Call<'_>) -> Result<(), Refused> {
        match self {
            Channel::Telegram(tg) => tg.admit(call),
            Channel::WhatsApp(wa) => wa.signature_of(call).map(|_| ()).ok_or(Refused::BAD_SIGNATURE),
            Channel::Viber(vb) => vb.signature_of(call).map(|_| ()).ok_or(Refused::BAD_SIGNATURE),
            Channel::Vk(vk) => vk.admit(call),
        }
    }

    /// Checks the call's signature over the exact bytes received (platforms sign their
    /// own escapes: re-serialised JSON would not match).
    pub fn verify(&self, call: &Call<'_>, body: &[u8]) -> Result<(), Refused> {
        let ok = match self {
            // The secret token in the headers was the whole check.
            Channel::Telegram(_) => true,
            Channel::WhatsApp(wa) => wa.verify(body, wa.signature_of(call)),
            Channel::Viber(vb) => vb.verify(body, vb.signature_of(call)),
            // VK's secret is a field of the body.
            Channel::Vk(vk) => return vk.verify(body),
        };
        ok.then_some(()).ok_or(Refused::BAD_SIGNATURE)
    }

    /// An answer due before anything is stored: VK's server confirmation, answered with
    /// the configured string.
    pub fn early_answer(&self, body: &[u8]) -> Option<String> {
        match self {
            Channel::Vk(vk) => vk.confirmation(body),
            _ => None,
        }
    }

    /// Fills in what the events lack and only the platform can say (VK's names).
    pub async fn complete(&self, events: &mut [InboundEvent]) {
        if let Channel::Vk(vk) = self {
            vk.name(events).await;
        }
    }

    /// The events in a webhook body received at `now`; an error says why the body is
    /// not this platform's.
    pub fn decode_webhook(&self, body: &[u8], now: Millis) -> Result<Vec<InboundEvent>, String> {
        let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        match self {
            Channel::Telegram(tg) => {
                if !value.is_object() {
                    return Err("not a JSON object".into());
                }
                let mut events = tg.decode(&value);
                super::telegram::refine_times(&mut events, now);
                Ok(events)
            }
            Channel::WhatsApp(_) => super::whatsapp::decode::decode(&value),
            Channel::Viber(_) => super::viber::decode::decode(&value),
            Channel::Vk(_) => super::vk::decode::decode(&value),
        }
    }

    /// The answer to a GET on the route, for platforms that check the URL that way
    /// (Meta's verify-token handshake). None: the channel has none.
    pub fn handshake(&self, call: &Call<'_>) -> Option<Result<String, Refused>> {
        match self {
            Channel::WhatsApp(wa) => {
                let get = |k: &str| call.query.get(k).map(String::as_str);
                Some(
                    wa.handshake(get("hub.mode"), get("hub.verify_token"), get("hub.challenge"))
                        .map(str::to_string)
                        .ok_or(Refused {
                            status: 403,
                            answer: "Forbidden",
                            log: "webhook handshake with a wrong verify token",
                        }),
                )
            }
            Channel::Telegram(_) | Channel::Viber(_) | Channel::Vk(_) => None,
        }
    }

    /// What to do once `events` are stored: answer the presses among them, welcome a
    /// customer who opened the chat. Returns the answer's body when the platform wants a
    /// particular one (Viber sends the welcome it finds there; VK wants `ok`).
    pub async fn after_stored(&self, events: &[InboundEvent], store: &SharedStore) -> Option<Answer> {
        match self {
            Channel::Telegram(tg) => {
                tg.answer_presses(events);
                None
            }
            Channel::WhatsApp(wa) => {
                wa.welcome(events, store).await;
                None
            }
            Channel::Viber(vb) => vb.welcome(events, store).await.map(Answer::Json),
            Channel::Vk(vk) => {
                vk.answer_presses(events);
                Some(Answer::Text("ok"))
            }
        }
    }
}

/// The body of a webhook's answer, when the platform wants a particular one.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Json(Value),
    Text(&'static str),
}

/// The chats whose customer just opened them.
pub fn opened(events: &[InboundEvent]) -> impl Iterator<Item = &str> {
    events.iter().filter_map(|e| match e {
        InboundEvent::Opened(m) => Some(m.chat.external_chat_id.as_str()),
        _ => None,
    })
}
