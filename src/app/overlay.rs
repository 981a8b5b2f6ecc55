//! What lies over the three panes: at most one thing at a time, each with the keys of
//! its own keymap context. Closing one shows the panes again; the help, opened over
//! another, gives it back when it closes.

use crossterm::event::KeyEvent;

use super::action::Effect;
use super::contact_panel::ContactPanel;
use super::picker::{Choice, Picked, Picker};
use super::search::SearchPanel;
use super::state::{AppState, Focus};
use super::update::{notify, run_command, set_focus};
use crate::config::TemplateConfig;
use crate::keymap::{Command, Context};
use crate::model::Millis;

// One overlay lives in the state at a time: the size of its largest variant costs
// nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Default)]
pub enum Overlay {
    #[default]
    None,
    /// The keys; what it covered comes back when it closes.
    Help(Box<Overlay>),
    Templates(Picker<TemplateConfig>),
    Snooze(Picker<SnoozeChoice>),
    Agents(Picker<AgentChoice>),
    Palette(Picker<PaletteEntry>),
    Emoji(Picker<super::emoji::EmojiChoice>),
    Canned(Picker<super::canned::CannedChoice>),
    /// The name (and /shortcut) to save the draft under as a canned reply.
    CannedName(Picker<super::canned::NameChoice>),
    /// Corrections for a misspelled word.
    Spell(super::spell::SpellPanel),
    /// What a macro is about to do.
    Macro(super::macros::MacroPanel),
    /// A file to attach, or where to save one.
    Path(super::attach::PathPanel),
    /// The customer's files, to open or save.
    Media(super::media::MediaPanel),
    /// The automation rules and when each last fired.
    Automation(Picker<super::automation::RuleChoice>),
    /// A poll to send to the open conversation.
    Polls(Picker<crate::store::Poll>),
    /// The charts and figures of the reports.
    Reports(Box<super::reports::ReportsPanel>),
    Search(SearchPanel),
    Contact(ContactPanel),
    /// Contacts that may be one person, and a merge of a pair previewed.
    Duplicates(super::person::DuplicatesPanel),
    /// The segment and campaign panel (its form lives on in `AppState::campaign_panel`).
    Campaign,
}

impl Overlay {
    /// The keymap context of what is on top.
    pub fn context(&self) -> Option<Context> {
        match self {
            Overlay::None | Overlay::Help(_) => None,
            Overlay::Templates(_)
            | Overlay::Snooze(_)
            | Overlay::Agents(_)
            | Overlay::Palette(_)
            | Overlay::Emoji(_)
            | Overlay::Canned(_)
            | Overlay::CannedName(_)
            | Overlay::Spell(_)
            | Overlay::Macro(_)
            | Overlay::Path(_)
            | Overlay::Media(_)
            | Overlay::Automation(_)
            | Overlay::Polls(_)
            | Overlay::Search(_) => Some(Context::Picker),
            Overlay::Contact(panel) if panel.ask.is_some() => Some(Context::Picker),
            Overlay::Contact(_) | Overlay::Duplicates(_) => Some(Context::Card),
            Overlay::Campaign => Some(Context::Campaign),
            // Its own keys (sections, period), listed in its frame.
            Overlay::Reports(_) => Some(Context::Picker),
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Overlay::None)
    }
}

/// A time to snooze until; `until` None is "until the customer writes".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnoozeChoice {
    pub label: String,
    pub until: Option<Millis>,
    /// Read from what the agent typed.
    pub typed: bool,
}

impl Choice for SnoozeChoice {
    fn label(&self) -> String {
        self.label.clone()
    }
}

/// Who to give the conversation to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentChoice {
    Agent { name: String, me: bool },
    Nobody,
}

impl Choice for AgentChoice {
    fn label(&self) -> String {
        match self {
            AgentChoice::Agent { name, me: true } => format!("{name} (you)"),
            AgentChoice::Agent { name, .. } => name.clone(),
            AgentChoice::Nobody => "nobody (unassign)".into(),
        }
    }
}

