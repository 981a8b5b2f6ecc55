//! The contact card overlay: who the customer is, how to reach them, their tags,
//! attributes and funnel stage, consent per channel and purpose with its latest evidence,
//! and their recent conversations; the person beyond the contact (`person`); with the
//! keys that edit it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{badge_style, person};
use crate::app::AppState;
use crate::app::contact_panel::ContactPanel;
use crate::app::person::View;
use crate::keymap::{Command, Context};
use crate::store::STAGES;
use crate::text::{sanitize, truncate};
use crate::theme::Styles;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState, panel: &ContactPanel, styles: &Styles) {
    let [area] = Layout::horizontal([Constraint::Max(96)]).flex(Flex::Center).areas(area);
    let [area] = Layout::vertical([Constraint::Percentage(94)]).flex(Flex::Center).areas(area);
    let title = format!(" Contact — {} closes ", state.key_hint(Context::Card, Command::Close));
    let inner = super::overlay_frame(frame, area, title, styles);
    let [body, prompt, keys] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(2), Constraint::Length(1)]).areas(inner);
    let width = body.width as usize;
    let Some(card) = &panel.card else {
        frame.render_widget(Paragraph::new(Line::styled("loading…", styles.list_preview)), body);
        return;
    };
    match &panel.person.view {
        View::Card => {}
        View::Timeline { older, rows, .. } => {
            let lines =
                person::timeline_lines(rows.as_deref(), older.len() - 1, state, styles, width, body.height as usize);
            frame.render_widget(Paragraph::new(lines), body);
            return;
        }
        View::Merge { preview, .. } => {
            let lines = match preview {
                Some(p) => person::merge_lines(p, &state.key_hint(Context::Card, Command::Choose), styles, width),
                None => vec![Line::styled("working out the merge…", styles.list_preview)],
            };
            frame.render_widget(Paragraph::new(lines), body);
            let hint = format!(
                "{} merges · {} back to the card",
                state.key_hint(Context::Card, Command::Choose),
                state.key_hint(Context::Card, Command::Close)
            );
            frame.render_widget(Paragraph::new(Line::styled(truncate(&hint, width), styles.list_preview)), keys);
            return;
        }
    }
    let key = |k: &str| Span::styled(format!("{k:<13}"), styles.help_key);
    let text = |t: String| Span::styled(truncate(&sanitize(&t, false), width.saturating_sub(13)), styles.help);
    let mut lines = vec![
        Line::from(vec![key("Name"), text(card.name.clone())]),
        Line::from(vec![key("Phone"), text(phones(card))]),
        Line::from(vec![
            key("Locale"),
            text(format!(
                "{} · time zone {}",
                card.locale.as_deref().unwrap_or("—"),
                card.time_zone.as_deref().unwrap_or("the default")
            )),
        ]),
        Line::from(vec![
            key("Stage"),
            text(format!(
                "{}   ({}/{}: {})",
                card.stage,
                state.key_hint(Context::Card, Command::StageNext),
                state.key_hint(Context::Card, Command::StagePrev),
                STAGES.join(" → ")
            )),
        ]),
        Line::from(vec![key("Tags"), text(if card.tags.is_empty() { "—".into() } else { card.tags.join(", ") })]),
        Line::from(vec![key("Source"), text(card.source.clone().unwrap_or_else(|| "—".into()))]),
        Line::from(vec![key("Satisfaction"), text(satisfaction(&card.csat))]),
    ];
    let attrs = card.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
    lines.push(Line::from(vec![key("Attributes"), text(if attrs.is_empty() { "—".into() } else { attrs })]));
    lines.push(Line::raw(""));
    let story =
        format!("Reached on ({}: the whole story, every channel)", state.key_hint(Context::Card, Command::History));
    lines.push(Line::styled(story, styles.help_key));
    for i in &card.identities {
        let name = i.username.as_deref().map(|u| format!(" @{u}")).unwrap_or_default();
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(i.channel.badge(), badge_style(styles, i.channel)),
            Span::styled(truncate(&sanitize(&format!(" {}{name}", i.external_id), false), width - 4), styles.help),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Consent (latest event per channel and purpose)", styles.help_key));
    if card.consent.is_empty() {
        lines.push(Line::styled("  nothing recorded: no marketing messages go to them", styles.list_preview));
    }
    for c in &card.consent {
        let when = crate::ui::time::relative(state.now, c.at, state.tz);
        let style = if c.action == "opt_in" { styles.status_sent } else { styles.status_failed };
        let evidence = c.evidence.as_deref().map(|e| format!(" — {e}")).unwrap_or_default();
        let by = c.recorded_by.as_deref().map(|b| format!(" by {b}")).unwrap_or_default();
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(c.channel.badge(), badge_style(styles, c.channel)),
            Span::styled(format!(" {:<9} {:<7} ", c.purpose, c.action.replace('_', "-")), style),
            Span::styled(
                truncate(&sanitize(&format!("{}{by}, {when}{evidence}", c.source), false), width.saturating_sub(24)),
                styles.help,
            ),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Recent conversations", styles.help_key));
    for c in &card.conversations {
        let when = crate::ui::time::relative(state.now, c.last_message_at, state.tz);
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(c.channel.badge(), badge_style(styles, c.channel)),
            Span::styled(
                truncate(&sanitize(&format!(" {} · {when} · {}", c.status.as_str(), c.last_preview), false), width - 4),
                styles.help,
            ),
        ]));
    }
    lines.extend(person::related_lines(&panel.person, card.id, state, styles, width));
    frame.render_widget(Paragraph::new(lines), body);
    if let Some((ask, area)) = &panel.ask {
        let [label, input] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(prompt);
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    "{} — {} records, {} drops",
                    ask.label(),
                    state.key_hint(Context::Picker, Command::Choose),
                    state.key_hint(Context::Picker, Command::Close)
                ),
                styles.help_key,
            )),
            label,
        );
        frame.render_widget(area, input);
    }
    let opt_in = format!("marketing opt-in (on {})", panel.channel.display_name());
    let hint = state.hints(
        Context::Card,
        &[
            (Command::Tag, "tag"),
            (Command::StageNext, "stage"),
            (Command::StagePrev, "stage back"),
            (Command::Attribute, "attribute"),
            (Command::TimeZone, "time zone"),
            (Command::ConsentIn, &opt_in),
            (Command::ConsentOut, "opt-out"),
            (Command::History, "whole story"),
            (Command::Phone, "phone"),
            (Command::Close, "close"),
        ],
    );
    frame.render_widget(Paragraph::new(Line::styled(truncate(&hint, width), styles.list_preview)), keys);
}

