//! Each agent's own dictionary: the words they told the spell-check are right.

use rusqlite::params;

use super::{Result, Store};
use crate::model::Millis;

/// The longest word kept (longer ones are never checked anyway).
const LONGEST: usize = 360;

impl Store {
    /// Keeps `word` in `agent`'s dictionary (lower-cased: a word is right in any case).
    pub fn remember_word(&mut self, agent: &str, word: &str, now: Millis) -> Result<()> {
        let word = word.trim().to_lowercase();
        if word.is_empty() || word.len() > LONGEST {
            return Ok(());
        }
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO spell_words(agent, word, added_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![agent, word, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The words in `agent`'s dictionary.
    pub fn spell_words(&self, agent: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT word FROM spell_words WHERE agent = ?1 ORDER BY word")?;
        let words = stmt.query_map(params![agent], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(words)
    }
}
