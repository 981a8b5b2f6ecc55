//! One person across channels: a contact's phone numbers (verified by a platform, or
//! claimed by an import or an agent), the link ingest makes when a verified number is
//! already another contact's, and the merges suggested for weaker evidence.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, Store, StoreError};
use crate::model::phone::{self, LinkMode, Linking};
use crate::model::{ChannelKind, ContactId, InboundMessage, Millis};

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

/// `+79161234567 (verified by whatsapp)`, `+74951234567 (claimed)`: as the card, the
/// merge preview and the command line show a number.
impl std::fmt::Display for PhoneRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.verified_by {
            Some(channel) => write!(f, "{} (verified by {channel})", self.phone),
            None => write!(f, "{} (claimed)", self.phone),
        }
    }
}

impl Suggestion {
    /// The other contact of the pair, seen from `contact`.
    pub fn other(&self, contact: ContactId) -> ContactId {
        if self.a == contact { self.b } else { self.a }
    }
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
    /// The region numbers without a country code are read in (`[contacts]`).
    pub fn phone_region(&self) -> phone::Region {
        self.rules.linking.region
    }

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
    // Nothing is written for a number the contact has already, as it is (a re-import).
    let changed = conn
        .prepare_cached(
            "INSERT INTO contact_phones(contact_id, phone, verified_by, source, at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT(contact_id, phone) DO UPDATE SET verified_by = excluded.verified_by, source = excluded.source \
             WHERE contact_phones.verified_by IS NULL AND excluded.verified_by IS NOT NULL",
        )?
        .execute(params![contact, e164, verified_by.map(|c| c.as_str()), source, now])?;
    if changed == 0 {
        return Ok(());
    }
    let sql = if verified_by.is_some() {
        "UPDATE contacts SET phone = ?2 WHERE id = ?1 AND phone IS NOT ?2"
    } else {
        "UPDATE contacts SET phone = ?2 WHERE id = ?1 AND phone IS NULL"
    };
    conn.prepare_cached(sql)?.execute(params![contact, e164])?;
    Ok(())
}

/// The number the platform vouched for in this message, recorded (and, by the link
/// mode, linked): on a new identity, or when the contact does not have it verified yet,
/// so the message of a known customer costs one lookup. The contact it now belongs to.
pub(super) fn vouched_phone(
    tx: &Connection,
    m: &InboundMessage,
    contact: ContactId,
    new: bool,
    linking: &Linking,
    now: Millis,
) -> Result<ContactId> {
    let Some(shared) = &m.shared_phone else { return Ok(contact) };
    if linking.mode == LinkMode::Off {
        // Without links, the shared number is still the number the card shows, when it
        // shows none: WhatsApp gives it with every message, and it must not undo the
        // number an agent or an import chose.
        tx.prepare_cached("UPDATE contacts SET phone = ?2 WHERE id = ?1 AND phone IS NULL")?
            .execute(params![contact, shared])?;
        return Ok(contact);
    }
    // The platforms give `+` and the digits, which is E.164 already: libphonenumber
    // (slow, as regular expressions go) only reads what is written any other way.
    let Some(e164) =
        phone::from_platform_digits(shared).or_else(|| phone::normalize(shared, phone::Region::default()).ok())
    else {
        return Ok(contact);
    };
    if !new {
        let known = tx
            .prepare_cached(
                "SELECT 1 FROM contact_phones WHERE contact_id = ?1 AND phone = ?2 AND verified_by IS NOT NULL",
            )?
            .query_row(params![contact, e164], |_| Ok(()))
            .optional()?;
        if known.is_some() {
            return Ok(contact);
        }
    }
    verified_phone(tx, contact, m.chat.channel, &e164, linking, now)
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

/// More contacts than this sharing one value (a shop's landline, `info@…`, a common
/// name in a big city) is no evidence that any two of them are one person.
const CROWD: usize = 5;

/// Contacts that share a value, by the value; each member with what to say of it.
type Groups = HashMap<String, Vec<(ContactId, String)>>;

fn duplicates(conn: &Connection, only: Option<ContactId>) -> Result<Vec<Suggestion>> {
    // (a, b) with a < b → reasons, strongest kind first.
    let mut pairs: BTreeMap<(ContactId, ContactId), Vec<String>> = BTreeMap::new();
    let mut add_groups = |groups: Groups, reason: &dyn Fn(&str, &str, &str) -> String| {
        for (value, members) in groups.iter().filter(|(_, m)| (2..=CROWD).contains(&m.len())) {
            if only.is_some_and(|o| !members.iter().any(|(c, _)| *c == o)) {
                continue;
            }
            for (i, (a, how_a)) in members.iter().enumerate() {
                for (b, how_b) in &members[i + 1..] {
                    let (key, text) = if a.0 < b.0 {
                        ((*a, *b), reason(value, how_a, how_b))
                    } else {
                        ((*b, *a), reason(value, how_b, how_a))
                    };
                    let reasons = pairs.entry(key).or_default();
                    if !reasons.contains(&text) {
                        reasons.push(text);
                    }
                }
            }
        }
    };
    // A number both have, verified or claimed.
    let mut groups = Groups::new();
    let mut stmt = conn.prepare(
        "SELECT phone, contact_id, verified_by, source FROM contact_phones \
         WHERE phone IN (SELECT phone FROM contact_phones GROUP BY phone HAVING count(*) > 1) ORDER BY phone, contact_id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let how = match r.get::<_, Option<String>>(2)? {
            Some(channel) => format!("verified by {channel}"),
            None => format!("claimed by {}", r.get::<_, String>(3)?),
        };
        groups.entry(r.get(0)?).or_default().push((r.get(1)?, how));
    }
    add_groups(groups, &|phone, a, b| format!("the same phone number {phone} ({a}; {b})"));
    // The same e-mail, in any case; then the same name in the same city, folded (any case,
    // ё as е). Grouped here, so the work grows with the contacts, not their square.
    let (mut emails, mut places) = (Groups::new(), Groups::new());
    let mut stmt = conn.prepare(
        "SELECT id, display_name, json_extract(attributes, '$.email'), json_extract(attributes, '$.city'), \
           fold(display_name), fold(json_extract(attributes, '$.city')) FROM contacts \
         WHERE json_extract(attributes, '$.email') IS NOT NULL OR json_extract(attributes, '$.city') IS NOT NULL \
         ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: ContactId = r.get(0)?;
        let text = |i| {
            r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                rusqlite::types::Value::Text(t) => t.trim().to_string(),
                _ => String::new(),
            })
        };
        let (email, city, name, folded_city) = (text(2)?, text(3)?, text(4)?, text(5)?);
        if email.contains('@') {
            emails.entry(email.to_lowercase()).or_default().push((id, email));
        }
        if !city.is_empty() && !name.is_empty() {
            let shown = format!("{}, {city}", r.get::<_, String>(1)?);
            places.entry(format!("{name}\u{0}{folded_city}")).or_default().push((id, shown));
        }
    }
    add_groups(emails, &|email, _, _| format!("the same e-mail {email}"));
    add_groups(places, &|_, shown, _| format!("the same name and city ({shown})"));
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
