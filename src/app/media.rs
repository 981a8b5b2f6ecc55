//! A customer's photo, document, voice message or video, fetched through its channel:
//! `open-media` saves it in the downloads directory beside the store and opens it with
//! the system's opener (`xdg-open`, `open`, or `[ui] opener`); with no display (an SSH
//! session) it says where the file is. `save-media` saves it where the agent says.

use std::path::PathBuf;

use super::action::Effect;
use super::overlay::Overlay;
use super::picker::{Choice, Picked, Picker};
use super::state::AppState;
use super::update::notify;
use crate::model::ChannelKind;
use crate::store::MediaMessage;

/// How many of the customer's files the picker lists.
const LISTED: usize = 50;

/// One of the customer's messages with a file, in the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaChoice {
    pub channel: ChannelKind,
    pub message: MediaMessage,
    /// When it came, as the agent reads times.
    pub when: String,
}

impl Choice for MediaChoice {
    fn label(&self) -> String {
        let first = self.message.body.lines().next().unwrap_or("");
        crate::text::sanitize(first, false)
    }

    fn aside(&self) -> Option<String> {
        Some(self.when.clone())
    }
}

/// What the media picker is for.
pub struct MediaPanel {
    pub save: bool,
    pub picker: Picker<MediaChoice>,
}

/// `open-media` (or `save-media`): the customer's files, newest first.
pub fn open(s: &mut AppState, save: bool) -> Vec<Effect> {
    let Some(conversation) = s.open_id() else {
        notify(s, "open a conversation first".into(), true);
        return Vec::new();
    };
    let title = if save { " Save a file of the customer's " } else { " Open a file of the customer's " };
    let picker = Picker::new(title, "loading…; type to filter", Vec::new());
    s.overlay = Overlay::Media(MediaPanel { save, picker });
    vec![Effect::LoadMedia { conversation, limit: LISTED }]
}

pub fn loaded(s: &mut AppState, messages: Vec<MediaMessage>) {
    let Some(channel) = s.open.as_ref().map(|o| o.row.channel) else { return };
    let (now, tz) = (s.now, s.tz);
    let Overlay::Media(panel) = &mut s.overlay else { return };
    if messages.is_empty() {
        s.overlay = Overlay::None;
        notify(s, "the customer has sent no photo, file, voice message or video here".into(), false);
        return;
    }
    panel.picker.items = messages
        .into_iter()
        .map(|message| {
            let when = crate::ui::time::relative(now, message.sent_at, tz);
            MediaChoice { channel, message, when }
        })
        .collect();
    panel.picker.input.set_placeholder_text("type to filter; Enter fetches it");
    panel.picker.refilter();
}

pub fn on_key(s: &mut AppState, key: crossterm::event::KeyEvent) -> Vec<Effect> {
    let keymap = s.keymap.clone();
    let Overlay::Media(panel) = &mut s.overlay else { return Vec::new() };
    match panel.picker.on_key(&keymap, key) {
        Picked::Chosen(i) => {
            let choice = panel.picker.items[i].clone();
            let save = panel.save;
            s.overlay = Overlay::None;
            if save {
                return super::attach::open_for(s, super::attach::Purpose::Save(choice));
            }
            notify(s, "fetching the file…".into(), false);
            vec![Effect::Download { choice, dir: s.downloads_dir.clone(), open: true, opener: s.opener.clone() }]
        }
        Picked::Closed => {
            s.overlay = Overlay::None;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// `save-media`'s directory was chosen.
pub fn save(s: &mut AppState, choice: MediaChoice, dir: PathBuf) -> Vec<Effect> {
    notify(s, "fetching the file…".into(), false);
    vec![Effect::Download { choice, dir, open: false, opener: None }]
}

/// The opener for this terminal: the config's, or the system's when there is a display
/// to show the file on; None over SSH without one.
pub fn opener(configured: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if !configured.trim().is_empty() {
        return Some(configured.trim().to_string());
    }
    if cfg!(target_os = "macos") {
        return env("SSH_CONNECTION").is_none().then(|| "open".into());
    }
    let display = ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|k| env(k).is_some_and(|v| !v.is_empty()));
    display.then(|| "xdg-open".into())
}

/// Writes the file into `dir` under a name of its own (never over another file): the
/// path written.
pub fn keep(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem.to_string(), format!(".{ext}")),
        _ => (name.to_string(), String::new()),
    };
    for n in 1..1000 {
        let candidate = if n == 1 { dir.join(name) } else { dir.join(format!("{stem} ({n}){ext}")) };
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&candidate) {
            Ok(mut file) => {
                std::io::Write::write_all(&mut file, bytes)?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(format!("{name}: too many files of that name in {}", dir.display())))
}

/// Runs the opener on the file, in the background (its output is not the console's).
pub fn run_opener(opener: &str, path: &std::path::Path) -> std::io::Result<()> {
    let mut child = super::terminal::on_file(opener, path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    std::thread::spawn(move || child.wait());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opener_needs_a_display_unless_configured() {
        let none = |_: &str| None;
        let x11 = |k: &str| (k == "DISPLAY").then(|| ":0".to_string());
        if !cfg!(target_os = "macos") {
            assert_eq!(opener("", &none), None, "over SSH: say where the file is");
            assert_eq!(opener("", &x11).as_deref(), Some("xdg-open"));
        }
        assert_eq!(opener(" feh ", &none).as_deref(), Some("feh"));
    }

    #[test]
    fn a_kept_file_never_replaces_another() {
        let dir = tempfile::tempdir().unwrap();
        let a = keep(dir.path(), "счёт.pdf", b"1").unwrap();
        let b = keep(dir.path(), "счёт.pdf", b"2").unwrap();
        assert_eq!(a.file_name().unwrap(), "счёт.pdf");
        assert_eq!(b.file_name().unwrap(), "счёт (2).pdf");
        assert_eq!(std::fs::read(a).unwrap(), b"1");
    }
}
