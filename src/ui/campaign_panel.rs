//! The segment and campaign panel: the form, the filter's live member count and sample
//! (or a caret under the bad term), the preview of who gets what and who is left out
//! and why, and the campaigns under way with a gauge and their results.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::badge_style;
use crate::app::AppState;
use crate::app::campaign_panel::{CampaignPanel, Field};
use crate::campaign::preview::{Preview, Row};
use crate::keymap::{Command, Context};
use crate::store::CampaignStatus;
use crate::text::{sanitize, truncate};
use crate::theme::Styles;

const LABEL: u16 = 10;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState, styles: &Styles) {
    let Some(panel) = state.campaign_panel.as_ref() else { return };
    let title = format!(" Segments and campaigns — {} closes ", state.key_hint(Context::Campaign, Command::Close));
    let inner = super::overlay_frame(frame, area, title, styles);
    let wide = inner.width >= 100;
    let (left, right) = if wide {
        let [l, r] = Layout::horizontal([Constraint::Percentage(64), Constraint::Percentage(36)]).areas(inner);
        (l, Some(r))
    } else {
        (inner, None)
    };
    // The campaigns' lines, laid out once: their count sizes the box they are drawn in
    // (a top border only, so the width is the column's).
    let campaign_lines = campaigns_lines(panel, state, styles, left.width as usize);
    let campaigns_height = campaign_lines.len() as u16 + 2;
    let [form, preview, campaigns] = Layout::vertical([
        Constraint::Length(Field::ALL.len() as u16 + 2),
        Constraint::Min(3),
        Constraint::Length(campaigns_height.min(left.height / 2)),
    ])
    .areas(left);
    draw_form(frame, form, state, panel, styles);
    draw_preview(frame, preview, state, panel, styles);
    let block = Block::default().borders(Borders::TOP).title(" Campaigns ").border_style(styles.border);
    let inside = block.inner(campaigns);
    frame.render_widget(block, campaigns);
    frame.render_widget(Paragraph::new(campaign_lines), inside);
    if let Some(right) = right {
        draw_members(frame, right, panel, styles);
    }
}

fn draw_form(frame: &mut Frame<'_>, area: Rect, state: &AppState, panel: &CampaignPanel, styles: &Styles) {
    let rows = Layout::vertical(vec![Constraint::Length(1); Field::ALL.len() + 2]).split(area);
    for (i, field) in Field::ALL.iter().enumerate() {
        let [label, input] = Layout::horizontal([Constraint::Length(LABEL), Constraint::Min(1)]).areas(rows[i]);
        let style = if *field == panel.field { styles.list_selected } else { styles.help_key };
        frame.render_widget(Paragraph::new(Span::styled(field.label(), style)), label);
        frame.render_widget(&panel.inputs[i], input);
    }
    // Under the form: the caret under a bad term, or the keys.
    let line = match &panel.filter_error {
        Some(e) => Line::from(vec![
            Span::raw(" ".repeat(LABEL as usize + e.column)),
            Span::styled(format!("^ {}", e.message), styles.status_failed),
        ]),
        None => Line::styled(
            state.hints(
                Context::Campaign,
                &[
                    (Command::NextField, "next field"),
                    (Command::Down, "saved segments"),
                    (Command::SaveSegment, "save segment"),
                    (Command::Preview, "preview"),
                    (Command::Launch, "launch"),
                ],
            ),
            styles.list_preview,
        ),
    };
    frame.render_widget(Paragraph::new(line), rows[Field::ALL.len()]);
}

