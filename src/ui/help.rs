//! The help overlay, generated from the live keymap so it always tells the truth. Two
//! columns when the terminal is wide enough, one otherwise (global keys first).

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::AppState;
use crate::keymap::Context;
use crate::theme::Styles;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState, styles: &Styles) {
    let two_columns = area.width >= 100;
    let [area] =
        Layout::horizontal([Constraint::Max(if two_columns { 110 } else { 72 })]).flex(Flex::Center).areas(area);
    let [area] = Layout::vertical([Constraint::Percentage(94)]).flex(Flex::Center).areas(area);
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Keys — any key closes ")
        .style(styles.help)
        .border_style(styles.border_focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let order = [Context::Global, Context::List, Context::Conversation, Context::Composer];
    if two_columns {
        let [left, right] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(inner);
        frame.render_widget(Paragraph::new(section_lines(state, styles, &order[..2])), left);
        frame.render_widget(Paragraph::new(section_lines(state, styles, &order[2..])), right);
    } else {
        frame.render_widget(Paragraph::new(section_lines(state, styles, &order)), inner);
    }
}

fn section_lines<'a>(state: &AppState, styles: &Styles, contexts: &[Context]) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    for ctx in contexts {
        let heading = match ctx {
            Context::List => "Conversation list",
            Context::Conversation => "Conversation",
            Context::Composer => "Composer",
            Context::Global => "Everywhere",
        };
        lines.push(Line::styled(heading, styles.help_key));
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
        lines.push(Line::raw(""));
    }
    lines
}
