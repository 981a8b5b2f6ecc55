//! Spell-check for the composer: Hunspell dictionaries read by spellbook, and each word
//! checked against the dictionaries of its own script, so a message that mixes Russian
//! and English is checked word by word against the right one. What is not a word to
//! check (links, @mentions, e-mail addresses, numbers, `{{variables}}`, `:shortcodes:`)
//! is skipped.

pub mod dictionaries;

use std::path::PathBuf;

use serde::Deserialize;
use unicode_segmentation::UnicodeSegmentation;

/// `[spell]` in the config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpellConfig {
    pub enabled: bool,
    /// The dictionaries to load, by file name without `.dic` (`en_US`, `ru_RU`).
    pub languages: Vec<String>,
    /// Directories to find them in, or `.dic` files (their `.aff` beside them), instead
    /// of the system's (`/usr/share/hunspell`, `/usr/share/myspell`).
    pub dictionaries: Vec<PathBuf>,
    /// What Enter does with a reply that has misspelled words.
    pub before_send: BeforeSend,
}

impl Default for SpellConfig {
    fn default() -> Self {
        SpellConfig {
            enabled: true,
            languages: vec!["en_US".into(), "ru_RU".into()],
            dictionaries: Vec::new(),
            before_send: BeforeSend::Warn,
        }
    }
}

/// `[spell] before_send`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BeforeSend {
    /// Send; the underline was the warning.
    Off,
    /// Ask first: Enter again sends.
    #[default]
    Warn,
    /// Refuse until the words are fixed or added to the agent's dictionary.
    Block,
}

/// The writing systems the dictionaries are chosen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Script {
    Latin,
    Cyrillic,
}

impl Script {
    /// The script of a word: the first letter that has one decides.
    pub fn of(word: &str) -> Option<Script> {
        word.chars().find_map(|c| match c {
            'a'..='z' | 'A'..='Z' | '\u{C0}'..='\u{24F}' => Some(Script::Latin),
            '\u{400}'..='\u{52F}' => Some(Script::Cyrillic),
            _ => None,
        })
    }

    /// The script a language is written in, by its code (`ru_RU` → Cyrillic).
    pub fn of_language(language: &str) -> Script {
        let code = language.split(['_', '-']).next().unwrap_or("").to_ascii_lowercase();
        match code.as_str() {
            "ru" | "uk" | "be" | "bg" | "sr" | "mk" | "kk" | "ky" | "tg" | "mn" | "tt" | "ba" => Script::Cyrillic,
            _ => Script::Latin,
        }
    }
}

/// One loaded dictionary.
pub struct Language {
    pub name: String,
    pub script: Script,
    pub dictionary: spellbook::Dictionary,
}

/// The loaded dictionaries.
#[derive(Default)]
pub struct Speller {
    languages: Vec<Language>,
}

impl std::fmt::Debug for Speller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speller").field("languages", &self.names()).finish()
    }
}

/// Two spellers are equal only when they are the same one (effects are compared in tests).
impl PartialEq for Speller {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

/// The most corrections offered for a word.
pub const SUGGESTIONS: usize = 6;

impl Speller {
    pub fn new(languages: Vec<Language>) -> Speller {
        Speller { languages }
    }

