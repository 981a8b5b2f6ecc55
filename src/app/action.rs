//! What can happen to the console (`Action`) and what it asks the runtime to do
//! (`Effect`). `update` turns the one into the other and does no I/O itself.

use crossterm::event::{KeyEvent, MouseEvent};

use crate::campaign::preview::{Preview, Row};
use crate::campaign::results::CampaignResults;
use crate::campaign::{CampaignPolicy, Message};
use crate::model::{ChannelKind, ContactId, ConversationId, ConversationStatus, Millis};
use crate::store::{
    CampaignStatus, ContactCard, ConversationFilter, ConversationRow, ListKey, MessageKey, MessageRow, SampleRow,
    Segment,
};

use super::state::EngineView;

#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Paste(String),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// The terminal gained (true) or lost the focus.
    Focus(bool),
    /// The clock moved (relative times, notices).
    Tick(Millis),
    /// Something in the store changed: reload what is visible.
    StoreChanged,
    ListLoaded {
        generation: u64,
        after: Option<ListKey>,
        limit: usize,
        rows: Vec<ConversationRow>,
    },
    MessagesLoaded {
        conversation: ConversationId,
        request: MessageRequest,
        rows: Vec<MessageRow>,
    },
    Enqueued(Result<(), String>),
    /// What a search found (or why it could not).
    Found {
        generation: u64,
        result: Result<Vec<crate::store::SearchHit>, String>,
    },
    /// Notes that mention this agent.
    Mentioned(Vec<crate::store::Mention>),
    /// Who else has a conversation open: (agent, typing).
    Presence {
        conversation: ConversationId,
        others: Vec<(String, bool)>,
    },
    /// A conversation read by id, to open (at a search's match when `found`).
    ConversationRead {
        result: Result<ConversationRow, String>,
        found: Option<super::state::Found>,
    },
    /// A canned reply rendered for the open conversation's customer, to put in place of
    /// the `/shortcut` typed before the cursor (`replace` characters).
    CannedRendered {
        conversation: ConversationId,
        replace: usize,
        result: Result<String, String>,
    },
    /// The canned replies, each rendered for the open conversation's customer (or why not).
    CannedLoaded(Vec<(crate::store::Canned, Result<String, String>)>),
    /// What the agent's editor left in the draft's file (or why there is nothing).
    Edited(Result<String, String>),
    /// The dictionaries are read (what could not be is said in `problems`).
    SpellLoaded {
        speller: std::sync::Arc<crate::spell::Speller>,
        problems: Vec<String>,
    },
    /// Corrections for a word.
    Suggested {
        word: String,
        corrections: Vec<String>,
    },
    /// The words in this agent's own dictionary.
    Remembered(Vec<String>),
    /// The polls, for the poll picker (or why they could not be read).
    PollsLoaded(Result<Vec<crate::store::Poll>, String>),
    /// When each automation rule last fired (or why that could not be read).
    AutomationLoaded(Result<Vec<crate::store::Fired>, String>),
    /// The Reports screen's figures for the load `generation`.
    ReportsLoaded {
        generation: u64,
        result: Result<Box<super::reports::ReportData>, String>,
    },
    /// A directory's entries for the path picker (`query` as typed).
    Listed {
        query: String,
        result: Result<Vec<super::attach::PathChoice>, String>,
    },
    /// The customer's messages with files, newest first.
    MediaLoaded(Vec<crate::store::MediaMessage>),
    /// A file could not be queued: why, and the caption to give back.
    NotAttached {
        caption: String,
        why: String,
    },
    /// Every canned reply, for the macros among them.
    MacrosLoaded(Vec<crate::store::Canned>),
    /// A macro's reply rendered for the open conversation's customer (or why not).
    MacroRendered {
        name: String,
        result: Result<String, String>,
    },
    /// The agents the store knows, for the assign picker.
    AgentsLoaded(Vec<String>),
    /// The next (or previous) match of a search in a conversation, if there is one.
    Matched {
        conversation: ConversationId,
        query: String,
        forward: bool,
        result: Result<Option<MessageKey>, String>,
    },
    /// A filter's member count and first members (or why they could not be read).
    SegmentLoaded {
        generation: u64,
        result: Result<(usize, Vec<SampleRow>), String>,
    },
    SegmentsListed(Vec<Segment>),
    Planned {
        generation: u64,
        result: Result<Preview, String>,
    },
    /// The preview's rows from `at`, rendered for the screen.
    PreviewRendered {
        generation: u64,
        at: usize,
        result: Result<Vec<Row>, String>,
    },
    /// A launch went through (the notice to show), or why not.
    Launched(Result<String, String>),
    /// Campaigns under way or recent, and the results asked for.
    CampaignsLoaded {
        campaigns: Vec<CampaignStatus>,
        results: Option<CampaignResults>,
    },
    ContactLoaded(Result<ContactCard, String>),
    /// What a panel's effect did, for the status bar.
    Done(Result<String, String>),
    /// The store's answer about people (duplicates, a merge, a timeline).
    Person(super::person::Answer),
    Engine(EngineView),
    /// This agent's drafts as the store keeps them, read at start.
    DraftsLoaded(Vec<(ConversationId, String)>),
    /// A runtime error to show in the status bar.
    Error(String),
}

