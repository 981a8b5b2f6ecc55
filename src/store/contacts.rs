//! Contacts from an import: matched by their channel identity, else their phone, else
//! their name; changed only where the file says something new, so importing the same
//! file twice changes nothing. All rows go in one transaction.

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Result, Store};
use std::collections::BTreeMap;

use crate::model::{ChannelKind, ContactId, Millis};

/// One contact to import: a row of a checked file (see `import`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactRow {
    /// The line of the file it came from (the header is line 1).
    pub line: usize,
    /// The id the row had in the store it was exported from: kept when imported into a
    /// store without contacts (a move to a new store), else only informative.
    pub id: Option<i64>,
    pub name: String,
    /// The number the contact is shown with, in E.164.
    pub phone: Option<String>,
    /// The identity the consent columns are about (`channel`, `external_id`).
    pub identity: Option<(ChannelKind, String)>,
    /// More identities (`identities`: `channel:id;channel:id`).
    pub identities: Vec<(ChannelKind, String)>,
    /// Every number in E.164, with the platform that vouched for it (`phones`).
    pub phones: Vec<(String, Option<ChannelKind>)>,
    pub time_zone: Option<String>,
    pub stage: Option<String>,
    /// When the contact was first known (`created_at`), for a new contact.
    pub created_at: Option<Millis>,
    pub tags: Vec<String>,
    /// Marketing consent: `Some(true)` opted in, `Some(false)` opted out.
    pub consent: Option<bool>,
    pub consent_source: Option<String>,
    pub consent_at: Option<Millis>,
    pub locale: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub consent_events: usize,
}

impl Store {
    /// Stores every row, or none if any fails.
    pub fn import_contacts(&mut self, rows: &[ContactRow], now: Millis) -> Result<ImportReport> {
        let tx = self.write()?;
        let mut report = ImportReport::default();
        let fresh = tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM contacts)", [], |r| r.get::<_, bool>(0))?;
        for row in rows {
            let attributes = serde_json::to_string(&row.attributes).unwrap_or_else(|_| "{}".into());
            let found = find(&tx, row)?;
            let contact = match found {
                Some(id) => {
                    let changed = tx
                        .prepare_cached(
                            "UPDATE contacts SET display_name = ?2, phone = coalesce(?3, phone), \
                               locale = coalesce(?4, locale), attributes = json_patch(attributes, ?5), \
                               time_zone = coalesce(?6, time_zone), stage = coalesce(?7, stage) \
                             WHERE id = ?1 AND (display_name IS NOT ?2 OR phone IS NOT coalesce(?3, phone) \
                               OR locale IS NOT coalesce(?4, locale) OR attributes IS NOT json_patch(attributes, ?5) \
                               OR time_zone IS NOT coalesce(?6, time_zone) OR stage IS NOT coalesce(?7, stage))",
                        )?
                        .execute(params![id, row.name, row.phone, row.locale, attributes, row.time_zone, row.stage])?;
                    if changed > 0 {
                        report.updated += 1
                    } else {
                        report.unchanged += 1
                    }
                    id
                }
                None => {
                    tx.prepare_cached(
                        "INSERT INTO contacts(id, display_name, phone, locale, attributes, source, created_at, \
                           time_zone, stage) \
                         VALUES (CASE WHEN NOT EXISTS (SELECT 1 FROM contacts WHERE id = ?1) THEN ?1 END, \
                           ?2, ?3, ?4, json_patch('{}', ?5), 'import', ?6, ?7, coalesce(?8, 'new'))",
                    )?
                    .execute(params![
                        row.id.filter(|_| fresh),
                        row.name,
                        row.phone,
                        row.locale,
                        attributes,
                        row.created_at.unwrap_or(now),
                        row.time_zone,
                        row.stage
                    ])?;
                    report.created += 1;
                    ContactId(tx.last_insert_rowid())
                }
            };
            for (channel, id) in row.identity.iter().chain(&row.identities) {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO identities(contact_id, channel, external_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![contact, channel.as_str(), id, now])?;
            }
            // A number the file vouches for keeps its mark (an export read back); any
            // other is claimed by the import.
            let claimed =
                row.phone.iter().filter(|p| !row.phones.iter().any(|(q, _)| q == *p)).map(|p| (p.clone(), None));
            for (number, verified_by) in row.phones.iter().cloned().chain(claimed) {
                let source = verified_by.map_or("import", |c| c.as_str());
                super::people::record_phone(&tx, contact, &number, verified_by, source, now)?;
            }
            // Recording a number may have made another the one shown; the file's says
            // which (a new contact has it already).
            if let Some(phone) = row.phone.as_ref().filter(|_| found.is_some()) {
                tx.prepare_cached("UPDATE contacts SET phone = ?2 WHERE id = ?1 AND phone IS NOT ?2")?
                    .execute(params![contact, phone])?;
            }
            for tag in &row.tags {
                tx.prepare_cached("INSERT OR IGNORE INTO tags(name) VALUES (?1)")?.execute([tag])?;
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO contact_tags(contact_id, tag_id) SELECT ?1, id FROM tags WHERE name = ?2",
                )?
                .execute(params![contact, tag])?;
            }
            if record_consent(&tx, contact, row, now)? {
                report.consent_events += 1;
            }
        }
        tx.commit()?;
        Ok(report)
    }
}

/// The contact a row is about, if the store knows them.
fn find(tx: &Transaction<'_>, row: &ContactRow) -> Result<Option<ContactId>> {
    for (channel, id) in row.identity.iter().chain(&row.identities) {
        let found = tx
            .prepare_cached("SELECT contact_id FROM identities WHERE channel = ?1 AND external_id = ?2")?
            .query_row(params![channel.as_str(), id], |r| r.get(0))
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    let found = match &row.phone {
        Some(phone) => tx
            .prepare_cached("SELECT id FROM contacts WHERE phone = ?1 ORDER BY id LIMIT 1")?
            .query_row([phone], |r| r.get(0)),
        None => tx
            .prepare_cached("SELECT id FROM contacts WHERE display_name = ?1 AND phone IS NULL ORDER BY id LIMIT 1")?
            .query_row([&row.name], |r| r.get(0)),
    };
    Ok(found.optional()?)
}

/// The row's marketing consent, unless the ledger already says the same for this
/// contact and channel.
fn record_consent(tx: &Transaction<'_>, contact: ContactId, row: &ContactRow, now: i64) -> Result<bool> {
    let (Some(consent), Some((channel, _))) = (row.consent, &row.identity) else { return Ok(false) };
    let action = if consent { "opt_in" } else { "opt_out" };
    let current: Option<String> = tx
        .prepare_cached(
            "SELECT action FROM consent_events WHERE contact_id = ?1 AND channel = ?2 AND purpose = 'marketing' \
             ORDER BY at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![contact, channel.as_str()], |r| r.get(0))
        .optional()?;
    if current.as_deref() == Some(action) {
        return Ok(false);
    }
    let evidence = row.consent_source.clone().unwrap_or_else(|| format!("import, line {}", row.line));
    tx.prepare_cached(
        "INSERT INTO consent_events(contact_id, channel, purpose, action, source, evidence, recorded_by, at) \
         VALUES (?1, ?2, 'marketing', ?3, 'import', ?4, 'import', ?5)",
    )?
    .execute(params![contact, channel.as_str(), action, evidence, row.consent_at.unwrap_or(now)])?;
    Ok(true)
}
