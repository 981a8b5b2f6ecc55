//! What can happen to the console (`Action`) and what it asks the runtime to do
//! (`Effect`). `update` turns the one into the other and does no I/O itself.

use crossterm::event::{KeyEvent, MouseEvent};

use crate::model::{ConversationId, ConversationStatus, Millis};
use crate::store::{ConversationFilter, ConversationRow, ListKey, MessageKey, MessageRow};

use super::state::EngineView;

#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Paste(String),
    Mouse(MouseEvent),
    Resize(u16, u16),
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
    Engine(EngineView),
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
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
    MarkRead(ConversationId),
    SetStatus(ConversationId, ConversationStatus),
    Suspend,
    Quit,
}
