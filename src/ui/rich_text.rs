//! A message's text as the conversation view shows it: formatting from the platform's
//! entities (bold, italic, links …) turned into styles, the target of a labelled link
//! shown next to its label, every character made safe for the terminal, and the whole
//! wrapped to the pane.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use serde::Deserialize;

use crate::text::{sanitize, wrap_styled};
use crate::theme::Styles;

const BOLD: u8 = 1;
const ITALIC: u8 = 2;
const UNDERLINE: u8 = 4;
const STRIKE: u8 = 8;
const CODE: u8 = 16;
const LINK: u8 = 32;

/// One entity as Telegram writes it; offsets and lengths count UTF-16 code units.
#[derive(Debug, Deserialize)]
struct Entity {
    #[serde(rename = "type")]
    kind: String,
    offset: usize,
    length: usize,
    url: Option<String>,
}

/// The lines of `text` at `width` cells, each starting with `indent`.
pub fn lines<'a>(
    text: &str,
    entities: Option<&str>,
    base: Style,
    styles: &Styles,
    indent: &'static str,
    width: usize,
) -> Vec<Line<'a>> {
    let chars: Vec<char> = text.chars().collect();
    let (flags, links) = flags(&chars, entities);
    let mut paragraphs: Vec<Vec<(char, u8)>> = vec![Vec::new()];
    let mut piece = [0u8; 4];
    for (i, &c) in chars.iter().enumerate() {
        if c == '\n' {
            paragraphs.push(Vec::new());
        } else {
            let current = paragraphs.last_mut().expect("one paragraph at least");
            for safe in sanitize(c.encode_utf8(&mut piece), false).chars() {
                current.push((safe, flags[i]));
            }
        }
        if let Some((_, url)) = links.iter().find(|(end, _)| *end == i) {
            let current = paragraphs.last_mut().expect("one paragraph at least");
            current.extend(format!(" ‹{}›", sanitize(url, false)).chars().map(|c| (c, LINK)));
        }
    }
    let body_width = width.saturating_sub(indent.len()).max(1);
    let mut out = Vec::new();
    for paragraph in paragraphs {
        for runs in wrap_styled(&paragraph, body_width) {
            let mut spans = vec![Span::raw(indent)];
            spans.extend(runs.into_iter().map(|(text, f)| Span::styled(text, style(f, base, styles))));
            out.push(Line::from(spans));
        }
    }
    out
}

fn style(flags: u8, base: Style, styles: &Styles) -> Style {
    let mut style = if flags & LINK != 0 { styles.message_link } else { base };
    for (flag, modifier) in [
        (BOLD, Modifier::BOLD),
        (ITALIC, Modifier::ITALIC),
        (UNDERLINE, Modifier::UNDERLINED),
        (STRIKE, Modifier::CROSSED_OUT),
        (CODE, Modifier::DIM),
    ] {
        if flags & flag != 0 {
            style = style.add_modifier(modifier);
        }
    }
    style
}

/// Per character, the formatting flags; and after which character each labelled link's
/// target goes.
fn flags(chars: &[char], entities: Option<&str>) -> (Vec<u8>, Vec<(usize, String)>) {
    let mut flags = vec![0u8; chars.len()];
    let mut links = Vec::new();
    let Some(entities) = entities.and_then(|json| serde_json::from_str::<Vec<Entity>>(json).ok()) else {
        return (flags, links);
    };
    // Where each character starts, in UTF-16 code units.
    let mut starts = Vec::with_capacity(chars.len() + 1);
    let mut unit = 0;
    for c in chars {
        starts.push(unit);
        unit += c.len_utf16();
    }
    starts.push(unit);
    for e in entities {
        let flag = match e.kind.as_str() {
            "bold" => BOLD,
            "italic" => ITALIC,
            "underline" => UNDERLINE,
            "strikethrough" => STRIKE,
            "code" | "pre" => CODE,
            "url" | "text_link" | "mention" | "text_mention" | "email" | "phone_number" => LINK,
            _ => continue,
        };
        let first = starts.partition_point(|&s| s < e.offset);
        let end = starts.partition_point(|&s| s < e.offset + e.length);
        if first >= end || end > chars.len() {
            continue;
        }
        for f in &mut flags[first..end] {
            *f |= flag;
        }
        if let (Some(url), "text_link") = (e.url, e.kind.as_str()) {
            links.push((end - 1, url));
        }
    }
    (flags, links)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_count_utf16_units() {
        let text = "👋 Скидка сайт";
        let chars: Vec<char> = text.chars().collect();
        // 👋 is two UTF-16 units: "Скидка" starts at unit 3.
        let json = r#"[{"type":"bold","offset":3,"length":6},{"type":"text_link","offset":10,"length":4,"url":"https://x.example"}]"#;
        let (flags, links) = flags(&chars, Some(json));
        let bold: String = chars.iter().zip(&flags).filter(|(_, f)| **f & BOLD != 0).map(|(c, _)| c).collect();
        assert_eq!(bold, "Скидка");
        assert_eq!(links, vec![(chars.len() - 1, "https://x.example".to_string())]);
    }

    #[test]
    fn a_labelled_link_shows_where_it_goes_and_escapes_stay_harmless() {
        let styles = Styles::load("dark", false).unwrap();
        let json = r#"[{"type":"text_link","offset":0,"length":4,"url":"https://evil.example/\u001b[2J"}]"#;
        let lines = lines("сайт\x1b[31m", Some(json), Style::default(), &styles, "", 80);
        let text: String = lines[0].spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "сайт ‹https://evil.example/␛[2J›␛[31m");
    }
}
