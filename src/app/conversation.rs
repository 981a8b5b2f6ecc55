//! The conversation view's part of `update`: scrolling through a history that is loaded
//! a window at a time, loading the next page before the agent reaches the edge, and
//! dropping the far end so memory stays bounded however long the history is.

use super::action::{Effect, MessageRequest};
use super::state::{AppState, MESSAGE_PAGE, MESSAGE_WINDOW, Scroll};
use super::update::notify;
use crate::keymap::Command;
use crate::model::ConversationId;
use crate::store::{MessageKey, MessageRow};

/// Start loading when the view is this close to either end of the window.
const MARGIN: usize = 30;

fn page_step(s: &AppState) -> usize {
    (s.size.1 as usize / 4).max(1)
}

pub fn scroll(s: &mut AppState, command: Command) -> Vec<Effect> {
    let step = page_step(s);
    let Some(view) = &mut s.open else { return Vec::new() };
    let len = view.messages.len();
    if len == 0 {
        return Vec::new();
    }
    let last = len - 1;
    let up = |i: usize, n: usize| i.saturating_sub(n);
    let down = |i: usize, n: usize| (i + n).min(last);
    view.scroll = match (command, view.scroll) {
        (Command::Up, Scroll::Follow) => Scroll::Bottom(up(last, 1)),
        (Command::Up, Scroll::Bottom(i)) => Scroll::Bottom(up(i, 1)),
        (Command::Up, Scroll::Top(i)) => Scroll::Top(up(i, 1)),
        (Command::PageUp, Scroll::Follow) => Scroll::Bottom(up(last, step)),
        (Command::PageUp, Scroll::Bottom(i)) => Scroll::Bottom(up(i, step)),
        (Command::PageUp, Scroll::Top(i)) => Scroll::Top(up(i, step)),
        (Command::Down | Command::PageDown, Scroll::Follow) => Scroll::Follow,
        (Command::Down, Scroll::Bottom(i)) => Scroll::Bottom(down(i, 1)),
        (Command::PageDown, Scroll::Bottom(i)) => Scroll::Bottom(down(i, step)),
        (Command::Down, Scroll::Top(i)) => Scroll::Top(down(i, 1)),
        (Command::PageDown, Scroll::Top(i)) => Scroll::Top(down(i, step)),
        (Command::Top, _) => {
            if view.at_oldest {
                Scroll::Top(0)
            } else {
                view.loading = true;
                return vec![Effect::LoadMessages {
                    conversation: view.id(),
                    request: MessageRequest::Oldest { limit: MESSAGE_PAGE },
                }];
            }
        }
        (Command::Bottom, _) => {
            view.scroll = Scroll::Follow;
            if view.at_newest {
                return Vec::new();
            }
            view.loading = true;
            return vec![Effect::LoadMessages {
                conversation: view.id(),
                request: MessageRequest::Latest { limit: MESSAGE_PAGE },
            }];
        }
        (_, current) => current,
    };
    // Reaching the newest message again means following new ones.
    if view.at_newest && view.scroll == Scroll::Bottom(last) {
        view.scroll = Scroll::Follow;
    }
    edge_loads(s)
}

/// Asks for the next page when the view is near an end of the loaded window.
fn edge_loads(s: &mut AppState) -> Vec<Effect> {
    let Some(view) = &mut s.open else { return Vec::new() };
    if view.loading || view.messages.is_empty() {
        return Vec::new();
    }
    let position = match view.scroll {
        Scroll::Follow => return Vec::new(),
        Scroll::Bottom(i) | Scroll::Top(i) => i,
    };
    let request = if position < MARGIN && !view.at_oldest {
        MessageRequest::Older { before: view.messages[0].key(), limit: MESSAGE_PAGE }
    } else if position + MARGIN >= view.messages.len() && !view.at_newest {
        MessageRequest::Newer { after: view.messages[view.messages.len() - 1].key(), limit: MESSAGE_PAGE }
    } else {
        return Vec::new();
    };
    view.loading = true;
    vec![Effect::LoadMessages { conversation: view.id(), request }]
}

