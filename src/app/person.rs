//! One person across channels, in the console: the card's suggested duplicates, link
//! history and whole timeline, a merge previewed then made, the list of every suggested
//! merge, and the key that moves to the same person's conversation on another channel.
//! The store's work runs off the loop (`perform`); its answers come back as
//! `Action::Person`.

use tokio::sync::mpsc;

use super::action::{Action, Effect};
use super::overlay::Overlay;
use super::state::AppState;
use super::update::notify;
use crate::keymap::Command;
use crate::model::{ContactId, ConversationId};
use crate::store::{ConversationRow, LinkEvent, MergePreview, MessageKey, SharedStore, Store, Suggestion, TimelineRow};

/// Messages on one page of a person's timeline: as many as the card shows on this
/// terminal (its frame, title and key lines taken off, and one to spare for rounding), so
/// paging skips none.
pub fn timeline_page(s: &AppState) -> usize {
    let card = usize::from(s.size.1.saturating_sub(1)) * 94 / 100;
    card.saturating_sub(7).max(3)
}

/// What the console asks the store about people.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A contact's suggested duplicates and link history.
    Related(ContactId),
    /// A page of a person's timeline, just before `before` (or the newest).
    Timeline {
        contact: ContactId,
        before: Option<MessageKey>,
        limit: usize,
    },
    /// Every suggested merge.
    Duplicates,
    PreviewMerge {
        stays: ContactId,
        joins: ContactId,
    },
    Merge {
        stays: ContactId,
        joins: ContactId,
        by: String,
    },
    Distinct {
        a: ContactId,
        b: ContactId,
        by: String,
    },
    /// The same person's conversation on another channel.
    OtherChannel(ConversationId),
}

/// The store's answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Related { contact: ContactId, suggestions: Vec<Suggestion>, links: Vec<LinkEvent> },
    Timeline { contact: ContactId, before: Option<MessageKey>, rows: Vec<TimelineRow> },
    Duplicates(Vec<Suggestion>),
    Previewed { joins: ContactId, preview: Box<MergePreview> },
    Merged { stays: ContactId, joins: ContactId },
    Distinct,
    OtherChannel(Option<ConversationRow>),
    Failed(String),
}

/// What the card shows below the contact.
#[derive(Debug, Default)]
pub struct Person {
    pub suggestions: Vec<Suggestion>,
    pub links: Vec<LinkEvent>,
    /// The suggestion the merge and distinct keys act on.
    pub selected: usize,
    pub view: View,
}

#[derive(Debug, Default)]
pub enum View {
    #[default]
    Card,
    /// The whole story, a page of `page` messages at a time: `older` holds where each
    /// page further back starts.
    Timeline { older: Vec<Option<MessageKey>>, rows: Option<Vec<TimelineRow>>, page: usize },
    /// A merge of `joins` into the card's contact, previewed (None while it is worked out).
    Merge { joins: ContactId, preview: Option<Box<MergePreview>> },
}

/// The list of suggested merges (`duplicates`).
#[derive(Debug, Default)]
pub struct DuplicatesPanel {
    pub rows: Option<Vec<Suggestion>>,
    pub selected: usize,
    /// The pair whose merge is shown: (stays, joins, preview).
    pub merge: Option<(ContactId, ContactId, Option<Box<MergePreview>>)>,
}

pub fn perform(request: Request, store: SharedStore, tx: mpsc::UnboundedSender<Action>) {
    tokio::spawn(async move {
        let changes = matches!(request, Request::Merge { .. } | Request::Distinct { .. });
        let answer = store.run(move |s| answer(s, request)).await;
        let _ = tx.send(Action::Person(answer));
        if changes {
            let _ = tx.send(Action::StoreChanged);
        }
    });
}

/// What the store answers a request, on this thread (`perform` runs it off the loop).
pub fn answer(s: &mut Store, request: Request) -> Answer {
    let now = crate::model::now_ms();
    let result = (|| -> crate::store::Result<Answer> {
        Ok(match request {
            Request::Related(contact) => {
                Answer::Related { contact, suggestions: s.duplicates_of(contact)?, links: s.links(contact)? }
            }
            Request::Timeline { contact, before, limit } => {
                Answer::Timeline { contact, before, rows: s.timeline_before(contact, before, limit)? }
            }
            Request::Duplicates => Answer::Duplicates(s.duplicates()?),
            Request::PreviewMerge { stays, joins } => {
                Answer::Previewed { joins, preview: Box::new(s.preview_merge(stays, joins)?) }
            }
            Request::Merge { stays, joins, by } => {
                s.merge_contacts(stays, joins, &by, now)?;
                Answer::Merged { stays, joins }
            }
            Request::Distinct { a, b, by } => {
                s.mark_distinct(a, b, &by, now)?;
                Answer::Distinct
            }
            Request::OtherChannel(from) => Answer::OtherChannel(s.other_conversation(from)?),
        })
    })();
    result.unwrap_or_else(|e| Answer::Failed(e.to_string()))
}

