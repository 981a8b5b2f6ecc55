//! The conversation list's part of `update`: moving the selection, loading pages as the
//! selection nears the end, filters, and keeping the agent on the same conversation when
//! the order changes underneath.

use super::action::{Effect, MessageRequest};
use super::state::{AppState, ConversationView, Focus, LIST_PAGE, MESSAGE_PAGE};
use super::update::notify;
use crate::keymap::Command;
use crate::model::{ChannelKind, ConversationStatus};
use crate::store::{ConversationRow, ListKey};

/// How many conversations fit in the list pane (each takes two lines).
pub fn visible_rows(s: &AppState) -> usize {
    let panes = crate::ui::layout(ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1), s);
    (panes.list.height.saturating_sub(2) / 2).max(1) as usize
}

pub fn keep_selection_visible(s: &mut AppState) {
    let visible = visible_rows(s);
    let l = &mut s.list;
    if l.selected < l.offset {
        l.offset = l.selected;
    } else if l.selected >= l.offset + visible {
        l.offset = l.selected + 1 - visible;
    }
    l.offset = l.offset.min(l.rows.len().saturating_sub(visible));
    // What the agent scrolled up to is no longer news.
    if !l.new_above.is_empty() {
        let above: std::collections::HashSet<_> = l.rows[..l.offset.min(l.rows.len())].iter().map(|r| r.id).collect();
        l.new_above.retain(|id| above.contains(id));
    }
}

/// Selects row `index` (clamped), opening that conversation in the view.
pub fn select(s: &mut AppState, index: usize) -> Vec<Effect> {
    if s.list.rows.is_empty() {
        return Vec::new();
    }
    s.list.selected = index.min(s.list.rows.len() - 1);
    keep_selection_visible(s);
    let mut effects = Vec::new();
    let l = &s.list;
    if !l.exhausted && !l.loading_more && l.selected + visible_rows(s) * 2 >= l.rows.len() {
        s.list.loading_more = true;
        effects.push(Effect::LoadList {
            generation: s.list.generation,
            filter: s.list.filter.clone(),
            after: s.list.rows.last().map(ConversationRow::key),
            limit: LIST_PAGE,
        });
    }
    let row = s.list.rows[s.list.selected].clone();
    if s.open_id() != Some(row.id) {
        effects.extend(open(s, row, None));
    }
    effects
}

/// Shows `row` in the conversation view, loading its newest messages.
pub fn open(s: &mut AppState, row: ConversationRow, found: Option<super::state::Found>) -> Vec<Effect> {
    let conversation = row.id;
    stash_draft(s);
    if let Some(draft) = s.drafts.remove(&conversation) {
        s.composer = draft;
        s.style_cursor();
    }
    let mut view = ConversationView::new(row);
    view.opened_at = s.now;
    let request = match &found {
        Some(f) => MessageRequest::Around { at: f.at, limit: MESSAGE_PAGE / 2 },
        None => MessageRequest::Latest { limit: MESSAGE_PAGE },
    };
    view.found = found;
    s.open = Some(view);
    // The others learn at the next tick that this console is here now.
    s.last_beat = 0;
    s.send_armed = false;
    vec![Effect::LoadMessages { conversation, request }]
}

pub fn navigate(s: &mut AppState, command: Command) -> Vec<Effect> {
    let page = visible_rows(s);
    let i = s.list.selected;
    let target = match command {
        Command::Up => i.saturating_sub(1),
        Command::Down => i + 1,
        Command::PageUp => i.saturating_sub(page),
        Command::PageDown => i + page,
        Command::Top => 0,
        Command::Bottom => usize::MAX,
        _ => i,
    };
    select(s, target)
}

/// Reloads the list from the top, as many rows as are loaded now.
pub fn refresh(s: &mut AppState) -> Vec<Effect> {
    s.list.generation += 1;
    s.list.loading_more = false;
    vec![Effect::LoadList {
        generation: s.list.generation,
        filter: s.list.filter.clone(),
        after: None,
        limit: s.list.rows.len().max(LIST_PAGE),
    }]
}

