//! The composer: a ratatui-textarea inside a frame that says where the text will go.

use ratatui::Frame;
use ratatui::layout::Rect;

use ratatui::text::{Line, Span};

use super::{empty_pane, pane_block};
use crate::app::state::ComposerMode;
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
    let (title, style) = match &state.mode {
        ComposerMode::Note => {
            (format!(" Note on {}: private, never sent to the customer ", sanitize(&row.title, false)), styles.bar_warn)
        }
        ComposerMode::CannedBody(c, _) => (
            format!(
                " Canned reply `{}`: {} saves it for the team ({}: leave it) ",
                sanitize(&c.name, false),
                state.key_hint(crate::keymap::Context::Composer, crate::keymap::Command::Send),
                state.key_hint(crate::keymap::Context::Composer, crate::keymap::Command::Back)
            ),
            styles.bar_warn,
        ),
        ComposerMode::Edit(..) => (
            format!(
                " Editing your message to {} ({}: leave it as it is) ",
                sanitize(&row.title, false),
                state.key_hint(crate::keymap::Context::Composer, crate::keymap::Command::Back)
            ),
            styles.bar_warn,
        ),
        _ => {
            (format!(" To: {} on {} ", sanitize(&row.title, false), row.channel.display_name()), styles.composer_target)
        }
    };
    let mut block = pane_block(String::new(), focused, styles).title(Span::styled(title, style));
    if row.blocked_at.is_some() {
        let what = match row.channel.rules().access {
            crate::model::Access::Subscribers => " ⛔ unsubscribed: cannot be written to ",
            crate::model::Access::Permission => " ⛔ denied messages: cannot be written to ",
            crate::model::Access::UntilBlocked => " ⛔ blocked: a message will fail ",
        };
        block = block.title(Line::styled(what, styles.status_failed).right_aligned());
    }
    if let ComposerMode::Template(t, _) = &state.mode {
        let title = format!(" template {} ({}) ", sanitize(&t.name, false), sanitize(&t.language, false));
        block = block.title(Span::styled(title, styles.title));
    } else if let Some((open, closes)) = state.window() {
        let (text, style) = if open {
            let left = (closes - state.now).max(0) / 60_000;
            (format!(" window open, {}h{:02}m left ", left / 60, left % 60), styles.composer_target)
        } else {
            let key = state.key_hint(crate::keymap::Context::Composer, crate::keymap::Command::Template);
            (format!(" window closed: template only ({key}) "), styles.status_failed)
        };
        block = block.title(Line::styled(text, style).right_aligned());
    }
    // Near the platform's limit, count the characters.
    let limit = row.channel.text_limit();
    let used: usize = state.composer.lines().iter().map(|l| l.chars().count() + 1).sum::<usize>().saturating_sub(1);
    if used * 10 >= limit * 9 {
        let style = if used > limit { styles.status_failed } else { styles.composer_target };
        block = block.title(Line::styled(format!(" {used}/{limit} "), style).right_aligned());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(&state.composer, inner);
    steady_widths(frame.buffer_mut(), inner);
}

/// The composer keeps the agent's text as it will be sent, but each cell must hold what
/// every terminal draws as wide as ratatui measured it. A cluster with a variation
/// selector, a joiner or a skin tone is shown by its first emoji in the cells ratatui
/// gave it (❤️ as ❤ and a space, 👨‍👩‍👧 as 👨, 👍🏽 as 👍), as `text::sanitize` shows
/// customers' text; the cursor and the wrapping stay where the textarea put them.
fn steady_widths(buf: &mut ratatui::buffer::Buffer, area: Rect) {
    let ambiguous = |c: char| matches!(c, '\u{fe0e}' | '\u{fe0f}' | '\u{200d}' | '\u{1f3fb}'..='\u{1f3ff}');
    for y in area.top()..area.bottom() {
        let mut x = area.left();
        while x < area.right() {
            let symbol = buf[(x, y)].symbol().to_string();
            let given = crate::text::width(&symbol).max(1) as u16;
            if symbol.chars().any(ambiguous) {
                let shown = crate::text::sanitize(&symbol, false);
                let first = unicode_segmentation::UnicodeSegmentation::graphemes(shown.as_str(), true)
                    .next()
                    .unwrap_or(" ")
                    .to_string();
                let used = crate::text::width(&first) as u16;
                if used <= given {
                    buf[(x, y)].set_symbol(&first);
                    for pad in x + used.max(1)..(x + given).min(area.right()) {
                        buf[(pad, y)].set_symbol(" ");
                    }
                }
            }
            x += given;
        }
    }
}
