//! What Enter in the composer does: a reply, a private note, a template's parameters or
//! an edit, each checked before anything is queued (someone else's newer reply asks
//! first; a blocked customer, a closed window or an over-long text is refused with the
//! text kept).

use super::action::Effect;
use super::state::{AppState, ComposerMode};
use super::update::notify;
use crate::keymap::{Command, Context};
use crate::model::Outgoing;

pub fn send(s: &mut AppState) -> Vec<Effect> {
    let text = s.composer_text();
    let Some(open) = &s.open else {
        notify(s, "open a conversation first".into(), true);
        return Vec::new();
    };
    // Someone else replied (or left a note) since this agent opened the conversation:
    // say so before sending, as Help Scout's Traffic Cop does; Enter again sends. What
    // the engine wrote (the bot, a welcome, training's notes) is nobody's reply.
    let newer = open.messages.iter().rev().find(|m| {
        m.direction == crate::model::Direction::Out
            && m.sent_at > open.opened_at
            && m.author.as_deref().is_some_and(|a| a != s.agent && !crate::store::is_machine(a))
    });
    if let Some(m) = newer
        && !s.send_armed
        && !text.trim().is_empty()
    {
        let who = crate::text::sanitize(m.author.as_deref().unwrap_or("someone"), false);
        let what = if m.kind == "note" { "left a note" } else { "replied" };
        let again = s.key_hint(Context::Composer, Command::Send);
        s.send_armed = true;
        notify(s, format!("{who} {what} after you opened this: read it, or {again} again to send anyway"), true);
        return Vec::new();
    }
    s.send_armed = false;
    if let ComposerMode::CannedBody(canned, kept) = s.mode.clone() {
        // A canned reply's text is saved for the team, never sent.
        let body = text.trim_end().to_string();
        s.mode = ComposerMode::Reply;
        s.reset_composer();
        s.composer.insert_str(kept);
        return vec![Effect::SaveCanned(crate::store::Canned { body, ..canned })];
    }
    if let ComposerMode::Edit(message, kept) = s.mode.clone() {
        if text.trim().is_empty() {
            let delete = s.key_hint(Context::Conversation, Command::DeleteMessage);
            notify(s, format!("an edit needs text; {delete} deletes the message instead"), true);
            return Vec::new();
        }
        if let Err(reason) = Outgoing::text(text.trim_end()).check(open.row.channel) {
            notify(s, format!("not edited: {reason}"), true);
            return Vec::new();
        }
        s.mode = ComposerMode::Reply;
        s.reset_composer();
        s.composer.insert_str(kept);
        let change = crate::store::Change::Edit(text.trim_end().to_string());
        return vec![Effect::ChangeMessage { message, change }];
    }
    if s.mode == ComposerMode::Note {
        let conversation = open.id();
        if text.trim().is_empty() {
            return Vec::new();
        }
        s.mode = ComposerMode::Reply;
        follow(s);
        s.reset_composer();
        return vec![Effect::AddNote { conversation, text: text.trim_end().to_string(), author: s.agent.clone() }];
    }
    let conversation = open.id();
    if let Some(why) = blocked(&open.row) {
        notify(s, format!("not sent: {why}"), true);
        return Vec::new();
    }
    if let ComposerMode::Template(template, kept) = s.mode.clone() {
        let params: Vec<String> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
        if params.len() != template.parameters() {
            let message = format!(
                "not sent: `{}` takes {} parameters, one per line; there are {}",
                template.name,
                template.parameters(),
                params.len()
            );
            notify(s, message, true);
            return Vec::new();
        }
        let outgoing = template.outgoing(params);
        s.mode = ComposerMode::Reply;
        follow(s);
        s.reset_composer();
        s.composer.insert_str(kept);
        return vec![Effect::EnqueueOutgoing { conversation, outgoing, author: s.agent.clone() }];
    }
    if text.trim().is_empty() {
        return Vec::new();
    }
    // Refused here, with the text kept, rather than failing after it was queued.
    if let Some(why) = refusal(s, text.trim_end()) {
        notify(s, format!("not sent: {why}"), true);
        return Vec::new();
    }
    if !super::spell::before_send(s, text.trim_end()) {
        return Vec::new();
    }
    follow(s);
    s.reset_composer();
    vec![Effect::Enqueue { conversation, text: text.trim_end().to_string(), author: s.agent.clone() }]
}

/// Why a text reply cannot reach the open conversation's customer now, if it cannot:
/// they blocked or left, the 24-hour window closed, or the text breaks the channel's
/// limits.
pub fn refusal(s: &AppState, text: &str) -> Option<String> {
    let open = s.open.as_ref()?;
    unreachable(s).or_else(|| Outgoing::text(text).check(open.row.channel).err().map(|e| e.to_string()))
}

/// Why nothing free-form (a text, a file) reaches the open conversation's customer now,
/// if so: they blocked or left, or the 24-hour window closed.
pub fn unreachable(s: &AppState) -> Option<String> {
    let open = s.open.as_ref()?;
    if let Some(why) = blocked(&open.row) {
        return Some(why);
    }
    let (false, closed) = s.window()? else { return None };
    let key = s.key_hint(Context::Composer, Command::Template);
    let ago = crate::ui::time::relative(s.now, closed, s.tz);
    Some(format!(
        "the 24-hour window closed {} ago; only an approved template reaches them now ({key} to choose one)",
        ago.trim_end_matches(" ago")
    ))
}

/// Why nothing reaches this customer on their channel until they write again, if so.
fn blocked(row: &crate::store::ConversationRow) -> Option<String> {
    let rules = row.channel.rules();
    let what = match rules.access {
        _ if row.blocked_at.is_none() => None,
        crate::model::Access::Subscribers => Some("unsubscribed"),
        crate::model::Access::Permission => Some("denied messages from the community"),
        crate::model::Access::UntilBlocked => None,
    }?;
    Some(format!("the customer {what}; {} delivers nothing until they write again", rules.name))
}

/// After sending, the view follows the newest messages again.
fn follow(s: &mut AppState) {
    if let Some(open) = &mut s.open {
        open.scroll = super::state::Scroll::Follow;
    }
}