/// Which part of a conversation's history to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageRequest {
    Latest {
        limit: usize,
    },
    Oldest {
        limit: usize,
    },
    Older {
        before: MessageKey,
        limit: usize,
    },
    Newer {
        after: MessageKey,
        limit: usize,
    },
    /// The same range again, for changed statuses.
    Refresh {
        from: MessageKey,
        to: MessageKey,
    },
    /// A page on each side of a message (a search's match), the message included.
    Around {
        at: MessageKey,
        limit: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Reads the polls (`Action::PollsLoaded`).
    LoadPolls,
    /// Reads when each automation rule last fired (`Action::AutomationLoaded`).
    LoadAutomation,
    /// Computes the Reports screen's figures (`Action::ReportsLoaded`).
    LoadReports {
        period: crate::report::Period,
        context: Box<crate::report::Context>,
        generation: u64,
    },
    /// Lists a directory for the path picker (`Action::Listed`).
    ListDir {
        query: String,
    },
    /// Checks a file for the channel, copies it beside the store and queues it with its
    /// caption (`Action::Done`, or `Action::NotAttached`).
    Attach {
        conversation: ConversationId,
        channel: ChannelKind,
        path: std::path::PathBuf,
        caption: String,
        author: String,
        /// Where attached files wait (`model::attachments_dir`).
        dir: std::path::PathBuf,
    },
    /// The customer's messages with files (`Action::MediaLoaded`).
    LoadMedia {
        conversation: ConversationId,
        limit: usize,
    },
    /// Fetches a customer's file through its channel into `dir`, then opens it with
    /// `opener` when there is one (`Action::Done`).
    Download {
        choice: super::media::MediaChoice,
        dir: std::path::PathBuf,
        /// Open it once saved (`open-media`), not only save it (`save-media`).
        open: bool,
        opener: Option<String>,
    },
    /// Reads the canned replies for their macros (`Action::MacrosLoaded`).
    LoadMacros,
    /// Renders a macro's reply for a conversation's customer (`Action::MacroRendered`).
    RenderMacro {
        conversation: ConversationId,
        name: String,
        agent: String,
    },
    /// A macro: its reply queued, then its steps, in one go.
    RunMacro {
        name: String,
        conversation: ConversationId,
        reply: Option<String>,
        author: String,
        steps: Vec<super::macros::Step>,
    },
    /// Reads the dictionaries (`Action::SpellLoaded`).
    LoadSpeller(crate::spell::SpellConfig),
    /// Finds corrections for a word (`Action::Suggested`).
    Suggest {
        speller: std::sync::Arc<crate::spell::Speller>,
        word: String,
    },
    /// Reads the agent's own dictionary (`Action::Remembered`).
    LoadRemembered {
        agent: String,
    },
    /// Keeps a word in the agent's own dictionary.
    RememberWord {
        agent: String,
        word: String,
    },
    LoadList {
        generation: u64,
        filter: ConversationFilter,
        after: Option<ListKey>,
        limit: usize,
    },
    LoadMessages {
        conversation: ConversationId,
        request: MessageRequest,
    },
    Enqueue {
        conversation: ConversationId,
        text: String,
        author: String,
    },
    /// A message with more than text (a template).
    EnqueueOutgoing {
        conversation: ConversationId,
        outgoing: crate::model::Outgoing,
        author: String,
    },
    /// This agent has read the conversation.
    MarkRead {
        conversation: ConversationId,
        agent: String,
    },
    LoadSegment {
        generation: u64,
        filter: String,
    },
    ListSegments,
    SaveSegment {
        name: String,
        filter: String,
    },
    PlanCampaign {
        generation: u64,
        filter: String,
        message: Message,
        policy: CampaignPolicy,
    },
    /// Render the preview's rows from `at` (their members, in order).
    RenderPreview {
        generation: u64,
        at: usize,
        contacts: Vec<crate::model::ContactId>,
        message: Message,
        policy: CampaignPolicy,
    },
    LaunchCampaign {
        name: String,
        segment: Option<String>,
        filter: String,
        message: Message,
        policy: CampaignPolicy,
    },
    /// The campaigns under way for the gauge; with the panel open also the latest
    /// finished ones, and the results of one when named (results are read only when
    /// asked for: on a big campaign they cost more than a status).
    LoadCampaigns {
        finished_too: bool,
        results_of: Option<String>,
    },
    SetCampaignState {
        name: String,
        to: String,
    },
    LoadContact(ContactId),
    /// Asks the store about people: duplicates, merges, a timeline, another channel.
    Person(super::person::Request),
    EditContact {
        contact: ContactId,
        edit: ContactEdit,
    },
    SetStatus(ConversationId, ConversationStatus),
    /// Snoozes until a time, or (None) until the customer writes.
    Snooze(ConversationId, Option<crate::model::Millis>),
    /// Gives the conversation to an agent, or to nobody.
    Assign(ConversationId, Option<String>),
    /// Queues the conversation's failed replies again, by this agent.
    Resend(ConversationId, String),
    /// Rings for a customer's new message: the bell, and a desktop notification when
    /// `desktop`.
    Notify {
        kind: crate::config::NotifyKind,
        title: String,
        body: String,
        desktop: bool,
    },
    /// Tells the store where this console is (presence), and asks who else is there
    /// and which notes mention this agent since `mentions_since`.
    Heartbeat {
        console: String,
        agent: String,
        conversation: Option<ConversationId>,
        typing: bool,
        mentions_since: Millis,
    },
    /// Finds conversations and messages for the search panel.
    Search {
        generation: u64,
        query: String,
    },
    /// Opens a conversation by id (from a search hit), at the match when `found`.
    OpenConversation {
        conversation: ConversationId,
        found: Option<super::state::Found>,
    },
    /// Finds the next (`forward`) or previous match of `query` in a conversation.
    FindMatch {
        conversation: ConversationId,
        query: String,
        from: MessageKey,
        forward: bool,
    },
    /// Reads the agents the store knows.
    LoadAgents,
    /// Saves a canned reply (a new one, or the one with its name).
    SaveCanned(crate::store::Canned),
    /// Renders the canned reply `which` (a shortcut or a name) for a conversation.
    RenderCanned {
        conversation: ConversationId,
        which: String,
        agent: String,
        replace: usize,
    },
    /// Reads every canned reply, rendered for a conversation, for the picker.
    LoadCanned {
        conversation: ConversationId,
        agent: String,
    },
    /// Edits or deletes our message already sent (through the outbox).
    ChangeMessage {
        message: crate::model::MessageId,
        change: crate::store::Change,
    },
    /// Wakes the snoozed conversations due by this time.
    WakeSnoozed(Millis),
    Mute {
        agent: String,
        conversation: ConversationId,
        muted: bool,
    },
    /// A private note in the conversation, by this agent.
    AddNote {
        conversation: ConversationId,
        text: String,
        author: String,
    },
    /// Keeps these drafts of this agent in the store (an empty text removes one).
    SaveDrafts {
        agent: String,
        drafts: Vec<(ConversationId, String)>,
    },
    /// Reads this agent's stored drafts (at start).
    LoadDrafts {
        agent: String,
    },
    Suspend,
    /// The draft, to edit in the agent's `$VISUAL` / `$EDITOR`.
    ExternalEditor {
        text: String,
    },
    Quit,
}

/// A change to a contact from the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactEdit {
    ToggleTag(String),
    Stage(String),
    Attribute(String, String),
    TimeZone(String),
    /// A number the contact gave (claimed).
    Phone(String),
    /// Marketing consent on `channel`, recorded by agent `by` with `note` as evidence.
    Consent {
        channel: ChannelKind,
        opt_in: bool,
        note: String,
        by: String,
    },
}
