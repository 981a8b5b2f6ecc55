//! Macros in the console: a canned reply with actions, run by its key (or from the
//! palette) on the open conversation. The key shows a preview first — the reply as this
//! customer will read it, then each action — and Enter runs it all: the reply is queued
//! and the actions follow, in order, on the store's one connection.

use crossterm::event::KeyEvent;

use super::action::Effect;
use super::overlay::Overlay;
use super::picker::{Choice, Picked, Picker};
use super::state::AppState;
use super::update::notify;
use crate::keymap::Key;
use crate::model::{ContactId, ConversationStatus, MacroAction, Millis};
use crate::store::Canned;

/// One action as it will run: times read, `me` named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Status(ConversationStatus),
    Snooze(Option<Millis>),
    Tag(ContactId, String),
    Stage(ContactId, String),
    Assign(Option<String>),
}

/// What the preview's one line runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunChoice {
    pub summary: String,
    /// The reply as the customer will read it (or why it cannot be written).
    pub rendered: Option<Result<String, String>>,
}

impl Choice for RunChoice {
    fn label(&self) -> String {
        self.summary.clone()
    }

    fn detail(&self) -> Option<String> {
        Some(match &self.rendered {
            None => "…".into(),
            Some(Ok(text)) if text.is_empty() => "(no reply: it only acts)".into(),
            Some(Ok(text)) => text.clone(),
            Some(Err(why)) => format!("⚠ {why}"),
        })
    }
}

/// The preview of a macro about to run.
pub struct MacroPanel {
    pub canned: Canned,
    pub picker: Picker<RunChoice>,
}

/// The macros among the canned replies: those with actions or a key.
pub fn loaded(s: &mut AppState, all: Vec<Canned>) {
    s.macros = all.into_iter().filter(|c| !c.actions.is_empty() || c.key.is_some()).collect();
    // A key the agent's own keymap gives to a command runs the command, never the macro.
    let shadowed: Vec<String> = s
        .macros
        .iter()
        .filter_map(|m| {
            let key = Key::parse(m.key.as_deref()?).ok()?;
            let command = s.keymap.taken(&key)?;
            Some(format!("{} ({} is {})", m.name, key, command.name()))
        })
        .collect();
    if !shadowed.is_empty() {
        notify(s, format!("macros whose key your keymap uses (the palette runs them): {}", shadowed.join(", ")), true);
    }
}

/// The macro bound to this key, when one is and a conversation is open.
pub fn for_key(s: &AppState, key: &KeyEvent) -> Option<Canned> {
    let key = Key::from_event(key)?;
    s.open.as_ref()?;
    s.macros.iter().find(|m| m.key.as_deref().and_then(|k| Key::parse(k).ok()) == Some(key)).cloned()
}

/// "reply, then tag shipped, resolve".
pub fn summary(c: &Canned) -> String {
    let mut parts = Vec::new();
    if !c.body.trim().is_empty() {
        parts.push("reply".to_string());
    }
    parts.extend(c.actions.iter().cloned());
    crate::text::sanitize(&parts.join(", "), false)
}

/// Shows what the macro will do here; its reply is rendered for this customer.
pub fn preview(s: &mut AppState, canned: Canned) -> Vec<Effect> {
    let Some(conversation) = s.open_id() else {
        notify(s, "open a conversation first".into(), true);
        return Vec::new();
    };
    let has_reply = !canned.body.trim().is_empty();
    let choice = RunChoice {
        summary: format!("Enter runs: {}", summary(&canned)),
        rendered: (!has_reply).then(|| Ok(String::new())),
    };
    let title = format!(" Macro “{}” ", crate::text::sanitize(&canned.name, false));
    let picker = Picker::new(&title, "Enter runs it on this conversation; Esc leaves it", vec![choice]);
    let name = canned.name.clone();
    s.overlay = Overlay::Macro(MacroPanel { canned, picker });
    if !has_reply {
        return Vec::new();
    }
    vec![Effect::RenderMacro { conversation, name, agent: s.agent.clone() }]
}

/// The macro's reply, rendered for the customer of the open conversation.
pub fn rendered(s: &mut AppState, name: &str, result: Result<String, String>) {
    let Overlay::Macro(panel) = &mut s.overlay else { return };
    if panel.canned.name != name {
        return;
    }
    if let Some(choice) = panel.picker.items.first_mut() {
        choice.rendered = Some(result);
    }
}

pub fn on_key(s: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let keymap = s.keymap.clone();
    let Overlay::Macro(panel) = &mut s.overlay else { return Vec::new() };
    match panel.picker.on_key(&keymap, key) {
        Picked::Chosen(_) => {
            let Overlay::Macro(panel) = std::mem::take(&mut s.overlay) else { return Vec::new() };
            let rendered = panel.picker.items.into_iter().next().and_then(|c| c.rendered);
            run(s, panel.canned, rendered)
        }
        Picked::Closed => {
            s.overlay = Overlay::None;
            notify(s, "the macro did not run".into(), false);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Runs the macro: its reply checked as any reply is (a blocked customer, a closed
/// window, an over-long text refuse it all), its actions read for now and this agent.
fn run(s: &mut AppState, canned: Canned, rendered: Option<Result<String, String>>) -> Vec<Effect> {
    let Some(open) = &s.open else { return Vec::new() };
    let (conversation, contact) = (open.id(), open.row.contact_id);
    let reply = match rendered {
        None => {
            notify(s, "the reply is still being written for this customer: try again".into(), true);
            return Vec::new();
        }
        Some(Err(why)) => {
            notify(s, format!("`{}` did not run: {why}", canned.name), true);
            return Vec::new();
        }
        Some(Ok(text)) if text.trim().is_empty() => None,
        Some(Ok(text)) => Some(text),
    };
    if let Some(text) = &reply
        && let Some(why) = super::composer::refusal(s, text)
    {
        notify(s, format!("`{}` did not run: {why}", canned.name), true);
        return Vec::new();
    }
    let mut steps = Vec::new();
    for action in &canned.actions {
        let step = match MacroAction::parse(action) {
            Ok(MacroAction::Resolve) => Ok(Step::Status(ConversationStatus::Resolved)),
            Ok(MacroAction::Pending) => Ok(Step::Status(ConversationStatus::Pending)),
            Ok(MacroAction::Snooze(when)) => MacroAction::snooze_until(&when, s.now, s.tz).map(Step::Snooze),
            Ok(MacroAction::Tag(tag)) => contact.map(|c| Step::Tag(c, tag)).ok_or_else(no_contact),
            Ok(MacroAction::Stage(stage)) => contact.map(|c| Step::Stage(c, stage)).ok_or_else(no_contact),
            Ok(MacroAction::Assign(who)) if who == "me" => Ok(Step::Assign(Some(s.agent.clone()))),
            Ok(MacroAction::Assign(who)) => Ok(Step::Assign(Some(who))),
            Ok(MacroAction::Unassign) => Ok(Step::Assign(None)),
            Err(e) => Err(e),
        };
        match step {
            Ok(step) => steps.push(step),
            Err(why) => {
                notify(s, format!("`{}` did not run: {action}: {why}", canned.name), true);
                return Vec::new();
            }
        }
    }
    vec![Effect::RunMacro { name: canned.name, conversation, reply, author: s.agent.clone(), steps }]
}

fn no_contact() -> String {
    "this conversation has no contact card".into()
}
