//! The conversation view: day separators, who wrote what and when, and for our messages
//! where they are (queued, sent, delivered, read, failed and why). Only the messages that
//! fit are laid out, from the scroll anchor outwards.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{empty_pane, pane_block, time};
use crate::app::state::{ConversationView, Scroll};
use crate::app::{AppState, Focus};
use crate::model::{DeliveryStatus, Direction};
use crate::store::MessageRow;
use crate::text::{self, sanitize, wrap};
use crate::theme::Styles;

/// Message bodies start after the time column.
const INDENT: &str = "       ";

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState, styles: &Styles) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let focused = state.focus == Focus::Conversation;
    let Some(view) = &state.open else {
        return empty_pane(frame, area, " Conversation ", "Select a conversation in the list.", focused, styles);
    };
    let row = &view.row;
    let kind = if row.is_group { "group" } else { "private" };
    let title =
        format!(" {} · {} {} · {} ", sanitize(&row.title, false), row.channel.as_str(), kind, row.status.as_str());
    let mut block = pane_block(title, focused, styles);
    if view.scroll != Scroll::Follow {
        let key = state.key_hint(crate::keymap::Context::Conversation, crate::keymap::Command::Bottom);
        block = block.title_bottom(Line::styled(format!(" ↓ newer below ({key}) "), styles.title).right_aligned());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width < 10 || inner.height == 0 {
        return;
    }
    let lines = visible_lines(view, state, styles, inner.width as usize, inner.height as usize);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The lines that fill `height`, laid out from the scroll anchor.
fn visible_lines<'a>(
    view: &ConversationView,
    state: &AppState,
    styles: &Styles,
    width: usize,
    height: usize,
) -> Vec<Line<'a>> {
    let messages = &view.messages;
    if messages.is_empty() {
        let text = if view.loading { "Loading…" } else { "No messages yet." };
        return vec![Line::styled(text, styles.list_preview)];
    }
    let last = messages.len() - 1;
    if let Scroll::Top(start) = view.scroll {
        let mut lines = Vec::new();
        for i in start..messages.len() {
            lines.extend(message_lines(messages, i, state, styles, width));
            if lines.len() >= height {
                lines.truncate(height);
                return lines;
            }
        }
        // Too close to the end to fill the pane from the top: show the end instead.
    }
    let end = match view.scroll {
        Scroll::Bottom(i) => i.min(last),
        _ => last,
    };
    let mut chunks: Vec<Vec<Line<'a>>> = Vec::new();
    let mut total = 0;
    for i in (0..=end).rev() {
        let chunk = message_lines(messages, i, state, styles, width);
        total += chunk.len();
        chunks.push(chunk);
        if total >= height {
            break;
        }
    }
    let mut lines: Vec<Line<'a>> = chunks.into_iter().rev().flatten().collect();
    if lines.len() > height {
        lines.drain(..lines.len() - height);
    } else {
        // A short history sits at the bottom, next to the composer, like any chat.
        lines.splice(0..0, std::iter::repeat_n(Line::raw(""), height - lines.len()));
    }
    lines
}

/// The lines of message `i`: a day separator when the day changes, a header, the body.
fn message_lines<'a>(
    messages: &[MessageRow],
    i: usize,
    state: &AppState,
    styles: &Styles,
    width: usize,
) -> Vec<Line<'a>> {
    let m = &messages[i];
    let mut lines = Vec::new();
    let day = time::day_key(m.sent_at, state.tz);
    let new_day = match i {
        // The first loaded message opens with its day: what came before is not loaded.
        0 => true,
        _ => time::day_key(messages[i - 1].sent_at, state.tz) != day,
    };
    if new_day {
        let label = format!(" {} ", time::day_label(state.now, m.sent_at, state.tz));
        let rule = "─".repeat(width.saturating_sub(text::width(&label)) / 2);
        lines.push(Line::styled(format!("{rule}{label}{rule}"), styles.day_separator).alignment(Alignment::Center));
    }
    let mut header = vec![Span::styled(format!("{}  ", time::clock(m.sent_at, state.tz)), styles.message_time)];
    let body_style = match m.direction {
        Direction::In => {
            let who = m.sender_name.as_deref().unwrap_or("customer");
            header.push(Span::styled(sanitize(who, false), styles.message_author));
            styles.message_inbound
        }
        Direction::Out => {
            let who = m.author.as_deref().unwrap_or("bot");
            header.push(Span::styled(format!("→ {}", sanitize(who, false)), styles.message_outbound));
            let (mark, style) = mark(m.status, styles);
            header.push(Span::raw("  "));
            header.push(Span::styled(mark, style));
            styles.message_outbound
        }
    };
    if m.edited_at.is_some() {
        header.push(Span::styled(" (edited)", styles.message_time));
    }
    lines.push(Line::from(header));
    let body_width = width.saturating_sub(INDENT.len()).max(1);
    for paragraph in sanitize(&m.body, true).split('\n') {
        for line in wrap(paragraph, body_width) {
            lines.push(Line::from(vec![Span::raw(INDENT), Span::styled(line, body_style)]));
        }
    }
    if let Some(error) = &m.error {
        let (prefix, style) = match m.status {
            DeliveryStatus::Failed => ("✗ ", styles.status_failed),
            _ => ("retrying: ", styles.status_queued),
        };
        for line in wrap(&format!("{prefix}{}", sanitize(error, false)), body_width) {
            lines.push(Line::from(vec![Span::raw(INDENT), Span::styled(line, style)]));
        }
    }
    lines
}

/// The delivery mark of an outbound message.
pub fn mark(status: DeliveryStatus, styles: &Styles) -> (&'static str, Style) {
    match status {
        DeliveryStatus::Received => ("", styles.message_time),
        DeliveryStatus::Queued => ("◷ queued", styles.status_queued),
        DeliveryStatus::Sending => ("↻ sending", styles.status_queued),
        DeliveryStatus::Sent => ("✓ sent", styles.status_sent),
        DeliveryStatus::Delivered => ("✓✓ delivered", styles.status_delivered),
        DeliveryStatus::Read => ("✓✓ read", styles.status_read),
        DeliveryStatus::Failed => ("✗ failed", styles.status_failed),
    }
}
