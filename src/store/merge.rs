//! Merging two contacts into one person, and splitting a wrong merge apart again.
//!
//! A merge moves everything of the other contact (identities, conversations, consent
//! events, stage history, surveys, campaign rows, tags, phone numbers) to the one that
//! stays, fills the gaps of the one that stays from the other, and deletes the other. It
//! is recorded in `contact_links` with the other contact as it was and every row moved,
//! so a split can give back exactly what came. The consent ledger is never rewritten:
//! its events only change hands.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use super::{Result, Store, StoreError, contact_card};
use crate::model::{ChannelKind, ContactId, Millis};

/// Why two contacts became one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Ingest: the same verified phone number.
    Link,
    /// An agent or a command.
    Merge,
}

/// What a merge would give, before it is made: both contacts as they are, the contact as
/// it would be, and every conflict with the side that wins it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergePreview {
    pub stays: contact_card::ContactCard,
    pub joins: contact_card::ContactCard,
    pub result: contact_card::ContactCard,
    /// (attribute, value kept, value dropped): the contact that stays wins.
    pub conflicts: Vec<(String, String, String)>,
    /// The stage the person ends in, and why.
    pub stage: String,
    pub conversations: usize,
    pub consent_events: usize,
}

/// What a split did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The contact the identity now belongs to.
    pub contact: ContactId,
    /// True when it is the contact that was merged in, given back as it was.
    pub restored: bool,
    pub conversations: usize,
    pub consent_events: usize,
}

