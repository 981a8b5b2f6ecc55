//! Polls: a question with 2–10 options, its buttons, and the tally of the presses on
//! them. A customer's latest press counts (they may change their mind); answers are
//! counted per option and per campaign variant (`direct` for a poll sent in a
//! conversation).

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Result, Store};
use crate::model::{Button, Millis};

/// The longest option: what every channel shows whole on a button (WhatsApp's 20).
pub const OPTION_MAX: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Poll {
    pub id: i64,
    pub name: String,
    pub question: String,
    pub options: Vec<String>,
}

impl Poll {
    /// The poll as a message: the question, a button per option.
    pub fn message(&self) -> crate::model::Outgoing {
        crate::model::Outgoing {
            kind: "text".into(),
            text: self.question.clone(),
            attachment: None,
            buttons: self.buttons(),
        }
    }

    /// A button per option, each on a row of its own (as a poll reads, and within every
    /// channel's row limits), each bringing back `poll:<id>:<n>`.
    pub fn buttons(&self) -> Vec<Vec<Button>> {
        self.options
            .iter()
            .enumerate()
            .map(|(i, o)| {
                vec![Button { text: o.clone(), url: None, callback_data: Some(format!("poll:{}:{}", self.id, i + 1)) }]
            })
            .collect()
    }
}

/// The answers so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub poll: String,
    pub question: String,
    /// (option, answers), in the poll's order.
    pub options: Vec<(String, i64)>,
    /// Variant (`A`, `B`, `direct`) → answers per option, in the poll's order.
    pub by_variant: BTreeMap<String, Vec<i64>>,
    pub answered: i64,
}

/// Why a poll cannot be saved, if it cannot.
fn check(name: &str, question: &str, options: &[String]) -> std::result::Result<(), String> {
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err("a poll needs a name (one line)".into());
    }
    if question.trim().is_empty() {
        return Err(format!("poll `{name}`: the question is empty"));
    }
    if !(2..=10).contains(&options.len()) {
        return Err(format!("poll `{name}`: a poll has 2 to 10 options; this has {}", options.len()));
    }
    for o in options {
        let n = o.trim().chars().count();
        if n == 0 || n > OPTION_MAX || o.chars().any(char::is_control) {
            return Err(format!(
                "poll `{name}`: the option `{o}` must be 1 to {OPTION_MAX} characters (every channel shows it whole)"
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = options.iter().find(|o| !seen.insert(o.trim().to_lowercase())) {
        return Err(format!("poll `{name}`: the option `{twice}` is there twice"));
    }
    Ok(())
}

impl Store {
    /// Saves a new poll; `Ok(Err(why))` when it is not a poll, or the name is taken.
    pub fn create_poll(
        &self,
        name: &str,
        question: &str,
        options: &[String],
        now: Millis,
    ) -> Result<std::result::Result<Poll, String>> {
        if let Err(why) = check(name, question, options) {
            return Ok(Err(why));
        }
        if self.poll(name)?.is_some() {
            return Ok(Err(format!("there is a poll `{name}` already")));
        }
        let options: Vec<String> = options.iter().map(|o| o.trim().to_string()).collect();
        self.conn.execute(
            "INSERT INTO polls(name, question, options, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name.trim(), question.trim(), serde_json::to_string(&options).unwrap_or_default(), now],
        )?;
        Ok(Ok(Poll {
            id: self.conn.last_insert_rowid(),
            name: name.trim().into(),
            question: question.trim().into(),
            options,
        }))
    }

    pub fn poll(&self, name: &str) -> Result<Option<Poll>> {
        Ok(self
            .conn
            .query_row("SELECT id, name, question, options FROM polls WHERE name = ?1", [name.trim()], poll_row)
            .optional()?)
    }

    pub fn polls(&self) -> Result<Vec<Poll>> {
        let mut stmt = self.conn.prepare("SELECT id, name, question, options FROM polls ORDER BY name")?;
        let rows = stmt.query_map([], poll_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The answers to a poll: each customer's latest press, per option and variant.
    pub fn poll_tally(&self, name: &str) -> Result<Option<Tally>> {
        let Some(poll) = self.poll(name)? else { return Ok(None) };
        let prefix = format!("poll:{}:", poll.id);
        let mut stmt = self.conn.prepare(
            "SELECT e.detail, coalesce(r.variant, 'direct') FROM message_events e \
             JOIN messages m ON m.id = e.message_id \
             LEFT JOIN campaign_recipients r ON r.message_id = e.message_id \
             WHERE e.kind = 'click' AND substr(e.detail, 1, length(?1)) = ?1 \
               AND e.id = (SELECT max(e2.id) FROM message_events e2 JOIN messages m2 ON m2.id = e2.message_id \
                 WHERE e2.kind = 'click' AND substr(e2.detail, 1, length(?1)) = ?1 \
                   AND m2.conversation_id = m.conversation_id)",
        )?;
        let answers: Vec<(String, String)> =
            stmt.query_map([&prefix], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        let mut counts = vec![0i64; poll.options.len()];
        let mut by_variant: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut answered = 0;
        for (data, variant) in answers {
            let Some(n) = data.strip_prefix(&prefix).and_then(|n| n.parse::<usize>().ok()) else { continue };
            let Some(i) = n.checked_sub(1).filter(|i| *i < counts.len()) else { continue };
            counts[i] += 1;
            by_variant.entry(variant).or_insert_with(|| vec![0; poll.options.len()])[i] += 1;
            answered += 1;
        }
        Ok(Some(Tally {
            poll: poll.name.clone(),
            question: poll.question.clone(),
            options: poll.options.iter().cloned().zip(counts).collect(),
            by_variant,
            answered,
        }))
    }
}

fn poll_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Poll> {
    let options: String = r.get(3)?;
    Ok(Poll {
        id: r.get(0)?,
        name: r.get(1)?,
        question: r.get(2)?,
        options: serde_json::from_str(&options).unwrap_or_default(),
    })
}
