//! The Reports screen: the sections as tabs, the period, and each section's charts drawn
//! with ratatui's Sparkline and BarChart, every bar with its figures beside it in text
//! (the same text `switchboard report` prints), so the numbers read without the bars:
//! in any theme, under NO_COLOR, and to a screen reader.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Paragraph, Sparkline, Tabs};

use crate::app::AppState;
use crate::app::reports::{ReportData, ReportsPanel, Section};
use crate::report::{ALL, Table, Value};
use crate::text::{sanitize, truncate, width};
use crate::theme::Styles;

pub fn draw(frame: &mut Frame<'_>, area: Rect, _state: &AppState, panel: &ReportsPanel, styles: &Styles) {
    let title = " Reports — ←/→ section · p period · c dates · r refresh · Esc closes ";
    let inner = super::overlay_frame(frame, area, title.into(), styles);
    let [tabs, period, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    let names: Vec<String> =
        Section::ALL
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if inner.width >= 100 { format!("{} {}", i + 1, s.name()) } else { format!("{} {}", i + 1, short(*s)) }
            })
            .collect();
    let selected = Section::ALL.iter().position(|s| *s == panel.section).unwrap_or(0);
    frame.render_widget(
        Tabs::new(names).select(selected).style(styles.help).highlight_style(styles.list_selected).divider("│"),
        tabs,
    );
    let period_line = match &panel.typing {
        Some(typed) => Line::from(vec![
            Span::styled("Dates (first last, Enter): ", styles.help_key),
            Span::raw(sanitize(typed, false)),
            Span::styled("▏", styles.help_key),
        ]),
        None => Line::from(vec![Span::styled("Period: ", styles.help_key), Span::raw(panel.period.label.clone())]),
    };
    frame.render_widget(Paragraph::new(period_line), period);
    let body = Rect { y: body.y + 1, height: body.height.saturating_sub(1), ..body };
    if let Some(error) = &panel.error {
        frame.render_widget(Paragraph::new(Span::styled(sanitize(error, false), styles.status_failed)), body);
        return;
    }
    let Some(data) = &panel.data else {
        frame.render_widget(Paragraph::new("computing…"), body);
        return;
    };
    match panel.section {
        Section::Volume => volume(frame, body, data, styles),
        Section::Response => response(frame, body, data, styles),
        Section::Funnel => funnel(frame, body, data, styles),
        Section::Clients => clients(frame, body, data, styles),
        Section::Campaigns => campaigns(frame, body, data, styles),
        Section::Satisfaction => satisfaction(frame, body, data, styles),
    }
}

fn short(s: Section) -> &'static str {
    match s {
        Section::Volume => "Volume",
        Section::Response => "Response",
        Section::Funnel => "Funnel",
        Section::Clients => "Clients",
        Section::Campaigns => "Campaigns",
        Section::Satisfaction => "CSAT",
    }
}

/// Each channel: its totals on a line, its messages per day (or hour) as a sparkline
/// below, each value stretched over as many columns as the width allows.
fn volume(frame: &mut Frame<'_>, area: Rect, data: &ReportData, styles: &Styles) {
    let volume = &data.volume;
    if volume.channels.is_empty() {
        frame.render_widget(Paragraph::new("No messages in this period."), area);
        return;
    }
    let height = if area.height as usize >= volume.channels.len() * 4 { 2 } else { 1 };
    let mut y = area.y;
    for (channel, values) in &volume.channels {
        if y + 1 + height > area.bottom() {
            break;
        }
        let total: u64 = values.iter().sum();
        let max = values.iter().copied().max().unwrap_or(0);
        let line = format!(
            "{channel}: {total} messages · {:.1} an {} · busiest {} {max}",
            total as f64 / values.len().max(1) as f64,
            volume.per,
            volume.per
        )
        .replace("an day", "a day");
        frame.render_widget(
            Paragraph::new(Span::styled(sanitize(&line, false), styles.help_key)),
            Rect { y, height: 1, ..area },
        );
        let stretch = (area.width as usize / values.len().max(1)).max(1);
        let wide: Vec<u64> = values.iter().flat_map(|v| std::iter::repeat_n(*v, stretch)).collect();
        let spark = Rect { y: y + 1, height, ..area };
        frame.render_widget(Sparkline::default().data(wide.as_slice()).style(styles.status_read), spark);
        y += 2 + height;
    }
}

