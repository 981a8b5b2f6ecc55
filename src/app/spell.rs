//! Spell-check in the composer. The dictionaries load off the loop at start; after each
//! action the finished words of the draft (not the one being typed) are looked up in a
//! cache, checked once each, and the misspelled ones underlined through the composer's
//! search highlight. `spell-suggest` offers corrections (found off the loop, they take
//! tens of milliseconds) and "add to my dictionary", which the store keeps per agent.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ratatui::style::Style;
use ratatui_textarea::CursorMove;

use super::action::Effect;
use super::overlay::Overlay;
use super::picker::{Choice, Picked, Picker};
use super::state::{AppState, Focus};
use super::update::{notify, set_focus};
use crate::keymap::{Command, Context};
use crate::spell::{BeforeSend, Speller, Word, dictionaries::INSTALL_HINT};

/// The most verdicts kept; past it the cache starts again.
const CACHE: usize = 20_000;

/// What the composer knows of spelling.
pub struct SpellState {
    pub speller: Option<Arc<Speller>>,
    pub status: SpellStatus,
    /// The agent's own words, lower-cased.
    pub personal: HashSet<String>,
    pub before_send: BeforeSend,
    /// How a misspelled word looks (the theme's `composer.misspelled`).
    pub style: Style,
    /// Enter was pressed once over misspelled words in this text: Enter again on the
    /// same text sends.
    pub armed: Option<String>,
    verdicts: HashMap<String, bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpellStatus {
    Loading,
    /// The languages loaded.
    On(Vec<String>),
    /// Why there is no spell-check.
    Off(String),
}

impl Default for SpellState {
    fn default() -> Self {
        SpellState {
            speller: None,
            status: SpellStatus::Loading,
            personal: HashSet::new(),
            before_send: BeforeSend::Warn,
            style: Style::default(),
            armed: None,
            verdicts: HashMap::new(),
        }
    }
}

impl SpellState {
    /// Whether a word is spelled right: the agent's dictionary, then the cache, then
    /// the dictionaries (about a microsecond a word).
    fn correct(&mut self, word: &str) -> bool {
        let Some(speller) = &self.speller else { return true };
        if self.personal.contains(&word.to_lowercase()) {
            return true;
        }
        if let Some(v) = self.verdicts.get(word) {
            return *v;
        }
        let verdict = speller.check(word);
        if self.verdicts.len() >= CACHE {
            self.verdicts.clear();
        }
        self.verdicts.insert(word.to_string(), verdict);
        verdict
    }

    /// The misspelled words of `text`; the word ending at `typing_at` (being typed) is
    /// left alone until it is finished.
    pub fn misspelled<'a>(&mut self, text: &'a str, typing_at: Option<usize>) -> Vec<Word<'a>> {
        if self.speller.is_none() {
            return Vec::new();
        }
        crate::spell::words(text)
            .into_iter()
            .filter(|w| Some(w.end) != typing_at)
            .filter(|w| !self.correct(w.text))
            .collect()
    }
}

/// The dictionaries are read: spell-check starts, or the status bar says how to get it.
pub fn loaded(s: &mut AppState, speller: Arc<Speller>, problems: Vec<String>) {
    for p in &problems {
        tracing::warn!(problem = %p, "spell-check");
    }
    if speller.is_empty() {
        let why = match problems.first() {
            None => "spell-check is off in the config".to_string(),
            Some(_) => format!("spell-check off: no dictionaries ({INSTALL_HINT})"),
        };
        if !problems.is_empty() {
            notify(s, why.clone(), false);
        }
        s.spell.status = SpellStatus::Off(why);
        return;
    }
    let names: Vec<String> = speller.names().iter().map(|n| n.to_string()).collect();
    if !problems.is_empty() {
        notify(s, format!("spell-check in {} only: {}", names.join(", "), problems.join("; ")), false);
    }
    s.spell.status = SpellStatus::On(names);
    s.spell.speller = Some(speller);
    s.spell.verdicts.clear();
}

