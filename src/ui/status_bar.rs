//! The status bar: how each channel's engine is doing (or which process runs it), the
//! last error or notice, and key hints read from the live keymap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{AppState, EngineView, Focus};
use crate::keymap::{Command, Context};
use crate::sync::ChannelState;
use crate::text::{truncate, width};
use crate::theme::Styles;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState, styles: &Styles) {
    if area.width == 0 {
        return;
    }
    let mut left: Vec<Span<'_>> = vec![Span::styled(" ", styles.bar)];
    let channels = match &state.engine {
        EngineView::InProcess(map) => Some(map),
        EngineView::Client { pid, channels } => {
            left.push(Span::styled(format!("◆ engine pid {pid} "), styles.bar_ok));
            Some(channels)
        }
        EngineView::NoEngine => {
            left.push(Span::styled("✗ no engine: replies wait (starting one) ", styles.bar_error));
            None
        }
        EngineView::NoChannels => {
            left.push(Span::styled("no channels configured ", styles.bar_warn));
            None
        }
    };
    for (kind, status) in channels.into_iter().flatten() {
        let (mark, text, style) = match &status.state {
            ChannelState::Starting => ("◌", "starting".to_string(), styles.bar_warn),
            ChannelState::Ok(how) => ("●", how.clone(), styles.bar_ok),
            ChannelState::Retrying(_) => ("▲", "retrying".to_string(), styles.bar_warn),
            ChannelState::Down(_) => ("✗", "down".to_string(), styles.bar_error),
            ChannelState::DiskFull => ("✗", "disk full".to_string(), styles.bar_error),
        };
        left.push(Span::styled(format!("{} {mark} {text} ", kind.badge()), style));
    }
    // Outside business hours the away reply is answering: the agent should know.
    if state.schedule.as_ref().is_some_and(|s| !s.is_open(state.now)) {
        left.push(Span::styled("☾ outside business hours ", styles.bar_warn));
    }
    // Campaigns under way: a glance at their progress wherever the agent is.
    for c in state.campaigns.iter().take(2) {
        let (mark, style) = if c.state == "paused" { ("⏸", styles.bar_warn) } else { ("▶", styles.bar_ok) };
        let name = truncate(&crate::text::sanitize(&c.name, false), 16);
        left.push(Span::styled(format!("{mark} {name} {}/{} ", c.done(), c.recipients), style));
    }
    let hints = hints(state);
    let used: usize = left.iter().map(|s| width(&s.content)).sum();
    let hint_width: usize = hints.iter().map(|(k, d)| width(k) + width(d) + 3).sum();
    let room = (area.width as usize).saturating_sub(used);
    // A notice is read whole: the hints give way to one that would not fit beside them
    // (F1 still lists every key).
    let show_hints = match &state.notice {
        None => true,
        Some(n) => room >= hint_width + width(&n.text) + 3,
    };
    let notice_room = if show_hints { room.saturating_sub(hint_width) } else { room };
    if let Some(notice) = &state.notice {
        let style = if notice.is_error { styles.bar_error } else { styles.bar };
        left.push(Span::styled(truncate(&format!("│ {} ", notice.text), notice_room), style));
    }
    let used: usize = left.iter().map(|s| width(&s.content)).sum();
    let mut right: Vec<Span<'_>> = Vec::new();
    if show_hints {
        let mut spare = (area.width as usize).saturating_sub(used);
        for (key, desc) in hints {
            let w = width(&key) + width(desc) + 3;
            if w > spare {
                break;
            }
            spare -= w;
            right.push(Span::styled(key, styles.hint_key));
            right.push(Span::styled(format!(" {desc}  "), styles.bar));
        }
    }
    let right_width: usize = right.iter().map(|s| width(&s.content)).sum();
    let pad = (area.width as usize).saturating_sub(used + right_width);
    left.push(Span::styled(" ".repeat(pad), styles.bar));
    left.extend(right);
    frame.render_widget(Paragraph::new(Line::from(left)).style(styles.bar), area);
}

/// The most useful keys for the focused pane, as the keymap binds them now.
fn hints(state: &AppState) -> Vec<(String, &'static str)> {
    let (ctx, commands): (Context, &[(Command, &'static str)]) = match state.focus {
        Focus::List => (
            Context::List,
            &[
                (Command::Open, "open"),
                (Command::NextUnanswered, "next unanswered"),
                (Command::FilterChannel, "channel"),
                (Command::FilterStatus, "status"),
                (Command::Help, "help"),
            ],
        ),
        Focus::Conversation => (
            Context::Conversation,
            &[
                (Command::Reply, "reply"),
                (Command::Back, "list"),
                (Command::Resolve, "resolve"),
                (Command::Help, "help"),
            ],
        ),
        Focus::Composer => (
            Context::Composer,
            &[
                (Command::Send, "send"),
                (Command::Newline, "new line"),
                (Command::Back, "list"),
                (Command::Help, "help"),
            ],
        ),
    };
    commands.iter().map(|(cmd, desc)| (state.key_hint(ctx, *cmd), *desc)).collect()
}