/// Bars for `items` (label, value, figures), one row each, the figures to the right of
/// the bars: the BarChart draws the bars, a Paragraph the figures beside them.
fn bars(frame: &mut Frame<'_>, area: Rect, heading: &str, items: &[(String, u64, String)], styles: &Styles) -> u16 {
    if area.height < 2 {
        return 0;
    }
    frame.render_widget(
        Paragraph::new(Span::styled(heading.to_string(), styles.title.add_modifier(Modifier::BOLD))),
        Rect { height: 1, ..area },
    );
    let rows = items.len().min(area.height as usize - 1);
    if rows == 0 {
        frame.render_widget(Paragraph::new("—"), Rect { y: area.y + 1, height: 1, ..area });
        return 2;
    }
    let items = &items[..rows];
    let figures = items.iter().map(|i| width(&i.2)).max().unwrap_or(0) as u16;
    let labels = items.iter().map(|i| width(&i.0)).max().unwrap_or(0).min(16) as u16;
    let chart_width = area.width.saturating_sub(figures + 2).clamp(labels + 4, labels + 40);
    let chart = Rect { x: area.x, y: area.y + 1, width: chart_width, height: rows as u16 };
    let text = Rect {
        x: area.x + chart_width + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(chart_width + 1),
        height: rows as u16,
    };
    let bars: Vec<Bar> = items
        .iter()
        .map(|(label, value, _)| {
            Bar::default().label(Line::from(truncate(label, 16))).value(*value).text_value(String::new())
        })
        .collect();
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    frame.render_widget(
        BarChart::default()
            .direction(Direction::Horizontal)
            .data(BarGroup::default().bars(&bars))
            .bar_width(1)
            .bar_gap(0)
            .group_gap(0)
            .max(max)
            .bar_style(styles.status_read)
            .label_style(styles.help_key),
        chart,
    );
    let lines: Vec<Line> = items.iter().map(|i| Line::from(i.2.clone())).collect();
    frame.render_widget(Paragraph::new(lines), text);
    rows as u16 + 2
}

/// The rows of a table whose first cell is not `all`, and its `all` row.
fn split(t: &Table) -> (Vec<usize>, Option<usize>) {
    let all = (0..t.rows.len()).find(|&i| t.rows[i][0] == Value::Text(ALL.into()));
    ((0..t.rows.len()).filter(|&i| Some(i) != all).collect(), all)
}

fn show(t: &Table, row: usize, key: &str) -> String {
    t.cell(row, key).map(Value::show).unwrap_or_default()
}

fn seconds(t: &Table, row: usize, key: &str) -> u64 {
    match t.cell(row, key) {
        Some(Value::Duration(Some(ms))) => (ms / 1000.0).round().max(0.0) as u64,
        _ => 0,
    }
}

fn count(t: &Table, row: usize, key: &str) -> u64 {
    match t.cell(row, key) {
        Some(Value::Count(n)) => (*n).max(0) as u64,
        _ => 0,
    }
}