    pub fn names(&self) -> Vec<&str> {
        self.languages.iter().map(|l| l.name.as_str()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.languages.is_empty()
    }

    /// Whether a dictionary of the word's script is loaded (a word no dictionary can
    /// judge is never called misspelled).
    pub fn covers(&self, word: &str) -> bool {
        Script::of(word).is_some_and(|s| self.languages.iter().any(|l| l.script == s))
    }

    /// Whether the word is spelled right by any dictionary of its script (or none can judge it).
    pub fn check(&self, word: &str) -> bool {
        let Some(script) = Script::of(word) else { return true };
        let word = normalise(word);
        let mut judged = false;
        for language in self.languages.iter().filter(|l| l.script == script) {
            judged = true;
            if language.dictionary.check(&word) {
                return true;
            }
        }
        !judged
    }

    /// Corrections from the dictionaries of the word's script, best first, each once.
    /// Slow (tens of milliseconds): called off the console's loop.
    pub fn suggest(&self, word: &str) -> Vec<String> {
        let Some(script) = Script::of(word) else { return Vec::new() };
        let word = normalise(word);
        let mut all: Vec<String> = Vec::new();
        for language in self.languages.iter().filter(|l| l.script == script) {
            let mut found = Vec::new();
            language.dictionary.suggest(&word, &mut found);
            for s in found {
                if !all.iter().any(|a| a.to_lowercase() == s.to_lowercase()) {
                    all.push(s);
                }
            }
        }
        all.truncate(SUGGESTIONS);
        all
    }
}

/// The typographic apostrophe is checked as the dictionaries spell it.
fn normalise(word: &str) -> String {
    word.replace('\u{2019}', "'")
}

/// A word to check in a text, by byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word<'a> {
    pub start: usize,
    pub end: usize,
    pub text: &'a str,
}

/// The words of a text worth checking. Pieces between spaces that are links, addresses,
/// mentions, hashtags, variables or shortcodes are skipped whole; in the rest, words
/// with digits or `_`, and one-letter words, are skipped.
pub fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut at = 0;
    for piece in text.split_inclusive(char::is_whitespace) {
        let start = at;
        at += piece.len();
        if skipped_piece(piece.trim_end()) {
            continue;
        }
        for (offset, word) in piece.unicode_word_indices() {
            let worth = word.chars().nth(1).is_some()
                && word.chars().any(char::is_alphabetic)
                && !word.chars().any(|c| c.is_numeric() || c == '_')
                && word.len() <= spellbook_max();
            if worth {
                out.push(Word { start: start + offset, end: start + offset + word.len(), text: word });
            }
        }
    }
    out
}

/// Longer words are not checked (spellbook's limit, in bytes).
const fn spellbook_max() -> usize {
    360
}

fn skipped_piece(piece: &str) -> bool {
    let p = piece.trim_start_matches(['(', '[', '"', '«', '\'']);
    p.contains("://")
        || p.starts_with("www.")
        || p.contains('@')
        || p.starts_with('#')
        || p.contains("{{")
        || p.contains("}}")
        || is_shortcode(p)
        || p.contains('/')
        || p.contains('\\')
}

/// `:name:` as the emoji shortcodes are written (one left unexpanded is no word).
fn is_shortcode(p: &str) -> bool {
    let p = p.trim_end_matches(['.', ',', '!', '?', ')', ';']);
    p.len() > 2 && p.starts_with(':') && p.ends_with(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        words(text).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn words_skip_what_is_not_prose() {
        assert_eq!(texts("Добрый день, спосибо за заказ :thumbsup:"), ["Добрый", "день", "спосибо", "за", "заказ"]);
        assert_eq!(
            texts("see https://exampel.com/x and write to ann@exampel.com, @bobb #sale {{first_name}} now"),
            ["see", "and", "write", "to", "now"]
        );
        assert_eq!(texts("order 12345 ab12 x_y I a ok"), ["order", "ok"]);
        assert_eq!(texts("don't won’t"), ["don't", "won’t"]);
        assert_eq!(texts("light-weight"), ["light", "weight"]);
    }

    #[test]
    fn ranges_point_at_the_words() {
        let text = "Привет, wrld! 👍🏽 ещё";
        for w in words(text) {
            assert_eq!(&text[w.start..w.end], w.text);
        }
    }

    #[test]
    fn scripts() {
        assert_eq!(Script::of("спасибо"), Some(Script::Cyrillic));
        assert_eq!(Script::of("«thanks»"), Some(Script::Latin));
        assert_eq!(Script::of("שלום"), None);
        assert_eq!(Script::of_language("ru_RU"), Script::Cyrillic);
        assert_eq!(Script::of_language("en_GB"), Script::Latin);
    }
}
