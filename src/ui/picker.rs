//! A picker over the panes: its title with the keys, the line being typed, and the
//! items that match, the selected one highlighted (with a second line where an item has
//! one, as a template's body).

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::AppState;
use crate::app::picker::{Choice, Picker};
use crate::keymap::{Command, Context};
use crate::text::{sanitize, truncate, width};
use crate::theme::Styles;

pub fn draw<T: Choice>(frame: &mut Frame<'_>, area: Rect, state: &AppState, picker: &Picker<T>, styles: &Styles) {
    let two_lines = picker.items.iter().any(|i| i.detail().is_some());
    let per_item = if two_lines { 2 } else { 1 };
    let wanted = (picker.items.len() * per_item) as u16 + 4;
    let [area] = Layout::horizontal([Constraint::Max(80)]).flex(Flex::Center).areas(area);
    let [area] =
        Layout::vertical([Constraint::Length(wanted.clamp(6, area.height.max(6)))]).flex(Flex::Center).areas(area);
    let keys = state
        .hints(Context::Picker, &[(Command::Down, "move"), (Command::Choose, "choose"), (Command::Close, "close")]);
    let inner = super::overlay_frame(frame, area, format!("{}— {keys} ", picker.title), styles);
    if inner.height < 2 {
        return;
    }
    let [input, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(&picker.input, input);
    let room = (rest.height as usize / per_item).max(1);
    let first = picker.selected.saturating_sub(room - 1);
    let cells = rest.width as usize;
    let mut lines = Vec::new();
    if picker.shown.is_empty() {
        lines.push(Line::styled("nothing matches", styles.list_preview));
    }
    for (row, i) in picker.shown.iter().enumerate().skip(first).take(room) {
        let item = &picker.items[*i];
        let style = if row == picker.selected { styles.list_selected } else { styles.help_key };
        let label = sanitize(&item.label(), false);
        match item.aside() {
            // A short note (a command's keys) sits at the right of the label.
            Some(aside) => {
                let aside = sanitize(&aside, false);
                let room = cells.saturating_sub(width(&aside) + 1);
                let label = truncate(&label, room);
                let pad = cells.saturating_sub(width(&label) + width(&aside));
                lines.push(Line::from(vec![
                    Span::styled(format!("{label}{}", " ".repeat(pad)), style),
                    Span::styled(aside, styles.help_key),
                ]));
            }
            None => lines.push(Line::styled(truncate(&label, cells), style)),
        }
        if let Some(detail) = item.detail() {
            lines.push(Line::styled(truncate(&format!("  {}", sanitize(&detail, false)), cells), styles.help));
        }
    }
    frame.render_widget(Paragraph::new(lines), rest);
}