/// Response times: per agent and per channel, the median reply (people's; the bot's
/// apart), with p90, the first response's median and the count beside each bar.
fn response(frame: &mut Frame<'_>, area: Rect, data: &ReportData, styles: &Styles) {
    let items = |t: &Table| -> Vec<(String, u64, String)> {
        let mut out = Vec::new();
        let mut groups: Vec<String> = Vec::new();
        for i in 0..t.rows.len() {
            let group = show(t, i, "group");
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
        for group in groups {
            let find =
                |m: &str| (0..t.rows.len()).find(|&i| show(t, i, "group") == group && show(t, i, "measure") == m);
            let (response, first) = match find("response") {
                Some(r) => (r, find("first response")),
                None => match find("bot response") {
                    Some(r) => (r, find("bot first response")),
                    None => continue,
                },
            };
            let bot = show(t, response, "measure").starts_with("bot") && group != "bot";
            let label = if bot { format!("{group} (bot)") } else { group.clone() };
            let business = match t.cell(response, "business_median_s") {
                Some(Value::Duration(Some(_))) => format!(" (bh {})", show(t, response, "business_median_s")),
                _ => String::new(),
            };
            let figures = format!(
                "{}{business} · p90 {} · first {} · {}",
                show(t, response, "median_s"),
                show(t, response, "p90_s"),
                first.map_or("—".into(), |f| show(t, f, "median_s")),
                show(t, response, "count")
            );
            out.push((label, seconds(t, response, "median_s"), figures));
        }
        out
    };
    let agents = items(&data.by_agent);
    let channels = items(&data.by_channel);
    let used = bars(frame, area, "Median response per agent · p90 · first response · replies", &agents, styles);
    let rest = Rect { y: area.y + used, height: area.height.saturating_sub(used), ..area };
    let used2 = bars(frame, rest, "Per channel", &channels, styles);
    let note = Rect { y: rest.y + used2, height: rest.height.saturating_sub(used2), ..rest };
    let business = if data.by_channel.notes.iter().any(|n| n.contains("none are configured")) {
        "Calendar time; business hours are not configured ([automation.hours])."
    } else {
        "Calendar time; (bh …): within business hours."
    };
    frame.render_widget(Paragraph::new(Span::styled(business, styles.message_time)), note);
}

/// The funnel of everyone who entered it in the period: how many reached each stage,
/// the step to the next and the share of the first.
fn funnel(frame: &mut Frame<'_>, area: Rect, data: &ReportData, styles: &Styles) {
    let t = &data.funnel;
    let items: Vec<(String, u64, String)> = (0..t.rows.len())
        .filter(|&i| show(t, i, "cohort") == ALL)
        .map(|i| {
            let stage = show(t, i, "stage");
            let figures = if stage == crate::report::funnel::EXIT {
                format!("{} · {} of those who entered", show(t, i, "reached"), show(t, i, "cumulative_percent"))
            } else {
                format!(
                    "{} · {} to next · {} of first · {} in stage",
                    show(t, i, "reached"),
                    show(t, i, "next_step_percent"),
                    show(t, i, "cumulative_percent"),
                    show(t, i, "median_time_in_stage_s")
                )
            };
            (stage, count(t, i, "reached"), figures)
        })
        .collect();
    let used = bars(frame, area, "Contacts who entered the funnel in the period", &items, styles);
    let weeks: Vec<String> = (0..t.rows.len())
        .filter(|&i| show(t, i, "cohort") != ALL && show(t, i, "stage") == "new")
        .map(|i| {
            let cohort = show(t, i, "cohort");
            let customers = (0..t.rows.len())
                .find(|&j| show(t, j, "cohort") == cohort && show(t, j, "stage") == "customer")
                .map(|j| show(t, j, "reached"))
                .unwrap_or_default();
            format!("{cohort}: {} entered, {customers} customers", show(t, i, "reached"))
        })
        .collect();
    let rest = Rect { y: area.y + used, height: area.height.saturating_sub(used), ..area };
    let shown = weeks.len().saturating_sub(rest.height as usize);
    let lines: Vec<Line> =
        weeks[shown..].iter().map(|w| Line::from(Span::styled(w.clone(), styles.message_time))).collect();
    frame.render_widget(Paragraph::new(lines), rest);
}

fn clients(frame: &mut Frame<'_>, area: Rect, data: &ReportData, styles: &Styles) {
    let items = |t: &Table| -> Vec<(String, u64, String)> {
        split(t)
            .0
            .into_iter()
            .map(|i| (show(t, i, "group"), count(t, i, "new_clients"), show(t, i, "new_clients")))
            .collect()
    };
    let t = &data.clients_by_channel;
    let total = split(t).1.map(|i| show(t, i, "new_clients")).unwrap_or_default();
    let used = bars(frame, area, &format!("New clients: {total} · by channel"), &items(t), styles);
    let rest = Rect { y: area.y + used, height: area.height.saturating_sub(used), ..area };
    bars(
        frame,
        rest,
        "By source (a /start link, an ad, import; direct: they simply wrote)",
        &items(&data.clients_by_source),
        styles,
    );
}

fn campaigns(frame: &mut Frame<'_>, area: Rect, data: &ReportData, styles: &Styles) {
    let t = &data.campaigns;
    let items: Vec<(String, u64, String)> = (0..t.rows.len())
        .map(|i| {
            let rate = match (t.cell(i, "open_rate_percent"), t.cell(i, "ctr_percent")) {
                (Some(Value::Percent(Some(r))), _) | (_, Some(Value::Percent(Some(r)))) => (*r * 10.0).round() as u64,
                _ => 0,
            };
            let figures = format!("open {} · CTR {}", show(t, i, "open_rate_percent"), show(t, i, "ctr_percent"));
            (show(t, i, "campaign"), rate, figures)
        })
        .collect();
    if items.is_empty() {
        frame.render_widget(Paragraph::new("No campaign was launched in this period."), area);
        return;
    }
    let used = bars(frame, area, "Campaigns launched in the period: open rate (else CTR)", &items, styles);
    let mut lines: Vec<Line> = (0..t.rows.len())
        .map(|i| {
            let holdout = match count(t, i, "holdout") {
                0 => String::new(),
                n => format!(
                    " · holdout {n} ({}), lift {} pts",
                    show(t, i, "holdout_conversion_percent"),
                    show(t, i, "lift_points")
                ),
            };
            Line::from(format!(
                "{}: {} sent, {} delivered · replied {} · opted out {} · converted {} ({}){holdout}",
                show(t, i, "campaign"),
                show(t, i, "sent"),
                show(t, i, "delivered"),
                show(t, i, "reply_rate_percent"),
                show(t, i, "opt_out_rate_percent"),
                show(t, i, "converted"),
                show(t, i, "conversion_percent")
            ))
        })
        .collect();
    lines.push(Line::default());
    lines.extend(t.notes.iter().skip(1).map(|n| Line::from(Span::styled(n.clone(), styles.message_time))));
    let rest = Rect { y: area.y + used, height: area.height.saturating_sub(used), ..area };
    frame.render_widget(Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }), rest);
}

