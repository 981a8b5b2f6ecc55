//! Segments: saved filters, and the members a filter selects — counted and sampled for
//! the panel as the marketer types, and gathered with every fact planning needs.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::{Result, Store, StoreError, text_enum};
use crate::model::{ChannelKind, ContactId, ConversationId, Millis};

/// A condition over contacts `c`: SQL with its values bound, never pasted in. What a
/// segment filter compiles to (`campaign::Filter::condition`).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub sql: String,
    pub params: Vec<rusqlite::types::Value>,
}

/// One way to reach a contact, with what the store knows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub channel: ChannelKind,
    pub chat_id: String,
    pub conversation: Option<ConversationId>,
    pub blocked: bool,
    pub last_inbound_at: Option<Millis>,
    /// The latest marketing consent action on this channel: `opt_in`, `opt_out` or none.
    pub marketing: Option<String>,
    /// Where the platform's permission is needed to write (VK): the latest service
    /// consent action (`opt_in` when they allowed messages), or none.
    pub permission: Option<String>,
}

/// A segment member as the store sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub contact: ContactId,
    pub name: String,
    pub phone: Option<String>,
    pub stage: String,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub time_zone: Option<String>,
    pub reaches: Vec<Reach>,
    /// Campaign messages they got within the frequency period.
    pub recent_campaign_messages: u32,
}

/// A saved segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub name: String,
    pub filter: String,
    pub updated_at: Millis,
}

/// One line of a segment's sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRow {
    pub contact: ContactId,
    pub name: String,
    pub stage: String,
    /// Channels the contact has, as `telegram,viber`.
    pub channels: String,
}

