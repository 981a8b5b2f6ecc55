//! Customer text is data: this makes it safe to put on a terminal (no control characters
//! or escape sequences get through) and shapes it for narrow cells.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Replaces every character that could change the terminal with a harmless visible one.
///
/// C0 controls become the Unicode "control pictures" (ESC shows as `␛`, a bare CR as
/// `␍`), DEL becomes `␡`, C1 controls become `¿`, and bidirectional overrides and
/// isolates are dropped: they are invisible by design and can reorder what the terminal
/// shows around them. Newlines and tabs are kept only when `keep_newlines` is set (tabs
/// become spaces).
///
/// Emoji modifiers whose width terminals disagree on are dropped too, so every terminal
/// draws the text as wide as the layout measured it: variation selectors (❤️ → ❤; tmux
/// draws ❤️ one cell wide, kitty two), the zero-width joiner (👨‍👩‍👧 shows as 👨👩👧,
/// six cells everywhere, not two in some terminals and six in others) and skin tones
/// (👍🏽 → 👍; tmux draws four cells, kitty two). The store keeps the text as it came.
pub fn sanitize(input: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\n' => out.push(' '),
            '\t' => out.push_str("    "),
            '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('?')),
            '\u{7f}' => out.push('␡'),
            '\u{80}'..='\u{9f}' => out.push('¿'),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            '\u{fe0e}' | '\u{fe0f}' | '\u{200d}' | '\u{1f3fb}'..='\u{1f3ff}' => {}
            _ => out.push(c),
        }
    }
    out
}

/// The text as search indexes it: each escape sequence (CSI `ESC [ … final`, OSC
/// `ESC ] … BEL or ESC \`, and the two-character ones) and each other control character
/// becomes a space, so the words next to it are words of their own. Newlines and tabs
/// stay. Borrowed when there is nothing to take out, which is almost always.
pub fn searchable(input: &str) -> std::borrow::Cow<'_, str> {
    let is_control = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !input.chars().any(is_control) {
        return std::borrow::Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                match chars.next() {
                    // CSI: parameters and intermediates up to a final byte.
                    Some('[') => {
                        while let Some(&n) = chars.peek() {
                            chars.next();
                            if ('\u{40}'..='\u{7e}').contains(&n) {
                                break;
                            }
                        }
                    }
                    // OSC, DCS, APC, PM, SOS: a string up to BEL or ST.
                    Some(']' | 'P' | '_' | '^' | 'X') => skip_string(&mut chars),
                    _ => {}
                }
                out.push(' ');
            }
            '\u{9b}' => {
                while let Some(&n) = chars.peek() {
                    chars.next();
                    if ('\u{40}'..='\u{7e}').contains(&n) {
                        break;
                    }
                }
                out.push(' ');
            }
            '\u{9d}' => {
                skip_string(&mut chars);
                out.push(' ');
            }
            c if is_control(c) => out.push(' '),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Skips a control string's body and its terminator (BEL, ESC \ or ST).
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(n) = chars.next() {
        match n {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

/// The width rule, one for everything measured on screen: ratatui's own. Text is cut
/// into grapheme clusters (a flag, a family joined by ZWJ, an emoji with its skin tone or
/// VS16 is one), each as wide as `unicode-width` says of the whole cluster (2 for all of
/// those). Measuring by characters instead counted 👨‍👩‍👧 as 6 cells and ❤️ as 1,
/// and lines drawn by that count broke the panes' borders.
fn cells(grapheme: &str) -> usize {
    UnicodeWidthStr::width(grapheme)
}

/// Display width of a string in terminal cells.
pub fn width(s: &str) -> usize {
    s.graphemes(true).map(cells).sum()
}

/// Cuts `s` to at most `max` cells, ending with `…` when something was cut; never
/// inside a grapheme cluster.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let w = cells(g);
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push_str(g);
    }
    out.push('…');
    out
}

/// What a person wrote, quoted in an error that names it: control characters shown as
/// symbols, and cut to `max` cells.
pub fn quote(s: &str, max: usize) -> String {
    truncate(&sanitize(s, false), max)
}

/// Wraps one paragraph (no newlines) at word boundaries into lines of at most `max`
/// cells; a word wider than a line is cut between grapheme clusters.
pub fn wrap(paragraph: &str, max: usize) -> Vec<String> {
    let chars: Vec<(char, ())> = paragraph.chars().map(|c| (c, ())).collect();
    wrap_styled(&chars, max).into_iter().map(|runs| runs.into_iter().map(|(text, ())| text).collect()).collect()
}

