//! `switchboard export`: the analyst's and the auditor's view of the store, streamed to
//! a writer as JSON lines or CSV. Field names and meanings are stable (see the README).
//! JSON keeps text exactly (control characters are JSON-escaped); CSV, which people open
//! in terminals and spreadsheets, shows control characters as visible symbols.

use std::io::Write;

use chrono::{SecondsFormat, TimeZone, Utc};
use serde::Serialize;

use crate::model::Millis;
use crate::store::{ConversationFilter, Store};
use crate::text::sanitize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportKind {
    /// Every message, both ways, with its status, edits, media and buttons.
    Messages,
    /// Every contact with their identities, phone numbers, tags and attributes.
    Contacts,
    /// Every conversation with its status and counters.
    Conversations,
    /// The consent ledger: every opt-in and opt-out, oldest first.
    Consent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
}

/// One message, as exported.
#[derive(Debug, Serialize)]
pub struct MessageRecord {
    pub id: i64,
    pub conversation_id: i64,
    pub channel: String,
    /// The platform's chat id.
    pub chat_id: String,
    /// The platform's user id of the customer (the sender, for inbound messages).
    pub contact_id: Option<String>,
    pub direction: String,
    /// The platform's message id, once known.
    pub external_id: Option<String>,
    pub kind: String,
    pub text: String,
    pub sent_at: String,
    pub status: String,
    pub error: Option<String>,
    pub author: Option<String>,
    pub edited_at: Option<String>,
    /// How often the customer edited it, and what it said before the first edit.
    pub edit_count: i64,
    pub original_text: Option<String>,
    /// The platform id of the message this one replies to (for a `click`, the message
    /// whose button was pressed).
    pub reply_to: Option<String>,
    /// The attachment's details (JSON): file id, size, coordinates, or what we sent.
    pub media: Option<String>,
    /// Buttons under our message (JSON rows), and how often they were pressed.
    pub buttons: Option<String>,
    pub clicks: i64,
    /// When we deleted our message for the customer (Telegram); the text stays here.
    pub deleted_at: Option<String>,
}

/// One contact, as exported; `import contacts` reads it back unchanged.
#[derive(Debug, Serialize)]
pub struct ContactRecord {
    pub id: i64,
    pub name: String,
    /// The number the contact is shown with (E.164).
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub stage: String,
    /// `channel:external_id` pairs, `;`-separated.
    pub identities: String,
    pub created_at: String,
    pub time_zone: Option<String>,
    /// `;`-separated, by name.
    pub tags: String,
    /// Every number, `;`-separated; `(whatsapp)` after one a platform vouched for.
    pub phones: String,
    /// A JSON object of names to values.
    pub attributes: String,
}

#[derive(Debug, Serialize)]
pub struct ConversationRecord {
    pub id: i64,
    pub channel: String,
    pub chat_id: String,
    pub contact_id: Option<String>,
    pub title: String,
    pub is_group: bool,
    pub status: String,
    pub assignee: Option<String>,
    pub last_message_at: Option<String>,
    pub last_inbound_at: Option<String>,
    pub unread: i64,
    pub unanswered: bool,
    /// When a snoozed conversation comes back (none: when the customer writes).
    pub snoozed_until: Option<String>,
}

/// One event of the consent ledger, as exported: the audit trail.
#[derive(Debug, Serialize)]
pub struct ConsentRecord {
    pub id: i64,
    pub contact_id: i64,
    pub contact_name: String,
    pub channel: String,
    /// The customer's id on that channel.
    pub external_id: Option<String>,
    /// `marketing` or `service`.
    pub purpose: String,
    /// `opt_in` or `opt_out`.
    pub action: String,
    /// Where it came from: `start_link`, `keyword`, `button`, `platform`,
    /// `platform_block`, `platform_subscription`, `import`, `agent`.
    pub source: String,
    pub evidence: Option<String>,
    pub recorded_by: Option<String>,
    pub at: String,
}