/// The store changed: load what the view shows again.
pub fn refresh(s: &mut AppState) -> Vec<Effect> {
    let Some(view) = &s.open else { return Vec::new() };
    let conversation = view.id();
    match (view.scroll, view.messages.first(), view.messages.last()) {
        // Opened from a search and not loaded yet: around the match again, not the end.
        (_, None, _) if view.found.is_some() => {
            let at = view.found.as_ref().map(|f| f.at).expect("found");
            vec![Effect::LoadMessages { conversation, request: MessageRequest::Around { at, limit: MESSAGE_PAGE / 2 } }]
        }
        (Scroll::Follow, ..) | (_, None, _) | (_, _, None) => {
            let limit = view.messages.len().clamp(MESSAGE_PAGE, MESSAGE_WINDOW);
            vec![Effect::LoadMessages { conversation, request: MessageRequest::Latest { limit } }]
        }
        (_, Some(first), Some(last)) => {
            let mut effects = vec![Effect::LoadMessages {
                conversation,
                request: MessageRequest::Refresh { from: first.key(), to: last.key() },
            }];
            if view.at_newest {
                effects.push(Effect::LoadMessages {
                    conversation,
                    request: MessageRequest::Newer { after: last.key(), limit: MESSAGE_PAGE },
                });
            }
            effects
        }
    }
}

fn first_key(messages: &[MessageRow]) -> Option<MessageKey> {
    messages.first().map(MessageRow::key)
}

fn last_key(messages: &[MessageRow]) -> Option<MessageKey> {
    messages.last().map(MessageRow::key)
}

pub fn loaded(s: &mut AppState, id: ConversationId, request: MessageRequest, rows: Vec<MessageRow>) {
    let Some(view) = &mut s.open else { return };
    if view.id() != id {
        return;
    }
    view.loading = false;
    let n = rows.len();
    match request {
        MessageRequest::Latest { limit } => {
            view.messages = rows;
            view.at_newest = true;
            view.at_oldest = n < limit;
            view.scroll = Scroll::Follow;
        }
        MessageRequest::Oldest { limit } => {
            view.messages = rows;
            view.at_oldest = true;
            view.at_newest = n < limit;
            view.scroll = Scroll::Top(0);
        }
        MessageRequest::Older { before, limit } => {
            if first_key(&view.messages) != Some(before) {
                return;
            }
            view.at_oldest = n < limit;
            view.messages.splice(0..0, rows);
            view.scroll = match view.scroll {
                Scroll::Bottom(i) => Scroll::Bottom(i + n),
                Scroll::Top(i) => Scroll::Top(i + n),
                Scroll::Follow => Scroll::Follow,
            };
            if view.messages.len() > MESSAGE_WINDOW {
                view.messages.truncate(MESSAGE_WINDOW);
                view.at_newest = false;
            }
        }
        MessageRequest::Newer { after, limit } => {
            if last_key(&view.messages) != Some(after) {
                return;
            }
            view.at_newest = n < limit;
            view.messages.extend(rows);
            let excess = view.messages.len().saturating_sub(MESSAGE_WINDOW);
            if excess > 0 {
                view.messages.drain(..excess);
                view.at_oldest = false;
                view.scroll = match view.scroll {
                    Scroll::Bottom(i) => Scroll::Bottom(i.saturating_sub(excess)),
                    Scroll::Top(i) => Scroll::Top(i.saturating_sub(excess)),
                    Scroll::Follow => Scroll::Follow,
                };
            }
        }
        MessageRequest::Around { at, limit } => {
            let position = rows.iter().position(|m| m.key() == at);
            view.at_oldest = position.is_some_and(|p| p < limit);
            view.at_newest = position.is_some_and(|p| n - p < limit);
            view.messages = rows;
            // The match near the top, with the message before it for context.
            view.scroll = match position {
                Some(p) => Scroll::Top(p.saturating_sub(1)),
                None => Scroll::Follow,
            };
        }
        MessageRequest::Refresh { from, to } => {
            if first_key(&view.messages) != Some(from) || last_key(&view.messages) != Some(to) {
                return;
            }
            // Keep the same message at the edge of the view even if the count changed.
            let pinned = match view.scroll {
                Scroll::Bottom(i) | Scroll::Top(i) => view.messages.get(i).map(|m| m.id),
                Scroll::Follow => None,
            };
            view.messages = rows;
            if let Some(pinned) = pinned
                && let Some(i) = view.messages.iter().position(|m| m.id == pinned)
            {
                view.scroll = match view.scroll {
                    Scroll::Top(_) => Scroll::Top(i),
                    _ => Scroll::Bottom(i),
                };
            }
        }
    }
    let last = view.messages.len().saturating_sub(1);
    view.scroll = match view.scroll {
        Scroll::Bottom(i) => Scroll::Bottom(i.min(last)),
        Scroll::Top(i) => Scroll::Top(i.min(last)),
        Scroll::Follow => Scroll::Follow,
    };
}