/// A command in the palette, with the keys it has where the agent is; or a macro.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaletteEntry {
    pub command: Option<Command>,
    /// A macro's name (when `command` is None).
    pub macro_name: Option<String>,
    pub label: String,
    pub keys: String,
}

impl Choice for PaletteEntry {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn aside(&self) -> Option<String> {
        (!self.keys.is_empty()).then(|| self.keys.clone())
    }
}

/// Keys while an overlay is open. Quit, help and suspend work over every one.
pub fn on_key(s: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let Some(context) = s.overlay.context() else { return Vec::new() };
    match s.keymap.resolve_in(&[context], &key) {
        Some(Command::Quit) => return super::update::quit(s),
        Some(Command::Suspend) => return vec![Effect::Suspend],
        Some(Command::Help) => {
            let under = std::mem::take(&mut s.overlay);
            s.overlay = Overlay::Help(Box::new(under));
            return Vec::new();
        }
        _ => {}
    }
    let keymap = s.keymap.clone();
    match &mut s.overlay {
        Overlay::Templates(picker) => match picker.on_key(&keymap, key) {
            Picked::Chosen(i) => {
                let Some(t) = picker.items.get(i).cloned() else { return Vec::new() };
                // What was typed is put aside, not dropped: it comes back after.
                let kept = s.mode.kept().map(str::to_string).unwrap_or_else(|| s.composer_text());
                s.mode = super::state::ComposerMode::Template(t, kept);
                s.overlay = Overlay::None;
                s.reset_composer();
                set_focus(s, Focus::Composer)
            }
            Picked::Closed => close(s),
            _ => Vec::new(),
        },
        Overlay::Snooze(picker) => match picker.on_key(&keymap, key) {
            Picked::Chosen(i) => {
                let until = picker.items[i].until;
                s.overlay = Overlay::None;
                snooze(s, until)
            }
            Picked::Closed => {
                s.overlay = Overlay::None;
                notify(s, "not snoozed".into(), false);
                Vec::new()
            }
            Picked::Typed => {
                offer_typed_time(s);
                Vec::new()
            }
            Picked::Nothing => Vec::new(),
        },
        Overlay::Agents(picker) => match picker.on_key(&keymap, key) {
            Picked::Chosen(i) => {
                let agent = match &picker.items[i] {
                    AgentChoice::Agent { name, .. } => Some(name.clone()),
                    AgentChoice::Nobody => None,
                };
                s.overlay = Overlay::None;
                super::list::assign(s, agent)
            }
            Picked::Closed => close(s),
            _ => Vec::new(),
        },
        Overlay::Palette(picker) => match picker.on_key(&keymap, key) {
            Picked::Chosen(i) => {
                let entry = picker.items[i].clone();
                s.overlay = Overlay::None;
                match (entry.command, entry.macro_name) {
                    (Some(command), _) => run_command(s, command),
                    (None, Some(name)) => match s.macros.iter().find(|m| m.name == name).cloned() {
                        Some(m) => super::macros::preview(s, m),
                        None => Vec::new(),
                    },
                    (None, None) => Vec::new(),
                }
            }
            Picked::Closed => close(s),
            _ => Vec::new(),
        },
        Overlay::Emoji(picker) => match picker.on_key(&keymap, key) {
            Picked::Chosen(i) => {
                let emoji = picker.items[i].0.as_str();
                s.overlay = Overlay::None;
                s.composer.insert_str(emoji);
                set_focus(s, Focus::Composer)
            }
            Picked::Closed => close(s),
            _ => Vec::new(),
        },
        Overlay::Canned(picker) if keymap.resolve(Context::Picker, &key) == Some(Command::EditChoice) => {
            let Some(choice) = picker.chosen().cloned() else { return Vec::new() };
            super::canned::edit(s, choice.canned)
        }
        Overlay::CannedName(picker) => match picker.on_key(&keymap, key) {
            Picked::Chosen(i) => {
                let name = picker.items[i].clone();
                super::canned::save_draft_as(s, name)
            }
            Picked::Closed => close(s),
            Picked::Typed => {
                let typed = picker.query();
                picker.items = super::canned::NameChoice::parse(&typed).into_iter().collect();
                picker.refilter();
                Vec::new()
            }
            Picked::Nothing => Vec::new(),
        },
        Overlay::Canned(picker) => match picker.on_key(&keymap, key) {
            Picked::Chosen(i) => {
                let choice = picker.items[i].clone();
                super::canned::chosen(s, choice)
            }
            Picked::Closed => close(s),
            _ => Vec::new(),
        },
        Overlay::Spell(_) => super::spell::on_key(s, key),
        Overlay::Macro(_) => super::macros::on_key(s, key),
        Overlay::Path(_) => super::attach::on_key(s, key),
        Overlay::Media(_) => super::media::on_key(s, key),
        Overlay::Polls(picker) => match picker.on_key(&keymap, key) {
            Picked::Chosen(i) => {
                let poll = picker.items[i].clone();
                s.overlay = Overlay::None;
                super::polls::send(s, poll)
            }
            Picked::Closed => close(s),
            _ => Vec::new(),
        },
        Overlay::Automation(picker) => match picker.on_key(&keymap, key) {
            Picked::Chosen(_) | Picked::Closed => close(s),
            _ => Vec::new(),
        },
        Overlay::Search(_) => super::search::on_key(s, key),
        Overlay::Contact(_) => super::contact_panel::on_key(s, key),
        Overlay::Duplicates(_) => super::person::duplicates_key(s, keymap.resolve(Context::Card, &key)),
        Overlay::Campaign => super::campaign_panel::on_key(s, key),
        Overlay::Reports(_) => super::reports::on_key(s, key),
        Overlay::None | Overlay::Help(_) => Vec::new(),
    }
}

