//! The agents: who the store has seen (to assign to), who is on duty, what each muted,
//! and auto-assignment's balanced round: each waiting, unassigned conversation, longest
//! waiting first, goes to the agent on duty with the fewest open conversations, under a
//! cap; when everyone is at the cap it waits.

use rusqlite::params;

use super::{Result, Store};
use crate::model::{ConversationId, Millis};

/// How long a console's heartbeat counts: a console silent for longer has gone (and its
/// agent is off duty, unless marked available).
pub const PRESENCE_FRESH: Millis = 6_000;

/// Someone who wrote a reply or a note (a console, `switchboard send`, a script) is an
/// agent the assign picker offers; the engine's own authors are not.
pub(super) fn known(tx: &rusqlite::Transaction<'_>, author: &str, now: Millis) -> Result<()> {
    if !is_machine(author) {
        tx.prepare_cached("INSERT OR IGNORE INTO agents(name, seen_at) VALUES (?1, ?2)")?
            .execute(params![author, now])?;
    }
    Ok(())
}

/// The authors the engine writes as: a welcome, the STOP confirmation, automation's bot,
/// training's scores; and `campaign:<name>`.
const MACHINES: [&str; 4] = ["welcome", "switchboard", "bot", "trainer"];

/// Whether the engine wrote it, not a person.
pub fn is_machine(author: &str) -> bool {
    author.is_empty() || MACHINES.contains(&author) || author.starts_with("bot") || author.starts_with("campaign:")
}

/// SQL that holds when `column` (an author) is a person, as `is_machine` judges.
pub fn human_author(column: &str) -> String {
    let names = MACHINES.iter().map(|m| format!("'{m}'")).collect::<Vec<_>>().join(", ");
    format!(
        "(coalesce({column}, '') NOT IN ({names}, '') AND {column} NOT LIKE 'bot%' AND {column} NOT LIKE 'campaign:%')"
    )
}

/// An agent as `switchboard agents` lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRow {
    pub name: String,
    /// When a console of theirs last beat (or their last reply, for the first rows).
    pub seen_at: Millis,
    pub available: bool,
    /// A console of theirs is open now.
    pub online: bool,
    /// Their open conversations.
    pub open: usize,
}

impl Store {
    /// Every agent with where they stand at `now`, by name.
    pub fn agent_rows(&self, now: Millis, fresh: Millis) -> Result<Vec<AgentRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.name, a.seen_at, a.available, \
               EXISTS (SELECT 1 FROM presence p WHERE p.agent = a.name AND p.seen_at >= ?1), \
               (SELECT count(*) FROM conversations c WHERE c.assignee = a.name AND c.status = 'open') \
             FROM agents a ORDER BY a.name",
        )?;
        let rows = stmt.query_map([now - fresh], |r| {
            Ok(AgentRow {
                name: r.get(0)?,
                seen_at: r.get(1)?,
                available: r.get(2)?,
                online: r.get(3)?,
                open: r.get::<_, i64>(4)? as usize,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every agent the store knows, by name.
    pub fn agents(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT name FROM agents ORDER BY name")?;
        let names = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(names)
    }

    /// Marks an agent available for auto-assignment without a console open (or not).
    pub fn set_available(&self, agent: &str, available: bool, now: Millis) -> Result<()> {
        self.conn.execute(
            "INSERT INTO agents(name, seen_at, available) VALUES (?1, ?3, ?2) \
             ON CONFLICT(name) DO UPDATE SET available = excluded.available",
            params![agent, available, now],
        )?;
        Ok(())
    }

    /// The agents on duty at `now`: a console of theirs beat within `fresh` ms, or they
    /// are marked available.
    pub fn on_duty(&self, now: Millis, fresh: Millis) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT agent FROM presence WHERE seen_at >= ?1 UNION SELECT name FROM agents WHERE available = 1 \
             ORDER BY 1",
        )?;
        let names = stmt.query_map([now - fresh], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(names)
    }

    /// Mutes (or unmutes) a conversation for one agent.
    pub fn set_muted(&self, agent: &str, conversation: ConversationId, muted: bool) -> Result<()> {
        if muted {
            self.conn.execute(
                "INSERT OR IGNORE INTO mutes(agent, conversation_id) VALUES (?1, ?2)",
                params![agent, conversation],
            )?;
        } else {
            self.conn
                .execute("DELETE FROM mutes WHERE agent = ?1 AND conversation_id = ?2", params![agent, conversation])?;
        }
        Ok(())
    }

    /// The conversations an agent muted.
    pub fn muted(&self, agent: &str) -> Result<Vec<ConversationId>> {
        let mut stmt = self.conn.prepare_cached("SELECT conversation_id FROM mutes WHERE agent = ?1")?;
        let ids = stmt.query_map([agent], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// One round of balanced auto-assignment at `now`; returns what went to whom. In one
    /// write transaction, so a conversation an agent took meanwhile is never reassigned.
    pub fn auto_assign(&mut self, now: Millis, fresh: Millis, cap: usize) -> Result<Vec<(ConversationId, String)>> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut assigned = Vec::new();
        {
            let mut duty = tx.prepare_cached(
                "SELECT d.name, (SELECT count(*) FROM conversations c WHERE c.assignee = d.name AND c.status = 'open') \
                 FROM (SELECT agent AS name FROM presence WHERE seen_at >= ?1 \
                       UNION SELECT name FROM agents WHERE available = 1) d ORDER BY d.name",
            )?;
            let mut load: Vec<(String, usize)> = duty
                .query_map([now - fresh], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))?
                .collect::<rusqlite::Result<_>>()?;
            let room: usize = load.iter().map(|(_, n)| cap.saturating_sub(*n)).sum();
            if room == 0 {
                return Ok(assigned);
            }
            let mut queue = tx.prepare_cached(
                "SELECT id FROM conversations WHERE assignee IS NULL AND status = 'open' AND unanswered = 1 \
                 ORDER BY last_inbound_at, id LIMIT ?1",
            )?;
            let waiting: Vec<ConversationId> =
                queue.query_map([room as i64], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            let mut set = tx.prepare_cached("UPDATE conversations SET assignee = ?2 WHERE id = ?1")?;
            for conversation in waiting {
                // The least loaded agent under the cap; ties go by name, so the round is
                // the same whichever process runs it.
                let Some(agent) = load.iter_mut().filter(|(_, n)| *n < cap).min_by_key(|(_, n)| *n) else { break };
                agent.1 += 1;
                set.execute(params![conversation, agent.0])?;
                assigned.push((conversation, agent.0.clone()));
            }
        }
        tx.commit()?;
        Ok(assigned)
    }
}
