//! The composer: a ratatui-textarea inside a frame that says where the text will go.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{empty_pane, pane_block};
use crate::app::{AppState, Focus};
use crate::text::sanitize;
use crate::theme::Styles;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState, styles: &Styles) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let focused = state.focus == Focus::Composer;
    let Some(open) = &state.open else {
        return empty_pane(frame, area, " Reply ", "Select a conversation to reply.", focused, styles);
    };
    let row = &open.row;
    let title = format!(" To: {} on {} ", sanitize(&row.title, false), row.channel.display_name());
    let block =
        pane_block(String::new(), focused, styles).title(ratatui::text::Span::styled(title, styles.composer_target));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(&state.composer, inner);
}
