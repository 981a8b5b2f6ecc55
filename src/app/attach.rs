//! The path picker: a file to attach (`attach`), or the directory to save a customer's
//! file in (`save-media`). What is typed is a path (`~/` is home); the entries of its
//! directory that start with its last part are listed, directories first. Choosing a
//! directory goes into it; choosing a file attaches it, and "save here" saves.
//! Directories are read off the loop (`Effect::ListDir`).

use std::path::{Path, PathBuf};

use super::action::Effect;
use super::overlay::Overlay;
use super::picker::{Choice, Picked, Picker};
use super::state::{AppState, Focus};
use super::update::{notify, set_focus};
use crate::model::Outgoing;

/// An entry of the directory being looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathChoice {
    pub path: PathBuf,
    pub is_dir: bool,
    pub size: Option<u64>,
    /// "Save here" (the directory typed), for `save-media`.
    pub here: bool,
}

impl Choice for PathChoice {
    fn label(&self) -> String {
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let name = crate::text::sanitize(&name, false);
        match (self.here, self.is_dir) {
            (true, _) => format!("save here: {}", crate::text::sanitize(&self.path.display().to_string(), false)),
            (false, true) => format!("{name}/"),
            (false, false) => name,
        }
    }

    fn aside(&self) -> Option<String> {
        self.size.map(crate::model::size_text)
    }
}

/// What the picker is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    Attach,
    /// Save this message's file (see `media`).
    Save(super::media::MediaChoice),
}

pub struct PathPanel {
    pub purpose: Purpose,
    pub picker: Picker<PathChoice>,
    /// The query the items were listed for.
    pub listed: String,
}

/// `attach`: pick a file to send to the open conversation's customer, the draft as its
/// caption.
pub fn open(s: &mut AppState) -> Vec<Effect> {
    if s.open.is_none() {
        notify(s, "open a conversation first".into(), true);
        return Vec::new();
    }
    open_for(s, Purpose::Attach)
}

pub fn open_for(s: &mut AppState, purpose: Purpose) -> Vec<Effect> {
    let (title, hint) = match &purpose {
        Purpose::Attach => (" Attach a file ", "type a path: ~/, /tmp/, a name…; Enter chooses"),
        Purpose::Save(_) => (" Save to ", "type a directory: ~/Downloads/…; Enter goes in, or saves"),
    };
    let mut picker = Picker::new(title, hint, Vec::new());
    let start = s.last_dir.clone().map(|d| format!("{}/", d.display().to_string().trim_end_matches('/')));
    if let Some(start) = &start {
        picker.set_query(start);
    }
    let query = picker.query();
    s.overlay = Overlay::Path(PathPanel { purpose, picker, listed: String::new() });
    vec![Effect::ListDir { query }]
}

/// The directory a query looks in and the start of the names it wants. As in Emacs, a
/// path typed after another starts afresh: `/a/b//tmp/x` is `/tmp/x`, `/a/~/x` is `~/x`.
pub fn split(query: &str, home: Option<&Path>) -> (PathBuf, String) {
    let query = match (query.rfind("//"), query.rfind("/~/")) {
        (Some(a), Some(b)) if b > a => &query[b + 1..],
        (_, Some(b)) => &query[b + 1..],
        (Some(a), None) => &query[a + 1..],
        (None, None) => query,
    };
    let expanded = match (query.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{rest}", home.display())
        }
        _ => query.to_string(),
    };
    if expanded.is_empty() {
        return (PathBuf::from("."), String::new());
    }
    if expanded.ends_with('/') {
        return (PathBuf::from(expanded), String::new());
    }
    let path = Path::new(&expanded);
    let prefix = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    (dir, prefix)
}

/// Lists what a query names (off the loop): directories first, then files, each group
/// by name; hidden ones only when the name typed starts with a dot.
pub fn list(query: &str) -> Result<Vec<PathChoice>, String> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let (dir, prefix) = split(query, home.as_deref());
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let wanted = prefix.to_lowercase();
    let mut items: Vec<PathChoice> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.to_lowercase().starts_with(&wanted) || (name.starts_with('.') && !wanted.starts_with('.')) {
                return None;
            }
            let meta = std::fs::metadata(e.path()).ok()?;
            Some(PathChoice {
                path: e.path(),
                is_dir: meta.is_dir(),
                size: meta.is_file().then_some(meta.len()),
                here: false,
            })
        })
        .collect();
    items.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.path.cmp(&b.path)));
    items.truncate(500);
    Ok(items)
}