pub fn loaded(
    s: &mut AppState,
    generation: u64,
    after: Option<ListKey>,
    limit: usize,
    rows: Vec<ConversationRow>,
) -> Vec<Effect> {
    if generation != s.list.generation {
        return Vec::new();
    }
    let exhausted = rows.len() < limit;
    let mut effects = Vec::new();
    if after.is_none() && s.notify != crate::config::NotifyKind::Off {
        let fresh = s.watcher.new_messages(&rows, &s.agent, s.now);
        let kind = s.notify;
        // The watcher still learns a muted conversation's messages: unmuting it later
        // does not ring for old ones.
        effects.extend(fresh.into_iter().filter(|r| !r.muted).map(|r| Effect::Notify {
            kind,
            title: r.title.clone(),
            body: r.last_preview.clone(),
            desktop: !s.focused,
        }));
    }
    match after {
        None => {
            let selected_id = s.list.selected_row().map(|r| r.id);
            // The anchor: the first row in view that did not move itself (same place in
            // the order as before); rows that moved, or arrived, above it are the news.
            let visible = visible_rows(s);
            let in_view: Vec<ListKey> =
                s.list.rows.iter().skip(s.list.offset).take(visible).map(ConversationRow::key).collect();
            // What was above the view already (the agent scrolled past it).
            let seen_above: std::collections::HashSet<_> =
                s.list.rows[..s.list.offset.min(s.list.rows.len())].iter().map(|r| r.id).collect();
            let reloading = !s.list.rows.is_empty();
            s.list.rows = rows;
            s.list.selected = selected_id
                .and_then(|id| s.list.rows.iter().position(|r| r.id == id))
                .unwrap_or(s.list.selected.min(s.list.rows.len().saturating_sub(1)));
            // The row at the top of the view stays there: what arrives above it does not
            // push the view down under the agent's eyes. It is announced instead.
            let anchor = in_view.iter().find_map(|old| {
                let i = s.list.rows.iter().position(|r| r.id == old.id)?;
                let unmoved = s.list.rows[i].key() == *old;
                // Where the anchor was in the view, it stays.
                let shift = in_view.iter().position(|k| k.id == old.id).unwrap_or(0);
                unmoved.then(|| i.saturating_sub(shift))
            });
            if let Some(offset) = anchor {
                s.list.offset = offset;
            }
            let above = &s.list.rows[..s.list.offset.min(s.list.rows.len())];
            let announced = std::mem::take(&mut s.list.new_above);
            s.list.new_above = above
                .iter()
                .map(|r| r.id)
                .filter(|id| announced.contains(id) || (reloading && !seen_above.contains(id)))
                .collect();
        }
        Some(key) => {
            s.list.loading_more = false;
            if s.list.rows.last().map(ConversationRow::key) != Some(key) {
                return Vec::new();
            }
            s.list.rows.extend(rows);
        }
    }
    s.list.exhausted = exhausted;
    keep_selection_visible(s);
    // The open conversation's header follows its row (status, title).
    if let Some(open) = &mut s.open
        && let Some(row) = s.list.rows.iter().find(|r| r.id == open.row.id)
    {
        open.row = row.clone();
    }
    if s.open.is_none() && !s.list.rows.is_empty() {
        effects.extend(select(s, s.list.selected));
        return effects;
    }
    // What arrives in the conversation the agent is looking at is read.
    if let Some(open) = &s.open
        && s.focus != Focus::List
        && open.row.unread > 0
    {
        effects.push(Effect::MarkRead { conversation: open.id(), agent: s.agent.clone() });
    }
    effects
}

/// Groups a person's conversations together in the list, or stops.
pub fn toggle_by_person(s: &mut AppState) -> Vec<Effect> {
    s.list.filter.by_person = !s.list.filter.by_person;
    s.list.rows.clear();
    s.list.selected = 0;
    s.list.offset = 0;
    let what = if s.list.filter.by_person { "by person: each customer's channels together" } else { "by attention" };
    notify(s, format!("the list is ordered {what}"), false);
    refresh(s)
}

pub fn next_unanswered(s: &mut AppState) -> Vec<Effect> {
    let n = s.list.rows.len();
    let start = s.list.selected;
    let found = (1..=n).map(|k| (start + k) % n).find(|&i| s.list.rows[i].unanswered);
    match found {
        Some(i) => select(s, i),
        None => {
            notify(s, "nothing is waiting for an answer".into(), false);
            Vec::new()
        }
    }
}