fn ask(request: Request) -> Vec<Effect> {
    vec![Effect::Person(request)]
}

/// The card's keys for the person: select a suggestion, merge it in (preview first),
/// say it is someone else, read the whole timeline. None for a key it does not take.
pub fn card_key(s: &mut AppState, command: Command) -> Option<Vec<Effect>> {
    let by = s.agent.clone();
    let limit = timeline_page(s);
    let panel = s.contact_panel_mut()?;
    let contact = panel.contact;
    let person = &mut panel.person;
    let selected = person.suggestions.get(person.selected).map(|sg| sg.other(contact));
    let effects = match (&mut person.view, command) {
        (View::Card | View::Timeline { .. } | View::Merge { .. }, Command::History) => {
            person.view = View::Timeline { older: vec![None], rows: None, page: limit };
            ask(Request::Timeline { contact, before: None, limit })
        }
        (View::Card, Command::Up) => {
            person.selected = person.selected.saturating_sub(1);
            Vec::new()
        }
        (View::Card, Command::Down) => {
            person.selected = (person.selected + 1).min(person.suggestions.len().saturating_sub(1));
            Vec::new()
        }
        (View::Card, Command::Merge) => match selected {
            Some(joins) => {
                person.view = View::Merge { joins, preview: None };
                ask(Request::PreviewMerge { stays: contact, joins })
            }
            None => return Some(nothing_suggested(s)),
        },
        (View::Card, Command::Distinct) => match selected {
            Some(other) => ask(Request::Distinct { a: contact, b: other, by }),
            None => return Some(nothing_suggested(s)),
        },
        (View::Merge { joins, preview: Some(_) }, Command::Merge | Command::Choose) => {
            let joins = *joins;
            person.view = View::Card;
            ask(Request::Merge { stays: contact, joins, by })
        }
        (View::Timeline { older, rows: Some(rows), page }, Command::PageUp | Command::Up) => {
            // From the first message the card shows now (fewer than were read, when the
            // terminal shrank since), so none is skipped. A full page may have more
            // before it; a short one is the beginning.
            let shown_from = rows.len().saturating_sub(limit);
            match rows.get(shown_from).map(|r| r.message.key()) {
                Some(key) if rows.len() >= *page || shown_from > 0 => {
                    older.push(Some(key));
                    *page = limit;
                    ask(Request::Timeline { contact, before: Some(key), limit })
                }
                _ => Vec::new(),
            }
        }
        (View::Timeline { older, page, .. }, Command::PageDown | Command::Down) if older.len() > 1 => {
            older.pop();
            let before = older.last().copied().flatten();
            ask(Request::Timeline { contact, before, limit: *page })
        }
        (View::Timeline { .. } | View::Merge { .. }, Command::Close) => {
            person.view = View::Card;
            Vec::new()
        }
        (View::Timeline { .. } | View::Merge { .. }, _) => Vec::new(),
        _ => return None,
    };
    Some(effects)
}

fn nothing_suggested(s: &mut AppState) -> Vec<Effect> {
    notify(s, "no suggested duplicate of this contact (contacts duplicates lists them all)".into(), true);
    Vec::new()
}

/// Opens the list of suggested merges.
pub fn open_duplicates(s: &mut AppState) -> Vec<Effect> {
    s.overlay = Overlay::Duplicates(DuplicatesPanel::default());
    ask(Request::Duplicates)
}