fn draw_preview(frame: &mut Frame<'_>, area: Rect, state: &AppState, panel: &CampaignPanel, styles: &Styles) {
    let block = Block::default().borders(Borders::TOP).title(" Preview ").border_style(styles.border);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let Some(plan) = &panel.plan else {
        let hint = match panel.planned_form {
            Some(_) => "previewing…".to_string(),
            None => format!(
                "{} shows exactly who gets which text, and who is left out and why; nothing is sent",
                state.key_hint(Context::Campaign, Command::Preview)
            ),
        };
        frame.render_widget(Paragraph::new(Line::styled(truncate(&hint, width), styles.list_preview)), inner);
        return;
    };
    let stale = (panel.planned_form.as_ref() != Some(&panel.form()))
        .then(|| format!(" · the form changed: {} again", state.key_hint(Context::Campaign, Command::Preview)));
    let mut lines = summary(plan, styles, width, stale);
    let room = (inner.height as usize).saturating_sub(lines.len());
    let total = plan.rows.len();
    let offset = panel.preview_offset.min(total.saturating_sub(room));
    lines.extend(preview_rows(plan, styles, width, offset, room));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `stale` says how to preview again when the form changed since this plan.
fn summary<'a>(plan: &Preview, styles: &Styles, width: usize, stale: Option<String>) -> Vec<Line<'a>> {
    let t = &plan.totals;
    let join = |pairs: Vec<String>| pairs.join(" · ");
    let mut lines = vec![Line::styled(
        truncate(
            &format!(
                "{} member{} · {} get it · {} left out · sending takes about {}{}",
                t.members,
                if t.members == 1 { "" } else { "s" },
                t.included,
                t.excluded,
                crate::ui::time::duration(t.estimated_seconds),
                stale.as_deref().unwrap_or("")
            ),
            width,
        ),
        if stale.is_some() { styles.status_failed } else { styles.help_key },
    )];
    if !t.by_channel.is_empty() {
        let channels = join(t.by_channel.iter().map(|(k, v)| format!("{k} {v}")).collect());
        let variants = join(t.by_variant.iter().map(|(k, v)| format!("{k} {v}")).collect());
        lines.push(Line::styled(
            truncate(&format!("by channel: {channels}   variants: {variants}"), width),
            styles.help,
        ));
    }
    if !t.by_reason.is_empty() {
        let reasons = join(t.by_reason.iter().map(|(k, v)| format!("{k} {v}")).collect());
        lines.push(Line::styled(truncate(&format!("left out: {reasons}"), width), styles.status_failed));
    }
    lines
}

/// The preview's rows `offset..offset + room` (included first, then excluded), from
/// the page the console keeps rendered; a row not rendered yet shows as `…` until its
/// page arrives.
fn preview_rows<'a>(plan: &Preview, styles: &Styles, width: usize, offset: usize, room: usize) -> Vec<Line<'a>> {
    (offset..plan.rows.len())
        .take(room)
        .map(|at| match plan.row(at) {
            Some(Row::Included(i)) => {
                let why = i.channel_note();
                let head = format!(" {}  {:<20} {why}", i.variant, truncate(&sanitize(&i.name, false), 20));
                let rest = width.saturating_sub(head.chars().count() + 3);
                Line::from(vec![
                    Span::styled(i.channel.badge(), badge_style(styles, i.channel)),
                    Span::styled(head, styles.help_key),
                    Span::styled(truncate(&sanitize(i.text(), false), rest), styles.help),
                ])
            }
            Some(Row::Excluded(e)) => {
                let detail = e.detail.as_deref().map(|d| format!(" ({})", sanitize(d, false))).unwrap_or_default();
                let badge = e.channel.map(|c| (c.badge(), badge_style(styles, c))).unwrap_or(("--", styles.help));
                Line::from(vec![
                    Span::styled(badge.0, badge.1),
                    Span::styled(format!(" ✗ {:<16} ", e.reason.code()), styles.status_failed),
                    Span::styled(
                        truncate(&format!("{}{detail}", sanitize(&e.name, false)), width.saturating_sub(22)),
                        styles.help,
                    ),
                ])
            }
            Some(Row::Gone(_)) => Line::styled("   (no longer in the store)", styles.list_preview),
            None => Line::styled("…", styles.list_preview),
        })
        .collect()
}

fn campaigns_lines<'a>(panel: &CampaignPanel, state: &AppState, styles: &Styles, width: usize) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    if panel.campaigns.is_empty() {
        let launch = state.key_hint(Context::Campaign, Command::Launch);
        lines.push(Line::styled(format!("none yet: fill in the form, preview, then {launch}"), styles.list_preview));
        return lines;
    }
    for (i, c) in panel.campaigns.iter().enumerate() {
        let selected = i == panel.selected_campaign;
        lines.push(gauge_line(c, state.now, styles, width, selected));
        if selected && let Some(reason) = &c.pause_reason {
            lines.push(Line::styled(
                truncate(&format!("   paused: {}", sanitize(reason, false)), width),
                styles.status_failed,
            ));
        }
    }
    if let Some(r) = panel.results.as_ref().filter(|r| panel.selected().is_some_and(|c| c.name == r.campaign)) {
        lines.push(Line::styled(
            truncate(
                &format!(
                    "   {:<4} {:>6} {:>9} {:>6} {:>7} {:>7} {:>9} {:>6}   (replies within {} h)",
                    "", "sent", "delivered", "read", "clicked", "replied", "opted out", "failed", r.reply_window_hours
                ),
                width,
            ),
            styles.help_key,
        ));
        for v in r.variants.iter().chain(std::iter::once(&r.total)) {
            lines.push(Line::styled(
                truncate(
                    &format!(
                        "   {:<4} {:>6} {:>9} {:>6} {:>7} {:>7} {:>9} {:>6}",
                        v.variant, v.sent, v.delivered, v.read, v.clicked, v.replied, v.opted_out, v.failed
                    ),
                    width,
                ),
                styles.help,
            ));
        }
        for c in r.comparisons.iter().filter(|c| c.metric != "failed") {
            let verdict = if c.significant { "more than noise" } else { "within noise" };
            lines.push(Line::styled(
                truncate(
                    &format!(
                        "   {} vs {} {}: {:.1}% vs {:.1}% ({:+.1} points, {verdict})",
                        c.b, c.a, c.metric, c.rate_b, c.rate_a, c.difference
                    ),
                    width,
                ),
                if c.significant { styles.help_key } else { styles.help },
            ));
        }
    }
    let keys = state.hints(
        Context::Campaign,
        &[
            (Command::NextCampaign, "next"),
            (Command::PauseResume, "pause/resume"),
            (Command::CancelCampaign, "cancel"),
            (Command::Results, "results"),
            (Command::PageDown, "scroll the preview"),
        ],
    );
    lines.push(Line::styled(truncate(&keys, width), styles.list_preview));
    lines
}

