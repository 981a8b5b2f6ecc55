//! The keymap: key strings such as `ctrl-s` or `alt-enter` resolve, per focused pane, to
//! named `Command`s. Defaults are built in; `[keys.<context>]` in the config replaces the
//! keys of a command. The help overlay and the status-bar hints are read from here.

use std::collections::BTreeMap;

use crossterm::event::KeyEvent;

use crate::config::KeyList;

mod key;
pub use key::Key;

/// Where a key is pressed. `Global` keys work everywhere unless the pane binds the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Context {
    Global,
    List,
    Conversation,
    Composer,
    /// The conversation opened from a search, while its matches are marked: the keys
    /// here come first, then the conversation's.
    Found,
    /// Every list with a line to type in: search, the palette, the agent, template and
    /// snooze pickers, and a question's input line.
    Picker,
    /// The contact card.
    Card,
    /// The segment and campaign panel.
    Campaign,
}

impl Context {
    pub const ALL: [Context; 8] = [
        Context::Global,
        Context::List,
        Context::Conversation,
        Context::Composer,
        Context::Found,
        Context::Picker,
        Context::Card,
        Context::Campaign,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::List => "list",
            Context::Conversation => "conversation",
            Context::Composer => "composer",
            Context::Found => "found",
            Context::Picker => "picker",
            Context::Card => "card",
            Context::Campaign => "campaign",
        }
    }

    /// The heading of this context's keys in the help.
    pub fn heading(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::List => "Conversation list",
            Context::Conversation => "Conversation",
            Context::Composer => "Composer",
            Context::Found => "Conversation, after a search",
            Context::Picker => "Pickers, search and palette",
            Context::Card => "Contact card",
            Context::Campaign => "Segments and campaigns",
        }
    }
}

macro_rules! commands {
    ($($variant:ident = $name:literal, $desc:literal;)*) => {
        /// Everything a key can ask for.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Command { $($variant),* }

        impl Command {
            pub const ALL: &'static [Command] = &[$(Command::$variant),*];
            /// The name used in the config.
            pub fn name(self) -> &'static str {
                match self { $(Command::$variant => $name),* }
            }
            /// What the help overlay says it does.
            pub fn describe(self) -> &'static str {
                match self { $(Command::$variant => $desc),* }
            }
        }
    };
}

commands! {
    Quit = "quit", "quit switchboard";
    Help = "help", "show or hide this help";
    Suspend = "suspend", "suspend to the shell (fg resumes)";
    NextPane = "next-pane", "focus the next pane";
    PrevPane = "prev-pane", "focus the previous pane";
    Up = "up", "move up";
    Down = "down", "move down";
    PageUp = "page-up", "move up a page";
    PageDown = "page-down", "move down a page";
    Top = "top", "go to the top";
    Bottom = "bottom", "go to the bottom";
    Open = "open", "open the conversation";
    Back = "back", "go back to the list";
    Reply = "reply", "write a reply";
    NextUnanswered = "next-unanswered", "jump to the next unanswered";
    FilterChannel = "filter-channel", "filter by channel (cycles)";
    FilterStatus = "filter-status", "filter by status (cycles)";
    Resolve = "resolve", "mark resolved, or reopen";
    View = "view", "all, mine, unassigned (cycles)";
    Pending = "pending", "pending, or open again";
    Search = "search", "find a customer or a message";
    AssignMe = "assign-me", "take it, or give it back";
    Snooze = "snooze", "snooze until a time…";
    Resend = "resend", "send failed replies again";
    Note = "note", "a private note (again: a reply)";
    Send = "send", "send the message";
    Template = "template", "choose a WhatsApp template";
    Newline = "newline", "insert a new line";
    ContactCard = "contact-card", "contact card: tags, consent";
    Campaigns = "campaigns", "segments and campaigns";
    Palette = "palette", "every command, by name";
    Assign = "assign", "assign to an agent…";
    Unassign = "unassign", "give it to nobody";
    Mute = "mute", "mute or unmute its alerts";
    NextMatch = "next-match", "next match of the search";
    PrevMatch = "prev-match", "previous match";
    Choose = "choose", "use the selected one";
    Close = "close", "close";
    Tag = "tag", "add or remove a tag";
    Attribute = "attribute", "set an attribute";
    TimeZone = "time-zone", "set the time zone";
    ConsentIn = "consent-in", "record marketing consent";
    ConsentOut = "consent-out", "record an opt-out";
    StageNext = "stage-next", "next funnel stage";
    StagePrev = "stage-prev", "previous funnel stage";
    NextField = "next-field", "next field";
    PrevField = "prev-field", "previous field";
    SaveSegment = "save-segment", "save the filter as a segment";
    Preview = "preview", "preview who gets what";
    Launch = "launch", "launch (twice to confirm)";
    PauseResume = "pause-resume", "pause or resume a campaign";
    CancelCampaign = "cancel-campaign", "cancel a campaign";
    Results = "results", "reload the results";
    NextCampaign = "next-campaign", "next campaign";
    PrevCampaign = "prev-campaign", "previous campaign";
    EditMessage = "edit-message", "edit your last reply";
    DeleteMessage = "delete-message", "delete your last reply";
    Emoji = "emoji", "insert an emoji by name";
    ClearDraft = "clear-draft", "clear the draft (Ctrl-U undoes)";
    Canned = "canned", "insert a canned reply…";
    Complete = "complete", "expand a /shortcut (or next pane)";
    ExternalEditor = "external-editor", "edit the draft in $EDITOR";
    CannedNew = "canned-new", "save the draft as a canned reply";
    EditChoice = "edit-choice", "edit the selected one";
    SpellSuggest = "spell-suggest", "correct a misspelled word";
    Attach = "attach", "attach a photo or a document";
    OpenMedia = "open-media", "open a customer's photo or file";
    SaveMedia = "save-media", "save a customer's file to…";
    Automation = "automation", "automation rules, what fired";
    Poll = "poll", "send a poll to this customer";
    Reports = "reports", "reports: response times, funnel…";
    OtherChannel = "other-channel", "the same person on another channel";
    ByPerson = "by-person", "group a person's conversations";
    Duplicates = "duplicates", "contacts that may be one person";
    Merge = "merge", "merge the suggested duplicate in";
    History = "history", "the person's whole story";
    Phone = "phone", "record a phone number they gave";
    Distinct = "distinct", "not the same person";
}