/// Like [`wrap`], for text whose characters each carry a style: lines of runs of one
/// style each. A grapheme cluster takes the style of its first character.
pub fn wrap_styled<S: Copy + PartialEq>(chars: &[(char, S)], max: usize) -> Vec<Vec<(String, S)>> {
    let max = max.max(1);
    let text: String = chars.iter().map(|(c, _)| *c).collect();
    // Each cluster with the style of its first character.
    let mut units: Vec<(&str, S)> = Vec::new();
    let mut at = 0;
    for g in text.graphemes(true) {
        if let Some((_, style)) = chars.get(at) {
            units.push((g, *style));
        }
        at += g.chars().count();
    }
    let mut lines: Vec<Vec<(&str, S)>> = Vec::new();
    let mut line: Vec<(&str, S)> = Vec::new();
    let mut used = 0;
    for word in units.split(|(g, _)| *g == " ") {
        let w: usize = word.iter().map(|(g, _)| cells(g)).sum();
        let sep = usize::from(!line.is_empty());
        if used + sep + w <= max {
            if sep == 1 {
                // The space takes the style of the word before it.
                let style = line.last().map(|(_, s)| *s).or(word.first().map(|(_, s)| *s));
                if let Some(style) = style {
                    line.push((" ", style));
                }
            }
            line.extend_from_slice(word);
            used += sep + w;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        for &(g, style) in word {
            let gw = cells(g);
            if used + gw > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push((g, style));
            used += gw;
        }
    }
    lines.push(line);
    lines.into_iter().map(|l| runs(&l)).collect()
}

/// Groups neighbouring clusters of one style.
fn runs<S: Copy + PartialEq>(line: &[(&str, S)]) -> Vec<(String, S)> {
    let mut out: Vec<(String, S)> = Vec::new();
    for &(g, style) in line {
        match out.last_mut() {
            Some((text, s)) if *s == style => text.push_str(g),
            _ => out.push((g.to_string(), style)),
        }
    }
    out
}

/// Text as searches and filters compare it: lower case in every script (SQLite's own
/// `lower()` folds ASCII only), and `ё` as `е`, which Russian writers use
/// interchangeably. The store registers it as the SQL function `fold`.
pub fn fold(s: &str) -> String {
    s.to_lowercase().replace('ё', "е")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_are_drawn_as_wide_as_measured_in_every_terminal() {
        let shown = sanitize("❤️ 👨\u{200d}👩\u{200d}👧 👍🏽 🇷🇺 1️⃣", false);
        assert_eq!(shown, "❤ 👨👩👧 👍 🇷🇺 1\u{20e3}");
        // One cluster per emoji left, each as wide as ratatui draws it.
        assert_eq!(width(&shown), 1 + 1 + 6 + 1 + 2 + 1 + 2 + 1 + 1);
        assert_eq!(width("👨\u{200d}👩\u{200d}👧"), 2, "ratatui's rule: a ZWJ sequence is one cluster");
        assert_eq!(truncate("🇷🇺🇷🇺🇷🇺", 5), "🇷🇺🇷🇺…", "never inside a flag");
    }

    #[test]
    fn search_sees_the_words_beside_escapes() {
        assert_eq!(searchable("\u{1b}[31mERROR 502\u{1b}[0m"), " ERROR 502 ");
        assert_eq!(searchable("a\u{1b}]0;title\u{7}b\u{1b}]8;;http://x\u{1b}\\c"), "a b c");
        assert_eq!(searchable("нет\u{0}кода\u{9b}1mЁЖ"), "нет кода ЁЖ");
        assert!(matches!(searchable("plain\ntext"), std::borrow::Cow::Borrowed(_)));
        // Unterminated sequences end with the text.
        assert_eq!(searchable("x\u{1b}[12"), "x ");
        assert_eq!(searchable("x\u{1b}"), "x ");
    }

    #[test]
    fn escapes_become_visible_and_inert() {
        let s = sanitize("a\x1b[2Jb\x1b]0;title\x07c\rd\u{9b}e\u{202e}f", false);
        assert_eq!(s, "a␛[2Jb␛]0;title␇c␍d¿ef");
        assert!(!s.chars().any(|c| c.is_control()));
    }

    #[test]
    fn keeps_cyrillic_emoji_rtl_and_newlines_on_request() {
        let s = "Добрый день! 👋\nשלום";
        assert_eq!(sanitize(s, true), s);
        assert_eq!(sanitize(s, false), "Добрый день! 👋 שלום");
    }

    #[test]
    fn truncates_by_cells() {
        assert_eq!(truncate("привет мир", 6), "приве…");
        assert_eq!(truncate("👋👋👋", 4), "👋…");
        assert_eq!(truncate("ok", 5), "ok");
    }

    #[test]
    fn wraps_styled_text_into_runs() {
        let chars: Vec<(char, u8)> = "ab cd ef".chars().enumerate().map(|(i, c)| (c, u8::from(i >= 3))).collect();
        let lines = wrap_styled(&chars, 5);
        assert_eq!(lines, vec![vec![("ab ".to_string(), 0), ("cd".to_string(), 1)], vec![("ef".to_string(), 1)]]);
    }

    #[test]
    fn wraps_words_and_cuts_long_ones() {
        assert_eq!(wrap("один два три", 8), vec!["один два", "три"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    }
}
