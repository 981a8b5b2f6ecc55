//! Search in the console (`/`): as the agent types, the conversations whose customer's
//! name, phone or handle matches, then the messages with every word (newest first, the
//! last word may be unfinished; any case, `ё` as `е`). Enter opens the conversation at
//! the message found, its words marked; `n` and `N` then go from match to match.

use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

use super::action::Effect;
use super::overlay::Overlay;
use super::state::{AppState, Found};
use crate::keymap::{Command, Context};
use crate::store::{MessageKey, SearchHit};

/// How many hits a search shows.
pub const HITS: usize = 30;

pub struct SearchPanel {
    pub input: TextArea<'static>,
    pub hits: Vec<SearchHit>,
    pub selected: usize,
    /// Which query the hits answer: a late answer to an older one is dropped.
    pub generation: u64,
    /// The query the hits answer, folded into words, for marking them.
    pub words: Vec<String>,
}

impl SearchPanel {
    pub fn query(&self) -> String {
        self.input.lines().join(" ")
    }
}

pub fn open(s: &mut AppState) -> Vec<Effect> {
    let mut input = TextArea::default();
    input.set_placeholder_text("a name, a phone, or words from a message");
    input.set_cursor_line_style(ratatui::style::Style::default());
    s.overlay = Overlay::Search(SearchPanel { input, hits: Vec::new(), selected: 0, generation: 0, words: Vec::new() });
    Vec::new()
}

pub fn on_key(s: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let command = s.keymap.resolve(Context::Picker, &key);
    let Overlay::Search(panel) = &mut s.overlay else { return Vec::new() };
    match command {
        Some(Command::Close) => {
            s.overlay = Overlay::None;
            Vec::new()
        }
        Some(Command::Up) => {
            panel.selected = panel.selected.saturating_sub(1);
            Vec::new()
        }
        Some(Command::Down) => {
            panel.selected = (panel.selected + 1).min(panel.hits.len().saturating_sub(1));
            Vec::new()
        }
        Some(Command::Choose) => {
            let Some(hit) = panel.hits.get(panel.selected) else { return Vec::new() };
            let conversation = hit.conversation;
            // A customer found by name opens as usual; a message opens where it is.
            let found = (hit.message.0 != 0).then(|| Found {
                query: panel.query(),
                words: crate::store::query_words(&panel.query()),
                at: MessageKey { sent_at: hit.sent_at, id: hit.message },
            });
            s.overlay = Overlay::None;
            vec![Effect::OpenConversation { conversation, found }]
        }
        _ => {
            if panel.input.input(key) {
                panel.generation += 1;
                return vec![Effect::Search { generation: panel.generation, query: panel.query() }];
            }
            Vec::new()
        }
    }
}

/// The hits for a query; those for an older one are dropped.
pub fn found(s: &mut AppState, generation: u64, hits: Vec<SearchHit>) -> Vec<Effect> {
    if let Overlay::Search(panel) = &mut s.overlay
        && panel.generation == generation
    {
        panel.hits = hits;
        panel.selected = 0;
        panel.words = crate::store::query_words(&panel.query());
    }
    Vec::new()
}
