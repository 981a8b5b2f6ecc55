//! The console's state: everything the screen shows, changed only by `update`.

use chrono::FixedOffset;
use ratatui::style::{Modifier, Style};
use ratatui_textarea::TextArea;

use crate::keymap::{Command, Context, Keymap};
use crate::model::{ChannelKind, ConversationId, Millis};
use crate::store::{ConversationFilter, ConversationRow, MessageKey, MessageRow};
use crate::sync::StatusMap;

/// Conversations fetched per page of the list.
pub const LIST_PAGE: usize = 100;
/// Messages fetched per page of a conversation.
pub const MESSAGE_PAGE: usize = 200;
/// The most messages held for one conversation; the far end is dropped past this.
pub const MESSAGE_WINDOW: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Conversation,
    Composer,
}

impl Focus {
    pub fn context(self) -> Context {
        match self {
            Focus::List => Context::List,
            Focus::Conversation => Context::Conversation,
            Focus::Composer => Context::Composer,
        }
    }
}

/// The loaded part of the conversation list.
#[derive(Debug, Clone, Default)]
pub struct ListView {
    pub rows: Vec<ConversationRow>,
    pub selected: usize,
    /// The first row on screen.
    pub offset: usize,
    pub filter: ConversationFilter,
    /// No rows beyond those loaded.
    pub exhausted: bool,
    /// Bumped by every load that replaces the rows, so a late answer to an older
    /// request is recognised and dropped.
    pub generation: u64,
    pub loading_more: bool,
    /// Conversations that arrived above the rows in view since the agent last looked
    /// there: the title counts them rather than the view jumping to them.
    pub new_above: std::collections::HashSet<ConversationId>,
}

impl ListView {
    pub fn selected_row(&self) -> Option<&ConversationRow> {
        self.rows.get(self.selected)
    }
}

/// What the composer writes.
#[derive(Debug, Clone, PartialEq)]
pub enum ComposerMode {
    Reply,
    /// A private note for the team.
    Note,
    /// The parameters of an approved WhatsApp template, one per line; with the reply
    /// typed before it was chosen, given back after.
    Template(crate::config::TemplateConfig, String),
    /// New text for our message already sent (Telegram's editMessageText); with the
    /// reply typed before, given back after.
    Edit(crate::model::MessageId, String),
    /// The raw body of a canned reply (variables and all), saved rather than sent; with
    /// the reply typed before, given back after.
    CannedBody(crate::store::Canned, String),
}

impl ComposerMode {
    /// Whether what is typed is a draft worth keeping (a reply or a note is; a
    /// template's parameters and an edit are not).
    pub fn keeps_draft(&self) -> bool {
        matches!(self, ComposerMode::Reply | ComposerMode::Note)
    }

    /// The reply put aside while a template or an edit has the composer.
    pub fn kept(&self) -> Option<&str> {
        match self {
            ComposerMode::Template(_, kept) | ComposerMode::Edit(_, kept) | ComposerMode::CannedBody(_, kept) => {
                Some(kept)
            }
            ComposerMode::Reply | ComposerMode::Note => None,
        }
    }
}

/// Which messages the conversation view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    /// The newest message at the bottom, following new ones as they arrive.
    Follow,
    /// This message (an index into the window) at the bottom.
    Bottom(usize),
    /// This message at the top.
    Top(usize),
}

/// The open conversation and the window of its history that is loaded.
#[derive(Debug, Clone)]
pub struct ConversationView {
    pub row: ConversationRow,
    /// When this console opened it: a reply by someone else after it asks first.
    pub opened_at: Millis,
    /// Who else has it open (agent, typing), from the presence heartbeats.
    pub others: Vec<(String, bool)>,
    pub messages: Vec<MessageRow>,
    pub at_oldest: bool,
    pub at_newest: bool,
    pub scroll: Scroll,
    pub loading: bool,
    /// The search it was opened from: its words are marked, and `n`/`N` go from match to
    /// match.
    pub found: Option<Found>,
}

