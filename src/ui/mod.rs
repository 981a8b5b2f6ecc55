//! Drawing: a pure function of the state. One file per pane; `layout` is shared with
//! `update`, which needs the same geometry for page sizes and mouse clicks.

pub mod campaign_panel;
mod composer;
mod contact_card;
mod conversation;
mod conversation_list;
mod help;
mod marks;
mod memo;
mod person;
mod picker;
mod reports;
mod rich_text;
mod search;
mod status_bar;
pub mod time;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use crate::app::overlay::Overlay;
use crate::app::{AppState, Focus};
use crate::model::ChannelKind;
use crate::theme::Styles;

pub use memo::FrameCache;

/// Below this width only one pane shows: the list, or the open conversation.
const NARROW: u16 = 50;

/// Where each pane goes. A pane with no room is an empty rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panes {
    pub list: Rect,
    pub conversation: Rect,
    pub composer: Rect,
    pub status: Rect,
}

pub fn layout(area: Rect, state: &AppState) -> Panes {
    let [main, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let narrow = area.width < NARROW;
    let (list, right) = if narrow {
        if state.focus == Focus::List || state.open.is_none() {
            (main, Rect::default())
        } else {
            (Rect::default(), main)
        }
    } else {
        let list_width = (area.width / 3).clamp(20, 44);
        let [list, right] = Layout::horizontal([Constraint::Length(list_width), Constraint::Min(1)]).areas(main);
        (list, right)
    };
    // The composer grows with its text, up to a third of the height.
    let lines = state.composer.lines().len() as u16;
    let composer_height = (lines + 2).clamp(3, (right.height / 3).max(3));
    let [conversation, composer] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(composer_height)]).areas(right);
    Panes { list, conversation, composer, status }
}

pub fn draw(frame: &mut Frame<'_>, state: &AppState, styles: &Styles) {
    let area = frame.area();
    let panes = layout(area, state);
    // The list and the conversation lay their base style themselves, only when they are
    // drawn again (`memo`): most frames copy them as they were.
    for pane in [panes.composer, panes.status] {
        frame.buffer_mut().set_style(pane, styles.base);
    }
    conversation_list::draw(frame, panes.list, state, styles);
    conversation::draw(frame, panes.conversation, state, styles);
    composer::draw(frame, panes.composer, state, styles);
    status_bar::draw(frame, panes.status, state, styles);
    let [main, _] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    draw_overlay(frame, area, main, &state.overlay, state, styles);
}

/// What lies over the panes; the help over what it covers.
fn draw_overlay(frame: &mut Frame<'_>, area: Rect, main: Rect, overlay: &Overlay, state: &AppState, styles: &Styles) {
    match overlay {
        Overlay::None => {}
        Overlay::Help(under) => {
            draw_overlay(frame, area, main, under, state, styles);
            help::draw(frame, area, state, styles, under.context());
        }
        Overlay::Templates(picker) => picker::draw(frame, area, state, picker, styles),
        Overlay::Snooze(picker) => picker::draw(frame, area, state, picker, styles),
        Overlay::Agents(picker) => picker::draw(frame, area, state, picker, styles),
        Overlay::Palette(picker) => picker::draw(frame, area, state, picker, styles),
        Overlay::Emoji(picker) => picker::draw(frame, area, state, picker, styles),
        Overlay::Canned(picker) => picker::draw(frame, area, state, picker, styles),
        Overlay::CannedName(picker) => picker::draw(frame, area, state, picker, styles),
        Overlay::Spell(panel) => picker::draw(frame, area, state, &panel.picker, styles),
        Overlay::Macro(panel) => picker::draw(frame, area, state, &panel.picker, styles),
        Overlay::Path(panel) => picker::draw(frame, area, state, &panel.picker, styles),
        Overlay::Media(panel) => picker::draw(frame, area, state, &panel.picker, styles),
        Overlay::Automation(picker) => picker::draw(frame, area, state, picker, styles),
        Overlay::Polls(picker) => picker::draw(frame, area, state, picker, styles),
        Overlay::Search(panel) => search::draw(frame, main, state, panel, styles),
        Overlay::Contact(panel) => contact_card::draw(frame, main, state, panel, styles),
        Overlay::Duplicates(panel) => person::draw_duplicates(frame, main, state, panel, styles),
        Overlay::Campaign => campaign_panel::draw(frame, main, state, styles),
        Overlay::Reports(panel) => reports::draw(frame, main, state, panel, styles),
    }
}

fn badge_style(styles: &Styles, channel: ChannelKind) -> ratatui::style::Style {
    match channel {
        ChannelKind::Telegram => styles.badge_telegram,
        ChannelKind::WhatsApp => styles.badge_whatsapp,
        ChannelKind::Viber => styles.badge_viber,
        ChannelKind::Vk => styles.badge_vk,
    }
}

/// An overlay's frame over whatever is under `area`: cleared, bordered, titled; returns
/// the space inside it.
fn overlay_frame(frame: &mut Frame<'_>, area: Rect, title: String, styles: &Styles) -> Rect {
    use ratatui::widgets::{Block, Borders, Clear};
    frame.render_widget(Clear, area);
    let block =
        Block::default().borders(Borders::ALL).title(title).style(styles.help).border_style(styles.border_focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// A pane with nothing to show yet: its frame and one line saying why.
fn empty_pane(frame: &mut ratatui::Frame<'_>, area: Rect, title: &str, hint: &str, focused: bool, styles: &Styles) {
    let block = pane_block(title.to_string(), focused, styles);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(ratatui::widgets::Paragraph::new(hint.to_string()).style(styles.list_preview), inner);
}

fn pane_block<'a>(title: String, focused: bool, styles: &Styles) -> ratatui::widgets::Block<'a> {
    use ratatui::widgets::{Block, BorderType, Borders};
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused { BorderType::Thick } else { BorderType::Plain })
        .border_style(if focused { styles.border_focused } else { styles.border })
        .title(ratatui::text::Span::styled(title, styles.title))
}
