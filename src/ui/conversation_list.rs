//! The conversation list: two lines per conversation (badge, name, markers and time;
//! then the last message), unanswered first, the filter in the title.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{badge_style, pane_block, time};
use crate::app::{AppState, Focus};
use crate::text::{sanitize, truncate, width};
use crate::theme::Styles;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState, styles: &Styles) {
    if area.width == 0 {
        return;
    }
    let list = &state.list;
    let view = match &list.filter.assignee {
        None => "",
        Some(Some(_)) => " · mine",
        Some(None) => " · unassigned",
    };
    let mut title = format!(" Conversations{view} · {}", state.channel_filter_label());
    if let Some(status) = list.filter.status {
        title.push_str(&format!(" · {}", status.as_str()));
    }
    if list.filter.by_person {
        title.push_str(" · by person");
    }
    if !list.new_above.is_empty() {
        title.push_str(&format!(" · ↑ {} new", list.new_above.len()));
    }
    title.push(' ');
    let focused = state.focus == Focus::List;
    // Everything the pane is drawn from: the rows in view, where the selection is, the
    // title, the clock the times are relative to, and the theme.
    let visible = (area.height.saturating_sub(2) / 2) as usize;
    let in_view = list.rows.iter().skip(list.offset).take(visible);
    let key = super::memo::key_of((
        &title,
        focused,
        in_view.collect::<Vec<_>>(),
        // Whether the first row in view follows its person's previous conversation.
        list.offset.checked_sub(1).and_then(|i| list.rows.get(i)).map(|r| r.contact_id),
        list.selected,
        list.offset,
        state.now,
        state.tz.local_minus_utc(),
        styles,
    ));
    super::memo::render_keyed(frame, &state.frames, "list", styles.base, area, key, || {
        let block = pane_block(title, focused, styles);
        let inner = block.inner(area);
        let body = (inner.width >= 4 && inner.height > 0).then(|| rows(inner, state, styles));
        super::memo::Pane { block, body }
    });
}

/// What fills the list: two lines for each conversation in view, or why there are none.
fn rows<'a>(inner: Rect, state: &AppState, styles: &Styles) -> Paragraph<'a> {
    let list = &state.list;
    if list.rows.is_empty() {
        let hint = if list.filter.channel.is_some() || list.filter.status.is_some() || list.filter.assignee.is_some() {
            "Nothing matches this filter."
        } else {
            "No conversations yet. They appear here as customers write."
        };
        return Paragraph::new(hint).style(styles.list_preview).wrap(Default::default());
    }
    let w = inner.width as usize;
    let visible = (inner.height / 2) as usize;
    let mut lines = Vec::with_capacity(visible * 2);
    for (i, row) in list.rows.iter().enumerate().skip(list.offset).take(visible) {
        let selected = i == list.selected;
        let pick = |style: Style| if selected { styles.list_selected } else { style };
        let when = time::relative(state.now, row.last_message_at, state.tz);
        let marker = if row.unanswered { "●" } else { " " };
        let muted = if row.muted { " ⊘" } else { "" };
        let unread = if row.unread > 0 { format!("{muted} ({})", row.unread.min(999)) } else { muted.to_string() };
        let badge = row.channel.badge();
        // By person, a customer's further conversations sit under the first, marked.
        let follows = list.filter.by_person
            && row.contact_id.is_some()
            && i.checked_sub(1).and_then(|p| list.rows.get(p)).is_some_and(|p| p.contact_id == row.contact_id);
        let group = match (follows, row.is_group) {
            (true, _) => "↳ ",
            (false, true) => "# ",
            (false, false) => "",
        };
        // marker, space, badge, space … unread, space, time
        let fixed = 1 + 1 + width(badge) + 1 + width(&unread) + 1 + width(&when);
        let name = truncate(&format!("{group}{}", sanitize(&row.title, false)), w.saturating_sub(fixed));
        let pad = w.saturating_sub(fixed + width(&name));
        let name_style = if row.unanswered { styles.list_unanswered } else { styles.base };
        lines.push(Line::from(vec![
            Span::styled(marker, pick(styles.list_unanswered)),
            Span::styled(" ", pick(styles.base)),
            Span::styled(badge, pick(badge_style(styles, row.channel))),
            Span::styled(" ", pick(styles.base)),
            Span::styled(name, pick(name_style)),
            Span::styled(" ".repeat(pad), pick(styles.base)),
            Span::styled(unread, pick(styles.list_unread)),
            Span::styled(" ", pick(styles.base)),
            Span::styled(when, pick(styles.list_time)),
        ]));
        let status = match row.status {
            crate::model::ConversationStatus::Open => String::new(),
            other => format!("[{}] ", other.as_str()),
        };
        let preview = truncate(&format!("{status}{}", sanitize(&row.last_preview, false)), w.saturating_sub(5));
        let pad = w.saturating_sub(5 + width(&preview));
        lines.push(Line::from(vec![
            Span::styled("     ", pick(styles.base)),
            Span::styled(preview, pick(styles.list_preview)),
            Span::styled(" ".repeat(pad), pick(styles.base)),
        ]));
    }
    Paragraph::new(lines)
}
