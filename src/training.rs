//! `--demo --training [FILE]`: scripted customers for practice. Each scenario of the file
//! (`training/scenarios.toml` by default, in English and Russian) is a customer who
//! writes a few messages; when the trainee has answered (or, for a STOP, once the
//! customer has gone quiet), a note in the conversation scores the answer: how fast the
//! first answer came, the spelling mistakes sent (by the composer's spell-check), whether
//! a canned reply or a private note was used where one was expected, and whether a STOP
//! was honoured. Then the next customer writes.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::model::{ChannelKind, ConversationId, Millis, now_ms};
use crate::sandbox::{Customer, TelegramEmulator};
use crate::spell::Speller;
use crate::store::{SharedStore, Store};

/// The scenarios that come with switchboard.
pub const BUILT_IN: &str = include_str!("../training/scenarios.toml");

/// The author of the scoring notes.
pub const TRAINER: &str = "trainer";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    scenario: Vec<Scenario>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub customer: String,
    #[serde(default = "english")]
    pub language: String,
    pub messages: Vec<String>,
    /// Seconds between the customer's messages.
    #[serde(default = "four")]
    pub gap: u64,
    #[serde(default)]
    pub expect: Expect,
    /// Seconds within which the first answer counts as fast.
    #[serde(default = "two_minutes")]
    pub target: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Expect {
    pub canned: bool,
    pub note: bool,
    pub stop: bool,
}

fn english() -> String {
    "en".into()
}
fn four() -> u64 {
    4
}
fn two_minutes() -> u64 {
    120
}

/// The scenarios of `text` (a file's, named `source` in errors).
pub fn parse(text: &str, source: &str) -> anyhow::Result<Vec<Scenario>> {
    let file: File = toml::from_str(text)
        .map_err(|e| anyhow::anyhow!("{source}: {}", crate::config::describe_toml_error(text, &e)))?;
    if file.scenario.is_empty() {
        anyhow::bail!("{source}: no [[scenario]] in it");
    }
    for s in &file.scenario {
        if s.messages.iter().all(|m| m.trim().is_empty()) {
            anyhow::bail!("{source}: scenario `{}` has no message", s.name);
        }
    }
    Ok(file.scenario)
}

/// The scenarios to play: the file's, or the built-in ones.
pub fn load(file: Option<&Path>) -> anyhow::Result<Vec<Scenario>> {
    match file {
        None => parse(BUILT_IN, "training/scenarios.toml"),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            parse(&text, &path.display().to_string())
        }
    }
}

/// The customers the scenarios need, on the Telegram emulator.
pub fn customers(scenarios: &[Scenario]) -> Vec<Customer> {
    scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (first, last) = match s.customer.split_once(' ') {
                Some((f, l)) => (f.to_string(), Some(l.to_string())),
                None => (s.customer.clone(), None),
            };
            let lang = if s.language == "ru" { "ru" } else { "en" };
            Customer { id: 7_700_000 + i as i64, first_name: first, last_name: last, username: None, lang }
        })
        .collect()
}

/// What the trainee did in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    pub first_answer_secs: Option<i64>,
    pub misspelled: Vec<String>,
    pub canned: bool,
    pub note: bool,
    /// For a STOP: whether nothing more went to the customer after it.
    pub stop_honoured: Option<bool>,
}

impl Score {
    /// The note: each point with ✓ or ✗, and the count of points made.
    pub fn say(&self, scenario: &Scenario) -> String {
        let mut points = Vec::new();
        let mut parts = Vec::new();
        if !scenario.expect.stop {
            let fast = self.first_answer_secs.is_some_and(|s| s <= scenario.target as i64);
            let first = match self.first_answer_secs {
                Some(s) => format!("first answer in {} (target {})", human(s), human(scenario.target as i64)),
                None => "no answer".into(),
            };
            points.push(fast);
            parts.push(format!("{first} {}", mark(fast)));
        }
        let clean = self.misspelled.is_empty();
        points.push(clean);
        parts.push(if clean {
            "spelling: no mistakes ✓".to_string()
        } else {
            format!("spelling: {} ✗", self.misspelled.join(", "))
        });
        if scenario.expect.canned {
            points.push(self.canned);
            parts.push(format!(
                "canned reply: {} {}",
                if self.canned { "used" } else { "not used" },
                mark(self.canned)
            ));
        }
        if scenario.expect.note {
            points.push(self.note);
            parts.push(format!("private note: {} {}", if self.note { "left" } else { "none" }, mark(self.note)));
        }
        if let Some(honoured) = self.stop_honoured {
            points.push(honoured);
            parts.push(format!(
                "STOP: {} {}",
                if honoured { "honoured, nothing more sent" } else { "messages sent after it" },
                mark(honoured)
            ));
        }
        let made = points.iter().filter(|p| **p).count();
        format!("Training — {}: {}. Score {made}/{}.", scenario.name, parts.join("; "), points.len())
    }
}

fn mark(ok: bool) -> &'static str {
    if ok { "✓" } else { "✗" }
}

fn human(secs: i64) -> String {
    if secs < 120 { format!("{secs} s") } else { format!("{} min {} s", secs / 60, secs % 60) }
}