/// `n` / `N` in a conversation opened from a search: the next or previous message with
/// the search's words, wherever it is in the history.
pub fn next_match(s: &mut AppState, forward: bool) -> Vec<Effect> {
    let Some(view) = &s.open else { return Vec::new() };
    let Some(found) = &view.found else {
        notify(s, "no search here: / finds messages".into(), false);
        return Vec::new();
    };
    vec![Effect::FindMatch { conversation: view.id(), query: found.query.clone(), from: found.at, forward }]
}

/// Goes to the match found by `next_match`: in the loaded window when it is there, else
/// loads the history around it.
pub fn matched(
    s: &mut AppState,
    id: ConversationId,
    query: &str,
    forward: bool,
    result: Result<Option<MessageKey>, String>,
) -> Vec<Effect> {
    let at = match result {
        Ok(Some(at)) => at,
        Ok(None) => {
            let which = if forward { "no later match" } else { "no earlier match" };
            notify(s, which.into(), false);
            return Vec::new();
        }
        Err(e) => {
            notify(s, format!("search failed: {e}"), true);
            return Vec::new();
        }
    };
    let Some(view) = &mut s.open else { return Vec::new() };
    let Some(found) = view.found.as_mut().filter(|f| view.row.id == id && f.query == query) else {
        return Vec::new();
    };
    found.at = at;
    if let Some(i) = view.messages.iter().position(|m| m.key() == at) {
        view.scroll = Scroll::Top(i.saturating_sub(1));
        return edge_loads(s);
    }
    view.loading = true;
    vec![Effect::LoadMessages { conversation: id, request: MessageRequest::Around { at, limit: MESSAGE_PAGE / 2 } }]
}

/// This agent's newest reply in the loaded history that can still be changed: sent,
/// with its platform id, not deleted.
fn last_own_reply(s: &AppState) -> Option<&MessageRow> {
    let view = s.open.as_ref()?;
    view.messages.iter().rev().find(|m| {
        m.direction == crate::model::Direction::Out
            && m.kind != "note"
            && m.deleted_at.is_none()
            && m.external_id.is_some()
            && m.author.as_deref() == Some(s.agent.as_str())
    })
}

/// Puts this agent's last reply in the composer to edit (Telegram only).
pub fn edit_last(s: &mut AppState) -> Vec<Effect> {
    let Some(view) = &s.open else { return Vec::new() };
    if !view.row.channel.rules().can_change_sent {
        let name = view.row.channel.display_name();
        notify(s, format!("{name} does not let a business edit a sent message"), true);
        return Vec::new();
    }
    let Some(m) = last_own_reply(s) else {
        notify(s, "no reply of yours here to edit".into(), true);
        return Vec::new();
    };
    if m.kind != "text" {
        notify(s, "only a text message can be edited".into(), true);
        return Vec::new();
    }
    let (id, body) = (m.id, m.body.clone());
    let kept = s.mode.kept().map(str::to_string).unwrap_or_else(|| s.composer_text());
    s.mode = super::state::ComposerMode::Edit(id, kept);
    s.reset_composer();
    s.composer.insert_str(&body);
    super::update::set_focus(s, super::state::Focus::Composer)
}

/// Deletes this agent's last reply for the customer too (Telegram only, within 48
/// hours), after a second press.
pub fn delete_last(s: &mut AppState) -> Vec<Effect> {
    let Some(view) = &s.open else { return Vec::new() };
    if !view.row.channel.rules().can_change_sent {
        let name = view.row.channel.display_name();
        notify(s, format!("{name} does not let a business delete a sent message"), true);
        return Vec::new();
    }
    let Some(m) = last_own_reply(s) else {
        notify(s, "no reply of yours here to delete".into(), true);
        return Vec::new();
    };
    let (id, sent_at) = (m.id, m.sent_at);
    let preview: String = crate::text::sanitize(&m.body, false).chars().take(30).collect();
    if s.now - sent_at > crate::store::DELETE_WITHIN {
        notify(s, "Telegram lets a bot delete a message for 48 hours only".into(), true);
        return Vec::new();
    }
    if s.delete_armed != Some(id) {
        s.delete_armed = Some(id);
        let again = s.key_hint(crate::keymap::Context::Conversation, Command::DeleteMessage);
        notify(s, format!("{again} again deletes it for the customer too: \"{preview}\""), true);
        return Vec::new();
    }
    s.delete_armed = None;
    notify(s, "deleting…".into(), false);
    vec![Effect::ChangeMessage { message: id, change: crate::store::Change::Delete }]
}
