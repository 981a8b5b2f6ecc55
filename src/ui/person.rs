//! One person across channels, drawn: the card's suggested duplicates and link history,
//! the whole timeline (every channel, oldest at the top), a merge's preview, and the
//! list of every suggested merge.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::badge_style;
use crate::app::AppState;
use crate::app::person::{DuplicatesPanel, Person};
use crate::keymap::{Command, Context};
use crate::model::{ContactId, Direction};
use crate::store::{MergePreview, Suggestion, TimelineRow};
use crate::text::{sanitize, truncate};
use crate::theme::Styles;

/// The card's section under the contact: who may be the same person, and why; what
/// joined or parted this contact.
pub fn related_lines<'a>(
    person: &Person,
    contact: ContactId,
    state: &AppState,
    styles: &Styles,
    width: usize,
) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    if !person.suggestions.is_empty() {
        lines.push(Line::raw(""));
        let keys = format!(
            "Same person? ({} merges in, {} says no)",
            state.key_hint(Context::Card, Command::Merge),
            state.key_hint(Context::Card, Command::Distinct)
        );
        lines.push(Line::styled(keys, styles.help_key));
        for (i, sg) in person.suggestions.iter().enumerate() {
            let other = sg.other(contact);
            let name = if other == sg.a { &sg.a_name } else { &sg.b_name };
            let marker = if i == person.selected { "▸ " } else { "  " };
            let text = format!("{marker}contact {other} {}: {}", name, sg.reasons.join("; "));
            let style = if i == person.selected { styles.list_selected } else { styles.help };
            lines.push(Line::styled(truncate(&sanitize(&text, false), width), style));
        }
    }
    if !person.links.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Links", styles.help_key));
        for link in person.links.iter().take(3) {
            let when = crate::ui::time::relative(state.now, link.at, state.tz);
            let text = format!("  {} · {when} · {} ({})", link.kind, link.reason, link.recorded_by);
            lines.push(Line::styled(truncate(&sanitize(&text, false), width), styles.help));
        }
    }
    lines
}

/// The person's messages on every channel, the newest at the bottom, as many as fit.
pub fn timeline_lines<'a>(
    rows: Option<&[TimelineRow]>,
    pages_back: usize,
    state: &AppState,
    styles: &Styles,
    width: usize,
    height: usize,
) -> Vec<Line<'a>> {
    let title = format!(
        "Whole story, every channel{} — {} older, {} newer, {} back to the card",
        if pages_back > 0 { format!(" ({pages_back} pages back)") } else { String::new() },
        state.key_hint(Context::Card, Command::PageUp),
        state.key_hint(Context::Card, Command::PageDown),
        state.key_hint(Context::Card, Command::Close)
    );
    let mut lines = vec![Line::styled(truncate(&title, width), styles.help_key)];
    let Some(rows) = rows else {
        lines.push(Line::styled("loading…", styles.list_preview));
        return lines;
    };
    if rows.is_empty() {
        lines.push(Line::styled("no messages yet", styles.list_preview));
    }
    let room = height.saturating_sub(1);
    for row in rows.iter().skip(rows.len().saturating_sub(room)) {
        let m = &row.message;
        let when = crate::ui::time::relative(state.now, m.sent_at, state.tz);
        let (arrow, style) = match m.direction {
            Direction::In => ("←", styles.help),
            Direction::Out => ("→", styles.list_preview),
        };
        let body = m.body.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let head = format!(" {when:>6} {arrow} ");
        let rest = width.saturating_sub(head.chars().count() + 3);
        lines.push(Line::from(vec![
            Span::styled(row.channel.badge(), badge_style(styles, row.channel)),
            Span::styled(head, styles.help_key),
            Span::styled(truncate(&sanitize(body, false), rest), style),
        ]));
    }
    lines
}

