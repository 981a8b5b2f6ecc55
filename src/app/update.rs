//! `update`: the only code that changes the console's state. It does no I/O; what it
//! needs done comes back as `Effect`s.

use crossterm::event::{KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};

use super::action::{Action, Effect};
use super::state::{AppState, EngineView, Focus, NOTICE_MS, Notice};
use super::{conversation, list};
use crate::keymap::Command;
use crate::model::Outgoing;
use crate::text;

pub fn update(s: &mut AppState, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => on_key(s, key),
        Action::Paste(pasted) => {
            if s.open.is_none() {
                return Vec::new();
            }
            set_focus(s, Focus::Composer);
            // Terminals send CR for line breaks in a bracketed paste.
            s.composer.insert_str(pasted.replace("\r\n", "\n").replace('\r', "\n"));
            Vec::new()
        }
        Action::Mouse(m) => on_mouse(s, m),
        Action::Resize(w, h) => {
            s.size = (w, h);
            list::keep_selection_visible(s);
            Vec::new()
        }
        Action::Tick(now) => {
            s.now = now;
            if s.notice.as_ref().is_some_and(|n| now - n.at > NOTICE_MS) {
                s.notice = None;
            }
            Vec::new()
        }
        Action::StoreChanged => {
            let mut effects = list::refresh(s);
            effects.extend(conversation::refresh(s));
            effects
        }
        Action::ListLoaded { generation, after, limit, rows } => list::loaded(s, generation, after, limit, rows),
        Action::MessagesLoaded { conversation: id, request, rows } => {
            conversation::loaded(s, id, request, rows);
            Vec::new()
        }
        Action::Enqueued(Ok(())) => Vec::new(),
        Action::Enqueued(Err(e)) => {
            notify(s, format!("not sent: {e}"), true);
            Vec::new()
        }
        Action::Engine(view) => {
            if let EngineView::InProcess(map) = &view {
                for (kind, status) in map {
                    if let Some((at, e)) = &status.last_error
                        && s.notice.as_ref().is_none_or(|n| n.at < *at)
                    {
                        s.notice = Some(Notice { at: *at, text: format!("{kind}: {e}"), is_error: true });
                    }
                }
            }
            s.engine = view;
            Vec::new()
        }
        Action::Error(e) => {
            notify(s, e, true);
            Vec::new()
        }
    }
}

/// Puts a line in the status bar.
pub fn notify(s: &mut AppState, message: String, is_error: bool) {
    s.notice = Some(Notice { at: s.now, text: text::sanitize(&message, false), is_error });
}

/// Moves focus; the conversation counts as read once the agent looks at it.
pub fn set_focus(s: &mut AppState, focus: Focus) -> Vec<Effect> {
    let focus = if s.open.is_none() { Focus::List } else { focus };
    s.focus = focus;
    s.style_cursor();
    match (&s.open, focus) {
        (Some(open), Focus::Conversation | Focus::Composer) if open.row.unread > 0 => {
            vec![Effect::MarkRead(open.id())]
        }
        _ => Vec::new(),
    }
}

fn on_key(s: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    let command = s.keymap.resolve(s.focus.context(), &key);
    if s.help {
        // Any key closes the help; the keys that open it, or quit, also act.
        s.help = false;
        return match command {
            Some(Command::Quit) => quit(s),
            _ => Vec::new(),
        };
    }
    let Some(command) = command else {
        if s.focus == Focus::Composer {
            s.composer.input(key);
        }
        return Vec::new();
    };
    run_command(s, command)
}

fn quit(s: &mut AppState) -> Vec<Effect> {
    s.quit = true;
    vec![Effect::Quit]
}

pub fn run_command(s: &mut AppState, command: Command) -> Vec<Effect> {
    match command {
        Command::Quit => quit(s),
        Command::Help => {
            s.help = !s.help;
            Vec::new()
        }
        Command::Suspend => vec![Effect::Suspend],
        Command::NextPane | Command::PrevPane => {
            let order = [Focus::List, Focus::Conversation, Focus::Composer];
            let i = order.iter().position(|f| *f == s.focus).unwrap_or(0);
            let step = if command == Command::NextPane { 1 } else { order.len() - 1 };
            set_focus(s, order[(i + step) % order.len()])
        }
        Command::Open | Command::Reply => set_focus(s, Focus::Composer),
        Command::Back => set_focus(s, Focus::List),
        Command::Up | Command::Down | Command::PageUp | Command::PageDown | Command::Top | Command::Bottom => {
            match s.focus {
                Focus::List => list::navigate(s, command),
                _ => conversation::scroll(s, command),
            }
        }
        Command::NextUnanswered => list::next_unanswered(s),
        Command::FilterChannel => list::cycle_channel(s),
        Command::FilterStatus => list::cycle_status(s),
        Command::Resolve => list::toggle_resolved(s),
        Command::Send => send(s),
        Command::Newline => {
            s.composer.insert_newline();
            Vec::new()
        }
    }
}

fn send(s: &mut AppState) -> Vec<Effect> {
    let text = s.composer_text();
    if text.trim().is_empty() {
        return Vec::new();
    }
    let Some(open) = &mut s.open else {
        notify(s, "open a conversation first".into(), true);
        return Vec::new();
    };
    // Refused here, with the text kept, rather than failing after it was queued.
    if let Err(reason) = Outgoing::text(text.trim_end()).check(open.row.channel) {
        notify(s, format!("not sent: {reason}"), true);
        return Vec::new();
    }
    open.scroll = super::state::Scroll::Follow;
    let conversation = open.id();
    s.reset_composer();
    vec![Effect::Enqueue { conversation, text: text.trim_end().to_string(), author: s.agent.clone() }]
}

fn on_mouse(s: &mut AppState, m: MouseEvent) -> Vec<Effect> {
    let panes = crate::ui::layout(ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1), s);
    let at = ratatui::layout::Position::new(m.column, m.row);
    let in_list = panes.list.contains(at);
    match m.kind {
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
            let command = if m.kind == MouseEventKind::ScrollUp { Command::Up } else { Command::Down };
            if in_list { list::navigate(s, command) } else { conversation::scroll(s, command) }
        }
        MouseEventKind::Down(MouseButton::Left) if in_list => {
            let row = (m.row.saturating_sub(panes.list.y + 1) / 2) as usize + s.list.offset;
            let mut effects = set_focus(s, Focus::List);
            effects.extend(list::select(s, row));
            effects
        }
        MouseEventKind::Down(MouseButton::Left) if panes.composer.contains(at) => set_focus(s, Focus::Composer),
        MouseEventKind::Down(MouseButton::Left) if panes.conversation.contains(at) => set_focus(s, Focus::Conversation),
        _ => Vec::new(),
    }
}