fn satisfaction(frame: &mut Frame<'_>, area: Rect, data: &ReportData, styles: &Styles) {
    let t = &data.csat;
    let (_, all) = split(t);
    let heading = match all {
        Some(i) => format!(
            "Satisfaction: average {} of {} answers ({} of {} asked)",
            show(t, i, "average"),
            show(t, i, "answered"),
            show(t, i, "response_percent"),
            show(t, i, "asked")
        ),
        None => "Satisfaction".into(),
    };
    let items: Vec<(String, u64, String)> = match all {
        Some(i) => (1..=5)
            .rev()
            .map(|score| {
                let key = format!("score_{score}");
                let n = count(t, i, &key);
                (format!("{score}"), n, n.to_string())
            })
            .collect(),
        None => Vec::new(),
    };
    let asked = all.map_or(0, |i| count(t, i, "asked"));
    let used = if asked == 0 {
        frame.render_widget(Paragraph::new("No survey was asked in this period."), Rect { height: 1, ..area });
        2
    } else {
        bars(frame, area, &heading, &items, styles)
    };
    let e = &data.engagement;
    let mut lines = vec![Line::from(Span::styled("Engagement", styles.title.add_modifier(Modifier::BOLD)))];
    for i in 0..e.rows.len() {
        lines.push(Line::from(format!(
            "{}: {} conversations · {} two-way ({}) · {} messages each",
            show(e, i, "group"),
            show(e, i, "conversations"),
            show(e, i, "two_way"),
            show(e, i, "two_way_percent"),
            show(e, i, "messages_per_conversation")
        )));
    }
    let rest = Rect { y: area.y + used, height: area.height.saturating_sub(used), ..area };
    frame.render_widget(Paragraph::new(lines).style(Style::default()), rest);
}