/// `▶ spring  running  ██████░░░░  12/17 · 0 failed · about 3 s left`
pub fn gauge_line<'a>(c: &CampaignStatus, now: i64, styles: &Styles, width: usize, selected: bool) -> Line<'a> {
    let total = c.recipients.max(1);
    let filled = ((c.done() * 12) / total) as usize;
    let bar = format!("{}{}", "█".repeat(filled), "░".repeat(12 - filled.min(12)));
    let eta = crate::campaign::plan::eta_seconds(c, now)
        .map(|e| format!(" · about {} left", crate::ui::time::duration(e)))
        .unwrap_or_default();
    let state_style = match c.state.as_str() {
        "running" => styles.status_sent,
        "paused" | "cancelled" => styles.status_failed,
        _ => styles.help,
    };
    let held = if c.held > 0 { format!(" · {} held out", c.held) } else { String::new() };
    let rest = format!(
        " {}/{} sent · {} failed · {} skipped · {} excluded{held}{eta}",
        c.sent, c.recipients, c.failed, c.skipped, c.excluded
    );
    let name = truncate(&sanitize(&c.name, false), 18);
    let mark = if selected { "▶ " } else { "  " };
    let used = 2 + 18 + 11 + 13;
    Line::from(vec![
        Span::styled(format!("{mark}{name:<18} "), if selected { styles.list_selected } else { styles.help_key }),
        Span::styled(format!("{:<10}", c.state), state_style),
        Span::styled(bar, styles.status_sent),
        Span::styled(truncate(&rest, width.saturating_sub(used)), styles.help),
    ])
}

fn draw_members(frame: &mut Frame<'_>, area: Rect, panel: &CampaignPanel, styles: &Styles) {
    let title = match (panel.count, &panel.filter_error) {
        (_, Some(_)) => " Members: the filter does not parse ".to_string(),
        (Some(n), None) => format!(" Members: {n} "),
        (None, None) => " Members: counting… ".to_string(),
    };
    let block = Block::default().borders(Borders::LEFT).title(title).border_style(styles.border);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines: Vec<Line<'_>> = panel
        .sample
        .iter()
        .map(|r| {
            Line::from(vec![
                Span::styled(format!(" {:<22} ", truncate(&sanitize(&r.name, false), 22)), styles.help_key),
                Span::styled(
                    truncate(&format!("{} · {}", sanitize(&r.stage, false), r.channels), width.saturating_sub(24)),
                    styles.help,
                ),
            ])
        })
        .collect();
    if panel.count.is_some_and(|n| n > panel.sample.len()) {
        lines.push(Line::styled(
            format!(" … and {} more", panel.count.unwrap_or(0) - panel.sample.len()),
            styles.list_preview,
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(" Saved segments", styles.help_key));
    for s in &panel.saved {
        lines.push(Line::styled(
            truncate(&format!(" {} — {}", sanitize(&s.name, false), sanitize(&s.filter, false)), width),
            Style::default().patch(styles.help),
        ));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