/// RFC 3339 in UTC with milliseconds.
pub fn rfc3339(t: Millis) -> String {
    Utc.timestamp_millis_opt(t).single().unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn conversations(
    store: &Store,
    which: &ConversationFilter,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<usize> {
    let mut sink = Sink::new(format, out);
    let n = write_conversations(store.conn(), which, &mut sink)?;
    sink.finish()?;
    Ok(n)
}

fn write_conversations(
    conn: &rusqlite::Connection,
    which: &ConversationFilter,
    sink: &mut Sink<'_>,
) -> anyhow::Result<usize> {
    let order = if *which == ConversationFilter::default() { "v.id" } else { "v.last_message_at DESC, v.id DESC" };
    let mut stmt = conn.prepare(&format!(
        "SELECT v.id, v.channel, v.external_chat_id, \
           (SELECT i.external_id FROM identities i WHERE i.contact_id = v.contact_id AND i.channel = v.channel LIMIT 1), \
           v.title, v.is_group, v.status, v.assignee, v.last_message_at, v.last_inbound_at, v.unread, v.unanswered, \
           v.snoozed_until \
         FROM conversations v \
         WHERE (?1 IS NULL OR v.status = ?1) AND (?2 = 0 OR v.assignee IS ?3) AND (?4 IS NULL OR v.channel = ?4) \
         ORDER BY {order}"
    ))?;
    let assignee = which.assignee.clone().flatten();
    let (status, channel) = (which.status.map(|s| s.as_str()), which.channel.map(|c| c.as_str()));
    let mut rows = stmt.query(rusqlite::params![status, which.assignee.is_some(), assignee, channel])?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let last: Millis = r.get(8)?;
        sink.write(&ConversationRecord {
            id: r.get(0)?,
            channel: r.get(1)?,
            chat_id: r.get(2)?,
            contact_id: r.get(3)?,
            title: sink.text(r.get(4)?),
            is_group: r.get(5)?,
            status: r.get(6)?,
            assignee: r.get::<_, Option<String>>(7)?.map(|a| sink.text(a)),
            last_message_at: (last > 0).then(|| rfc3339(last)),
            last_inbound_at: r.get::<_, Option<Millis>>(9)?.map(rfc3339),
            unread: r.get(10)?,
            unanswered: r.get(11)?,
            snoozed_until: r.get::<_, Option<Millis>>(12)?.map(rfc3339),
        })?;
        n += 1;
    }
    Ok(n)
}

/// Writes every row of `kind`; returns how many.
pub fn export(store: &Store, kind: ExportKind, format: Format, out: &mut dyn Write) -> anyhow::Result<usize> {
    let mut sink = Sink::new(format, out);
    let conn = store.conn();
    let n = match kind {
        ExportKind::Messages => {
            let mut stmt = conn.prepare(
                "SELECT m.id, m.conversation_id, c.channel, c.external_chat_id, \
                   CASE WHEN m.direction = 'in' THEN m.sender_external_id ELSE \
                     (SELECT i.external_id FROM identities i WHERE i.contact_id = c.contact_id AND i.channel = c.channel LIMIT 1) END, \
                   m.direction, m.external_id, m.kind, m.body, m.sent_at, m.status, m.error, m.author, m.edited_at, \
                   (SELECT count(*) FROM message_events e WHERE e.message_id = m.id AND e.kind = 'edit'), \
                   (SELECT e.detail FROM message_events e WHERE e.message_id = m.id AND e.kind = 'edit' \
                      ORDER BY e.at, e.id LIMIT 1), \
                   m.reply_to_external_id, m.media, m.buttons, \
                   (SELECT count(*) FROM message_events e WHERE e.message_id = m.id AND e.kind = 'click'), \
                   m.deleted_at \
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id ORDER BY m.id",
            )?;
            let mut rows = stmt.query([])?;
            let mut n = 0;
            while let Some(r) = rows.next()? {
                sink.write(&MessageRecord {
                    id: r.get(0)?,
                    conversation_id: r.get(1)?,
                    channel: r.get(2)?,
                    chat_id: r.get(3)?,
                    contact_id: r.get(4)?,
                    direction: r.get(5)?,
                    external_id: r.get(6)?,
                    kind: r.get(7)?,
                    text: sink.text(r.get(8)?),
                    sent_at: rfc3339(r.get(9)?),
                    status: r.get(10)?,
                    error: r.get::<_, Option<String>>(11)?.map(|e| sink.text(e)),
                    author: r.get::<_, Option<String>>(12)?.map(|a| sink.text(a)),
                    edited_at: r.get::<_, Option<Millis>>(13)?.map(rfc3339),
                    edit_count: r.get(14)?,
                    original_text: r.get::<_, Option<String>>(15)?.map(|t| sink.text(t)),
                    reply_to: r.get(16)?,
                    media: r.get(17)?,
                    buttons: r.get::<_, Option<String>>(18)?.map(|b| sink.text(b)),
                    clicks: r.get(19)?,
                    deleted_at: r.get::<_, Option<Millis>>(20)?.map(rfc3339),
                })?;
                n += 1;
            }
            n
        }
        ExportKind::Contacts => {
            let mut stmt = conn.prepare(
                "SELECT c.id, c.display_name, c.phone, c.locale, c.stage, \
                   coalesce((SELECT group_concat(channel || ':' || external_id, ';') \
                     FROM (SELECT channel, external_id FROM identities WHERE contact_id = c.id ORDER BY id)), ''), \
                   c.created_at, c.time_zone, \
                   coalesce((SELECT group_concat(name, ';') FROM (SELECT t.name FROM contact_tags ct \
                     JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = c.id ORDER BY t.name)), ''), \
                   coalesce((SELECT group_concat(phone || coalesce(' (' || verified_by || ')', ''), ';') \
                     FROM (SELECT phone, verified_by FROM contact_phones WHERE contact_id = c.id \
                       ORDER BY verified_by IS NULL, phone)), ''), \
                   c.attributes FROM contacts c ORDER BY c.id",
            )?;
            let mut rows = stmt.query([])?;
            let mut n = 0;
            while let Some(r) = rows.next()? {
                sink.write(&ContactRecord {
                    id: r.get(0)?,
                    name: sink.text(r.get(1)?),
                    phone: r.get(2)?,
                    locale: r.get(3)?,
                    stage: r.get(4)?,
                    identities: r.get(5)?,
                    created_at: rfc3339(r.get(6)?),
                    time_zone: r.get(7)?,
                    tags: sink.text(r.get(8)?),
                    phones: r.get(9)?,
                    // Keys in order, whatever order the store keeps them in.
                    attributes: sink.text(
                        serde_json::from_str::<std::collections::BTreeMap<String, serde_json::Value>>(
                            &r.get::<_, String>(10)?,
                        )
                        .ok()
                        .and_then(|m| serde_json::to_string(&m).ok())
                        .unwrap_or_else(|| "{}".into()),
                    ),
                })?;
                n += 1;
            }
            n
        }
        ExportKind::Conversations => write_conversations(conn, &ConversationFilter::default(), &mut sink)?,
        ExportKind::Consent => {
            let mut stmt = conn.prepare(
                "SELECT e.id, e.contact_id, c.display_name, e.channel, \
                   (SELECT i.external_id FROM identities i WHERE i.contact_id = e.contact_id AND i.channel = e.channel LIMIT 1), \
                   e.purpose, e.action, e.source, e.evidence, e.recorded_by, e.at \
                 FROM consent_events e JOIN contacts c ON c.id = e.contact_id ORDER BY e.at, e.id",
            )?;
            let mut rows = stmt.query([])?;
            let mut n = 0;
            while let Some(r) = rows.next()? {
                sink.write(&ConsentRecord {
                    id: r.get(0)?,
                    contact_id: r.get(1)?,
                    contact_name: sink.text(r.get(2)?),
                    channel: r.get(3)?,
                    external_id: r.get(4)?,
                    purpose: r.get(5)?,
                    action: r.get(6)?,
                    source: r.get(7)?,
                    evidence: r.get::<_, Option<String>>(8)?.map(|e| sink.text(e)),
                    recorded_by: r.get(9)?,
                    at: rfc3339(r.get(10)?),
                })?;
                n += 1;
            }
            n
        }
    };
    sink.finish()?;
    Ok(n)
}

enum Sink<'a> {
    Jsonl(&'a mut dyn Write),
    /// The writer, and whether the header row is out yet.
    Csv(Box<csv::Writer<&'a mut dyn Write>>, bool),
}

impl<'a> Sink<'a> {
    fn new(format: Format, out: &'a mut dyn Write) -> Sink<'a> {
        match format {
            Format::Jsonl => Sink::Jsonl(out),
            Format::Csv => Sink::Csv(Box::new(csv::WriterBuilder::new().has_headers(false).from_writer(out)), false),
        }
    }

    /// Customer text as this format carries it.
    fn text(&self, s: String) -> String {
        match self {
            Sink::Jsonl(_) => s,
            Sink::Csv(..) => sanitize(&s, true),
        }
    }

    fn write<T: Serialize>(&mut self, record: &T) -> anyhow::Result<()> {
        match self {
            Sink::Jsonl(out) => {
                serde_json::to_writer(&mut **out, record)?;
                out.write_all(b"\n")?;
            }
            Sink::Csv(w, header_done) => {
                // Serialised once to find the cells (and, the first time, the header),
                // then every cell is neutralised before it is written.
                let mut staged = csv::WriterBuilder::new().has_headers(!*header_done).from_writer(Vec::new());
                staged.serialize(record)?;
                let bytes = staged.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))?;
                let mut rows = csv::ReaderBuilder::new().has_headers(false).from_reader(bytes.as_slice());
                for row in rows.records() {
                    let row = row?;
                    w.write_record(row.iter().map(|cell| spreadsheet_safe(cell).into_owned()))?;
                }
                *header_done = true;
            }
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Sink::Jsonl(out) => out.flush()?,
            Sink::Csv(mut w, _) => w.flush()?,
        }
        Ok(())
    }
}

/// A cell a spreadsheet will not run as a formula (OWASP's advice for CSV injection):
/// one that begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
/// `'`. Plain numbers (`-12`, `+3.5`) are left as they are: no spreadsheet runs them.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}