impl Store {
    /// What `merge(stays, joins)` would do, worked out in a transaction that is rolled
    /// back, so the preview is the merge itself.
    pub fn preview_merge(&mut self, stays: ContactId, joins: ContactId) -> Result<MergePreview> {
        let tx = self.write()?;
        check_pair(&tx, stays, joins)?;
        let before = (contact_card::card(&tx, stays)?, contact_card::card(&tx, joins)?);
        let moved = merge_into(&tx, stays, joins, Kind::Merge, "preview", "preview", 0)?;
        let result = contact_card::card(&tx, stays)?;
        drop(tx);
        let (stays_card, joins_card) = before;
        let conflicts = joins_card
            .attributes
            .iter()
            .filter_map(|(name, theirs)| {
                let ours = stays_card.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v)?;
                (ours != theirs).then(|| (name.clone(), ours.clone(), theirs.clone()))
            })
            .collect();
        let stage = if result.stage == stays_card.stage {
            format!("{} (kept: {} is not further along the funnel)", result.stage, joins_card.stage)
        } else {
            format!("{} (from the other contact: further along the funnel than {})", result.stage, stays_card.stage)
        };
        Ok(MergePreview {
            stays: stays_card,
            joins: joins_card,
            result,
            conflicts,
            stage,
            conversations: moved.conversations,
            consent_events: moved.consent_events,
        })
    }

    /// Merges `joins` into `stays`: one person from now on.
    pub fn merge_contacts(&mut self, stays: ContactId, joins: ContactId, agent: &str, now: Millis) -> Result<()> {
        let tx = self.write()?;
        // Checked in the transaction: another console may have merged either a moment ago.
        check_pair(&tx, stays, joins)?;
        merge_into(&tx, stays, joins, Kind::Merge, &format!("merged by {agent}"), agent, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Takes one identity out of a contact, with its conversations and the consent
    /// events of its channel: back to the contact it came from when a recorded merge
    /// brought it (the same id, as it was), else to a new contact.
    pub fn split_contact(
        &mut self,
        contact: ContactId,
        channel: ChannelKind,
        external_id: &str,
        agent: &str,
        now: Millis,
    ) -> Result<Split> {
        let tx = self.write()?;
        let split = split(&tx, contact, channel, external_id, agent, now)?;
        tx.commit()?;
        Ok(split)
    }
}

fn check_pair(conn: &Connection, stays: ContactId, joins: ContactId) -> Result<()> {
    if stays == joins {
        return Err(StoreError::NotFound(format!("contact {stays} cannot be merged with itself")));
    }
    for id in [stays, joins] {
        let found = conn.query_row("SELECT 1 FROM contacts WHERE id = ?1", [id], |_| Ok(())).optional()?;
        if found.is_none() {
            return Err(StoreError::NotFound(format!("contact {id} does not exist")));
        }
    }
    Ok(())
}

/// How much a merge moved.
#[derive(Debug, Default)]
pub(super) struct Moved {
    conversations: usize,
    consent_events: usize,
}

/// The ids of `table`'s rows that belong to `contact`.
fn ids(conn: &Connection, table: &str, contact: ContactId) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT id FROM {table} WHERE contact_id = ?1 ORDER BY id"))?;
    let rows = stmt.query_map([contact], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The tables whose rows follow their contact through a merge and back in a split.
const FOLLOWING: &[&str] = &["identities", "conversations", "consent_events", "stage_events", "csat"];

/// Where a stage stands in the funnel; a word the funnel does not name stands nowhere.
fn funnel_rank(stage: &str) -> Option<usize> {
    contact_card::STAGES.iter().position(|s| *s == stage)
}

pub(super) fn merge_into(
    conn: &Connection,
    stays: ContactId,
    joins: ContactId,
    kind: Kind,
    reason: &str,
    by: &str,
    now: Millis,
) -> Result<Moved> {
    let other: Value = conn.query_row(
        "SELECT json_object('id', id, 'display_name', display_name, 'phone', phone, 'locale', locale, \
           'time_zone', time_zone, 'attributes', json(attributes), 'stage', stage, 'owner', owner, 'source', source, \
           'created_at', created_at, 'first_inbound_at', first_inbound_at, 'first_channel', first_channel, \
           'tags', json((SELECT json_group_array(t.name) FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = c.id)), \
           'phones', json((SELECT json_group_array(json_array(phone, verified_by, source, at)) FROM contact_phones WHERE contact_id = c.id))) \
         FROM contacts c WHERE id = ?1",
        [joins],
        |r| r.get::<_, String>(0),
    )
    .map(|s| serde_json::from_str(&s).unwrap_or(Value::Null))?;
    let mut moved = serde_json::Map::new();
    for table in FOLLOWING {
        moved.insert((*table).into(), json!(ids(conn, table, joins)?));
    }
    let own_phones: Vec<String> = conn
        .prepare_cached("SELECT phone FROM contact_phones WHERE contact_id = ?1")?
        .query_map([stays], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let (stays_stage, joins_stage): (String, String) = conn.query_row(
        "SELECT a.stage, b.stage FROM contacts a, contacts b WHERE a.id = ?1 AND b.id = ?2",
        params![stays, joins],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let stage = match (funnel_rank(&stays_stage), funnel_rank(&joins_stage)) {
        (Some(a), Some(b)) if b > a => joins_stage,
        _ => stays_stage,
    };
    // The one that stays keeps its own values; the other fills what it lacks.
    conn.execute(
        "UPDATE contacts SET phone = coalesce(contacts.phone, o.phone), locale = coalesce(contacts.locale, o.locale), \
           time_zone = coalesce(contacts.time_zone, o.time_zone), owner = coalesce(contacts.owner, o.owner), \
           source = coalesce(contacts.source, o.source), attributes = json_patch(o.attributes, contacts.attributes), \
           stage = ?3, created_at = min(contacts.created_at, o.created_at), \
           first_channel = CASE WHEN o.first_inbound_at < coalesce(contacts.first_inbound_at, o.first_inbound_at + 1) \
             THEN o.first_channel ELSE contacts.first_channel END, \
           first_inbound_at = CASE WHEN contacts.first_inbound_at IS NULL THEN o.first_inbound_at \
             ELSE min(contacts.first_inbound_at, coalesce(o.first_inbound_at, contacts.first_inbound_at)) END \
         FROM (SELECT * FROM contacts WHERE id = ?2) AS o WHERE contacts.id = ?1",
        params![stays, joins, stage],
    )?;
    for table in FOLLOWING {
        conn.execute(&format!("UPDATE {table} SET contact_id = ?1 WHERE contact_id = ?2"), params![stays, joins])?;
    }
    conn.execute(
        "INSERT OR IGNORE INTO contact_tags(contact_id, tag_id) SELECT ?1, tag_id FROM contact_tags WHERE contact_id = ?2",
        params![stays, joins],
    )?;
    conn.execute(
        "INSERT INTO contact_phones(contact_id, phone, verified_by, source, at) \
         SELECT ?1, phone, verified_by, source, at FROM contact_phones WHERE contact_id = ?2 AND true \
         ON CONFLICT(contact_id, phone) DO UPDATE SET verified_by = coalesce(contact_phones.verified_by, excluded.verified_by)",
        params![stays, joins],
    )?;
    // One row per campaign and contact: where both got the same campaign, the person keeps
    // the row of the contact that stays, and the other's is kept in the record.
    moved.insert("campaign_recipients".into(), json!(ids(conn, "campaign_recipients", joins)?));
    conn.execute(
        "UPDATE OR IGNORE campaign_recipients SET contact_id = ?1 WHERE contact_id = ?2",
        params![stays, joins],
    )?;
    let dropped: String = conn.query_row(
        "SELECT json_group_array(json_object('id', id, 'campaign_id', campaign_id, 'channel', channel, \
           'variant', variant, 'state', state, 'reason', reason, 'message_id', message_id)) \
         FROM campaign_recipients WHERE contact_id = ?1",
        [joins],
        |r| r.get(0),
    )?;
    conn.execute("DELETE FROM campaign_recipients WHERE contact_id = ?1", [joins])?;
    conn.execute("DELETE FROM contacts WHERE id = ?1", [joins])?;
    let conversations = moved["conversations"].as_array().map_or(0, Vec::len);
    let consent_events = moved["consent_events"].as_array().map_or(0, Vec::len);
    let detail = json!({
        "other": other,
        "moved": moved,
        "dropped_recipients": serde_json::from_str::<Value>(&dropped).unwrap_or(Value::Null),
        "own_phones": own_phones,
    });
    let kind = match kind {
        Kind::Link => "link",
        Kind::Merge => "merge",
    };
    conn.execute(
        "INSERT INTO contact_links(kind, contact_id, other_id, reason, detail, recorded_by, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![kind, stays, joins, reason, detail.to_string(), by, now],
    )?;
    Ok(Moved { conversations, consent_events })
}

/// The ids a record lists under `moved.<table>`.
fn recorded(detail: &Value, table: &str) -> Vec<i64> {
    detail["moved"][table].as_array().into_iter().flatten().filter_map(Value::as_i64).collect()
}

fn split(
    conn: &Connection,
    contact: ContactId,
    channel: ChannelKind,
    external_id: &str,
    by: &str,
    now: Millis,
) -> Result<Split> {
    let key = format!("{channel}:{external_id}");
    let identity: Option<(i64, ContactId, Option<String>)> = conn
        .query_row(
            "SELECT id, contact_id, username FROM identities WHERE channel = ?1 AND external_id = ?2",
            params![channel.as_str(), external_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((identity, owner, username)) = identity else {
        return Err(StoreError::NotFound(format!("no contact has the identity {key}")));
    };
    if owner != contact {
        return Err(StoreError::NotFound(format!("{key} belongs to contact {owner}, not {contact}")));
    }
    let identities: i64 =
        conn.query_row("SELECT count(*) FROM identities WHERE contact_id = ?1", [contact], |r| r.get(0))?;
    if identities < 2 {
        return Err(StoreError::NotFound(format!("{key} is the only identity of contact {contact}: nothing to split")));
    }
    // The merge or link that brought this identity, if one did.
    let mut stmt = conn.prepare(
        "SELECT at, detail FROM contact_links WHERE contact_id = ?1 AND kind IN ('link', 'merge') ORDER BY id DESC",
    )?;
    let records = stmt.query_map([contact], |r| Ok((r.get::<_, Millis>(0)?, r.get::<_, String>(1)?)))?;
    let mut origin: Option<(Millis, Value)> = None;
    for record in records {
        let (at, detail) = record?;
        let detail: Value = serde_json::from_str(&detail).unwrap_or(Value::Null);
        if recorded(&detail, "identities").contains(&identity) {
            origin = Some((at, detail));
            break;
        }
    }
    // Whether the contact keeps another identity on this channel: then the channel's
    // consent is not this identity's alone, and only what the record names moves.
    let shares_channel: bool = conn.query_row(
        "SELECT count(*) > 1 FROM identities WHERE contact_id = ?1 AND channel = ?2",
        params![contact, channel.as_str()],
        |r| r.get(0),
    )?;
    let other = origin.as_ref().map(|(_, d)| &d["other"]).filter(|o| o.is_object());
    // The whole of the merged contact comes back when this was its only identity.
    let whole = origin.as_ref().is_some_and(|(_, d)| recorded(d, "identities").len() == 1);
    let free = match other.and_then(|o| o["id"].as_i64()) {
        Some(id) => conn.query_row("SELECT 1 FROM contacts WHERE id = ?1", [id], |_| Ok(())).optional()?.is_none(),
        None => false,
    };
    let restored = whole && free;
    let new = if restored {
        let o = other.expect("restored implies a record");
        conn.execute(
            "INSERT INTO contacts(id, display_name, phone, locale, time_zone, attributes, stage, owner, source, \
               created_at, first_inbound_at, first_channel) \
             VALUES (?1, ?2, ?3, ?4, ?5, json(?6), ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                o["id"].as_i64(),
                o["display_name"].as_str().unwrap_or(external_id),
                o["phone"].as_str(),
                o["locale"].as_str(),
                o["time_zone"].as_str(),
                o["attributes"].to_string(),
                o["stage"].as_str().unwrap_or("new"),
                o["owner"].as_str(),
                o["source"].as_str(),
                o["created_at"].as_i64().unwrap_or(now),
                o["first_inbound_at"].as_i64(),
                o["first_channel"].as_str(),
            ],
        )?;
        let id = ContactId(conn.last_insert_rowid());
        // Its stage history comes back below: the entry the insert made is not history.
        conn.execute("DELETE FROM stage_events WHERE contact_id = ?1", [id])?;
        for tag in o["tags"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            contact_card::insert_tag(conn, id, tag)?;
        }
        id
    } else {
        let name: String = conn
            .query_row(
                "SELECT title FROM conversations WHERE contact_id = ?1 AND channel = ?2 AND external_chat_id = ?3",
                params![contact, channel.as_str(), external_id],
                |r| r.get(0),
            )
            .optional()?
            .or(username)
            .unwrap_or_else(|| external_id.to_string());
        conn.execute("INSERT INTO contacts(display_name, created_at) VALUES (?1, ?2)", params![name, now])?;
        ContactId(conn.last_insert_rowid())
    };
    conn.execute("UPDATE identities SET contact_id = ?1 WHERE id = ?2", params![new, identity])?;
    let move_rows = |table: &str, ids: &[i64]| -> Result<usize> {
        let mut stmt =
            conn.prepare_cached(&format!("UPDATE {table} SET contact_id = ?1 WHERE id = ?2 AND contact_id = ?3"))?;
        let mut n = 0;
        for id in ids {
            n += stmt.execute(params![new, id, contact])?;
        }
        Ok(n)
    };
    // Conversations: the identity's own chat, and whatever the record says came with it.
    let mut conversations: Vec<i64> = conn
        .prepare(
            "SELECT id FROM conversations WHERE contact_id = ?1 AND channel = ?2 AND external_chat_id = ?3 AND NOT is_group",
        )?
        .query_map(params![contact, channel.as_str(), external_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // Consent: what the record says came with it, and (when no other identity of the
    // contact is on this channel) the channel's events recorded since.
    let mut consent: Vec<i64> = Vec::new();
    let since = origin.as_ref().map(|(at, _)| *at);
    if let Some((_, detail)) = &origin
        && whole
    {
        conversations.extend(recorded(detail, "conversations"));
        consent.extend(recorded(detail, "consent_events"));
    }
    if !shares_channel {
        let mut stmt = conn.prepare(
            "SELECT id FROM consent_events WHERE contact_id = ?1 AND channel = ?2 AND (?3 IS NULL OR at >= ?3)",
        )?;
        let extra = stmt.query_map(params![contact, channel.as_str(), since], |r| r.get::<_, i64>(0))?;
        for id in extra {
            let id = id?;
            if !consent.contains(&id) {
                consent.push(id);
            }
        }
    }
    conversations.sort_unstable();
    conversations.dedup();
    let moved_conversations = move_rows("conversations", &conversations)?;
    let moved_consent = move_rows("consent_events", &consent)?;
    if restored && let Some((_, detail)) = &origin {
        move_rows("stage_events", &recorded(detail, "stage_events"))?;
        move_rows("csat", &recorded(detail, "csat"))?;
        move_rows("campaign_recipients", &recorded(detail, "campaign_recipients"))?;
        for row in detail["dropped_recipients"].as_array().into_iter().flatten() {
            conn.execute(
                "INSERT OR IGNORE INTO campaign_recipients(id, campaign_id, contact_id, channel, variant, state, reason, message_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    row["id"].as_i64(),
                    row["campaign_id"].as_i64(),
                    new,
                    row["channel"].as_str(),
                    row["variant"].as_str(),
                    row["state"].as_str(),
                    row["reason"].as_str(),
                    row["message_id"].as_i64(),
                ],
            )?;
        }
        let own: Vec<&str> = detail["own_phones"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        for phone in detail["other"]["phones"].as_array().into_iter().flatten() {
            let Some(number) = phone[0].as_str() else { continue };
            conn.execute(
                "INSERT OR IGNORE INTO contact_phones(contact_id, phone, verified_by, source, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![new, number, phone[1].as_str(), phone[2].as_str().unwrap_or("merge"), phone[3].as_i64().unwrap_or(now)],
            )?;
            if !own.contains(&number) {
                conn.execute(
                    "DELETE FROM contact_phones WHERE contact_id = ?1 AND phone = ?2",
                    params![contact, number],
                )?;
            }
        }
    } else if !shares_channel {
        // The number this channel vouched for is this identity's.
        conn.execute(
            "UPDATE contact_phones SET contact_id = ?1 WHERE contact_id = ?2 AND verified_by = ?3",
            params![new, contact, channel.as_str()],
        )?;
    }
    let detail =
        json!({ "moved": { "identities": [identity], "conversations": conversations, "consent_events": consent } });
    conn.execute(
        "INSERT INTO contact_links(kind, contact_id, other_id, identity, reason, detail, recorded_by, at) \
         VALUES ('split', ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![contact, new, key, format!("split by {by}"), detail.to_string(), by, now],
    )?;
    Ok(Split { contact: new, restored, conversations: moved_conversations, consent_events: moved_consent })
}
