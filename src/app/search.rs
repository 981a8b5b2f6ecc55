//! Search in the console (`/`): as the agent types, the conversations whose customer's
//! name, phone or handle matches, then the messages with every word (newest first, the
//! last word may be unfinished; any case, `ё` as `е`). Enter opens the conversation.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui_textarea::TextArea;

use super::action::Effect;
use super::state::{AppState, Focus};
use crate::store::SearchHit;

/// How many hits a search shows.
pub const HITS: usize = 30;

pub struct SearchPanel {
    pub input: TextArea<'static>,
    pub hits: Vec<SearchHit>,
    pub selected: usize,
    /// Which query the hits answer: a late answer to an older one is dropped.
    pub generation: u64,
}

pub fn open(s: &mut AppState) -> Vec<Effect> {
    let mut input = TextArea::default();
    input.set_placeholder_text("a name, a phone, or words from a message");
    input.set_cursor_line_style(ratatui::style::Style::default());
    s.search = Some(SearchPanel { input, hits: Vec::new(), selected: 0, generation: 0 });
    Vec::new()
}

pub fn on_key(s: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let Some(panel) = &mut s.search else { return Vec::new() };
    match key.code {
        KeyCode::Esc => {
            s.search = None;
            Vec::new()
        }
        KeyCode::Up => {
            panel.selected = panel.selected.saturating_sub(1);
            Vec::new()
        }
        KeyCode::Down => {
            panel.selected = (panel.selected + 1).min(panel.hits.len().saturating_sub(1));
            Vec::new()
        }
        KeyCode::Enter => {
            let Some(hit) = panel.hits.get(panel.selected) else { return Vec::new() };
            let conversation = hit.conversation;
            s.search = None;
            s.focus = Focus::Conversation;
            vec![Effect::OpenConversation(conversation)]
        }
        _ => {
            if panel.input.input(key) {
                panel.generation += 1;
                let query = panel.input.lines().join(" ");
                return vec![Effect::Search { generation: panel.generation, query }];
            }
            Vec::new()
        }
    }
}

/// The hits for a query; those for an older one are dropped.
pub fn found(s: &mut AppState, generation: u64, hits: Vec<SearchHit>) -> Vec<Effect> {
    if let Some(panel) = &mut s.search
        && panel.generation == generation
    {
        panel.hits = hits;
        panel.selected = 0;
    }
    Vec::new()
}
