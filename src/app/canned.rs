//! Canned replies in the composer: `/shortcut` then Tab puts the reply, rendered for
//! this customer, in place of the shortcut; the `canned` picker finds one by name and
//! previews it for this customer. Either inserts at the cursor: typed text stays.

use super::action::Effect;
use super::overlay::Overlay;
use super::picker::{Choice, Picker};
use super::state::{AppState, Focus};
use super::update::{notify, set_focus};
use crate::model::ConversationId;
use crate::store::Canned;

/// A canned reply in the picker, with its text for this customer or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedChoice {
    pub canned: Canned,
    pub rendered: Result<String, String>,
}

impl Choice for CannedChoice {
    fn label(&self) -> String {
        let language = self.canned.language.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
        format!("{}{language}", self.canned.name)
    }

    fn aside(&self) -> Option<String> {
        self.canned.shortcut.as_ref().map(|s| format!("/{s}"))
    }

    fn detail(&self) -> Option<String> {
        Some(match &self.rendered {
            Ok(text) => text.clone(),
            Err(why) => format!("⚠ {why}"),
        })
    }
}

/// The `/word` just before the composer's cursor, if there is one at a word's start.
fn shortcut_before_cursor(s: &AppState) -> Option<String> {
    let (row, col) = (s.composer.cursor().0, s.composer.cursor().1);
    let line = s.composer.lines().get(row)?;
    let before: Vec<char> = line.chars().take(col).collect();
    let slash = before.iter().rposition(|c| *c == '/')?;
    let word: String = before[slash + 1..].iter().collect();
    let at_start = slash == 0 || before[slash - 1].is_whitespace();
    let one_word = !word.is_empty() && word.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-'));
    (at_start && one_word).then_some(word)
}

/// Tab in the composer: a `/shortcut` before the cursor becomes its reply; anything
/// else moves to the next pane, as Tab does elsewhere.
pub fn complete(s: &mut AppState) -> Vec<Effect> {
    let (Some(word), Some(conversation)) = (shortcut_before_cursor(s), s.open_id()) else {
        return super::update::run_command(s, crate::keymap::Command::NextPane);
    };
    let replace = word.chars().count() + 1;
    vec![Effect::RenderCanned { conversation, which: word, agent: s.agent.clone(), replace }]
}

/// The reply for a shortcut: in place of it, when the agent is still where they typed it.
pub fn rendered(s: &mut AppState, conversation: ConversationId, replace: usize, result: Result<String, String>) {
    if s.open_id() != Some(conversation) {
        return;
    }
    match result {
        Ok(text) => {
            if shortcut_before_cursor(s).is_some_and(|w| w.chars().count() + 1 == replace) {
                for _ in 0..replace {
                    s.composer.delete_char();
                }
            }
            s.composer.insert_str(text);
        }
        Err(why) => notify(s, why, true),
    }
}

pub fn open(s: &mut AppState) -> Vec<Effect> {
    let Some(conversation) = s.open_id() else { return Vec::new() };
    let edit = s.key_hint(crate::keymap::Context::Picker, crate::keymap::Command::EditChoice);
    let title = format!(" Canned replies ({edit} edits one) ");
    s.overlay = Overlay::Canned(Picker::new(title, "type part of a name", Vec::new()));
    vec![Effect::LoadCanned { conversation, agent: s.agent.clone() }]
}

pub fn loaded(s: &mut AppState, list: Vec<(Canned, Result<String, String>)>) {
    if !matches!(s.overlay, Overlay::Canned(_)) {
        return;
    }
    if list.is_empty() {
        notify(s, "no canned replies yet: switchboard canned add NAME --shortcut S --body TEXT".into(), false);
    }
    if let Overlay::Canned(picker) = &mut s.overlay {
        picker.items = list.into_iter().map(|(canned, rendered)| CannedChoice { canned, rendered }).collect();
        picker.refilter();
    }
}

/// The reply chosen in the picker goes in at the cursor.
pub fn chosen(s: &mut AppState, choice: CannedChoice) -> Vec<Effect> {
    s.overlay = Overlay::None;
    match choice.rendered {
        Ok(text) => {
            s.composer.insert_str(text);
            set_focus(s, Focus::Composer)
        }
        Err(why) => {
            notify(s, format!("`{}`: {why}", choice.canned.name), true);
            Vec::new()
        }
    }
}

/// The name (and optional `/shortcut`) typed for a new canned reply: "Спасибо /спасибо".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameChoice {
    pub name: String,
    pub shortcut: Option<String>,
}

impl NameChoice {
    pub fn parse(typed: &str) -> Option<NameChoice> {
        let mut name = Vec::new();
        let mut shortcut = None;
        for word in typed.split_whitespace() {
            match word.strip_prefix('/') {
                Some(s) if !s.is_empty() && shortcut.is_none() => shortcut = Some(s.to_string()),
                _ => name.push(word),
            }
        }
        let name = name.join(" ");
        (!name.is_empty()).then_some(NameChoice { name, shortcut })
    }
}

impl Choice for NameChoice {
    fn label(&self) -> String {
        match &self.shortcut {
            Some(s) => format!("save the draft as `{}`, /{s}", self.name),
            None => format!("save the draft as `{}`", self.name),
        }
    }
}

/// Asks the name (and shortcut) to save the draft under.
pub fn ask_name(s: &mut AppState) -> Vec<Effect> {
    if s.composer_text().trim().is_empty() {
        notify(s, "write the reply first: the draft becomes the canned reply's text".into(), true);
        return Vec::new();
    }
    s.overlay =
        Overlay::CannedName(Picker::new(" New canned reply ", "its name, then /shortcut if you want one", Vec::new()));
    Vec::new()
}

/// Saves the draft, as it is (variables and all), under the name chosen.
pub fn save_draft_as(s: &mut AppState, choice: NameChoice) -> Vec<Effect> {
    s.overlay = Overlay::None;
    let canned = Canned { name: choice.name, shortcut: choice.shortcut, body: s.composer_text(), ..Canned::default() };
    vec![Effect::SaveCanned(canned)]
}

/// The raw text of a canned reply in the composer, to change and save (Enter).
pub fn edit(s: &mut AppState, canned: Canned) -> Vec<Effect> {
    s.overlay = Overlay::None;
    let kept = s.mode.kept().map(str::to_string).unwrap_or_else(|| s.composer_text());
    let body = canned.body.clone();
    s.mode = super::state::ComposerMode::CannedBody(canned, kept);
    s.reset_composer();
    s.composer.insert_str(body);
    set_focus(s, Focus::Composer)
}