/// What a merge would give: identities, conversations, tags and attributes with their
/// conflicts, the stage, and the consent each channel ends with.
pub fn merge_lines<'a>(p: &MergePreview, confirm: &str, styles: &Styles, width: usize) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let mut push = |text: String, style| lines.push(Line::styled(truncate(&sanitize(&text, false), width), style));
    push(
        format!("Merge contact {} ({}) into contact {} ({})", p.joins.id, p.joins.name, p.stays.id, p.stays.name),
        styles.help_key,
    );
    push(format!("{confirm} merges; nothing else changes until then."), styles.list_preview);
    push(String::new(), styles.help);
    push("Identities".into(), styles.help_key);
    for i in &p.result.identities {
        push(format!("  {} {}", i.channel.display_name(), i.external_id), styles.help);
    }
    push(format!("Phones: {}", super::contact_card::phones(&p.result)), styles.help_key);
    push(format!("Conversations ({} move over)", p.conversations), styles.help_key);
    for c in &p.result.conversations {
        push(format!("  {} · {} · {}", c.channel.display_name(), c.status, c.last_preview), styles.help);
    }
    push(
        format!("Tags: {}", if p.result.tags.is_empty() { "—".into() } else { p.result.tags.join(", ") }),
        styles.help_key,
    );
    push("Attributes".into(), styles.help_key);
    for (name, value) in &p.result.attributes {
        push(format!("  {name} = {value}"), styles.help);
    }
    for (name, kept, dropped) in &p.conflicts {
        push(format!("  conflict: {name} keeps {kept}, drops {dropped}"), styles.status_failed);
    }
    push(format!("Stage: {}", p.stage), styles.help_key);
    push(format!("Consent ({} events change hands; none is rewritten)", p.consent_events), styles.help_key);
    if p.result.consent.is_empty() {
        push("  nothing recorded".into(), styles.list_preview);
    }
    for c in &p.result.consent {
        let style = if c.action == "opt_in" { styles.status_sent } else { styles.status_failed };
        let evidence = c.evidence.as_deref().unwrap_or(&c.source);
        push(
            format!("  {} {} {} — {evidence}", c.channel.display_name(), c.purpose, c.action.replace('_', "-")),
            style,
        );
    }
    lines
}

pub fn draw_duplicates(frame: &mut Frame<'_>, area: Rect, state: &AppState, panel: &DuplicatesPanel, styles: &Styles) {
    let [area] = Layout::horizontal([Constraint::Max(110)]).flex(Flex::Center).areas(area);
    let [area] = Layout::vertical([Constraint::Percentage(94)]).flex(Flex::Center).areas(area);
    let title = format!(" Same person? — {} closes ", state.key_hint(Context::Card, Command::Close));
    let inner = super::overlay_frame(frame, area, title, styles);
    let [body, keys] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    let width = body.width as usize;
    let confirm = state.key_hint(Context::Card, Command::Choose);
    if let Some((_, _, preview)) = &panel.merge {
        let lines = match preview {
            Some(p) => merge_lines(p, &confirm, styles, width),
            None => vec![Line::styled("working out the merge…", styles.list_preview)],
        };
        frame.render_widget(Paragraph::new(lines), body);
        let hint = format!("{confirm} merges · {} back", state.key_hint(Context::Card, Command::Close));
        frame.render_widget(Paragraph::new(Line::styled(truncate(&hint, width), styles.list_preview)), keys);
        return;
    }
    let lines = match &panel.rows {
        None => vec![Line::styled("looking…", styles.list_preview)],
        Some(rows) if rows.is_empty() => vec![Line::styled("No suggested merges.", styles.list_preview)],
        Some(rows) => suggestion_lines(rows, panel.selected, body.height as usize, styles, width),
    };
    frame.render_widget(Paragraph::new(lines), body);
    let hint = state.hints(
        Context::Card,
        &[(Command::Choose, "preview the merge"), (Command::Distinct, "two people"), (Command::Close, "close")],
    );
    frame.render_widget(Paragraph::new(Line::styled(truncate(&hint, width), styles.list_preview)), keys);
}

/// Each pair in two or more lines (the pair, then each reason), scrolled to keep the
/// selected one in view.
fn suggestion_lines<'a>(
    rows: &[Suggestion],
    selected: usize,
    height: usize,
    styles: &Styles,
    width: usize,
) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let mut selected_at = 0;
    for (i, sg) in rows.iter().enumerate() {
        if i == selected {
            selected_at = lines.len();
        }
        let style = if i == selected { styles.list_selected } else { styles.help_key };
        let marker = if i == selected { "▸" } else { " " };
        let pair = format!("{marker} {} {}  ⇄  {} {}", sg.a, sg.a_name, sg.b, sg.b_name);
        lines.push(Line::styled(truncate(&sanitize(&pair, false), width), style));
        for reason in &sg.reasons {
            lines.push(Line::styled(truncate(&sanitize(&format!("     {reason}"), false), width), styles.help));
        }
    }
    let skip = (selected_at + 4).saturating_sub(height);
    lines.into_iter().skip(skip).collect()
}