/// The keys of the list of suggested merges: Enter previews merging the second of the
/// pair into the first, and again merges; `distinct` drops the pair for good.
pub fn duplicates_key(s: &mut AppState, command: Option<Command>) -> Vec<Effect> {
    let by = s.agent.clone();
    let Overlay::Duplicates(panel) = &mut s.overlay else { return Vec::new() };
    let pair = panel.rows.as_ref().and_then(|r| r.get(panel.selected)).map(|sg| (sg.a, sg.b));
    match (command, &panel.merge) {
        (Some(Command::Close), Some(_)) => panel.merge = None,
        (Some(Command::Close), None) => s.overlay = Overlay::None,
        (Some(Command::Choose | Command::Merge), Some((stays, joins, Some(_)))) => {
            let (stays, joins) = (*stays, *joins);
            panel.merge = None;
            return ask(Request::Merge { stays, joins, by });
        }
        (Some(Command::Choose | Command::Merge), None) => {
            if let Some((stays, joins)) = pair {
                panel.merge = Some((stays, joins, None));
                return ask(Request::PreviewMerge { stays, joins });
            }
        }
        (Some(Command::Distinct), None) => {
            if let Some((a, b)) = pair {
                return ask(Request::Distinct { a, b, by });
            }
        }
        (Some(Command::Up), None) => panel.selected = panel.selected.saturating_sub(1),
        (Some(Command::Down), None) => {
            let n = panel.rows.as_ref().map_or(0, Vec::len);
            panel.selected = (panel.selected + 1).min(n.saturating_sub(1));
        }
        _ => {}
    }
    Vec::new()
}

/// Moves to the same person's conversation on another channel.
pub fn other_channel(s: &mut AppState) -> Vec<Effect> {
    let from = match s.focus {
        super::state::Focus::List => s.list.selected_row().map(|r| r.id),
        _ => s.open_id(),
    };
    match from {
        Some(from) => ask(Request::OtherChannel(from)),
        None => {
            notify(s, "select a conversation first".into(), true);
            Vec::new()
        }
    }
}

pub fn answered(s: &mut AppState, answer: Answer) -> Vec<Effect> {
    match answer {
        Answer::Related { contact, suggestions, links } => {
            if let Some(panel) = s.contact_panel_mut().filter(|p| p.contact == contact) {
                panel.person.selected = panel.person.selected.min(suggestions.len().saturating_sub(1));
                panel.person.suggestions = suggestions;
                panel.person.links = links;
            }
        }
        Answer::Timeline { contact, before, rows } => {
            if let Some(panel) = s.contact_panel_mut().filter(|p| p.contact == contact)
                && let View::Timeline { older, rows: shown, .. } = &mut panel.person.view
                && older.last().copied().flatten() == before
            {
                *shown = Some(rows);
            }
        }
        Answer::Duplicates(rows) => {
            if let Overlay::Duplicates(panel) = &mut s.overlay {
                panel.selected = panel.selected.min(rows.len().saturating_sub(1));
                panel.rows = Some(rows);
            }
        }
        Answer::Previewed { joins, preview } => match &mut s.overlay {
            Overlay::Contact(panel) => {
                if let View::Merge { joins: j, preview: shown } = &mut panel.person.view
                    && *j == joins
                {
                    *shown = Some(preview);
                }
            }
            Overlay::Duplicates(panel) => {
                if let Some((_, j, shown)) = &mut panel.merge
                    && *j == joins
                {
                    *shown = Some(preview);
                }
            }
            _ => {}
        },
        Answer::Merged { stays, joins } => {
            notify(s, format!("merged: contact {joins} is now part of contact {stays}"), false);
            return reload(s);
        }
        Answer::Distinct => {
            notify(s, "two people: no longer suggested as one".into(), false);
            return reload(s);
        }
        Answer::OtherChannel(Some(row)) => return vec![Effect::OpenConversation { conversation: row.id, found: None }],
        Answer::OtherChannel(None) => {
            notify(s, "this customer is on no other channel (contacts duplicates may know them)".into(), true)
        }
        Answer::Failed(e) => {
            if let Overlay::Duplicates(panel) = &mut s.overlay {
                panel.merge = None;
            }
            if let Some(panel) = s.contact_panel_mut() {
                panel.person.view = View::Card;
            }
            notify(s, e, true);
        }
    }
    Vec::new()
}

/// After a merge or a pair said to be two people: what the card or the list shows.
fn reload(s: &mut AppState) -> Vec<Effect> {
    match &s.overlay {
        Overlay::Contact(panel) => {
            let contact = panel.contact;
            vec![Effect::LoadContact(contact), Effect::Person(Request::Related(contact))]
        }
        Overlay::Duplicates(_) => ask(Request::Duplicates),
        _ => Vec::new(),
    }
}
