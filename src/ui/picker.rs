//! The template picker: the approved WhatsApp templates, with their language and body,
//! to write to a customer whose 24-hour window has closed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::AppState;
use crate::text::{sanitize, truncate};
use crate::theme::Styles;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState, styles: &Styles, selected: usize) {
    let height = (state.templates.len() as u16 * 2 + 3).min(area.height);
    let [area] = Layout::horizontal([Constraint::Max(80)]).flex(Flex::Center).areas(area);
    let [area] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Templates: ↑↓ choose, Enter use, Esc close ")
        .style(styles.help)
        .border_style(styles.border_focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines = Vec::new();
    for (i, t) in state.templates.iter().enumerate() {
        let style = if i == selected { styles.list_selected } else { styles.help_key };
        let head = format!("{} ({}) · {} parameters", t.name, t.language, t.parameters());
        lines.push(Line::from(Span::styled(truncate(&sanitize(&head, false), width), style)));
        lines.push(Line::from(Span::styled(truncate(&format!("  {}", sanitize(&t.body, false)), width), styles.help)));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
