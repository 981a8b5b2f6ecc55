//! Telling an agent that a customer wrote: the terminal bell, and a desktop notification
//! by escape sequence (OSC 9, OSC 777 or OSC 99, picked by the terminal, wrapped for tmux)
//! while the terminal is not focused. Only conversations that are the agent's or nobody's
//! ring, each at most once a minute. Customer text is sanitised and cut short before it
//! goes into a sequence, so it can never end one or start another.

use std::collections::HashMap;

use crate::model::{ConversationId, Millis};
use crate::store::ConversationRow;
use crate::text::{sanitize, truncate};

pub use crate::config::NotifyKind;

/// The least time between two notifications for one conversation.
const QUIET: Millis = 60_000;

/// What the previous list showed, and when each conversation last rang.
#[derive(Debug, Default)]
pub struct Watcher {
    seen: HashMap<ConversationId, Millis>,
    rang: HashMap<ConversationId, Millis>,
    /// When the list was last looked at; None before the first look.
    last_look: Option<Millis>,
}

impl Watcher {
    /// The conversations among `rows` a customer wrote in since the last look, that are
    /// `agent`'s or nobody's and did not ring in the last minute. The first look only
    /// learns what is there.
    pub fn new_messages<'a>(
        &mut self,
        rows: &'a [ConversationRow],
        agent: &str,
        now: Millis,
    ) -> Vec<&'a ConversationRow> {
        let mut fresh = Vec::new();
        let last_look = self.last_look.replace(now);
        for r in rows {
            let before = self.seen.insert(r.id, r.last_message_at);
            // Newer than what this row showed; a row not shown before (a new
            // conversation, or one a filter just revealed) only if its message is from
            // around the last look (a platform's time runs a little behind ours).
            let newer = match (before, last_look) {
                (_, None) => false,
                (Some(t), _) => r.last_message_at > t,
                (None, Some(look)) => r.last_message_at > look - QUIET,
            };
            let ours = r.assignee.as_deref().is_none_or(|a| a == agent);
            let quiet = self.rang.get(&r.id).is_some_and(|t| now - t < QUIET);
            if newer && r.unanswered && ours && !quiet {
                self.rang.insert(r.id, now);
                fresh.push(r);
            }
        }
        fresh
    }
}

/// The terminal's desktop sequence for `kind`: `Auto` reads the environment.
pub fn pick(kind: NotifyKind, env: &dyn Fn(&str) -> Option<String>) -> NotifyKind {
    if kind != NotifyKind::Auto {
        return kind;
    }
    let program = env("TERM_PROGRAM").unwrap_or_default().to_lowercase();
    let term = env("TERM").unwrap_or_default().to_lowercase();
    if env("KITTY_WINDOW_ID").is_some() || term.contains("kitty") {
        NotifyKind::Osc99
    } else if ["foot", "rxvt", "konsole", "contour"].iter().any(|t| term.contains(t)) {
        NotifyKind::Osc777
    } else if ["iterm.app", "wezterm", "ghostty", "vscode", "warpterminal"].iter().any(|p| program.contains(p)) {
        NotifyKind::Osc9
    } else {
        NotifyKind::Bel
    }
}