/// The listing for a query arrived: shown as listed (the typed path is not a fuzzy
/// filter here).
pub fn listed(s: &mut AppState, query: String, result: Result<Vec<PathChoice>, String>) {
    let Overlay::Path(panel) = &mut s.overlay else { return };
    if panel.picker.query() != query {
        return;
    }
    let mut items = result.unwrap_or_default();
    if matches!(panel.purpose, Purpose::Save(_)) {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let (dir, _) = split(&query, home.as_deref());
        items.retain(|c| c.is_dir);
        items.insert(0, PathChoice { path: dir, is_dir: true, size: None, here: true });
    }
    panel.picker.shown = (0..items.len()).collect();
    panel.picker.items = items;
    panel.picker.selected = 0;
    panel.listed = query;
}

pub fn on_key(s: &mut AppState, key: crossterm::event::KeyEvent) -> Vec<Effect> {
    let keymap = s.keymap.clone();
    let Overlay::Path(panel) = &mut s.overlay else { return Vec::new() };
    match panel.picker.on_key(&keymap, key) {
        Picked::Typed => {
            // The picker filtered by its fuzzy rule; the listing decides instead.
            panel.picker.shown = (0..panel.picker.items.len()).collect();
            vec![Effect::ListDir { query: panel.picker.query() }]
        }
        Picked::Closed => {
            s.overlay = Overlay::None;
            Vec::new()
        }
        Picked::Chosen(i) => {
            let choice = panel.picker.items[i].clone();
            if choice.is_dir && !choice.here {
                let query = format!("{}/", choice.path.display().to_string().trim_end_matches('/'));
                panel.picker.set_query(&query);
                return vec![Effect::ListDir { query }];
            }
            let purpose = panel.purpose.clone();
            s.overlay = Overlay::None;
            s.last_dir =
                choice.path.parent().map(Path::to_path_buf).filter(|_| !choice.here).or(Some(choice.path.clone()));
            match purpose {
                Purpose::Attach => attach(s, choice.path),
                Purpose::Save(media) => super::media::save(s, media, choice.path),
            }
        }
        Picked::Nothing => Vec::new(),
    }
}

/// Queues the file for the open conversation, the draft as its caption (checked against
/// the channel's caption limit first; the file's size and type are checked as it is
/// copied beside the store).
fn attach(s: &mut AppState, path: PathBuf) -> Vec<Effect> {
    let Some(open) = &s.open else { return Vec::new() };
    let (conversation, channel) = (open.id(), open.row.channel);
    let caption = s.composer_text().trim_end().to_string();
    let probe = Outgoing {
        kind: "document".into(),
        text: caption.clone(),
        attachment: Some(String::new()),
        ..Outgoing::default()
    };
    if let Err(why) = probe.check(channel) {
        notify(s, format!("not attached: {why}"), true);
        return Vec::new();
    }
    if let Some(why) = super::composer::unreachable(s) {
        notify(s, format!("not attached: {why}"), true);
        return Vec::new();
    }
    s.reset_composer();
    let mut effects = set_focus(s, Focus::Composer);
    let (author, dir) = (s.agent.clone(), s.attachments_dir.clone());
    effects.push(Effect::Attach { conversation, channel, path, caption, author, dir });
    effects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_names_a_directory_and_the_start_of_a_name() {
        let home = Path::new("/home/maria");
        assert_eq!(split("~/Док", Some(home)), (PathBuf::from("/home/maria"), "Док".into()));
        assert_eq!(split("~/", Some(home)), (PathBuf::from("/home/maria/"), String::new()));
        assert_eq!(split("/tmp/a/b", Some(home)), (PathBuf::from("/tmp/a"), "b".into()));
        assert_eq!(split("notes", Some(home)), (PathBuf::from("."), "notes".into()));
        assert_eq!(split("", None), (PathBuf::from("."), String::new()));
        assert_eq!(split("~maria/x", Some(home)), (PathBuf::from("~maria"), "x".into()));
        assert_eq!(split("/home/maria//tmp/a", Some(home)), (PathBuf::from("/tmp"), "a".into()));
        assert_eq!(split("/tmp/~/Док", Some(home)), (PathBuf::from("/home/maria"), "Док".into()));
    }
}