/// A search's words in the open conversation, and the match the view is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub query: String,
    /// The words as the view marks them (folded: any case, `ё` as `е`).
    pub words: Vec<String>,
    /// The message the view is on.
    pub at: MessageKey,
}

impl ConversationView {
    pub fn new(row: ConversationRow) -> ConversationView {
        ConversationView {
            row,
            opened_at: 0,
            others: Vec::new(),
            messages: Vec::new(),
            at_oldest: false,
            at_newest: true,
            scroll: Scroll::Follow,
            loading: true,
            found: None,
        }
    }

    pub fn id(&self) -> ConversationId {
        self.row.id
    }
}

/// Who runs the engine for this store, as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineView {
    /// This console runs it; per-channel status.
    InProcess(StatusMap),
    /// Another process does (the engine started for the consoles, `serve`, or another
    /// console); this console reads and enqueues. Per-channel status as it publishes it.
    Client { pid: u32, channels: StatusMap },
    /// Channels are configured but no engine runs: replies wait in the outbox.
    NoEngine,
    /// Nothing to run: no channel is configured.
    NoChannels,
}

/// A line for the status bar: the last error, or what just happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub at: Millis,
    pub text: String,
    pub is_error: bool,
}

/// How long a notice stays in the status bar.
pub const NOTICE_MS: Millis = 15_000;

pub struct AppState {
    /// The panes as last drawn, so an unchanged pane is copied rather than laid out again.
    pub frames: crate::ui::FrameCache,
    /// The last action changed nothing on screen (a key bound to nothing, a mouse move):
    /// the console does not draw for it.
    pub unchanged: bool,
    pub focus: Focus,
    pub keymap: Keymap,
    pub list: ListView,
    pub open: Option<ConversationView>,
    pub composer: TextArea<'static>,
    /// Unsent drafts of the conversations not in view: a draft never follows the
    /// agent to another customer.
    pub drafts: std::collections::HashMap<ConversationId, TextArea<'static>>,
    /// The text the store holds as each draft, as far as this console knows: a draft is
    /// written only when it differs.
    pub saved_drafts: std::collections::HashMap<ConversationId, String>,
    /// Quit was pressed once while drafts are unsent: the next press quits.
    pub quit_armed: bool,
    /// What lies over the panes (help, a picker, search, the palette, a panel).
    pub overlay: super::overlay::Overlay,
    pub engine: EngineView,
    pub notice: Option<Notice>,
    pub now: Millis,
    pub tz: FixedOffset,
    /// Terminal size, for page sizes and mouse hits.
    pub size: (u16, u16),
    pub agent: String,
    pub quit: bool,
    /// Approved WhatsApp templates, for customers whose 24-hour window has closed.
    pub templates: Vec<crate::config::TemplateConfig>,
    /// What the composer writes: a reply, a note, a template's parameters, or new text
    /// for a message already sent.
    pub mode: ComposerMode,
    /// The delete key was pressed once over this message: the next press deletes it.
    pub delete_armed: Option<crate::model::MessageId>,
    /// How new messages are announced (`[ui] notify`, resolved for this terminal).
    pub notify: crate::config::NotifyKind,
    /// Whether the terminal has the focus (a desktop notification only when it has not).
    pub focused: bool,
    /// What the list showed last, to tell what is new.
    pub watcher: super::notify::Watcher,
    /// This console, among the others on the store (presence).
    pub console_id: String,
    /// When this console last told the store where it is.
    pub last_beat: Millis,
    /// Enter was pressed once over someone else's newer reply: the next one sends.
    pub send_armed: bool,
    /// Notes mentioning this agent are shown from this time on.
    pub mentions_since: Millis,
    /// The segment and campaign panel; kept when closed so the form survives.
    pub campaign_panel: Option<super::campaign_panel::CampaignPanel>,
    /// Campaigns under way, for the gauge in the status bar.
    pub campaigns: Vec<crate::store::CampaignStatus>,
    /// The rules campaigns planned here keep.
    pub policy: crate::campaign::CampaignPolicy,
    /// The composer's spell-check.
    pub spell: super::spell::SpellState,
    /// The team's macros (canned replies with actions or a key).
    pub macros: Vec<crate::store::Canned>,
    /// Where files attached here wait to be sent, and customers' files are saved.
    pub attachments_dir: std::path::PathBuf,
    pub downloads_dir: std::path::PathBuf,
    /// What opens a saved file (None: no display here, so the console says where it is).
    pub opener: Option<String>,
    /// The directory the path picker was last in.
    pub last_dir: Option<std::path::PathBuf>,
    /// The automation rules (`[automation]`), for the Automation screen.
    pub automation: Vec<crate::automation::RuleLine>,
    /// Business hours, for the status bar.
    pub schedule: Option<crate::automation::Schedule>,
    /// The reports' time zone, business hours and conversion (`report::Context`).
    pub report: crate::report::Context,
}