fn close(s: &mut AppState) -> Vec<Effect> {
    s.overlay = Overlay::None;
    Vec::new()
}

/// The command palette: every command of the panes, by name and description, with the
/// keys it has in the pane the agent is in (or elsewhere, said so).
pub fn open_palette(s: &mut AppState) -> Vec<Effect> {
    let here = s.focus.context();
    let mut seen = std::collections::BTreeSet::new();
    let mut items = Vec::new();
    let main = [here, Context::Global, Context::List, Context::Conversation, Context::Composer];
    for (_, command, _) in s.keymap.bindings().iter().filter(|(c, ..)| main.contains(c)) {
        if *command == Command::Palette || !seen.insert(*command) {
            continue;
        }
        let keys = [here, Context::Global]
            .iter()
            .map(|c| s.keymap.keys_for(*c, *command))
            .find(|k| !k.is_empty())
            .map(|k| k.iter().map(ToString::to_string).collect::<Vec<_>>().join(" / "))
            .unwrap_or_default();
        let label = format!("{} — {}", command.name(), command.describe());
        items.push(PaletteEntry { command: Some(*command), macro_name: None, label, keys });
    }
    // The team's macros, by name and what they do (they run on the open conversation).
    if s.open.is_some() {
        for m in &s.macros {
            let label = format!("macro: {} — {}", crate::text::sanitize(&m.name, false), super::macros::summary(m));
            let keys = m.key.as_deref().and_then(|k| crate::keymap::Key::parse(k).ok()).map(|k| k.to_string());
            items.push(PaletteEntry {
                command: None,
                macro_name: Some(m.name.clone()),
                label,
                keys: keys.unwrap_or_default(),
            });
        }
    }
    s.overlay = Overlay::Palette(Picker::new(" Commands ", "type part of a command's name or what it does", items));
    Vec::new()
}