/// Every number, the verified first: `+79161234567 (verified by whatsapp) · +74951234567
/// (claimed)`.
pub(super) fn phones(card: &crate::store::ContactCard) -> String {
    if card.phones.is_empty() {
        return card.phone.clone().unwrap_or_else(|| "—".into());
    }
    card.phones.iter().map(ToString::to_string).collect::<Vec<_>>().join(" · ")
}

/// The latest survey's score (and comment), and the average of all answered:
/// `4/5 “быстро, спасибо” (by maria) · average 4.5 of 2`.
fn satisfaction(scores: &[crate::store::Score]) -> String {
    let answered: Vec<i64> = scores.iter().filter_map(|s| s.score).collect();
    let Some(latest) = scores.first() else { return "—".into() };
    let mut said = match latest.score {
        Some(n) => format!("{n}/5"),
        None => "asked, no answer yet".into(),
    };
    if let Some(comment) = &latest.comment {
        said.push_str(&format!(" “{comment}”"));
    }
    if let Some(agent) = &latest.agent {
        said.push_str(&format!(" (by {agent})"));
    }
    if answered.len() > 1 {
        let average = answered.iter().sum::<i64>() as f64 / answered.len() as f64;
        said.push_str(&format!(" · average {average:.1} of {}", answered.len()));
    }
    said
}