/// The built-in bindings, by context.
fn defaults() -> Vec<(Context, Command, &'static [&'static str])> {
    use Command::*;
    use Context::*;
    vec![
        (Global, Quit, &["ctrl-c"]),
        (Global, Help, &["f1"]),
        (Global, Suspend, &["ctrl-z"]),
        (Global, NextPane, &["tab"]),
        (Global, PrevPane, &["backtab"]),
        (List, Open, &["enter", "l", "right"]),
        (List, Up, &["up", "k"]),
        (List, Down, &["down", "j"]),
        (List, PageUp, &["pageup", "ctrl-b"]),
        (List, PageDown, &["pagedown", "ctrl-f"]),
        (List, Top, &["g", "home"]),
        (List, Bottom, &["G", "end"]),
        (List, Reply, &["r", "i"]),
        (List, NextUnanswered, &["n"]),
        (List, FilterChannel, &["c"]),
        (List, FilterStatus, &["s"]),
        (List, Resolve, &["x"]),
        (List, AssignMe, &["a"]),
        (List, View, &["v"]),
        (List, Pending, &["P"]),
        (Conversation, Pending, &["P"]),
        (List, Search, &["/"]),
        (Conversation, Search, &["/"]),
        (List, Snooze, &["z"]),
        (List, Resend, &["R"]),
        (List, Help, &["?"]),
        (List, Quit, &["q"]),
        (Conversation, Up, &["up", "k"]),
        (Conversation, Down, &["down", "j"]),
        (Conversation, PageUp, &["pageup", "ctrl-b"]),
        (Conversation, PageDown, &["pagedown", "ctrl-f"]),
        (Conversation, Top, &["g", "home"]),
        (Conversation, Bottom, &["G", "end"]),
        (Conversation, Reply, &["r", "i", "enter"]),
        (Conversation, Back, &["esc", "h", "left"]),
        (Conversation, NextUnanswered, &["n"]),
        (Conversation, Resolve, &["x"]),
        (Conversation, AssignMe, &["a"]),
        (Conversation, Snooze, &["z"]),
        (Conversation, Resend, &["R"]),
        (Conversation, Help, &["?"]),
        (Conversation, Quit, &["q"]),
        (Composer, Send, &["enter"]),
        (Composer, Template, &["ctrl-t"]),
        (Conversation, Template, &["ctrl-t"]),
        (Composer, Newline, &["alt-enter"]),
        (Composer, Note, &["ctrl-n"]),
        (Conversation, Note, &["N"]),
        (Composer, Back, &["esc"]),
        (Global, ContactCard, &["f2"]),
        (List, ContactCard, &["p"]),
        (Conversation, ContactCard, &["p"]),
        (Global, Campaigns, &["f3"]),
        (Global, Automation, &["f4"]),
        (Global, Reports, &["f5"]),
        (List, Campaigns, &["C"]),
        (Conversation, Campaigns, &["C"]),
        (Global, Palette, &["ctrl-k"]),
        (List, Palette, &[":"]),
        (Conversation, Palette, &[":"]),
        (List, Assign, &["A"]),
        (Conversation, Assign, &["A"]),
        (List, Unassign, &["U"]),
        (Conversation, Unassign, &["U"]),
        (List, Mute, &["m"]),
        (Conversation, Mute, &["m"]),
        (Composer, Emoji, &["alt-e"]),
        (Composer, Canned, &["alt-c"]),
        (Composer, Complete, &["tab"]),
        (Composer, ExternalEditor, &["ctrl-o"]),
        (Composer, CannedNew, &["alt-s"]),
        (Picker, EditChoice, &["ctrl-e"]),
        (Composer, ClearDraft, &["ctrl-l"]),
        (Composer, SpellSuggest, &["f7", "alt-;"]),
        (Composer, Attach, &["alt-a"]),
        (Composer, Poll, &["alt-p"]),
        (Conversation, Attach, &["alt-a"]),
        (Conversation, OpenMedia, &["o"]),
        (Conversation, SaveMedia, &["S"]),
        (Conversation, EditMessage, &["e"]),
        (Conversation, DeleteMessage, &["D"]),
        (Found, NextMatch, &["n"]),
        (Found, PrevMatch, &["N"]),
        (Found, Close, &["esc"]),
        (Picker, Up, &["up", "ctrl-p"]),
        (Picker, Down, &["down", "ctrl-n"]),
        (Picker, Choose, &["enter"]),
        (Picker, Close, &["esc"]),
        (Card, Close, &["esc", "q"]),
        (Card, Tag, &["t"]),
        (Card, Attribute, &["a"]),
        (Card, TimeZone, &["z"]),
        (Card, ConsentIn, &["m"]),
        (Card, ConsentOut, &["M"]),
        (Card, StageNext, &["s"]),
        (Card, StagePrev, &["S"]),
        (Card, Help, &["?"]),
        (Card, Up, &["up", "k"]),
        (Card, Down, &["down", "j"]),
        (Card, PageUp, &["pageup", "ctrl-b"]),
        (Card, PageDown, &["pagedown", "ctrl-f"]),
        (Card, Choose, &["enter"]),
        (Card, Merge, &["J"]),
        (Card, History, &["h"]),
        (Card, Phone, &["p"]),
        (Card, Distinct, &["d"]),
        (List, OtherChannel, &["O"]),
        (Conversation, OtherChannel, &["O"]),
        (List, ByPerson, &["b"]),
        (List, Duplicates, &["D"]),
        (Campaign, Close, &["esc"]),
        (Campaign, NextField, &["tab", "enter"]),
        (Campaign, PrevField, &["backtab"]),
        (Campaign, Up, &["up"]),
        (Campaign, Down, &["down"]),
        (Campaign, PageUp, &["pageup"]),
        (Campaign, PageDown, &["pagedown"]),
        (Campaign, SaveSegment, &["ctrl-s"]),
        (Campaign, Preview, &["ctrl-p"]),
        (Campaign, Launch, &["ctrl-l"]),
        (Campaign, PauseResume, &["ctrl-w"]),
        (Campaign, CancelCampaign, &["ctrl-x"]),
        (Campaign, Results, &["ctrl-r"]),
        (Campaign, NextCampaign, &["ctrl-down"]),
        (Campaign, PrevCampaign, &["ctrl-up"]),
    ]
}