/// The team's answers in a conversation since `since`: (sent at, text, is a note).
fn answers(
    store: &Store,
    conversation: ConversationId,
    since: Millis,
) -> crate::store::Result<Vec<(Millis, String, bool)>> {
    let mut stmt = store.conn().prepare(&format!(
        "SELECT sent_at, body, kind = 'note' FROM messages WHERE conversation_id = ?1 AND direction = 'out' \
           AND sent_at >= ?2 AND {} ORDER BY sent_at, id",
        crate::store::human_author("author")
    ))?;
    let rows = stmt.query_map(rusqlite::params![conversation, since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Scores what the team did in `conversation` since the scenario began.
pub fn score(
    store: &Store,
    speller: Option<&Speller>,
    conversation: ConversationId,
    scenario: &Scenario,
    began: Millis,
) -> crate::store::Result<Score> {
    let answers = answers(store, conversation, began)?;
    let first_in: Option<Millis> = store.conn().query_row(
        "SELECT min(sent_at) FROM messages WHERE conversation_id = ?1 AND direction = 'in' AND sent_at >= ?2",
        rusqlite::params![conversation, began],
        |r| r.get(0),
    )?;
    let replies: Vec<&(Millis, String, bool)> = answers.iter().filter(|a| !a.2).collect();
    let first_answer_secs = match (first_in, replies.first()) {
        (Some(asked), Some((at, ..))) => Some(((at - asked) / 1000).max(0)),
        _ => None,
    };
    let mut misspelled = Vec::new();
    if let Some(speller) = speller {
        for (_, text, _) in &replies {
            for w in crate::spell::words(text) {
                if !speller.check(w.text) && !misspelled.contains(&w.text.to_string()) {
                    misspelled.push(w.text.to_string());
                }
            }
        }
    }
    // A canned reply was used when a reply holds one, filled in for this customer.
    let mut canned = false;
    for c in store.canned()? {
        if let Ok(text) = store.render_canned(&c.name, conversation, "")? {
            let text = text.trim().to_string();
            canned |= !text.is_empty() && replies.iter().any(|(_, r, _)| r.contains(text.trim_end_matches(['.', '!'])));
        }
    }
    let note = answers.iter().any(|a| a.2);
    let stop_honoured = if scenario.expect.stop {
        let stopped_at: Option<Millis> = store.conn().query_row(
            "SELECT min(sent_at) FROM messages WHERE conversation_id = ?1 AND direction = 'in' AND sent_at >= ?2 \
               AND upper(trim(body)) IN ('STOP', 'СТОП')",
            rusqlite::params![conversation, began],
            |r| r.get(0),
        )?;
        Some(stopped_at.is_some_and(|t| replies.iter().all(|(at, ..)| *at < t)))
    } else {
        None
    };
    Ok(Score { first_answer_secs, misspelled, canned, note, stop_honoured })
}

/// How long after the trainee's last answer the scenario ends, and how long a scenario
/// waits at most.
const SETTLE: Duration = Duration::from_secs(20);
const LONGEST: Duration = Duration::from_secs(15 * 60);

/// Plays the scenarios one after another on the emulator, scoring each in its
/// conversation.
pub async fn run(store: SharedStore, emulator: TelegramEmulator, scenarios: Vec<Scenario>, speller: Speller) {
    let speller = std::sync::Arc::new(speller);
    let customers = customers(&scenarios);
    let total = scenarios.len();
    for (i, (scenario, customer)) in scenarios.into_iter().zip(customers).enumerate() {
        let began = now_ms();
        for (n, text) in scenario.messages.iter().enumerate() {
            if n > 0 {
                tokio::time::sleep(Duration::from_secs(scenario.gap)).await;
            }
            emulator.customer_says(customer.id, text);
        }
        let conversation = loop {
            let chat = customer.id.to_string();
            let found = store.run(move |s| s.find_conversation(ChannelKind::Telegram, &chat)).await;
            if let Ok(Some(id)) = found {
                break id;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let intro = format!(
            "Training {}/{total}: {} — answer {} as you would a real customer.",
            i + 1,
            scenario.name,
            customer.full_name()
        );
        let _ = store.run(move |s| s.add_note(conversation, TRAINER, &intro, now_ms())).await;
        // The scenario ends once the trainee has answered and then gone quiet (a STOP:
        // once the customer has), or after a quarter of an hour.
        let deadline = tokio::time::Instant::now() + LONGEST;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let last =
                store.run(move |s| answers(s, conversation, began)).await.ok().and_then(|a| a.last().map(|l| l.0));
            let quiet_since = last.unwrap_or(began);
            let answered = last.is_some() || scenario.expect.stop;
            if (answered && now_ms() - quiet_since >= SETTLE.as_millis() as Millis)
                || tokio::time::Instant::now() > deadline
            {
                break;
            }
        }
        let (sc, sp) = (scenario.clone(), speller.clone());
        let scored = store.run(move |s| score(s, Some(&sp), conversation, &sc, began)).await;
        let note = match scored {
            Ok(score) => score.say(&scenario),
            Err(e) => format!("Training — {}: cannot score it: {e}", scenario.name),
        };
        let _ = store.run(move |s| s.add_note(conversation, TRAINER, &note, now_ms())).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_scenarios_read_and_name_their_customers() {
        let scenarios = load(None).unwrap();
        assert_eq!(scenarios.len(), 4);
        assert!(scenarios.iter().any(|s| s.expect.stop) && scenarios.iter().any(|s| s.expect.canned));
        let customers = customers(&scenarios);
        assert_eq!(customers[0].full_name(), "Ирина Соколова");
        assert!(parse("[[scenario]]\nname = \"x\"\n", "f.toml").unwrap_err().to_string().contains("f.toml"));
        assert!(parse("[[scenario]]\nname = \"x\"\ncustomer = \"y\"\nmessages = []\n", "f").is_err());
    }
}
