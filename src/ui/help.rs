//! The help overlay, generated from the live keymap so it always tells the truth: the
//! keys of where the agent is (a pane, a panel, a picker) and the keys that work
//! everywhere. Two columns when the terminal is wide enough, one otherwise.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::AppState;
use crate::keymap::Context;
use crate::theme::Styles;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState, styles: &Styles, over: Option<Context>) {
    let two_columns = area.width >= 100;
    let [area] =
        Layout::horizontal([Constraint::Max(if two_columns { 110 } else { 72 })]).flex(Flex::Center).areas(area);
    let [area] = Layout::vertical([Constraint::Percentage(94)]).flex(Flex::Center).areas(area);
    let inner = super::overlay_frame(frame, area, " Keys — any key closes ".into(), styles);
    // The keys where the agent is (the panel, picker or pane), then those that work
    // everywhere; over a conversation opened from a search, its match keys first.
    let (left, right): (Vec<Context>, Vec<Context>) = match over {
        Some(ctx) => (vec![ctx], vec![Context::Global]),
        None => {
            let mut here = crate::app::update::key_contexts(state);
            let pane = here.pop().unwrap_or(Context::List);
            here.push(Context::Global);
            (vec![pane], here)
        }
    };
    if two_columns {
        let [l, r] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(inner);
        let (mut first, second) = (section_lines(state, styles, &left), section_lines(state, styles, &right));
        // Where the agent is on the left, the rest on the right; a left column longer
        // than the screen goes on at the top of the right one.
        let height = inner.height as usize;
        let mut rest = if first.len() > height { first.split_off(height) } else { Vec::new() };
        rest.extend(second);
        frame.render_widget(Paragraph::new(first), l);
        frame.render_widget(Paragraph::new(rest), r);
    } else {
        let all: Vec<Context> = left.into_iter().chain(right).collect();
        frame.render_widget(Paragraph::new(section_lines(state, styles, &all)), inner);
    }
}

fn section_lines<'a>(state: &AppState, styles: &Styles, contexts: &[Context]) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    for ctx in contexts {
        lines.push(Line::styled(ctx.heading(), styles.help_key));
        for (c, cmd, keys) in state.keymap.bindings() {
            if c != ctx || keys.is_empty() {
                continue;
            }
            let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<18}", keys.join(" / ")), styles.help_key),
                Span::styled(cmd.describe(), styles.help),
            ]));
        }
        if *ctx == Context::Composer {
            // A few codes to start from; the emoji picker has the rest.
            let codes = ":thumbsup: 👍 :heart: ❤ :fire: 🔥";
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<18}", "emoji"), styles.help_key),
                Span::styled(codes, styles.help),
            ]));
        }
        if *ctx == Context::Global && !state.macros.is_empty() {
            lines.push(Line::raw(""));
            lines.push(Line::styled("Macros (a preview first, Enter runs)", styles.help_key));
            for m in &state.macros {
                let key = m.key.as_deref().and_then(|k| crate::keymap::Key::parse(k).ok());
                let key = key.map(|k| k.to_string()).unwrap_or_else(|| "palette".into());
                let what = format!("{}: {}", m.name, crate::app::macros::summary(m));
                lines.push(Line::from(vec![
                    Span::styled(format!("  {key:<18}"), styles.help_key),
                    Span::styled(crate::text::sanitize(&what, false), styles.help),
                ]));
            }
        }
        lines.push(Line::raw(""));
    }
    lines
}
