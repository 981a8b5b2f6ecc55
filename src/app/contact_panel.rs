//! The contact card of the selected conversation's customer, and its edits from the
//! keyboard: tags, funnel stage, attributes, time zone, a phone number, and consent an
//! agent records (which needs a note saying how the customer gave or withdrew it). The
//! person beyond the contact (duplicates, merges, the whole timeline) is `person`.

use crossterm::event::KeyEvent;
use ratatui::style::{Modifier, Style};
use ratatui_textarea::TextArea;

use super::action::{ContactEdit, Effect};
use super::state::AppState;
use super::update::notify;
use crate::keymap::{Command, Context};
use crate::model::{ChannelKind, ContactId};
use crate::store::{ContactCard, STAGES};

/// What the one-line prompt at the bottom of the card is asking for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    Tag,
    Attribute,
    TimeZone,
    /// A number the customer gave.
    Phone,
    /// A note for a marketing opt-in (true) or opt-out (false).
    ConsentNote(bool),
}

impl Ask {
    pub fn label(self) -> &'static str {
        match self {
            Ask::Tag => "Tag to add or remove",
            Ask::Attribute => "Attribute as name=value (empty value removes it)",
            Ask::TimeZone => "Time zone (Europe/Moscow, +03:00; empty clears it)",
            Ask::Phone => "Phone number they gave (+7 916 123-45-67)",
            Ask::ConsentNote(true) => "How did they agree to offers? (required)",
            Ask::ConsentNote(false) => "How did they withdraw? (required)",
        }
    }
}

pub struct ContactPanel {
    pub contact: ContactId,
    /// The channel of the conversation it was opened from: consent is recorded there.
    pub channel: ChannelKind,
    pub card: Option<ContactCard>,
    pub ask: Option<(Ask, TextArea<'static>)>,
    /// The person beyond this contact: duplicates, links, the whole timeline, a merge.
    pub person: super::person::Person,
}

/// Opens the card of the selected conversation's contact.
pub fn open(s: &mut AppState) -> Vec<Effect> {
    // The customer the agent is looking at: the selected row in the list, else the open
    // conversation.
    let selected = s.list.selected_row().cloned().filter(|_| s.focus == super::state::Focus::List);
    let row = selected.or_else(|| s.open.as_ref().map(|o| o.row.clone()));
    let Some(row) = row else {
        notify(s, "select a conversation first".into(), true);
        return Vec::new();
    };
    match row.contact_id {
        Some(contact) => {
            s.overlay = super::overlay::Overlay::Contact(ContactPanel {
                contact,
                channel: row.channel,
                card: None,
                ask: None,
                person: Default::default(),
            });
            vec![Effect::LoadContact(contact), Effect::Person(super::person::Request::Related(contact))]
        }
        None => {
            notify(s, "a group conversation has no one contact".into(), true);
            Vec::new()
        }
    }
}

/// The card as the store read it. A contact that is gone (merged into another, here or
/// in another console) closes its card rather than fail at every refresh.
pub fn loaded(s: &mut AppState, result: Result<ContactCard, String>) {
    match result {
        Ok(card) => {
            if let Some(panel) = s.contact_panel_mut().filter(|p| p.contact == card.id) {
                panel.card = Some(card);
            }
        }
        Err(e) if s.contact_panel().is_some() && e.contains("does not exist") => {
            s.overlay = super::overlay::Overlay::None;
            notify(s, format!("{e}: merged into another? Open the card again"), true);
        }
        Err(e) => notify(s, e, true),
    }
}

pub fn on_key(s: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let keymap = s.keymap.clone();
    let Some(panel) = s.contact_panel_mut() else { return Vec::new() };
    if let Some((ask, area)) = panel.ask.as_mut() {
        let ask = *ask;
        match keymap.resolve(Context::Picker, &key) {
            Some(Command::Close) => panel.ask = None,
            Some(Command::Choose) => {
                let text = area.lines().join(" ").trim().to_string();
                panel.ask = None;
                return answer(s, ask, text);
            }
            _ => {
                area.input(key);
            }
        }
        return Vec::new();
    }
    let contact = panel.contact;
    let command = keymap.resolve(Context::Card, &key);
    if let Some(command) = command
        && let Some(effects) = super::person::card_key(s, command)
    {
        return effects;
    }
    let Some(panel) = s.contact_panel_mut() else { return Vec::new() };
    let step = match command {
        Some(Command::Close) => {
            s.overlay = super::overlay::Overlay::None;
            return Vec::new();
        }
        Some(Command::Tag) => return ask(panel, Ask::Tag),
        Some(Command::Attribute) => return ask(panel, Ask::Attribute),
        Some(Command::TimeZone) => return ask(panel, Ask::TimeZone),
        Some(Command::Phone) => return ask(panel, Ask::Phone),
        Some(Command::ConsentIn) => return ask(panel, Ask::ConsentNote(true)),
        Some(Command::ConsentOut) => return ask(panel, Ask::ConsentNote(false)),
        Some(Command::StageNext) => 1,
        Some(Command::StagePrev) => STAGES.len() - 1,
        _ => return Vec::new(),
    };
    let current = panel.card.as_ref().map(|c| c.stage.clone()).unwrap_or_default();
    let next = match STAGES.iter().position(|st| *st == current) {
        Some(i) => (i + step) % STAGES.len(),
        None => 0,
    };
    vec![Effect::EditContact { contact, edit: ContactEdit::Stage(STAGES[next].into()) }]
}

fn ask(panel: &mut ContactPanel, what: Ask) -> Vec<Effect> {
    let mut area = TextArea::default();
    area.set_cursor_line_style(Style::default());
    area.set_cursor_style(Style::default().add_modifier(Modifier::REVERSED));
    panel.ask = Some((what, area));
    Vec::new()
}

fn answer(s: &mut AppState, ask: Ask, text: String) -> Vec<Effect> {
    let Some(panel) = s.contact_panel() else { return Vec::new() };
    let (contact, channel) = (panel.contact, panel.channel);
    let edit = match ask {
        Ask::Tag if text.is_empty() => return Vec::new(),
        Ask::Tag => ContactEdit::ToggleTag(text),
        Ask::Attribute => match text.split_once('=') {
            Some((name, value)) => ContactEdit::Attribute(name.trim().into(), value.trim().into()),
            None => {
                notify(s, "write the attribute as name=value".into(), true);
                return Vec::new();
            }
        },
        Ask::TimeZone => ContactEdit::TimeZone(text),
        Ask::Phone if text.is_empty() => return Vec::new(),
        Ask::Phone => ContactEdit::Phone(text),
        Ask::ConsentNote(_) if text.is_empty() => {
            notify(s, "not recorded: consent needs a note saying how it was given or withdrawn".into(), true);
            return Vec::new();
        }
        Ask::ConsentNote(opt_in) => ContactEdit::Consent { channel, opt_in, note: text, by: s.agent.clone() },
    };
    vec![Effect::EditContact { contact, edit }]
}