/// Key → command, per context, plus the ordered bindings for help and hints.
#[derive(Debug, Clone)]
pub struct Keymap {
    lookup: BTreeMap<(Context, Key), Command>,
    bindings: Vec<(Context, Command, Vec<Key>)>,
}

impl Keymap {
    /// The defaults with the config's overrides applied. An override replaces all the
    /// keys of that command in that context.
    pub fn new(overrides: &BTreeMap<String, BTreeMap<String, KeyList>>) -> Result<Keymap, String> {
        let mut bindings: Vec<(Context, Command, Vec<Key>)> = defaults()
            .into_iter()
            .map(|(ctx, cmd, keys)| (ctx, cmd, keys.iter().map(|k| Key::parse(k).expect("default key")).collect()))
            .collect();
        for (ctx_name, commands) in overrides {
            let ctx = Context::ALL.into_iter().find(|c| c.name() == ctx_name).ok_or_else(|| {
                let names: Vec<_> = Context::ALL.iter().map(|c| c.name()).collect();
                format!("keys.{ctx_name}: unknown context (expected one of {})", names.join(", "))
            })?;
            for (cmd_name, keys) in commands {
                let cmd = Command::ALL.iter().copied().find(|c| c.name() == cmd_name).ok_or_else(|| {
                    let names: Vec<_> = Command::ALL.iter().map(|c| c.name()).collect();
                    format!("keys.{ctx_name}.{cmd_name}: unknown command (expected one of {})", names.join(", "))
                })?;
                let keys = keys
                    .keys()
                    .into_iter()
                    .map(|k| Key::parse(k).map_err(|e| format!("keys.{ctx_name}.{cmd_name}: {e}")))
                    .collect::<Result<Vec<_>, _>>()?;
                match bindings.iter_mut().find(|(c, m, _)| *c == ctx && *m == cmd) {
                    Some(b) => b.2 = keys,
                    None => bindings.push((ctx, cmd, keys)),
                }
            }
        }
        let mut lookup = BTreeMap::new();
        for (ctx, cmd, keys) in &bindings {
            for key in keys {
                // An override wins over a default bound to the same key in the same context.
                lookup.insert((*ctx, *key), *cmd);
            }
        }
        Ok(Keymap { lookup, bindings })
    }

