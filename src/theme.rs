//! Themes: TOML files of semantic style names (`list.selected`, `message.inbound`,
//! `status.failed`, …) turned into ratatui styles. Three themes are built in; a path
//! loads a user's file. `NO_COLOR` keeps the modifiers and drops every colour.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

macro_rules! styles {
    ($($field:ident = $name:literal;)*) => {
        /// Every style the screen uses, by meaning.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
        pub struct Styles { $(pub $field: Style),* }

        impl Styles {
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            fn slot(&mut self, name: &str) -> Option<&mut Style> {
                match name { $($name => Some(&mut self.$field),)* _ => None }
            }
        }
    };
}

styles! {
    base = "base";
    border = "border";
    border_focused = "border.focused";
    title = "title";
    list_selected = "list.selected";
    list_unanswered = "list.unanswered";
    list_unread = "list.unread";
    list_time = "list.time";
    list_preview = "list.preview";
    badge_telegram = "badge.telegram";
    badge_whatsapp = "badge.whatsapp";
    badge_viber = "badge.viber";
    badge_vk = "badge.vk";
    message_inbound = "message.inbound";
    message_outbound = "message.outbound";
    message_author = "message.author";
    message_time = "message.time";
    message_link = "message.link";
    message_quote = "message.quote";
    message_event = "message.event";
    day_separator = "day.separator";
    status_queued = "status.queued";
    status_sent = "status.sent";
    status_delivered = "status.delivered";
    status_read = "status.read";
    status_failed = "status.failed";
    composer_target = "composer.target";
    composer_misspelled = "composer.misspelled";
    bar = "bar";
    bar_ok = "bar.ok";
    bar_warn = "bar.warn";
    bar_error = "bar.error";
    hint_key = "hint.key";
    help = "help";
    help_key = "help.key";
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    #[allow(dead_code)]
    name: Option<String>,
    styles: BTreeMap<String, StyleSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    reversed: bool,
}

const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../themes/dark.toml")),
    ("light", include_str!("../themes/light.toml")),
    ("high-contrast", include_str!("../themes/high-contrast.toml")),
];

impl Styles {
    /// A built-in theme by name, or a theme file by path.
    pub fn load(theme: &str, no_color: bool) -> Result<Styles, String> {
        let text = match BUILT_IN.iter().find(|(name, _)| *name == theme) {
            Some((_, text)) => (*text).to_string(),
            None => std::fs::read_to_string(Path::new(theme)).map_err(|e| {
                format!("ui.theme `{theme}` is neither dark, light, high-contrast nor a readable file: {e}")
            })?,
        };
        Styles::parse(&text, no_color).map_err(|e| format!("theme `{theme}`: {e}"))
    }

    /// Parses a theme file. Unknown names and colours are errors; a name left out keeps
    /// the terminal's default style.
    pub fn parse(text: &str, no_color: bool) -> Result<Styles, String> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let mut styles = Styles::default();
        for (name, spec) in &file.styles {
            let slot = styles
                .slot(name)
                .ok_or_else(|| format!("unknown style `{name}` (known: {})", Styles::NAMES.join(", ")))?;
            *slot = spec.to_style(name, no_color)?;
        }
        Ok(styles)
    }
}

impl StyleSpec {
    fn to_style(&self, name: &str, no_color: bool) -> Result<Style, String> {
        let color = |c: &Option<String>| -> Result<Option<Color>, String> {
            match c {
                Some(c) if !no_color => Color::from_str(c)
                    .map(Some)
                    .map_err(|_| format!("style `{name}`: `{c}` is not a colour (a name such as `cyan` or `#rrggbb`)")),
                _ => Ok(None),
            }
        };
        let mut style = Style::default();
        if let Some(fg) = color(&self.fg)? {
            style = style.fg(fg);
        }
        if let Some(bg) = color(&self.bg)? {
            style = style.bg(bg);
        }
        for (on, m) in [
            (self.bold, Modifier::BOLD),
            (self.dim, Modifier::DIM),
            (self.italic, Modifier::ITALIC),
            (self.underline, Modifier::UNDERLINED),
            (self.reversed, Modifier::REVERSED),
        ] {
            if on {
                style = style.add_modifier(m);
            }
        }
        Ok(style)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_themes_parse_and_name_every_style() {
        for (name, text) in BUILT_IN {
            let file: ThemeFile = toml::from_str(text).unwrap();
            for style in Styles::NAMES {
                assert!(file.styles.contains_key(*style), "theme {name} lacks {style}");
            }
            Styles::load(name, false).unwrap();
        }
    }

    #[test]
    fn no_color_keeps_modifiers_only() {
        let s = Styles::load("dark", true).unwrap();
        assert_eq!(s.list_selected.fg, None);
        assert!(
            s.list_selected.add_modifier.contains(Modifier::REVERSED)
                || s.list_selected.add_modifier.contains(Modifier::BOLD)
        );
    }

    #[test]
    fn bad_names_and_colours_are_errors() {
        assert!(Styles::parse("[styles]\n\"nope\" = {}\n", false).unwrap_err().contains("nope"));
        assert!(Styles::parse("[styles]\n\"base\" = { fg = \"blurple\" }\n", false).unwrap_err().contains("blurple"));
    }
}
