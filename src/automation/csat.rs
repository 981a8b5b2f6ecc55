//! The satisfaction survey on resolve: for each conversation resolved since the last
//! look, "How did we do?" with five buttons, unless the contact was asked within the
//! configured days, it is a group, nothing reaches the customer, or (WhatsApp) the
//! window has closed and no template is configured; each skip is logged with its reason.

use super::CsatConfig;
use crate::model::{Button, ChannelKind, Millis, Outgoing};
use crate::store::{Resolved, Store, StoreError};

/// The scale's buttons: what the customer sees, and the data a press brings back.
pub const SCALE: [(&str, &str); 5] =
    [("1 😠", "csat:1"), ("2 🙁", "csat:2"), ("3 😐", "csat:3"), ("4 🙂", "csat:4"), ("5 😍", "csat:5")];

const DAY: Millis = 24 * 3_600_000;

pub(super) fn ask(store: &mut Store, config: &CsatConfig, now: Millis) -> Result<(), StoreError> {
    for resolved in store.csat_resolved(now)? {
        if resolved.is_group {
            continue;
        }
        if resolved.contact_last_asked.is_some_and(|t| now - t < config.every_days as Millis * DAY) {
            continue;
        }
        let survey = survey(config, &resolved, now);
        store.csat_ask(&resolved, survey.as_ref().map_err(String::as_str), now)?;
    }
    Ok(())
}

/// The survey for this customer on their channel, or why there is none.
fn survey(config: &CsatConfig, r: &Resolved, now: Millis) -> Result<Outgoing, String> {
    let rules = r.channel.rules();
    if r.blocked {
        return Err(format!("not sent: the customer cannot be written to on {} now", rules.name));
    }
    let window_closed = rules.reply_window.is_some_and(|w| r.last_inbound_at.is_none_or(|t| now - t >= w));
    if window_closed {
        return match (&config.whatsapp_template, r.channel) {
            (Some(call), ChannelKind::WhatsApp) => Ok(Outgoing {
                kind: "template".into(),
                text: format!("[template {}]", call.name),
                attachment: Some(serde_json::to_string(call).unwrap_or_default()),
                buttons: Vec::new(),
            }),
            _ => Err(format!(
                "not sent: the {} window has closed and [automation.csat] whatsapp_template is not set",
                rules.name
            )),
        };
    }
    let row: Vec<Button> = SCALE
        .iter()
        .map(|(text, data)| Button { text: (*text).into(), url: None, callback_data: Some((*data).into()) })
        .collect();
    let out = Outgoing { kind: "text".into(), text: config.question.clone(), attachment: None, buttons: vec![row] };
    out.check(r.channel)?;
    Ok(out)
}
