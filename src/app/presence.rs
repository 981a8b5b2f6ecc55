//! Agents on one store see each other: each console tells the store, by a heartbeat,
//! which conversation it has open and whether its agent is typing, and learns who else
//! has the same one open and which notes mention its agent.

use super::action::Effect;
use super::state::{AppState, Focus};
use super::update::notify;
use crate::model::{ConversationId, Millis};
use crate::store::Mention;

pub use crate::store::PRESENCE_FRESH;

/// Between two heartbeats.
const BEAT: Millis = 2_000;

/// Tells the store where this console is, at most every two seconds (opening a
/// conversation makes the next tick beat at once).
pub fn heartbeat(s: &mut AppState) -> Vec<Effect> {
    if s.now - s.last_beat < BEAT {
        return Vec::new();
    }
    s.last_beat = s.now;
    let typing = s.focus == Focus::Composer && !s.composer.is_empty();
    vec![Effect::Heartbeat {
        console: s.console_id.clone(),
        agent: s.agent.clone(),
        conversation: s.open_id(),
        typing,
        mentions_since: s.mentions_since,
    }]
}

/// Who else has `conversation` open, for its title.
pub fn others(s: &mut AppState, conversation: ConversationId, others: Vec<(String, bool)>) -> Vec<Effect> {
    if let Some(open) = &mut s.open
        && open.id() == conversation
    {
        open.others = others;
    }
    Vec::new()
}

/// Notes that mention this agent: the newest in the status bar, and the bell.
pub fn mentioned(s: &mut AppState, notes: Vec<Mention>) -> Vec<Effect> {
    let Some(Mention { title, author, note, at, .. }) = notes.into_iter().last() else { return Vec::new() };
    s.mentions_since = s.mentions_since.max(at);
    let line = note.lines().next().unwrap_or("").to_string();
    notify(s, crate::text::sanitize(&format!("{author} mentioned you in {title}: {line}"), false), false);
    vec![Effect::Notify {
        kind: s.notify,
        title: format!("{author} mentioned you"),
        body: format!("{title}: {line}"),
        desktop: !s.focused,
    }]
}
