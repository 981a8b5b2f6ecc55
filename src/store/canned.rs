//! Canned replies: the team's library of answers, each with a name, an optional
//! `/shortcut`, a body with variables (`{{first_name|друг}}`, `{{agent}}`, `{{attr.X}}`:
//! the campaign templates' set) and an optional language. A body with an unknown
//! variable is refused when it is saved, not when an agent inserts it.
//!
//! A canned reply with actions (`resolve`, `tag shipped`, `snooze 2h`…) is a macro: the
//! reply goes out and the actions follow, in one step. Either may have a key that runs
//! it in the console.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Result, Store};
use crate::campaign::Template;
use crate::model::{ConversationId, Millis};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Canned {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortcut: Option<String>,
    /// The reply; a macro's may be empty (it only acts).
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// What a macro does after its reply, in order (see `MacroAction`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// The key that runs it in the console (`alt-1`, `f9`): a preview, then Enter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl Canned {
    /// Why it cannot be saved, if it cannot: an empty name or body, a shortcut that is
    /// not one word, a body whose variables are not known.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.name.trim().is_empty() || self.name.chars().any(char::is_control) {
            return Err("a canned reply needs a name (one line)".into());
        }
        if self.body.trim().is_empty() && self.actions.is_empty() {
            return Err(format!("`{}`: the body is empty", self.name));
        }
        for action in &self.actions {
            crate::model::MacroAction::parse(action).map_err(|e| format!("`{}`: {e}", self.name))?;
        }
        if let Some(key) = &self.key {
            let parsed = crate::keymap::Key::parse(key).map_err(|e| format!("`{}`: the key: {e}", self.name))?;
            if let Some(command) = crate::keymap::Keymap::default().taken(&parsed) {
                return Err(format!("`{}`: {key} is the console's key for {}", self.name, command.name()));
            }
            if parsed.is_plain() {
                return Err(format!(
                    "`{}`: {key} is typed into the composer; a macro's key has Alt, Ctrl or is a function key",
                    self.name
                ));
            }
        }
        if let Some(s) = &self.shortcut
            && (s.is_empty() || !s.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-')))
        {
            return Err(format!("`{}`: the shortcut `{s}` must be one word (letters, digits, _ or -)", self.name));
        }
        Template::parse(&self.body).map_err(|e| format!("`{}`: {e}", self.name))?;
        Ok(())
    }
}

/// The file `switchboard canned import` reads and `export` writes: `[[canned]]` tables.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedFile {
    #[serde(default)]
    pub canned: Vec<Canned>,
}

/// Saves one reply on `conn` (the store's connection, or an import's transaction):
/// checked, its shortcut nobody else's, replacing the reply of the same name.
fn save(conn: &rusqlite::Connection, c: &Canned, now: Millis) -> Result<std::result::Result<(), String>> {
    if let Err(e) = c.check() {
        return Ok(Err(e));
    }
    let key_taken: Option<String> = conn
        .query_row("SELECT name FROM canned WHERE key = ?1 AND name <> ?2", params![c.key, c.name], |r| r.get(0))
        .optional()?;
    if let Some(other) = key_taken {
        return Ok(Err(format!("the key {} runs `{other}` already", c.key.as_deref().unwrap_or_default())));
    }
    let taken: Option<String> = conn
        .query_row("SELECT name FROM canned WHERE shortcut = ?1 AND name <> ?2", params![c.shortcut, c.name], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(other) = taken {
        let shortcut = c.shortcut.as_deref().unwrap_or_default();
        return Ok(Err(format!("the shortcut /{shortcut} is `{other}`'s already")));
    }
    conn.execute(
        "INSERT INTO canned(name, shortcut, body, language, actions, key, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT(name) DO UPDATE SET shortcut = excluded.shortcut, body = excluded.body, \
           language = excluded.language, actions = excluded.actions, key = excluded.key, \
           updated_at = excluded.updated_at",
        params![c.name, c.shortcut, c.body, c.language, c.actions.join("\n"), c.key, now],
    )?;
    Ok(Ok(()))
}

impl Store {
    /// Adds a canned reply, or replaces the one with its name.
    pub fn save_canned(&self, c: &Canned, now: Millis) -> Result<std::result::Result<(), String>> {
        save(&self.conn, c, now)
    }

    /// Removes a canned reply by name; whether there was one.
    pub fn remove_canned(&self, name: &str) -> Result<bool> {
        Ok(self.conn.execute("DELETE FROM canned WHERE name = ?1", [name])? > 0)
    }

    /// Every canned reply, by name.
    pub fn canned(&self) -> Result<Vec<Canned>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name, shortcut, body, language, actions, key FROM canned ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            let actions: String = r.get(4)?;
            Ok(Canned {
                name: r.get(0)?,
                shortcut: r.get(1)?,
                body: r.get(2)?,
                language: r.get(3)?,
                actions: actions.lines().map(str::to_string).collect(),
                key: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Saves every reply of a file in one transaction: all of them, or (with the
    /// reasons) none.
    pub fn import_canned(&mut self, file: &CannedFile, now: Millis) -> Result<std::result::Result<usize, String>> {
        let problems: Vec<String> = file.canned.iter().filter_map(|c| c.check().err()).collect();
        if !problems.is_empty() {
            return Ok(Err(problems.join("; ")));
        }
        let tx = self.write()?;
        for c in &file.canned {
            if let Err(why) = save(&tx, c, now)? {
                // Dropping the transaction rolls back what this import wrote so far.
                return Ok(Err(format!("`{}`: {why}", c.name)));
            }
        }
        tx.commit()?;
        Ok(Ok(file.canned.len()))
    }

    /// A canned reply's text for the customer of `conversation`, signed by `agent`: the
    /// one named, or the one with this shortcut. `Ok(Err(why))` when there is none, or a
    /// variable has no value for this customer and no default.
    pub fn render_canned(
        &self,
        which: &str,
        conversation: ConversationId,
        agent: &str,
    ) -> Result<std::result::Result<String, String>> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM canned WHERE shortcut = ?1 OR name = ?1 ORDER BY shortcut = ?1 DESC",
                [which],
                |r| r.get(0),
            )
            .optional()?;
        let Some(body) = body else { return Ok(Err(format!("no canned reply /{which}"))) };
        let contact: Option<(String, Option<String>, String, String)> = self
            .conn
            .query_row(
                "SELECT coalesce(k.display_name, c.title), k.phone, coalesce(k.stage, ''), coalesce(k.attributes, '{}') \
                 FROM conversations c LEFT JOIN contacts k ON k.id = c.contact_id WHERE c.id = ?1",
                [conversation],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((name, phone, stage, attributes)) = contact else {
            return Ok(Err("no such conversation".into()));
        };
        let attributes: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&attributes).unwrap_or_default();
        let template = match Template::parse(&body) {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        let fields = crate::campaign::template::Fields {
            name: &name,
            phone: phone.as_deref(),
            stage: &stage,
            attributes: Some(&attributes),
            agent: Some(agent),
        };
        Ok(template
            .render(&fields)
            .map_err(|var| format!("{{{{{var}}}}} has no value for this customer and no default")))
    }
}
