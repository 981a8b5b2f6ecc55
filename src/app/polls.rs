//! Sending a poll in a conversation: the `poll` command lists the polls (`switchboard
//! poll create`), previews each (its question and options), and the one chosen goes to
//! the open conversation's customer as buttons, checked against their channel first.

use super::action::Effect;
use super::overlay::Overlay;
use super::picker::{Choice, Picker};
use super::state::{AppState, Focus};
use super::update::{notify, set_focus};
use crate::store::Poll;

impl Choice for Poll {
    fn label(&self) -> String {
        crate::text::sanitize(&format!("{} — {}", self.name, self.question), false)
    }

    fn detail(&self) -> Option<String> {
        Some(self.options.iter().map(|o| format!("[{o}]")).collect::<Vec<_>>().join(" "))
    }
}

pub fn open(s: &mut AppState) -> Vec<Effect> {
    if s.open.is_none() {
        notify(s, "open a conversation first".into(), true);
        return Vec::new();
    }
    s.overlay = Overlay::Polls(Picker::new(" Send a poll ", "loading…; type to filter", Vec::new()));
    vec![Effect::LoadPolls]
}

pub fn loaded(s: &mut AppState, result: Result<Vec<Poll>, String>) {
    let polls = match result {
        Ok(p) => p,
        Err(e) => return notify(s, format!("cannot read the polls: {e}"), true),
    };
    if polls.is_empty() && matches!(s.overlay, Overlay::Polls(_)) {
        s.overlay = Overlay::None;
        return notify(
            s,
            "no polls yet: switchboard poll create NAME --question … --option … --option …".into(),
            false,
        );
    }
    let Overlay::Polls(picker) = &mut s.overlay else { return };
    picker.items = polls;
    picker.input.set_placeholder_text("type to filter; Enter sends it to this customer");
    picker.refilter();
}

/// The poll to the open conversation, as its question with a button per option.
pub fn send(s: &mut AppState, poll: Poll) -> Vec<Effect> {
    let Some(open) = &s.open else { return Vec::new() };
    let (conversation, channel) = (open.id(), open.row.channel);
    let outgoing = poll.message();
    let refused = super::composer::unreachable(s).or_else(|| outgoing.check(channel).err());
    if let Some(why) = refused {
        notify(s, format!("poll not sent: {why}"), true);
        return Vec::new();
    }
    notify(s, format!("poll `{}` queued", crate::text::sanitize(&poll.name, false)), false);
    let mut effects = set_focus(s, Focus::Composer);
    effects.push(Effect::EnqueueOutgoing { conversation, outgoing, author: s.agent.clone() });
    effects
}