/// A name for this console among the others on the store: unique per process, and per
/// console within one (the tests run several in one process).
fn console_id(now: Millis) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{now}-{n}", std::process::id())
}

impl AppState {
    pub fn new(keymap: Keymap, agent: String, now: Millis, tz: FixedOffset, size: (u16, u16)) -> AppState {
        let mut state = AppState {
            frames: Default::default(),
            unchanged: false,
            focus: Focus::List,
            composer: TextArea::default(),
            keymap,
            list: ListView::default(),
            open: None,
            drafts: Default::default(),
            saved_drafts: Default::default(),
            quit_armed: false,
            overlay: Default::default(),
            engine: EngineView::NoChannels,
            notice: None,
            now,
            tz,
            size,
            agent,
            quit: false,
            templates: Vec::new(),
            mode: ComposerMode::Reply,
            delete_armed: None,
            notify: crate::config::NotifyKind::Off,
            focused: true,
            watcher: Default::default(),
            console_id: console_id(now),
            last_beat: 0,
            send_armed: false,
            mentions_since: now,
            campaign_panel: None,
            campaigns: Vec::new(),
            policy: Default::default(),
            spell: Default::default(),
            macros: Vec::new(),
            attachments_dir: std::path::PathBuf::from("attachments"),
            downloads_dir: std::path::PathBuf::from("downloads"),
            opener: None,
            last_dir: None,
            automation: Vec::new(),
            schedule: None,
            report: crate::report::Context::in_zone(crate::model::Zone::Fixed(tz)),
        };
        // The list's unread counts are this agent's.
        state.list.filter.reader = Some(state.agent.clone());
        state.reset_composer();
        state
    }

    /// For a conversation on a channel with a reply window (WhatsApp's 24 hours):
    /// whether it is open, and when it closes or closed.
    pub fn window(&self) -> Option<(bool, Millis)> {
        let row = &self.open.as_ref()?.row;
        let window = row.channel.rules().reply_window?;
        let last = row.last_inbound_at.unwrap_or(0);
        let closes = last + window;
        Some((self.now < closes, closes))
    }

    /// An empty composer whose placeholder names the live keys.
    pub fn reset_composer(&mut self) {
        let mut composer = TextArea::default();
        let send = self.key_hint(Context::Composer, Command::Send);
        let newline = self.key_hint(Context::Composer, Command::Newline);
        let placeholder = match &self.mode {
            ComposerMode::Template(t, _) if t.parameters() > 0 => {
                format!("The {} parameters of `{}`, one per line; {send} sends", t.parameters(), t.name)
            }
            ComposerMode::Template(t, _) => format!("`{}` takes no parameters: {send} sends it", t.name),
            ComposerMode::Note => format!("A private note for the team (never sent to the customer): {send} adds it"),
            ComposerMode::Edit(..) => format!("The new text of your message: {send} changes it for the customer too"),
            ComposerMode::CannedBody(c, _) => {
                format!("The text of `{}`, with {{{{variables}}}}: {send} saves it", c.name)
            }
            ComposerMode::Reply => format!("Type a reply: {send} sends, {newline} starts a new line"),
        };
        composer.set_placeholder_text(placeholder);
        composer.set_placeholder_style(Style::default().add_modifier(Modifier::DIM));
        composer.set_cursor_line_style(Style::default());
        composer.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
        self.composer = composer;
        self.style_cursor();
    }

