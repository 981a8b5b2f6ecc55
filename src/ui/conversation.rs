//! The conversation view: day separators, who wrote what and when, and for our messages
//! where they are (queued, sent, delivered, read, failed and why). Only the messages that
//! fit are laid out, from the scroll anchor outwards.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{empty_pane, pane_block, rich_text, time};
use crate::app::state::{ConversationView, Scroll};
use crate::app::{AppState, Focus};
use crate::model::{Button, DeliveryStatus, Direction};
use crate::store::MessageRow;
use crate::text::{self, sanitize, truncate, wrap};
use crate::theme::Styles;

/// Message bodies start after the time column.
const INDENT: &str = "       ";

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState, styles: &Styles) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let focused = state.focus == Focus::Conversation;
    let Some(view) = &state.open else {
        frame.buffer_mut().set_style(area, styles.base);
        return empty_pane(frame, area, " Conversation ", "Select a conversation in the list.", focused, styles);
    };
    let row = &view.row;
    let kind = if row.is_group { "group" } else { "private" };
    let status = match (row.status, row.snoozed_until) {
        (crate::model::ConversationStatus::Snoozed, Some(t)) => {
            format!("snoozed until {}", super::time::when(t, state.tz))
        }
        (crate::model::ConversationStatus::Snoozed, None) => "snoozed until they write".into(),
        (other, _) => other.as_str().to_string(),
    };
    let owner = row.assignee.as_deref().map(|a| format!(" · {}", sanitize(a, false))).unwrap_or_default();
    // Who else has it open, as their consoles said within the last seconds.
    let others: String = view
        .others
        .iter()
        .map(|(agent, typing)| {
            format!(" · {} is {}", sanitize(agent, false), if *typing { "typing…" } else { "viewing" })
        })
        .collect();
    let muted = if row.muted { " · muted" } else { "" };
    let owner = format!("{owner}{muted}{others}");
    let title = format!(" {} · {} {} · {status}{owner} ", sanitize(&row.title, false), row.channel.as_str(), kind);
    let mut block = pane_block(title, focused, styles);
    if row.blocked_at.is_some() {
        let what = match row.channel.rules().access {
            crate::model::Access::Subscribers => " ⛔ unsubscribed ",
            crate::model::Access::Permission => " ⛔ denied messages ",
            crate::model::Access::UntilBlocked => " ⛔ blocked the bot ",
        };
        block = block.title(Line::styled(what, styles.status_failed).right_aligned());
    }
    if view.found.is_some() {
        let next = state.key_hint(crate::keymap::Context::Found, crate::keymap::Command::NextMatch);
        let prev = state.key_hint(crate::keymap::Context::Found, crate::keymap::Command::PrevMatch);
        let close = state.key_hint(crate::keymap::Context::Found, crate::keymap::Command::Close);
        block = block.title_bottom(Line::styled(format!(" {next}/{prev} matches · {close} unmarks "), styles.title));
    }
    if view.scroll != Scroll::Follow {
        let key = state.key_hint(crate::keymap::Context::Conversation, crate::keymap::Command::Bottom);
        block = block.title_bottom(Line::styled(format!(" ↓ newer below ({key}) "), styles.title).right_aligned());
    }
    let inner = block.inner(area);
    let body = (inner.width >= 10 && inner.height > 0)
        .then(|| Paragraph::new(visible_lines(view, state, styles, inner.width as usize, inner.height as usize)));
    let pane = super::memo::Pane { block, body };
    super::memo::render_cached(frame, &state.frames, "conversation", styles.base, area, pane);
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
    let clock = Span::styled(format!("{}  ", time::clock(m.sent_at, state.tz)), styles.message_time);
    // A press on a button, a block: one line saying what the customer did.
    if matches!(m.kind.as_str(), "click" | "system" | "reaction") {
        let who = sanitize(m.sender_name.as_deref().unwrap_or("customer"), false);
        let mark = match (m.kind.as_str(), m.body.as_str()) {
            ("click", _) => "⌁",
            ("reaction", _) => "♥",
            (_, "blocked the bot" | "unsubscribed") => "⛔",
            _ => "•",
        };
        let text = format!("{mark} {who} {}", sanitize(&m.body, false));
        for (i, line) in wrap(&text, width.saturating_sub(INDENT.len()).max(1)).into_iter().enumerate() {
            let lead = if i == 0 { clock.clone() } else { Span::raw(INDENT) };
            lines.push(Line::from(vec![lead, Span::styled(line, styles.message_event)]));
        }
        return lines;
    }
    let mut header = vec![clock];
    let body_style = match m.direction {
        Direction::In => {
            let who = m.sender_name.as_deref().unwrap_or("customer");
            header.push(Span::styled(sanitize(who, false), styles.message_author));
            styles.message_inbound
        }
        // A private note: the team's, never the customer's to see.
        Direction::Out if m.kind == "note" => {
            let who = m.author.as_deref().unwrap_or("agent");
            header.push(Span::styled(format!("✎ note by {}", sanitize(who, false)), styles.bar_warn));
            styles.message_event
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
    // Deleted for the customer: kept here, struck through.
    let body_style = match m.deleted_at {
        Some(_) => {
            header.push(Span::styled("  deleted for the customer", styles.status_failed));
            body_style.add_modifier(ratatui::style::Modifier::CROSSED_OUT)
        }
        None => body_style,
    };
    if state.open.as_ref().and_then(|o| o.found.as_ref()).is_some_and(|f| f.at == m.key()) {
        header.push(Span::styled("  ◀ found", styles.help_key));
    }
    lines.push(Line::from(header));
    let body_width = width.saturating_sub(INDENT.len()).max(1);
    if let Some((who, quoted)) = &m.quote {
        let first = quoted.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let text = truncate(&format!("┃ {}: {}", sanitize(who, false), sanitize(first, false)), body_width);
        lines.push(Line::from(vec![Span::raw(INDENT), Span::styled(text, styles.message_quote)]));
    }
    // Our photo or document: its kind on a line of its own (the body is only its caption;
    // a customer's carries the kind in its text already).
    if m.direction == Direction::Out && matches!(m.kind.as_str(), "photo" | "document" | "video" | "voice" | "audio") {
        lines.push(Line::from(vec![Span::raw(INDENT), Span::styled(format!("[{}]", m.kind), styles.message_link)]));
    }
    let body = rich_text::lines(&m.body, m.entities.as_deref(), body_style, styles, INDENT, width);
    match state.open.as_ref().and_then(|o| o.found.as_ref()) {
        Some(found) => lines.extend(super::marks::mark_lines(body, &found.words)),
        None => lines.extend(body),
    }
    if let Some(buttons) = m.buttons.as_deref().and_then(|json| serde_json::from_str::<Vec<Vec<Button>>>(json).ok()) {
        for row in buttons {
            let labels: Vec<String> = row
                .iter()
                .map(|b| {
                    let arrow = if b.url.is_some() { " ↗" } else { "" };
                    format!("[{}{arrow}]", sanitize(&b.text, false))
                })
                .collect();
            lines.push(Line::from(vec![
                Span::raw(INDENT),
                Span::styled(truncate(&labels.join(" "), body_width), styles.message_link),
            ]));
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
