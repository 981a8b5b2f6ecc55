//! A search's words marked where they occur: in the hits of the search panel and in the
//! conversation opened from it. As the search matches, a word is marked where a word of
//! the text begins with it, in any case and with `ё` as `е`.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

fn fold_char(c: char) -> char {
    match c.to_lowercase().next().unwrap_or(c) {
        'ё' => 'е',
        other => other,
    }
}

/// The character ranges of `text` (by char index) that a word marks.
fn ranges(chars: &[char], words: &[Vec<char>]) -> Vec<(usize, usize)> {
    let folded: Vec<char> = chars.iter().map(|c| fold_char(*c)).collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < folded.len() {
        let starts_word = i == 0 || !folded[i - 1].is_alphanumeric();
        let hit = starts_word
            .then(|| words.iter().filter(|w| folded[i..].starts_with(w)).map(Vec::len).max())
            .flatten()
            .filter(|n| *n > 0);
        match hit {
            Some(n) => {
                found.push((i, i + n));
                i += n;
            }
            None => i += 1,
        }
    }
    found
}

fn word_chars(words: &[String]) -> Vec<Vec<char>> {
    words.iter().map(|w| w.chars().map(fold_char).collect()).collect()
}

/// How a marked run looks: its own style, reversed, so it shows in every theme.
fn marked(style: Style) -> Style {
    style.add_modifier(Modifier::REVERSED)
}

/// The lines with every run of a word marked.
pub fn mark_lines<'a>(lines: Vec<Line<'a>>, words: &[String]) -> Vec<Line<'a>> {
    if words.is_empty() {
        return lines;
    }
    let words = word_chars(words);
    lines
        .into_iter()
        .map(|line| {
            let mut spans = Vec::new();
            for span in line.spans {
                let chars: Vec<char> = span.content.chars().collect();
                let found = ranges(&chars, &words);
                if found.is_empty() {
                    spans.push(span);
                    continue;
                }
                let mut at = 0;
                for (from, to) in found {
                    if from > at {
                        spans.push(Span::styled(chars[at..from].iter().collect::<String>(), span.style));
                    }
                    spans.push(Span::styled(chars[from..to].iter().collect::<String>(), marked(span.style)));
                    at = to;
                }
                if at < chars.len() {
                    spans.push(Span::styled(chars[at..].iter().collect::<String>(), span.style));
                }
            }
            Line { spans, ..line }
        })
        .collect()
}

/// About `room` characters of `text` around its first marked word, with `…` where it
/// was cut: what a hit shows of a long message.
pub fn snippet(text: &str, words: &[String], room: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= room {
        return text.to_string();
    }
    let first = ranges(&chars, &word_chars(words)).first().map_or(0, |r| r.0);
    // A little of what leads to the word, so it reads in context.
    let start = first.saturating_sub(room / 4).min(chars.len().saturating_sub(room));
    let end = (start + room).min(chars.len());
    let lead = if start > 0 { "…" } else { "" };
    let tail = if end < chars.len() { "…" } else { "" };
    format!("{lead}{}{tail}", chars[start..end].iter().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked_text(text: &str, words: &[&str]) -> String {
        let words: Vec<String> = words.iter().map(|w| crate::text::fold(w)).collect();
        let lines = mark_lines(vec![Line::raw(text.to_string())], &words);
        lines[0]
            .spans
            .iter()
            .map(|s| {
                if s.style.add_modifier.contains(Modifier::REVERSED) {
                    format!("[{}]", s.content)
                } else {
                    s.content.to_string()
                }
            })
            .collect()
    }

    #[test]
    fn marks_word_beginnings_in_any_case_and_e_for_yo() {
        assert_eq!(marked_text("Артём, ваш заказ", &["артем"]), "[Артём], ваш заказ");
        assert_eq!(marked_text("ЗАКАЗЫ и заказ, но не отзаказ", &["заказ"]), "[ЗАКАЗ]Ы и [заказ], но не отзаказ");
        assert_eq!(marked_text("ERROR 502 after 5020", &["error", "502"]), "[ERROR] [502] after [502]0");
        assert_eq!(marked_text("nothing here", &["x"]), "nothing here");
    }

    #[test]
    fn a_snippet_keeps_the_word_in_view() {
        let text = format!("{} the word is here {}", "a".repeat(200), "b".repeat(200));
        let cut = snippet(&text, &["word".to_string()], 40);
        assert!(cut.starts_with('…') && cut.ends_with('…') && cut.contains("word"), "{cut}");
        assert_eq!(snippet("short", &["x".to_string()], 40), "short");
    }
}
