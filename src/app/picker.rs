//! One picker for every list the agent chooses from by typing: the command palette, the
//! agents to assign to, the snooze times and the WhatsApp templates. What is typed
//! filters the items with nucleo's fuzzy matcher (helix's), best match first; the keys
//! come from the keymap's `picker` context.

use crossterm::event::KeyEvent;
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher};
use ratatui::style::{Modifier, Style};
use ratatui_textarea::TextArea;

use crate::keymap::{Command, Context, Keymap};

/// What a picker's line says of an item, and what the typed text is matched against.
pub trait Choice {
    fn label(&self) -> String;
    /// A second, dimmer line under the label (a template's body), if any.
    fn detail(&self) -> Option<String> {
        None
    }
    /// A short note at the right of the label (a command's keys), if any.
    fn aside(&self) -> Option<String> {
        None
    }
}

pub struct Picker<T> {
    pub title: String,
    pub input: TextArea<'static>,
    pub items: Vec<T>,
    /// The items that match what is typed (indices into `items`), best first.
    pub shown: Vec<usize>,
    pub selected: usize,
}

/// What a key did to a picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picked {
    /// The agent chose the item at this index of `items`.
    Chosen(usize),
    Closed,
    /// The text changed: the caller may add items that depend on it.
    Typed,
    Nothing,
}

impl<T: Choice> Picker<T> {
    pub fn new(title: impl Into<String>, placeholder: &str, items: Vec<T>) -> Picker<T> {
        let mut input = TextArea::default();
        input.set_placeholder_text(placeholder);
        input.set_placeholder_style(Style::default().add_modifier(Modifier::DIM));
        input.set_cursor_line_style(Style::default());
        input.set_cursor_style(Style::default().add_modifier(Modifier::REVERSED));
        let mut picker = Picker { title: title.into(), input, shown: Vec::new(), items, selected: 0 };
        picker.refilter();
        picker
    }

    /// Puts `text` in the input, the cursor after it.
    pub fn set_query(&mut self, text: &str) {
        self.input.select_all();
        self.input.cut();
        self.input.insert_str(text);
    }

    pub fn query(&self) -> String {
        self.input.lines().join(" ")
    }

    /// Filters and orders the items by what is typed; everything, in order, when nothing is.
    pub fn refilter(&mut self) {
        let query = self.query();
        self.shown = if query.trim().is_empty() {
            (0..self.items.len()).collect()
        } else {
            let pattern = Pattern::parse(&query, CaseMatching::Ignore, Normalization::Smart);
            let mut matcher = Matcher::new(Config::DEFAULT);
            let labels: Vec<(usize, String)> = self.items.iter().map(Choice::label).enumerate().collect();
            let mut scored: Vec<(usize, u32, usize)> = pattern
                .match_list(labels.iter().map(|(i, l)| Labelled(*i, l.as_str())), &mut matcher)
                .into_iter()
                .map(|(l, score)| (l.0, score, l.1.chars().count()))
                .collect();
            // Best first; of equal scores the shorter ("fire" before "heart on fire"),
            // then the items' own order.
            scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
            scored.into_iter().map(|(i, ..)| i).collect()
        };
        self.selected = 0;
    }

    pub fn chosen(&self) -> Option<&T> {
        self.shown.get(self.selected).and_then(|i| self.items.get(*i))
    }

    pub fn on_key(&mut self, keymap: &Keymap, key: KeyEvent) -> Picked {
        match keymap.resolve(Context::Picker, &key) {
            Some(Command::Close) => Picked::Closed,
            Some(Command::Choose) => match self.shown.get(self.selected) {
                Some(i) => Picked::Chosen(*i),
                None => Picked::Nothing,
            },
            Some(Command::Up) => {
                self.selected = self.selected.saturating_sub(1);
                Picked::Nothing
            }
            Some(Command::Down) => {
                self.selected = (self.selected + 1).min(self.shown.len().saturating_sub(1));
                Picked::Nothing
            }
            _ => {
                // One line: Enter chooses, so a typed line break never reaches the input.
                if self.input.input(key) {
                    self.refilter();
                    Picked::Typed
                } else {
                    Picked::Nothing
                }
            }
        }
    }
}

/// An item's label with its index, for the matcher.
struct Labelled<'a>(usize, &'a str);

impl AsRef<str> for Labelled<'_> {
    fn as_ref(&self) -> &str {
        self.1
    }
}

impl Choice for String {
    fn label(&self) -> String {
        self.clone()
    }
}

impl Choice for crate::config::TemplateConfig {
    fn label(&self) -> String {
        format!("{} ({}) · {} parameters", self.name, self.language, self.parameters())
    }

    fn detail(&self) -> Option<String> {
        Some(self.body.clone())
    }
}
