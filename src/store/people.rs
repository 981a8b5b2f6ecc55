//! One person across channels: a contact's phone numbers (verified by a platform, or
//! claimed by an import or an agent), the link ingest makes when a verified number is
//! already another contact's, and the merges suggested for weaker evidence.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, Store, StoreError};
use crate::model::phone::{self, LinkMode, Linking};
use crate::model::{ChannelKind, ContactId, Millis};

/// Two contacts that may be one person, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub a: ContactId,
    pub a_name: String,
    pub b: ContactId,
    pub b_name: String,
    /// Each piece of evidence, strongest first: "the same phone number +7… (claimed by …)".
    pub reasons: Vec<String>,
}

/// One entry of a contact's link history: a link at ingest, a merge, a split, or a pair
/// said to be two people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEvent {
    /// `link`, `merge`, `split` or `distinct`.
    pub kind: String,
    pub contact: ContactId,
    pub other: Option<ContactId>,
    /// The identity split off (`channel:id`).
    pub identity: Option<String>,
    pub reason: String,
    pub recorded_by: String,
    pub at: Millis,
}

/// A phone number of a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneRow {
    pub phone: String,
    /// The platform that vouched for it; none when claimed.
    pub verified_by: Option<ChannelKind>,
    pub source: String,
}

impl Store {
    /// A contact's phone numbers, verified first.
    pub fn phones(&self, contact: ContactId) -> Result<Vec<PhoneRow>> {
        phones(&self.conn, contact)
    }

    /// An agent says this is the contact's number: claimed, so it links nothing by itself
    /// but may suggest a merge.
    pub fn claim_phone(
        &mut self,
        contact: ContactId,
        text: &str,
        region: phone::Region,
        agent: &str,
        now: Millis,
    ) -> Result<String> {
        let e164 = phone::normalize(text, region).map_err(StoreError::NotFound)?;
        let tx = self.write()?;
        record_phone(&tx, contact, &e164, None, &format!("agent {agent}"), now)?;
        tx.commit()?;
        Ok(e164)
    }

    /// Says two contacts are two people: they are no longer suggested as one.
    pub fn mark_distinct(&mut self, a: ContactId, b: ContactId, agent: &str, now: Millis) -> Result<()> {
        self.conn.execute(
            "INSERT INTO contact_links(kind, contact_id, other_id, reason, recorded_by, at) \
             VALUES ('distinct', ?1, ?2, 'an agent said these are two people', ?3, ?4)",
            params![a, b, agent, now],
        )?;
        Ok(())
    }

    /// Every pair of contacts that may be one person, with the evidence: a phone number
    /// both have (verified or claimed), the same e-mail, the same name in the same city.
    /// Pairs split apart or marked as two people are left out.
    pub fn duplicates(&self) -> Result<Vec<Suggestion>> {
        duplicates(&self.conn, None)
    }

