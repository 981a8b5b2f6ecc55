//! Drafts: what an agent has typed and not sent, per conversation, kept in the store so
//! it survives quitting, a crash, and opening the console elsewhere.

use rusqlite::params;

use super::{Result, Store};
use crate::model::{ConversationId, Millis};

impl Store {
    /// Keeps `body` as `agent`'s draft in `conversation`; an empty body removes it.
    pub fn save_drafts(&mut self, agent: &str, drafts: &[(ConversationId, String)], now: Millis) -> Result<()> {
        let tx = self.write()?;
        for (conversation, body) in drafts {
            if body.trim().is_empty() {
                tx.prepare_cached("DELETE FROM drafts WHERE conversation_id = ?1 AND agent = ?2")?
                    .execute(params![conversation, agent])?;
            } else {
                tx.prepare_cached(
                    "INSERT INTO drafts(conversation_id, agent, body, updated_at) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT(conversation_id, agent) DO UPDATE SET body = excluded.body, \
                       updated_at = excluded.updated_at",
                )?
                .execute(params![conversation, agent, body, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every draft of `agent`.
    pub fn drafts(&self, agent: &str) -> Result<Vec<(ConversationId, String)>> {
        let mut stmt = self.conn.prepare("SELECT conversation_id, body FROM drafts WHERE agent = ?1")?;
        let rows = stmt.query_map([agent], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