    /// The first key bound to `cmd`, for hints.
    pub fn key_hint(&self, ctx: Context, cmd: Command) -> String {
        self.keymap
            .keys_for(ctx, cmd)
            .first()
            .or_else(|| self.keymap.keys_for(Context::Global, cmd).first())
            .map(ToString::to_string)
            .unwrap_or_else(|| "(unbound)".into())
    }

    /// A line of key hints for a panel, from the live keymap: `t tag · s next stage`.
    /// Commands with no key there are left out.
    pub fn hints(&self, ctx: Context, items: &[(Command, &str)]) -> String {
        items
            .iter()
            .filter_map(|(cmd, what)| {
                let key = self.keymap.keys_for(ctx, *cmd).first()?;
                Some(format!("{key} {what}"))
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The cursor shows only while the composer has focus.
    pub fn style_cursor(&mut self) {
        let style = if self.focus == Focus::Composer {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        self.composer.set_cursor_style(style);
    }

    pub fn composer_text(&self) -> String {
        self.composer.lines().join("\n")
    }

    /// Every draft as it reads now: the open conversation's composer and the stashed ones.
    pub fn current_drafts(&self) -> Vec<(ConversationId, String)> {
        let mut all: Vec<(ConversationId, String)> =
            self.drafts.iter().map(|(id, area)| (*id, area.lines().join("\n"))).collect();
        if let Some(open) = self.open_id() {
            // While a template or an edit has the composer, the draft is the reply put aside.
            let draft = self.mode.kept().map(str::to_string).unwrap_or_else(|| self.composer_text());
            all.push((open, draft));
        }
        all
    }

    /// The drafts that differ from what the store holds, marked as saved: what to write.
    pub fn unsaved_drafts(&mut self) -> Vec<(ConversationId, String)> {
        let changed: Vec<(ConversationId, String)> = self
            .current_drafts()
            .into_iter()
            .filter(|(id, text)| self.saved_drafts.get(id).map(String::as_str).unwrap_or("") != text.as_str())
            .collect();
        for (id, text) in &changed {
            self.saved_drafts.insert(*id, text.clone());
        }
        changed
    }

    /// How many conversations have an unsent draft.
    pub fn draft_count(&self) -> usize {
        self.current_drafts().iter().filter(|(_, text)| !text.trim().is_empty()).count()
    }

    /// The contact card, when it is open.
    pub fn contact_panel(&self) -> Option<&super::contact_panel::ContactPanel> {
        match &self.overlay {
            super::overlay::Overlay::Contact(panel) => Some(panel),
            _ => None,
        }
    }

    pub fn contact_panel_mut(&mut self) -> Option<&mut super::contact_panel::ContactPanel> {
        match &mut self.overlay {
            super::overlay::Overlay::Contact(panel) => Some(panel),
            _ => None,
        }
    }

    /// Whether the campaign panel is open (under the help, too).
    pub fn campaign_panel_open(&self) -> bool {
        match &self.overlay {
            super::overlay::Overlay::Campaign => true,
            super::overlay::Overlay::Help(under) => matches!(**under, super::overlay::Overlay::Campaign),
            _ => false,
        }
    }

    /// The search panel, when it is open.
    pub fn search(&self) -> Option<&super::search::SearchPanel> {
        match &self.overlay {
            super::overlay::Overlay::Search(panel) => Some(panel),
            _ => None,
        }
    }

    pub fn open_id(&self) -> Option<ConversationId> {
        self.open.as_ref().map(ConversationView::id)
    }

    pub fn channel_filter_label(&self) -> &'static str {
        self.list.filter.channel.map(ChannelKind::as_str).unwrap_or("all channels")
    }
}
