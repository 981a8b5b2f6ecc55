//! The search panel: what is typed, and the conversations and messages it finds (the
//! part of each message around the words, marked), the selected one highlighted.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{badge_style, marks, time};
use crate::app::AppState;
use crate::app::search::SearchPanel;
use crate::keymap::{Command, Context};
use crate::text::{sanitize, truncate};
use crate::theme::Styles;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState, panel: &SearchPanel, styles: &Styles) {
    let [area] = Layout::horizontal([Constraint::Max(96)]).flex(Flex::Center).areas(area);
    let [area] = Layout::vertical([Constraint::Max(26)]).flex(Flex::Center).areas(area);
    let keys = state
        .hints(Context::Picker, &[(Command::Down, "choose"), (Command::Choose, "open"), (Command::Close, "close")]);
    let inner = super::overlay_frame(frame, area, format!(" Search: type, {keys} "), styles);
    if inner.height < 2 {
        return;
    }
    let [input, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(&panel.input, input);
    let width = rest.width as usize;
    let mut lines = Vec::new();
    let typed = !panel.query().trim().is_empty();
    if panel.hits.is_empty() && typed {
        lines.push(Line::styled("nothing found", styles.list_preview));
    }
    // Two lines a hit; the selected one stays in view.
    let room = (rest.height as usize / 2).max(1);
    let first = panel.selected.saturating_sub(room - 1);
    for (i, hit) in panel.hits.iter().enumerate().skip(first).take(room) {
        let head_style = if i == panel.selected { styles.list_selected } else { styles.help_key };
        let what = if hit.message.0 == 0 { "customer" } else { "message" };
        let head =
            format!(" {} · {what} · {}", sanitize(&hit.title, false), time::relative(state.now, hit.sent_at, state.tz));
        lines.push(Line::from(vec![
            Span::styled(hit.channel.badge(), badge_style(styles, hit.channel)),
            Span::styled(truncate(&head, width.saturating_sub(2)), head_style),
        ]));
        let body = sanitize(&hit.body, false);
        let cut = marks::snippet(&body, &panel.words, width.saturating_sub(4));
        let line = Line::styled(truncate(&format!("   {cut}"), width), styles.list_preview);
        lines.extend(marks::mark_lines(vec![line], &panel.words));
    }
    frame.render_widget(Paragraph::new(lines), rest);
}