/// Keeps the composer's text with the conversation it was written for.
fn stash_draft(s: &mut AppState) {
    let Some(current) = s.open_id() else { return };
    if s.composer.is_empty() {
        return;
    }
    let draft = std::mem::take(&mut s.composer);
    s.drafts.insert(current, draft);
    s.reset_composer();
}

fn reload_filtered(s: &mut AppState) -> Vec<Effect> {
    stash_draft(s);
    s.list.rows.clear();
    s.list.selected = 0;
    s.list.offset = 0;
    s.list.exhausted = false;
    s.open = None;
    refresh(s)
}

/// The value after `current` in `all`, then none (no filter), then the first again.
fn next_filter<T: Copy + PartialEq>(all: &[T], current: Option<T>) -> Option<T> {
    match current {
        None => all.first().copied(),
        Some(c) => all.iter().position(|x| *x == c).and_then(|i| all.get(i + 1)).copied(),
    }
}

pub fn cycle_channel(s: &mut AppState) -> Vec<Effect> {
    s.list.filter.channel = next_filter(&ChannelKind::ALL, s.list.filter.channel);
    reload_filtered(s)
}

pub fn cycle_status(s: &mut AppState) -> Vec<Effect> {
    s.list.filter.status = next_filter(&ConversationStatus::ALL, s.list.filter.status);
    reload_filtered(s)
}

/// All conversations, then this agent's, then nobody's.
pub fn cycle_view(s: &mut AppState) -> Vec<Effect> {
    s.list.filter.assignee = match &s.list.filter.assignee {
        None => Some(Some(s.agent.clone())),
        Some(Some(_)) => Some(None),
        Some(None) => None,
    };
    reload_filtered(s)
}

/// Takes the open conversation, or gives it back when it is already this agent's.
pub fn toggle_mine(s: &mut AppState) -> Vec<Effect> {
    let Some(open) = &s.open else { return Vec::new() };
    let mine = open.row.assignee.as_deref() == Some(s.agent.as_str());
    let agent = (!mine).then(|| s.agent.clone());
    assign(s, agent)
}

/// Gives the open conversation to `agent`, or to nobody.
pub fn assign(s: &mut AppState, agent: Option<String>) -> Vec<Effect> {
    let Some(open) = &s.open else { return Vec::new() };
    let id = open.id();
    let said = match &agent {
        Some(a) => format!("assigned to {}", crate::text::sanitize(a, false)),
        None => "unassigned".into(),
    };
    notify(s, said, false);
    vec![Effect::Assign(id, agent)]
}

/// Mutes the open conversation's alerts for this agent, or unmutes them.
pub fn toggle_mute(s: &mut AppState) -> Vec<Effect> {
    let Some(row) = s.open.as_ref().map(|o| &o.row).or_else(|| s.list.selected_row()) else { return Vec::new() };
    let (id, muted) = (row.id, !row.muted);
    // Shown at once; the list's next load reads it back from the store.
    for row in s.list.rows.iter_mut().filter(|r| r.id == id).chain(s.open.as_mut().map(|o| &mut o.row)) {
        row.muted = muted;
    }
    notify(s, if muted { "muted: no alerts for this conversation" } else { "unmuted" }.into(), false);
    vec![Effect::Mute { agent: s.agent.clone(), conversation: id, muted }]
}

/// Pending (the agent waits on the customer: out of triage until they write), or open
/// again.
pub fn toggle_pending(s: &mut AppState) -> Vec<Effect> {
    let Some(open) = &s.open else { return Vec::new() };
    let status = if open.row.status == ConversationStatus::Pending {
        ConversationStatus::Open
    } else {
        ConversationStatus::Pending
    };
    vec![Effect::SetStatus(open.id(), status)]
}

pub fn toggle_resolved(s: &mut AppState) -> Vec<Effect> {
    let Some(open) = &s.open else { return Vec::new() };
    let status = if open.row.status == ConversationStatus::Resolved {
        ConversationStatus::Open
    } else {
        ConversationStatus::Resolved
    };
    vec![Effect::SetStatus(open.id(), status)]
}
