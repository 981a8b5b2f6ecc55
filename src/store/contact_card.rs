//! The contact card: everything known about one contact (identities, tags, attributes,
//! stage, consent per channel and purpose with its latest evidence, recent conversations),
//! and the edits an agent makes on it. Consent an agent records needs a note: the ledger
//! is evidence, and "agent said so" is not.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, text_enum};
use crate::model::{ChannelKind, ContactId, ConversationId, Millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub channel: ChannelKind,
    pub external_id: String,
    pub username: Option<String>,
}

/// The latest consent event of one channel and purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentState {
    pub channel: ChannelKind,
    pub purpose: String,
    pub action: String,
    pub source: String,
    pub evidence: Option<String>,
    pub recorded_by: Option<String>,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationBrief {
    pub id: ConversationId,
    pub channel: ChannelKind,
    pub status: String,
    pub last_message_at: Millis,
    pub last_preview: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCard {
    pub id: ContactId,
    pub name: String,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub stage: String,
    pub source: Option<String>,
    pub identities: Vec<Identity>,
    pub tags: Vec<String>,
    /// Attributes as (name, value) in name order.
    pub attributes: Vec<(String, String)>,
    pub consent: Vec<ConsentState>,
    pub conversations: Vec<ConversationBrief>,
    /// Satisfaction surveys, newest first.
    pub csat: Vec<super::Score>,
    /// Phone numbers, verified first.
    pub phones: Vec<super::PhoneRow>,
}

/// The funnel stages offered in the card; the store accepts any word.
pub const STAGES: &[&str] = &["new", "lead", "qualified", "customer", "repeat", "churned"];

impl Store {
    /// The contact of a conversation, if it has one (a group has none).
    pub fn contact_of(&self, conversation: ConversationId) -> Result<Option<ContactId>> {
        Ok(self
            .conn
            .query_row("SELECT contact_id FROM conversations WHERE id = ?1", [conversation], |r| r.get(0))
            .optional()?
            .flatten())
    }

    /// The contact behind a channel identity.
    pub fn contact_by_identity(&self, channel: ChannelKind, external_id: &str) -> Result<Option<ContactId>> {
        Ok(self
            .conn
            .query_row(
                "SELECT contact_id FROM identities WHERE channel = ?1 AND external_id = ?2",
                params![channel.as_str(), external_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn contact_card(&self, id: ContactId) -> Result<ContactCard> {
        card(&self.conn, id)
    }

    /// Adds a tag, or removes it when the contact has it. True when it is now on.
    pub fn toggle_tag(&mut self, id: ContactId, tag: &str) -> Result<bool> {
        let tag = tag.trim();
        // Spaces are allowed, as in imports; a filter quotes such a tag: tag:"big spender".
        if tag.is_empty() {
            return Err(StoreError::NotFound("a tag needs a name".into()));
        }
        let tx = self.write()?;
        let removed = tx.execute(
            "DELETE FROM contact_tags WHERE contact_id = ?1 AND tag_id = (SELECT id FROM tags WHERE name = ?2)",
            params![id, tag],
        )?;
        if removed == 0 {
            insert_tag(&tx, id, tag)?;
        }
        tx.commit()?;
        Ok(removed == 0)
    }

    /// Adds a tag (a contact that has it keeps it).
    pub fn add_tag(&mut self, id: ContactId, tag: &str) -> Result<()> {
        let tag = tag.trim();
        if tag.is_empty() {
            return Err(StoreError::NotFound("a tag needs a name".into()));
        }
        let tx = self.write()?;
        insert_tag(&tx, id, tag)?;
        tx.commit()?;
        Ok(())
    }

    pub fn set_stage(&mut self, id: ContactId, stage: &str) -> Result<()> {
        let stage = stage.trim();
        if stage.is_empty() {
            return Err(StoreError::NotFound("a stage needs a name".into()));
        }
        self.conn.execute("UPDATE contacts SET stage = ?2 WHERE id = ?1", params![id, stage])?;
        Ok(())
    }

    /// Sets an attribute, or removes it when `value` is empty.
    pub fn set_attribute(&mut self, id: ContactId, name: &str, value: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() || name.contains(['"', '\\']) {
            return Err(StoreError::NotFound(format!("`{name}` cannot be an attribute name")));
        }
        let path = format!("$.\"{name}\"");
        if value.trim().is_empty() {
            self.conn.execute(
                "UPDATE contacts SET attributes = json_remove(attributes, ?2) WHERE id = ?1",
                params![id, path],
            )?;
        } else {
            self.conn.execute(
                "UPDATE contacts SET attributes = json_set(attributes, ?2, ?3) WHERE id = ?1",
                params![id, path, value.trim()],
            )?;
        }
        Ok(())
    }

    /// Sets the contact's time zone (an IANA name or an offset), for quiet hours.
    pub fn set_time_zone(&mut self, id: ContactId, zone: &str) -> Result<()> {
        let zone = zone.trim();
        if !zone.is_empty() && crate::model::Zone::parse(zone).is_none() {
            return Err(StoreError::NotFound(format!("`{zone}` is not a time zone such as Europe/Moscow or +03:00")));
        }
        self.conn.execute("UPDATE contacts SET time_zone = nullif(?2, '') WHERE id = ?1", params![id, zone])?;
        Ok(())
    }

    /// Consent an agent records by hand: the note says how the customer gave or withdrew
    /// it, and is required.
    // Each argument is one column of the ledger's row; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub fn record_agent_consent(
        &mut self,
        id: ContactId,
        channel: ChannelKind,
        purpose: &str,
        opt_in: bool,
        note: &str,
        agent: &str,
        now: Millis,
    ) -> Result<()> {
        if note.trim().is_empty() {
            return Err(StoreError::NotFound(
                "consent recorded by an agent needs a note saying how it was given".into(),
            ));
        }
        if !matches!(purpose, "marketing" | "service") {
            return Err(StoreError::NotFound(format!("`{purpose}` is not a purpose (marketing or service)")));
        }
        self.conn.execute(
            "INSERT INTO consent_events(contact_id, channel, purpose, action, source, evidence, recorded_by, at) \
             VALUES (?1, ?2, ?3, ?4, 'agent', ?5, ?6, ?7)",
            params![id, channel.as_str(), purpose, if opt_in { "opt_in" } else { "opt_out" }, note.trim(), agent, now],
        )?;
        Ok(())
    }
}

/// Everything known about one contact, read on any connection (a merge's preview reads
/// it inside its transaction).
pub(super) fn card(conn: &rusqlite::Connection, id: ContactId) -> Result<ContactCard> {
    let mut card = conn
        .query_row(
            "SELECT display_name, phone, locale, time_zone, stage, source, attributes FROM contacts WHERE id = ?1",
            [id],
            |r| {
                let attributes: String = r.get(6)?;
                let map: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&attributes).unwrap_or_default();
                Ok(ContactCard {
                    id,
                    name: r.get(0)?,
                    phone: r.get(1)?,
                    locale: r.get(2)?,
                    time_zone: r.get(3)?,
                    stage: r.get(4)?,
                    source: r.get(5)?,
                    identities: Vec::new(),
                    tags: Vec::new(),
                    attributes: map
                        .into_iter()
                        .map(|(k, v)| (k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
                        .collect(),
                    consent: Vec::new(),
                    conversations: Vec::new(),
                    csat: Vec::new(),
                    phones: Vec::new(),
                })
            },
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("contact {id} does not exist")))?;
    card.identities = conn
        .prepare_cached("SELECT channel, external_id, username FROM identities WHERE contact_id = ?1 ORDER BY id")?
        .query_map([id], |r| Ok(Identity { channel: text_enum(r, 0)?, external_id: r.get(1)?, username: r.get(2)? }))?
        .collect::<rusqlite::Result<_>>()?;
    card.tags = conn
            .prepare_cached(
                "SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ?1 ORDER BY t.name",
            )?
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
    card.consent = conn
            .prepare_cached(
                "SELECT channel, purpose, action, source, evidence, recorded_by, at FROM consent_events e \
                 WHERE contact_id = ?1 AND id = (SELECT e2.id FROM consent_events e2 WHERE e2.contact_id = e.contact_id \
                   AND e2.channel = e.channel AND e2.purpose = e.purpose ORDER BY e2.at DESC, e2.id DESC LIMIT 1) \
                 ORDER BY channel, purpose",
            )?
            .query_map([id], |r| {
                Ok(ConsentState {
                    channel: text_enum(r, 0)?,
                    purpose: r.get(1)?,
                    action: r.get(2)?,
                    source: r.get(3)?,
                    evidence: r.get(4)?,
                    recorded_by: r.get(5)?,
                    at: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    card.conversations = conn
        .prepare_cached(
            "SELECT id, channel, status, last_message_at, last_preview FROM conversations WHERE contact_id = ?1 \
                 ORDER BY last_message_at DESC LIMIT 5",
        )?
        .query_map([id], |r| {
            Ok(ConversationBrief {
                id: r.get(0)?,
                channel: text_enum(r, 1)?,
                status: r.get(2)?,
                last_message_at: r.get(3)?,
                last_preview: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    card.csat = super::csat::scores(conn, id)?;
    card.phones = super::people::phones(conn, id)?;
    Ok(card)
}

/// Gives the contact the tag, making the tag if it is new.
pub(super) fn insert_tag(tx: &rusqlite::Connection, id: ContactId, tag: &str) -> rusqlite::Result<()> {
    tx.execute("INSERT OR IGNORE INTO tags(name) VALUES (?1)", [tag])?;
    tx.execute(
        "INSERT OR IGNORE INTO contact_tags(contact_id, tag_id) SELECT ?1, id FROM tags WHERE name = ?2",
        params![id, tag],
    )?;
    Ok(())
}