pub fn open_templates(s: &mut AppState) -> Vec<Effect> {
    let whatsapp = s.open.as_ref().is_some_and(|o| o.row.channel == crate::model::ChannelKind::WhatsApp);
    if !whatsapp {
        notify(s, "templates are for WhatsApp conversations".into(), false);
    } else if s.templates.is_empty() {
        notify(s, "no templates configured: add [[channels.whatsapp.templates]] to the config".into(), true);
    } else {
        let items = s.templates.clone();
        s.overlay = Overlay::Templates(Picker::new(" Templates ", "type to filter by name", items));
    }
    Vec::new()
}

/// The agents to assign the open conversation to: this agent first, then every agent
/// the store has seen (they arrive with `Action::AgentsLoaded`), then nobody.
pub fn open_agents(s: &mut AppState) -> Vec<Effect> {
    if s.open.is_none() {
        notify(s, "open a conversation first".into(), true);
        return Vec::new();
    }
    let items = agent_choices(&s.agent, Vec::new());
    s.overlay = Overlay::Agents(Picker::new(" Assign to ", "type a name", items));
    vec![Effect::LoadAgents]
}

fn agent_choices(me: &str, known: Vec<String>) -> Vec<AgentChoice> {
    let mut items = vec![AgentChoice::Agent { name: me.to_string(), me: true }];
    items.extend(known.into_iter().filter(|a| a != me).map(|name| AgentChoice::Agent { name, me: false }));
    items.push(AgentChoice::Nobody);
    items
}

pub fn agents_loaded(s: &mut AppState, known: Vec<String>) {
    let me = s.agent.clone();
    if let Overlay::Agents(picker) = &mut s.overlay {
        picker.items = agent_choices(&me, known);
        picker.refilter();
    }
}

/// The snooze times: presets, and any time the agent types ("2h", "14:30", "fri 10:00",
/// "03.12 9:00"), read in the agent's zone.
pub fn open_snooze(s: &mut AppState) -> Vec<Effect> {
    if s.open.is_none() {
        return Vec::new();
    }
    let when = |t: Millis| crate::ui::time::when(t, s.tz);
    let hour = s.now + 3_600_000;
    let tomorrow = crate::model::when::at_nine(s.now, s.tz, 1);
    let monday = crate::model::when::next_monday(s.now, s.tz);
    let items = vec![
        SnoozeChoice { label: format!("an hour · {}", when(hour)), until: Some(hour), typed: false },
        SnoozeChoice { label: format!("tomorrow · {}", when(tomorrow)), until: Some(tomorrow), typed: false },
        SnoozeChoice { label: format!("next Monday · {}", when(monday)), until: Some(monday), typed: false },
        SnoozeChoice { label: "until the customer writes".into(), until: None, typed: false },
    ];
    s.overlay =
        Overlay::Snooze(Picker::new(" Snooze until ", "or type a time: 2h, 14:30, fri 10:00, 03.12 9:00", items));
    Vec::new()
}

/// What the agent typed, read as a time, goes first; the presets that match the text
/// follow.
fn offer_typed_time(s: &mut AppState) {
    let (now, tz) = (s.now, s.tz);
    let Overlay::Snooze(picker) = &mut s.overlay else { return };
    picker.items.retain(|c| !c.typed);
    let query = picker.query();
    match crate::model::when::parse(&query, now, tz) {
        Ok(t) => {
            let label = format!("{} · as typed", crate::ui::time::when(t, tz));
            picker.items.insert(0, SnoozeChoice { label, until: Some(t), typed: true });
            picker.refilter();
            picker.shown.retain(|i| *i != 0);
            picker.shown.insert(0, 0);
        }
        Err(_) => picker.refilter(),
    }
}

fn snooze(s: &mut AppState, until: Option<Millis>) -> Vec<Effect> {
    let Some(id) = s.open_id() else { return Vec::new() };
    if until.is_some_and(|t| t <= s.now) {
        notify(s, "not snoozed: that time has passed".into(), true);
        return Vec::new();
    }
    let said = match until {
        Some(t) => format!("snoozed until {}", crate::ui::time::when(t, s.tz)),
        None => "snoozed until the customer writes".into(),
    };
    notify(s, said, false);
    vec![Effect::Snooze(id, until)]
}
