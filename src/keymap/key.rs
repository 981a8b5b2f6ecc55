//! A key as the keymap names it: parsed from the config's strings (`ctrl-s`,
//! `alt-enter`, `f1`, `G`), read from a terminal event, and shown in the help.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key with its modifiers, normalised so `G` and `shift-g` are the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    code: KeyCodeOrd,
    mods: u8,
}

/// `KeyCode` is not `Ord`; this is the part of it a keymap needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyCodeOrd {
    Char(char),
    F(u8),
    Named(u8),
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("space", KeyCode::Char(' ')),
];

const CTRL: u8 = 1;
const ALT: u8 = 2;
const SHIFT: u8 = 4;

impl Key {
    /// The key of a terminal event, or None for keys a keymap cannot name.
    pub fn from_event(ev: &KeyEvent) -> Option<Key> {
        let mut mods = 0;
        if ev.modifiers.contains(KeyModifiers::CONTROL) {
            mods |= CTRL;
        }
        if ev.modifiers.contains(KeyModifiers::ALT) {
            mods |= ALT;
        }
        let code = match ev.code {
            // Shift is already in the character itself (`G`, `?`).
            KeyCode::Char(c) => KeyCodeOrd::Char(if mods & CTRL != 0 { c.to_ascii_lowercase() } else { c }),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            KeyCode::BackTab => KeyCodeOrd::Named(named_index(KeyCode::BackTab)?),
            other => {
                if ev.modifiers.contains(KeyModifiers::SHIFT) {
                    mods |= SHIFT;
                }
                KeyCodeOrd::Named(named_index(other)?)
            }
        };
        Some(Key { code, mods })
    }

    /// A character with no Ctrl or Alt: typed into the composer.
    pub fn is_plain(&self) -> bool {
        matches!(self.code, KeyCodeOrd::Char(_)) && self.mods & (CTRL | ALT) == 0
    }

    /// Parses `ctrl-s`, `alt-enter`, `shift-up`, `f1`, `G`, `?`, `pagedown`.
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut mods = 0;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (flag, len) = if lower.starts_with("ctrl-") {
                (CTRL, 5)
            } else if lower.starts_with("alt-") {
                (ALT, 4)
            } else if lower.starts_with("shift-") && rest.len() > 6 {
                (SHIFT, 6)
            } else {
                break;
            };
            mods |= flag;
            rest = &rest[len..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                let c = if mods & SHIFT != 0 { c.to_ascii_uppercase() } else { c };
                mods &= !SHIFT;
                KeyCodeOrd::Char(if mods & CTRL != 0 { c.to_ascii_lowercase() } else { c })
            }
            _ => {
                let lower = rest.to_ascii_lowercase();
                if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                    KeyCodeOrd::F(n)
                } else if let Some(i) = NAMED.iter().position(|(name, _)| *name == lower) {
                    if NAMED[i].1 == KeyCode::Char(' ') { KeyCodeOrd::Char(' ') } else { KeyCodeOrd::Named(i as u8) }
                } else {
                    return Err(format!("`{s}` is not a key (try `ctrl-s`, `alt-enter`, `f1`, `pagedown`, `G`)"));
                }
            }
        };
        Ok(Key { code, mods })
    }
}

fn named_index(code: KeyCode) -> Option<u8> {
    NAMED.iter().position(|(_, c)| *c == code).map(|i| i as u8)
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods & CTRL != 0 {
            f.write_str("Ctrl-")?;
        }
        if self.mods & ALT != 0 {
            f.write_str("Alt-")?;
        }
        if self.mods & SHIFT != 0 {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("Space"),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "F{n}"),
            KeyCodeOrd::Named(i) => {
                let name = NAMED[i as usize].0;
                let pretty = match name {
                    "pageup" => "PgUp",
                    "pagedown" => "PgDn",
                    "backtab" => "Shift-Tab",
                    "up" => "↑",
                    "down" => "↓",
                    "left" => "←",
                    "right" => "→",
                    _ => "",
                };
                if pretty.is_empty() {
                    let mut c = name.chars();
                    let first = c.next().map(|c| c.to_ascii_uppercase()).unwrap_or(' ');
                    write!(f, "{first}{}", c.as_str())
                } else {
                    f.write_str(pretty)
                }
            }
        }
    }
}