impl Store {
    /// Saves (or replaces) a named segment. Its filter is checked by the caller
    /// (`campaign::Filter::parse`, and a count of its members): the store keeps text.
    pub fn save_segment(&mut self, name: &str, filter: &str, now: Millis) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::NotFound("a segment needs a name".into()));
        }
        self.conn.execute(
            "INSERT INTO segments(name, filter, created_at, updated_at) VALUES (?1, ?2, ?3, ?3) \
             ON CONFLICT(name) DO UPDATE SET filter = excluded.filter, updated_at = excluded.updated_at",
            params![name, filter.trim(), now],
        )?;
        Ok(())
    }

    pub fn segments(&self) -> Result<Vec<Segment>> {
        let mut stmt = self.conn.prepare("SELECT name, filter, updated_at FROM segments ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok(Segment { name: r.get(0)?, filter: r.get(1)?, updated_at: r.get(2)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn segment(&self, name: &str) -> Result<Segment> {
        self.conn
            .query_row("SELECT name, filter, updated_at FROM segments WHERE name = ?1", [name], |r| {
                Ok(Segment { name: r.get(0)?, filter: r.get(1)?, updated_at: r.get(2)? })
            })
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no segment named `{name}`")))
    }

    /// How many contacts the filter selects.
    pub fn count_members(&self, condition: &Condition) -> Result<usize> {
        let Condition { sql, params } = condition;
        let n: i64 = self.conn.query_row(
            &format!("SELECT count(*) FROM contacts c WHERE {sql}"),
            params_from_iter(params.iter()),
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// The first `limit` members by name.
    pub fn sample_members(&self, condition: &Condition, limit: usize) -> Result<Vec<SampleRow>> {
        let Condition { sql, params } = condition;
        let mut params = params.clone();
        params.push(rusqlite::types::Value::Integer(limit as i64));
        let mut stmt = self.conn.prepare(&format!(
            "SELECT c.id, c.display_name, c.stage, \
               (SELECT group_concat(DISTINCT i.channel) FROM identities i WHERE i.contact_id = c.id) \
             FROM contacts c WHERE {sql} ORDER BY c.display_name COLLATE NOCASE, c.id LIMIT ?{}",
            params.len()
        ))?;
        let rows = stmt.query_map(params_from_iter(params.iter()), |r| {
            Ok(SampleRow {
                contact: r.get(0)?,
                name: r.get(1)?,
                stage: r.get(2)?,
                channels: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every member with what planning needs; campaign messages are counted from
    /// `frequency_since`.
    pub fn members(&self, condition: &Condition, frequency_since: Millis) -> Result<Vec<Member>> {
        members(&self.conn, condition, frequency_since)
    }

    /// The members one at a time, in contact order, none of them kept: a preview of a
    /// large segment holds what it decided, not every member it read.
    pub fn for_each_member(
        &self,
        condition: &Condition,
        frequency_since: Millis,
        each: impl FnMut(Member),
    ) -> Result<()> {
        for_each_member(&self.conn, condition, frequency_since, each)
    }
}

/// The contacts that meet `condition`, read on `conn` (a launch reads inside its own
/// transaction, so what it plans is what it writes).
pub(super) fn members(conn: &Connection, condition: &Condition, frequency_since: Millis) -> Result<Vec<Member>> {
    let mut out = Vec::new();
    for_each_member(conn, condition, frequency_since, |m| out.push(m))?;
    Ok(out)
}

/// Each contact that meets `condition`, with all its reaches, as soon as its last row
/// is read.
fn for_each_member(
    conn: &Connection,
    condition: &Condition,
    frequency_since: Millis,
    mut each: impl FnMut(Member),
) -> Result<()> {
    let recent = recent_campaign_messages(conn, frequency_since)?;
    let Condition { sql, params } = condition;
    // The platform's permission is read only where writing needs one (VK's allow/deny).
    let needs_permission: Vec<String> = ChannelKind::ALL
        .iter()
        .filter(|k| k.rules().access == crate::model::Access::Permission)
        .map(|k| format!("'{}'", k.as_str()))
        .collect();
    let needs_permission = if needs_permission.is_empty() { "NULL".to_string() } else { needs_permission.join(", ") };
    let mut stmt = conn.prepare(&format!(
        "SELECT c.id, c.display_name, c.phone, c.stage, c.attributes, c.time_zone, \
           i.channel, i.external_id, cv.id, cv.blocked_at IS NOT NULL, cv.last_inbound_at, \
           (SELECT e.action FROM consent_events e WHERE e.contact_id = c.id AND e.channel = i.channel \
              AND e.purpose = 'marketing' ORDER BY e.at DESC, e.id DESC LIMIT 1), \
           CASE WHEN i.channel IN ({needs_permission}) THEN \
             (SELECT e.action FROM consent_events e WHERE e.contact_id = c.id AND e.channel = i.channel \
                AND e.purpose = 'service' ORDER BY e.at DESC, e.id DESC LIMIT 1) END \
         FROM contacts c \
         LEFT JOIN identities i ON i.contact_id = c.id \
         LEFT JOIN conversations cv ON cv.channel = i.channel AND cv.external_chat_id = i.external_id \
         WHERE {sql} ORDER BY c.id"
    ))?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut current: Option<Member> = None;
    while let Some(r) = rows.next()? {
        let contact: ContactId = r.get(0)?;
        if current.as_ref().is_none_or(|m| m.contact != contact) {
            let attributes: String = r.get(4)?;
            let next = Member {
                contact,
                name: r.get(1)?,
                phone: r.get(2)?,
                stage: r.get(3)?,
                attributes: serde_json::from_str(&attributes).unwrap_or_default(),
                time_zone: r.get(5)?,
                reaches: Vec::new(),
                recent_campaign_messages: recent.get(&contact).copied().unwrap_or(0),
            };
            if let Some(done) = current.replace(next) {
                each(done);
            }
        }
        if r.get::<_, Option<String>>(6)?.is_some() {
            let reach = Reach {
                channel: text_enum(r, 6)?,
                chat_id: r.get(7)?,
                conversation: r.get(8)?,
                blocked: r.get::<_, Option<bool>>(9)?.unwrap_or(false),
                last_inbound_at: r.get(10)?,
                marketing: r.get(11)?,
                permission: r.get(12)?,
            };
            if let Some(m) = current.as_mut() {
                m.reaches.push(reach);
            }
        }
    }
    if let Some(last) = current {
        each(last);
    }
    Ok(())
}

/// Campaign messages each contact got (or has queued) since `since`.
fn recent_campaign_messages(conn: &Connection, since: Millis) -> Result<HashMap<ContactId, u32>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.contact_id, count(*) FROM campaign_recipients r JOIN messages m ON m.id = r.message_id \
         WHERE m.sent_at >= ?1 AND m.status <> 'failed' GROUP BY r.contact_id",
    )?;
    let rows = stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