    /// The command of `key` in `ctx`, falling back to the global bindings.
    pub fn resolve(&self, ctx: Context, key: &KeyEvent) -> Option<Command> {
        self.resolve_in(&[ctx], key)
    }

    /// The command of `key` in the first of `contexts` that binds it, then in the global
    /// bindings.
    pub fn resolve_in(&self, contexts: &[Context], key: &KeyEvent) -> Option<Command> {
        let key = Key::from_event(key)?;
        contexts.iter().chain([&Context::Global]).find_map(|ctx| self.lookup.get(&(*ctx, key))).copied()
    }

    /// The command `key` has where a macro's key works (the panes and the global keys),
    /// if any: a macro cannot take it.
    pub fn taken(&self, key: &Key) -> Option<Command> {
        [Context::Global, Context::List, Context::Conversation, Context::Composer]
            .iter()
            .find_map(|ctx| self.lookup.get(&(*ctx, *key)))
            .copied()
    }

    /// The keys bound to `cmd` in `ctx`, for hints.
    pub fn keys_for(&self, ctx: Context, cmd: Command) -> &[Key] {
        self.bindings.iter().find(|(c, m, _)| *c == ctx && *m == cmd).map(|(_, _, k)| k.as_slice()).unwrap_or(&[])
    }

    /// Every binding in display order.
    pub fn bindings(&self) -> &[(Context, Command, Vec<Key>)] {
        &self.bindings
    }
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::new(&BTreeMap::new()).expect("default keymap")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn defaults_resolve_per_context_with_global_fallback() {
        let km = Keymap::default();
        assert_eq!(km.resolve(Context::Composer, &ev(KeyCode::Enter, KeyModifiers::NONE)), Some(Command::Send));
        assert_eq!(km.resolve(Context::Composer, &ev(KeyCode::Enter, KeyModifiers::ALT)), Some(Command::Newline));
        assert_eq!(km.resolve(Context::List, &ev(KeyCode::Enter, KeyModifiers::NONE)), Some(Command::Open));
        assert_eq!(km.resolve(Context::Composer, &ev(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Command::Quit));
        assert_eq!(km.resolve(Context::Composer, &ev(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert_eq!(km.resolve(Context::List, &ev(KeyCode::Char('G'), KeyModifiers::SHIFT)), Some(Command::Bottom));
    }

    #[test]
    fn every_description_fits_the_helps_column() {
        // Two columns at 110 cells leave a description 34.
        for c in Command::ALL {
            assert!(c.describe().chars().count() <= 34, "`{}` is too long for the help", c.describe());
        }
    }

    #[test]
    fn overrides_replace_a_commands_keys() {
        let toml = "[composer]\nsend = \"ctrl-s\"\nnewline = [\"enter\"]\n";
        let overrides: BTreeMap<String, BTreeMap<String, KeyList>> = toml::from_str(toml).unwrap();
        let km = Keymap::new(&overrides).unwrap();
        assert_eq!(km.resolve(Context::Composer, &ev(KeyCode::Char('s'), KeyModifiers::CONTROL)), Some(Command::Send));
        assert_eq!(km.resolve(Context::Composer, &ev(KeyCode::Enter, KeyModifiers::NONE)), Some(Command::Newline));
        assert_eq!(km.keys_for(Context::Composer, Command::Send)[0].to_string(), "Ctrl-s");
    }

    #[test]
    fn bad_overrides_say_where() {
        let toml = "[composer]\nsned = \"ctrl-s\"\n";
        let overrides: BTreeMap<String, BTreeMap<String, KeyList>> = toml::from_str(toml).unwrap();
        assert!(Keymap::new(&overrides).unwrap_err().contains("keys.composer.sned"));
        let toml = "[composer]\nsend = \"ctrl-\"\n";
        let overrides: BTreeMap<String, BTreeMap<String, KeyList>> = toml::from_str(toml).unwrap();
        assert!(Keymap::new(&overrides).unwrap_err().contains("keys.composer.send"));
    }
}