/// After every action: the composer's misspelled words are the ones underlined.
pub fn refresh(s: &mut AppState) {
    let pattern = if s.spell.speller.is_some() {
        let text = s.composer_text();
        let cursor = cursor_offset(s);
        let mut bad: Vec<&str> = s.spell.misspelled(&text, Some(cursor)).into_iter().map(|w| w.text).collect();
        bad.sort_unstable();
        bad.dedup();
        pattern(&bad)
    } else {
        String::new()
    };
    let current = s.composer.search_pattern().map(|p| p.as_str()).unwrap_or("");
    if current != pattern {
        // Cannot fail: every word is escaped.
        let _ = s.composer.set_search_pattern(&pattern);
        s.composer.set_search_style(s.spell.style);
    }
}

/// A regex that matches these whole words.
fn pattern(words: &[&str]) -> String {
    if words.is_empty() {
        return String::new();
    }
    let alternatives: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
    format!(r"\b(?:{})\b", alternatives.join("|"))
}

/// The cursor as a byte offset in `composer_text()`.
fn cursor_offset(s: &AppState) -> usize {
    let ratatui_textarea::DataCursor(row, col) = s.composer.cursor();
    let lines = s.composer.lines();
    let before: usize = lines.iter().take(row).map(|l| l.len() + 1).sum();
    let line = lines.get(row).map(String::as_str).unwrap_or("");
    before + line.char_indices().nth(col).map(|(i, _)| i).unwrap_or(line.len())
}

/// What the spell picker offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpellChoice {
    Looking,
    Correction(String),
    /// Nothing close in the dictionaries.
    Nothing,
    Remember(String),
}

impl Choice for SpellChoice {
    fn label(&self) -> String {
        match self {
            SpellChoice::Looking => "looking for corrections…".into(),
            SpellChoice::Correction(c) => crate::text::sanitize(c, false),
            SpellChoice::Nothing => "no corrections found".into(),
            SpellChoice::Remember(w) => format!("add “{}” to my dictionary", crate::text::sanitize(w, false)),
        }
    }
}

/// The spell picker: the word it is for, where it was, and the choices.
pub struct SpellPanel {
    pub word: String,
    pub start: usize,
    pub picker: Picker<SpellChoice>,
}

/// `spell-suggest`: corrections for the misspelled word at the cursor (or the nearest
/// one before it, or the first).
pub fn suggest(s: &mut AppState) -> Vec<Effect> {
    if s.open.is_none() {
        return Vec::new();
    }
    let Some(speller) = s.spell.speller.clone() else {
        let why = match &s.spell.status {
            SpellStatus::Loading => "the dictionaries are still loading".to_string(),
            SpellStatus::Off(why) => why.clone(),
            SpellStatus::On(_) => String::new(),
        };
        notify(s, why, false);
        return Vec::new();
    };
    let text = s.composer_text();
    let cursor = cursor_offset(s);
    let bad = s.spell.misspelled(&text, None);
    let target = bad
        .iter()
        .find(|w| w.start <= cursor && cursor <= w.end)
        .or_else(|| bad.iter().rev().find(|w| w.end <= cursor))
        .or_else(|| bad.first());
    let Some(word) = target else {
        notify(s, "no misspelled words in the draft".into(), false);
        return Vec::new();
    };
    let (word, start) = (word.text.to_string(), word.start);
    let items = vec![SpellChoice::Looking, SpellChoice::Remember(word.clone())];
    let title = format!(" Spelling of “{}” ", crate::text::sanitize(&word, false));
    let picker = Picker::new(&title, "Enter replaces the word; type to filter", items);
    s.overlay = Overlay::Spell(SpellPanel { word: word.clone(), start, picker });
    vec![Effect::Suggest { speller, word }]
}