/// The bytes to write: the bell, and (when `desktop`) the notification, wrapped for tmux
/// when `in_tmux`.
pub fn sequence(kind: NotifyKind, title: &str, body: &str, desktop: bool, in_tmux: bool) -> String {
    if kind == NotifyKind::Off {
        return String::new();
    }
    // No control character may reach the terminal inside a sequence: sanitised, and
    // `;` kept out of the fields it would split.
    let clean = |s: &str, max: usize| truncate(&sanitize(s, false), max).replace(';', ",");
    let (title, body) = (clean(title, 60), clean(body, 160));
    let osc = match kind {
        _ if !desktop => None,
        // Ghostty reads a body starting `<digits>;` as a ConEmu command: `;` is gone.
        NotifyKind::Osc9 => Some(format!("\x1b]9;{title}: {body}\x07")),
        NotifyKind::Osc777 => Some(format!("\x1b]777;notify;{title};{body}\x07")),
        NotifyKind::Osc99 => Some(format!("\x1b]99;i=1:d=0;{title}\x1b\\\x1b]99;i=1:d=1:p=body;{body}\x1b\\")),
        _ => None,
    };
    let mut out = String::from("\x07");
    if let Some(osc) = osc {
        if in_tmux {
            out.push_str(&format!("\x1bPtmux;{}\x1b\\", osc.replace('\x1b', "\x1b\x1b")));
        } else {
            out.push_str(&osc);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChannelKind, ConversationStatus};

    fn row(id: i64, at: Millis, assignee: Option<&str>) -> ConversationRow {
        ConversationRow {
            id: ConversationId(id),
            channel: ChannelKind::Telegram,
            external_chat_id: id.to_string(),
            contact_id: None,
            is_group: false,
            title: format!("c{id}"),
            status: ConversationStatus::Open,
            last_message_at: at,
            last_inbound_at: Some(at),
            last_preview: "где заказ?".into(),
            unread: 1,
            unanswered: true,
            blocked_at: None,
            assignee: assignee.map(str::to_string),
            snoozed_until: None,
            muted: false,
        }
    }

    #[test]
    fn rings_for_mine_and_nobodys_new_messages_once_a_minute() {
        let mut w = Watcher::default();
        assert!(w.new_messages(&[row(1, 100, None)], "maria", 150_000).is_empty(), "the first look only learns");
        let ids = |v: Vec<&ConversationRow>| v.into_iter().map(|r| r.id.0).collect::<Vec<_>>();
        let rows =
            [row(1, 2_000, None), row(2, 200_000, Some("maria")), row(3, 200_000, Some("alex")), row(4, 500, None)];
        // 1 has a new message, 2 is new and recent; 3 is someone else's; 4 appeared with
        // an old message (a filter revealed it).
        assert_eq!(ids(w.new_messages(&rows, "maria", 200_000)), [1, 2]);
        let rows = [row(1, 201_000, None)];
        assert!(w.new_messages(&rows, "maria", 201_000).is_empty(), "at most once a minute");
        let rows = [row(1, 270_000, None)];
        assert_eq!(ids(w.new_messages(&rows, "maria", 270_000)), [1]);
    }

    #[test]
    fn sequences_are_clean_whatever_the_customer_wrote() {
        let s = sequence(NotifyKind::Osc9, "Анна", "12;\x1b]0;pwned\x07 где заказ?", true, false);
        assert!(s.starts_with("\x07\x1b]9;Анна: 12,"), "{s:?}");
        assert_eq!(s.matches('\x1b').count(), 1, "only the sequence's own ESC: {s:?}");
        assert_eq!(s.matches('\x07').count(), 2, "the bell and the terminator");
        let tmux = sequence(NotifyKind::Osc777, "Анна", "где заказ?", true, true);
        assert_eq!(tmux, "\x07\x1bPtmux;\x1b\x1b]777;notify;Анна;где заказ?\x07\x1b\\");
        assert_eq!(sequence(NotifyKind::Osc9, "a", "b", false, false), "\x07", "focused: the bell only");
        assert_eq!(sequence(NotifyKind::Off, "a", "b", true, false), "");
    }

    #[test]
    fn auto_reads_the_terminal() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert_eq!(pick(NotifyKind::Auto, &env(&[("KITTY_WINDOW_ID", "1")])), NotifyKind::Osc99);
        assert_eq!(pick(NotifyKind::Auto, &env(&[("TERM", "foot")])), NotifyKind::Osc777);
        assert_eq!(pick(NotifyKind::Auto, &env(&[("TERM_PROGRAM", "WezTerm")])), NotifyKind::Osc9);
        assert_eq!(pick(NotifyKind::Auto, &env(&[("TERM", "xterm-256color")])), NotifyKind::Bel);
        assert_eq!(pick(NotifyKind::Off, &env(&[("TERM_PROGRAM", "WezTerm")])), NotifyKind::Off);
    }
}