    /// What joined or parted this contact, newest first.
    pub fn links(&self, contact: ContactId) -> Result<Vec<LinkEvent>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, contact_id, other_id, identity, reason, recorded_by, at FROM contact_links \
             WHERE contact_id = ?1 OR other_id = ?1 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([contact], |r| {
            Ok(LinkEvent {
                kind: r.get(0)?,
                contact: r.get(1)?,
                other: r.get(2)?,
                identity: r.get(3)?,
                reason: r.get(4)?,
                recorded_by: r.get(5)?,
                at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The suggestions that involve one contact.
    pub fn duplicates_of(&self, contact: ContactId) -> Result<Vec<Suggestion>> {
        duplicates(&self.conn, Some(contact))
    }
}

pub(super) fn phones(conn: &Connection, contact: ContactId) -> Result<Vec<PhoneRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT phone, verified_by, source FROM contact_phones WHERE contact_id = ?1 \
         ORDER BY verified_by IS NULL, at, phone",
    )?;
    let rows = stmt.query_map([contact], |r| {
        let verified_by: Option<String> = r.get(1)?;
        Ok(PhoneRow { phone: r.get(0)?, verified_by: verified_by.and_then(|v| v.parse().ok()), source: r.get(2)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Gives the contact a number (E.164); a verified one also becomes the number the card
/// shows first, and a claim never undoes a platform's word.
pub(super) fn record_phone(
    conn: &Connection,
    contact: ContactId,
    e164: &str,
    verified_by: Option<ChannelKind>,
    source: &str,
    now: Millis,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO contact_phones(contact_id, phone, verified_by, source, at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT(contact_id, phone) DO UPDATE SET \
           verified_by = coalesce(contact_phones.verified_by, excluded.verified_by), \
           source = CASE WHEN contact_phones.verified_by IS NULL AND excluded.verified_by IS NOT NULL \
             THEN excluded.source ELSE contact_phones.source END",
    )?
    .execute(params![contact, e164, verified_by.map(|c| c.as_str()), source, now])?;
    let sql = if verified_by.is_some() {
        "UPDATE contacts SET phone = ?2 WHERE id = ?1 AND phone IS NOT ?2"
    } else {
        "UPDATE contacts SET phone = ?2 WHERE id = ?1 AND phone IS NULL"
    };
    conn.prepare_cached(sql)?.execute(params![contact, e164])?;
    Ok(())
}

/// A platform vouched that `e164` is the number of `contact`'s identity on `channel`.
/// Recorded; and in `auto` mode, when exactly one other contact has the same verified
/// number and nobody said they are two people, this contact joins that one (the one that
/// had the number first) and the link is recorded. The contact the identity now
/// belongs to.
pub(super) fn verified_phone(
    conn: &Connection,
    contact: ContactId,
    channel: ChannelKind,
    e164: &str,
    linking: &Linking,
    now: Millis,
) -> Result<ContactId> {
    if linking.mode == LinkMode::Off {
        return Ok(contact);
    }
    record_phone(conn, contact, e164, Some(channel), channel.as_str(), now)?;
    if linking.mode != LinkMode::Auto {
        return Ok(contact);
    }
    let others: Vec<(ContactId, String)> = conn
        .prepare_cached(
            "SELECT DISTINCT contact_id, verified_by FROM contact_phones \
             WHERE phone = ?1 AND contact_id <> ?2 AND verified_by IS NOT NULL LIMIT 2",
        )?
        .query_map(params![e164, contact], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let [(other, other_channel)] = others.as_slice() else { return Ok(contact) };
    if kept_apart(conn, contact, *other)? {
        return Ok(contact);
    }
    let reason = format!("the same phone number {e164}, verified by {other_channel} and by {channel}");
    super::merge::merge_into(conn, *other, contact, super::merge::Kind::Link, &reason, "ingest", now)?;
    Ok(*other)
}

/// Whether an agent split these two apart or said they are two people.
fn kept_apart(conn: &Connection, a: ContactId, b: ContactId) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM contact_links WHERE kind IN ('split', 'distinct') \
             AND ((contact_id = ?1 AND other_id = ?2) OR (contact_id = ?2 AND other_id = ?1)) LIMIT 1",
        )?
        .query_row(params![a, b], |_| Ok(()))
        .optional()?
        .is_some())
}

fn duplicates(conn: &Connection, only: Option<ContactId>) -> Result<Vec<Suggestion>> {
    // (a, b) with a < b → reasons, in the order found (phones first).
    let mut pairs: BTreeMap<(ContactId, ContactId), Vec<String>> = BTreeMap::new();
    let mut add = |a: ContactId, b: ContactId, reason: String| {
        let key = if a.0 < b.0 { (a, b) } else { (b, a) };
        let reasons = pairs.entry(key).or_default();
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    };
    let only = only.map(|c| c.0);
    let mut stmt = conn.prepare(
        "SELECT a.contact_id, b.contact_id, a.phone, a.verified_by, a.source, b.verified_by, b.source \
         FROM contact_phones a JOIN contact_phones b ON b.phone = a.phone AND b.contact_id > a.contact_id \
         WHERE ?1 IS NULL OR ?1 IN (a.contact_id, b.contact_id)",
    )?;
    let mut rows = stmt.query([only])?;
    while let Some(r) = rows.next()? {
        let how = |verified: Option<String>, source: String| match verified {
            Some(channel) => format!("verified by {channel}"),
            None => format!("claimed by {source}"),
        };
        let reason = format!(
            "the same phone number {} ({}; {})",
            r.get::<_, String>(2)?,
            how(r.get(3)?, r.get(4)?),
            how(r.get(5)?, r.get(6)?)
        );
        add(r.get(0)?, r.get(1)?, reason);
    }
    let mut stmt = conn.prepare(
        "SELECT a.id, b.id, json_extract(a.attributes, '$.email') FROM contacts a JOIN contacts b \
           ON lower(json_extract(b.attributes, '$.email')) = lower(json_extract(a.attributes, '$.email')) AND b.id > a.id \
         WHERE json_extract(a.attributes, '$.email') IS NOT NULL AND trim(json_extract(a.attributes, '$.email')) <> '' \
           AND (?1 IS NULL OR ?1 IN (a.id, b.id))",
    )?;
    let mut rows = stmt.query([only])?;
    while let Some(r) = rows.next()? {
        add(r.get(0)?, r.get(1)?, format!("the same e-mail {}", r.get::<_, String>(2)?));
    }
    // The same name in the same city, by the folded name and city (any case, ё as е),
    // grouped here so the work grows with the contacts that have a city, not its square.
    type Placed = Vec<(ContactId, String, String)>;
    let mut places: std::collections::HashMap<(String, String), Placed> = Default::default();
    let mut stmt = conn.prepare(
        "SELECT id, display_name, json_extract(attributes, '$.city'), fold(display_name), \
           fold(json_extract(attributes, '$.city')) FROM contacts \
         WHERE json_extract(attributes, '$.city') IS NOT NULL AND trim(json_extract(attributes, '$.city')) <> ''",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let (Ok(city), Ok(n), Ok(c)) = (r.get::<_, String>(2), r.get::<_, String>(3), r.get::<_, String>(4)) else {
            continue;
        };
        places.entry((n, c)).or_default().push((r.get(0)?, r.get(1)?, city));
    }
    for same in places.values().filter(|v| v.len() > 1) {
        for (i, (a, name, city)) in same.iter().enumerate() {
            for (b, _, _) in &same[i + 1..] {
                if only.is_none_or(|o| o == a.0 || o == b.0) {
                    add(*a, *b, format!("the same name and city ({name}, {city})"));
                }
            }
        }
    }
    let mut name = conn.prepare_cached("SELECT display_name FROM contacts WHERE id = ?1")?;
    let mut out = Vec::new();
    for ((a, b), reasons) in pairs {
        if kept_apart(conn, a, b)? {
            continue;
        }
        let a_name: String = name.query_row([a], |r| r.get(0))?;
        let b_name: String = name.query_row([b], |r| r.get(0))?;
        out.push(Suggestion { a, a_name, b, b_name, reasons });
    }
    // Strongest evidence first: more reasons, then a shared number, then the oldest pair.
    out.sort_by_key(|s| {
        (std::cmp::Reverse(s.reasons.len()), !s.reasons[0].starts_with("the same phone"), s.a.0, s.b.0)
    });
    Ok(out)
}

/// Migration 15: the numbers the store already had. A WhatsApp id is its owner's
/// number, verified; a contact's phone is claimed (it may have come from anywhere). A
/// number that does not read as one (no country code: the region is the config's, which
/// a migration cannot know) waits for the contact's next import or message.
pub(super) fn backfill(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let mut found: Vec<(ContactId, String, Option<&'static str>, Millis)> = Vec::new();
    let mut stmt =
        tx.prepare("SELECT contact_id, external_id, created_at FROM identities WHERE channel = 'whatsapp'")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(e164) = phone::from_platform_digits(&r.get::<_, String>(1)?) {
            found.push((r.get(0)?, e164, Some("whatsapp"), r.get(2)?));
        }
    }
    let mut stmt = tx.prepare("SELECT id, phone, created_at FROM contacts WHERE phone IS NOT NULL")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Ok(e164) = phone::normalize(&r.get::<_, String>(1)?, phone::Region::default()) {
            found.push((r.get(0)?, e164, None, r.get(2)?));
        }
    }
    let mut insert = tx.prepare(
        "INSERT INTO contact_phones(contact_id, phone, verified_by, source, at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT(contact_id, phone) DO UPDATE SET verified_by = coalesce(verified_by, excluded.verified_by)",
    )?;
    for (contact, e164, verified_by, at) in found {
        insert.execute(params![contact, e164, verified_by, verified_by.unwrap_or("store"), at])?;
    }
    Ok(())
}