/// Corrections arrived for the word the picker is open for.
pub fn suggested(s: &mut AppState, word: &str, corrections: Vec<String>) {
    let Overlay::Spell(panel) = &mut s.overlay else { return };
    if panel.word != word {
        return;
    }
    let mut items: Vec<SpellChoice> = corrections.into_iter().map(SpellChoice::Correction).collect();
    if items.is_empty() {
        items.push(SpellChoice::Nothing);
    }
    items.push(SpellChoice::Remember(word.to_string()));
    panel.picker.items = items;
    panel.picker.refilter();
}

pub fn on_key(s: &mut AppState, key: crossterm::event::KeyEvent) -> Vec<Effect> {
    let keymap = s.keymap.clone();
    let Overlay::Spell(panel) = &mut s.overlay else { return Vec::new() };
    match panel.picker.on_key(&keymap, key) {
        Picked::Chosen(i) => {
            let choice = panel.picker.items[i].clone();
            let (word, start) = (panel.word.clone(), panel.start);
            s.overlay = Overlay::None;
            let mut effects = set_focus(s, Focus::Composer);
            match choice {
                SpellChoice::Correction(c) => replace(s, &word, start, &c),
                SpellChoice::Remember(w) => {
                    s.spell.personal.insert(w.to_lowercase());
                    notify(s, format!("“{w}” is in your dictionary now"), false);
                    effects.push(Effect::RememberWord { agent: s.agent.clone(), word: w });
                }
                SpellChoice::Looking | SpellChoice::Nothing => {}
            }
            effects
        }
        Picked::Closed => {
            s.overlay = Overlay::None;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Puts `with` in place of `word` at byte `start` of the draft (through the composer's
/// own editing, so undo brings the word back).
fn replace(s: &mut AppState, word: &str, start: usize, with: &str) {
    let text = s.composer_text();
    if text.get(start..start + word.len()) != Some(word) {
        notify(s, "the draft changed: that word is no longer there".into(), true);
        return;
    }
    let before = &text[..start];
    let row = before.matches('\n').count();
    let col = before.rsplit('\n').next().unwrap_or("").chars().count();
    s.composer.move_cursor(CursorMove::Jump(row as u16, col as u16));
    s.composer.delete_str(word.chars().count());
    s.composer.insert_str(with);
}

/// The agent's words, read from the store at start.
pub fn remembered(s: &mut AppState, words: Vec<String>) {
    s.spell.personal.extend(words.into_iter().map(|w| w.to_lowercase()));
}

/// Before a reply goes: with `warn`, misspelled words ask first (Enter again sends);
/// with `block`, they stop it. Returns whether sending may go on.
pub fn before_send(s: &mut AppState, text: &str) -> bool {
    if s.spell.before_send == BeforeSend::Off {
        return true;
    }
    let mut seen = HashSet::new();
    let bad: Vec<String> = s
        .spell
        .misspelled(text, None)
        .into_iter()
        .filter(|w| seen.insert(w.text))
        .map(|w| w.text.to_string())
        .collect();
    let armed = s.spell.armed.take();
    if bad.is_empty() || (armed.as_deref() == Some(text) && s.spell.before_send == BeforeSend::Warn) {
        return true;
    }
    let shown: Vec<String> = bad.iter().take(3).map(|w| format!("“{w}”")).collect();
    let more = if bad.len() > 3 { format!(" and {} more", bad.len() - 3) } else { String::new() };
    let fix = s.key_hint(Context::Composer, Command::SpellSuggest);
    let message = if s.spell.before_send == BeforeSend::Block {
        format!("not sent: {}{more} misspelled ({fix} corrects or adds to your dictionary)", shown.join(", "))
    } else {
        s.spell.armed = Some(text.to_string());
        let again = s.key_hint(Context::Composer, Command::Send);
        format!("{}{more} may be misspelled: {fix} corrects, {again} again sends", shown.join(", "))
    };
    notify(s, message, true);
    false
}
