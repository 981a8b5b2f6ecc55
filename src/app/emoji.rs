//! Emoji in the composer: a `:shortcode:` typed becomes its emoji as the closing colon
//! is typed (the `emojis` crate's table: GitHub's and Slack's codes, `:thumbsup:`,
//! `:+1:`, `:heart:`), and the emoji picker finds one by name.

use ratatui_textarea::TextArea;

use super::picker::{Choice, Picker};

/// A shortcode at most this long is looked up.
const LONGEST: usize = 40;

/// After a `:` was typed: when the text before the cursor ends with `:code:` (the
/// opening colon at the start of a word, so "12:30:" stays) and `code` is a known
/// shortcode, the shortcode becomes the emoji. Returns whether it did.
pub fn expand(composer: &mut TextArea<'_>) -> bool {
    let cursor = composer.cursor();
    let Some(line) = composer.lines().get(cursor.0) else { return false };
    let before: Vec<char> = line.chars().take(cursor.1).collect();
    if before.last() != Some(&':') {
        return false;
    }
    let body = &before[..before.len() - 1];
    let Some(open) = body.iter().rposition(|c| *c == ':') else { return false };
    let code: String = body[open + 1..].iter().collect();
    let at_word_start = open == 0 || !body[open - 1].is_alphanumeric();
    let plausible = !code.is_empty()
        && code.chars().count() <= LONGEST
        && code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-'));
    if !at_word_start || !plausible {
        return false;
    }
    let Some(emoji) = emojis::get_by_shortcode(&code) else { return false };
    for _ in 0..code.chars().count() + 2 {
        composer.delete_char();
    }
    composer.insert_str(emoji.as_str());
    true
}

/// An emoji in the picker: itself, its name and its shortcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmojiChoice(pub &'static emojis::Emoji);

impl Choice for EmojiChoice {
    fn label(&self) -> String {
        format!("{} {}", self.0.as_str(), self.0.name())
    }

    fn aside(&self) -> Option<String> {
        self.0.shortcode().map(|c| format!(":{c}:"))
    }
}

/// Every emoji but the skin-tone variants, in Unicode's order.
pub fn picker() -> Picker<EmojiChoice> {
    let items = emojis::iter().map(EmojiChoice).collect();
    Picker::new(" Emoji ", "type a name: heart, thumbs, smile, fire…", items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> String {
        let mut area = TextArea::default();
        for c in text.chars() {
            area.insert_char(c);
            if c == ':' {
                expand(&mut area);
            }
        }
        area.lines().join("\n")
    }

    #[test]
    fn shortcodes_become_emoji_as_the_colon_closes_them() {
        assert_eq!(typed("спасибо за заказ :thumbsup:"), "спасибо за заказ 👍");
        assert_eq!(typed(":+1: и :heart: ок"), "👍 и ❤\u{fe0f} ок");
        assert_eq!(typed("в 12:30: приходите"), "в 12:30: приходите", "a time stays");
        assert_eq!(typed("a:b:c :nosuchcode: x"), "a:b:c :nosuchcode: x");
        assert_eq!(typed("::"), "::");
        assert_eq!(typed("(:fire:)"), "(🔥)");
    }
}
