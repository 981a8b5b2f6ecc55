//! What reports read: the customer message blocks, resolutions, stage events, first
//! messages, hourly volume and survey answers that the schema's triggers keep (migration
//! 012), for a period; and the backfill that builds the blocks of a store from before
//! them. The figures themselves are `crate::report`'s.

use rusqlite::{Transaction, params};

use super::{Result, Store};
use crate::model::Millis;

/// A customer message block (see migration 012), as the backfill builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BlockRow {
    conversation: i64,
    channel: String,
    /// The first block of a session: its reply is the first response.
    first: bool,
    started_at: Millis,
    inbound: i64,
    outbound: i64,
    bot_at: Option<Millis>,
    replied_at: Option<Millis>,
    agent: Option<String>,
}

/// A block as `for_each_block` lends it: its texts borrowed from the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRef<'a> {
    pub conversation: i64,
    pub channel: &'a str,
    pub first: bool,
    pub started_at: Millis,
    pub inbound: i64,
    pub outbound: i64,
    pub bot_at: Option<Millis>,
    pub replied_at: Option<Millis>,
    pub agent: Option<&'a str>,
}

/// A block's reply as `for_each_reply` lends it: by a person (`Replied`) or the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyRef<'a> {
    pub channel: &'a str,
    pub first: bool,
    pub started_at: Millis,
    /// When the person (or the bot) replied.
    pub at: Millis,
    pub agent: Option<&'a str>,
}

/// A long period's rows in two halves: the ids each table's second half begins at, and
/// the store's file for the connection that reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSplit {
    pub path: std::path::PathBuf,
    pub blocks: i64,
    pub resolutions: i64,
}

/// Which time of a block puts it in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockTime {
    /// A person replied in the period.
    Replied,
    /// A bot first replied in the period.
    Bot,
    /// The customer began writing in the period.
    Started,
}

/// A resolution as `for_each_resolution` lends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolutionRef<'a> {
    pub channel: &'a str,
    pub agent: Option<&'a str>,
    pub opened_at: Millis,
    pub resolved_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClientRow {
    pub at: Millis,
    pub channel: String,
    /// Where they came from: a `/start` payload, an ad referral, `import`; None: they
    /// simply wrote.
    pub source: Option<String>,
}

/// One stage a contact entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRow {
    pub contact: i64,
    pub stage: String,
    pub at: Millis,
}

/// A campaign's outcome on one channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignRow {
    pub name: String,
    pub channel: String,
    pub launched_at: Millis,
    pub recipients: i64,
    /// Messages that went out (sent, delivered or read).
    pub sent: i64,
    /// Messages the platform said were delivered (or read).
    pub delivered: i64,
    pub read: i64,
    pub clicked: i64,
    pub replied: i64,
    pub opted_out: i64,
    /// Recipients who entered the conversion stage within the days after the launch.
    pub converted: i64,
    /// Held out (`--holdout`): sent nothing; and of them, those who converted all the same.
    pub held: i64,
    pub held_converted: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsatRow {
    pub channel: String,
    pub agent: Option<String>,
    pub asked_at: Millis,
    pub score: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRow {
    pub hour: i64,
    pub channel: String,
    /// `customer`, `agent`, `bot` or `campaign`.
    pub who: String,
    pub messages: i64,
}

impl Store {
    /// Builds the customer message blocks and sessions again from the messages, as
    /// migration 012 did for a store from before them. The resolutions recorded stay.
    pub fn rebuild_reply_blocks(&mut self) -> Result<()> {
        let tx = self.write()?;
        tx.execute_batch("DELETE FROM reply_blocks; UPDATE conversations SET session_started_at = NULL;")?;
        walk_messages(&tx, false)?;
        tx.commit()?;
        Ok(())
    }

    /// Calls `f` with each block whose `by` time falls in [from, to), in no set order:
    /// a report over two years reads hundreds of thousands, so nothing is copied.
    pub fn for_each_block(
        &self,
        by: BlockTime,
        from: Millis,
        to: Millis,
        mut f: impl FnMut(BlockRef<'_>),
    ) -> Result<()> {
        let column = match by {
            BlockTime::Replied => "replied_at",
            BlockTime::Bot => "bot_at",
            BlockTime::Started => "started_at",
        };
        let sql = format!(
            "SELECT conversation_id, channel, first, started_at, inbound, outbound, bot_at, replied_at, agent \
             FROM reply_blocks {} WHERE {column} >= ?1 AND {column} < ?2",
            self.plan("reply_blocks", column, from, to)?
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![from, to])?;
        while let Some(r) = rows.next()? {
            f(BlockRef {
                conversation: r.get(0)?,
                channel: r.get_ref(1)?.as_str().unwrap_or(""),
                first: r.get(2)?,
                started_at: r.get(3)?,
                inbound: r.get(4)?,
                outbound: r.get(5)?,
                bot_at: r.get(6)?,
                replied_at: r.get(7)?,
                agent: r.get_ref(8)?.as_str_or_null().unwrap_or(None),
            });
        }
        Ok(())
    }

    /// Calls `f` with each reply by a person (`BlockTime::Replied`) or first reply by the
    /// bot (`BlockTime::Bot`) in [from, to): only the columns response times need.
    /// `ids` limits the rows read to a range of the table's row ids: a long period is
    /// read in parts, on several threads (`report_split`).
    pub fn for_each_reply(
        &self,
        by: BlockTime,
        from: Millis,
        to: Millis,
        ids: std::ops::Range<i64>,
        mut f: impl FnMut(ReplyRef<'_>),
    ) -> Result<()> {
        let column = match by {
            BlockTime::Bot => "bot_at",
            _ => "replied_at",
        };
        let sql = format!(
            "SELECT channel, first, started_at, {column}, agent FROM reply_blocks {} \
             WHERE {column} >= ?1 AND {column} < ?2{}",
            self.plan("reply_blocks", column, from, to)?,
            id_range(&ids)
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![from, to, ids.start, ids.end])?;
        while let Some(r) = rows.next()? {
            f(ReplyRef {
                channel: r.get_ref(0)?.as_str().unwrap_or(""),
                first: r.get(1)?,
                started_at: r.get(2)?,
                at: r.get(3)?,
                agent: r.get_ref(4)?.as_str_or_null().unwrap_or(None),
            });
        }
        Ok(())
    }

    /// Calls `f` with each session resolved in [from, to).
    pub fn for_each_resolution(
        &self,
        from: Millis,
        to: Millis,
        ids: std::ops::Range<i64>,
        mut f: impl FnMut(ResolutionRef<'_>),
    ) -> Result<()> {
        let sql = format!(
            "SELECT channel, agent, opened_at, resolved_at FROM resolutions {} \
             WHERE resolved_at >= ?1 AND resolved_at < ?2{}",
            self.plan("resolutions", "resolved_at", from, to)?,
            id_range(&ids)
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![from, to, ids.start, ids.end])?;
        while let Some(r) = rows.next()? {
            f(ResolutionRef {
                channel: r.get_ref(0)?.as_str().unwrap_or(""),
                agent: r.get_ref(1)?.as_str_or_null().unwrap_or(None),
                opened_at: r.get(2)?,
                resolved_at: r.get(3)?,
            });
        }
        Ok(())
    }

    /// Where to read a long period of replies and resolutions in two: the row ids that
    /// halve each table, and the file a second connection can open. None when the period
    /// is short (its index reads it at once) or the store has no file.
    pub fn report_split(&self, from: Millis, to: Millis) -> Result<Option<ReportSplit>> {
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()).map(std::path::PathBuf::from) else {
            return Ok(None);
        };
        if self.plan("reply_blocks", "replied_at", from, to)?.is_empty() {
            return Ok(None);
        }
        let middle = |table: &str| -> Result<i64> {
            Ok(self
                .conn
                .query_row(
                    &format!("SELECT ((SELECT min(id) FROM {table}) + (SELECT max(id) FROM {table})) / 2 + 1"),
                    [],
                    |r| r.get::<_, Option<i64>>(0),
                )?
                .unwrap_or(0))
        };
        Ok(Some(ReportSplit { path, blocks: middle("reply_blocks")?, resolutions: middle("resolutions")? }))
    }

    /// How to read `table` for `column` in [from, to): by its index for a short period,
    /// whole for one that covers much of what the table holds (a scan in order is many
    /// times faster than looking up a quarter of the rows one by one).
    fn plan(&self, table: &str, column: &str, from: Millis, to: Millis) -> Result<&'static str> {
        let (first, last): (Option<Millis>, Option<Millis>) =
            // Two subqueries: SQLite answers a lone min() or max() from the index.
            self.conn.query_row(
                &format!(
                    "SELECT (SELECT min({column}) FROM {table} WHERE {column} IS NOT NULL), \
                            (SELECT max({column}) FROM {table} WHERE {column} IS NOT NULL)"
                ),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
        let (Some(first), Some(last)) = (first, last) else { return Ok("") };
        let covered = to.min(last + 1).saturating_sub(from.max(first)).max(0);
        Ok(if covered.saturating_mul(5) > (last - first + 1) { "NOT INDEXED" } else { "" })
    }

    /// The contacts whose first message on any channel came in [from, to).
    pub fn report_new_clients(&self, from: Millis, to: Millis) -> Result<Vec<NewClientRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT first_inbound_at, coalesce(first_channel, ''), source FROM contacts \
             WHERE first_inbound_at >= ?1 AND first_inbound_at < ?2",
        )?;
        let rows = stmt.query_map(params![from, to], |r| {
            Ok(NewClientRow { at: r.get(0)?, channel: r.get(1)?, source: r.get(2)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every stage entered by the contacts who entered the funnel in [from, to), each
    /// contact's in time order.
    pub fn report_stages(&self, from: Millis, to: Millis) -> Result<Vec<StageRow>> {
        let mut stmt = self.conn.prepare_cached(
            "WITH entered AS (SELECT contact_id FROM stage_events GROUP BY contact_id \
                              HAVING min(at) >= ?1 AND min(at) < ?2) \
             SELECT s.contact_id, s.to_stage, s.at FROM entered e JOIN stage_events s ON s.contact_id = e.contact_id \
             ORDER BY s.contact_id, s.at, s.id",
        )?;
        let rows = stmt
            .query_map(params![from, to], |r| Ok(StageRow { contact: r.get(0)?, stage: r.get(1)?, at: r.get(2)? }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The campaigns launched in [from, to), per channel: what their messages became,
    /// and how many recipients entered `stage` within `within` after the launch.
    pub fn report_campaigns(&self, from: Millis, to: Millis, stage: &str, within: Millis) -> Result<Vec<CampaignRow>> {
        // A recipient entered the stage within `within` (?4) after the launch. Looked up
        // by the contact (`+` keeps SQLite off the index by stage, which read every
        // entry into the stage in the window once per recipient: recipients times
        // entries, 48 times slower on ten times the data).
        const CONVERTED: &str = "EXISTS (SELECT 1 FROM stage_events s WHERE s.contact_id = r.contact_id \
             AND +s.to_stage = ?3 AND s.at >= k.launched_at AND s.at < k.launched_at + ?4)";
        // Campaigns first (CROSS JOIN keeps that order), then their recipients by index:
        // SQLite otherwise read every recipient of every campaign ever launched.
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT k.name, r.channel, k.launched_at, count(*), {}, \
               coalesce(sum(m.status IN ('sent', 'delivered', 'read') AND {CONVERTED}), 0) \
             FROM campaigns k CROSS JOIN campaign_recipients r ON r.campaign_id = k.id JOIN messages m ON m.id = r.message_id \
             WHERE k.launched_at >= ?1 AND k.launched_at < ?2 \
             GROUP BY k.id, r.channel ORDER BY k.launched_at, k.id, r.channel",
            super::campaign_results::outcomes("k.reply_window")
        ))?;
        let mut rows = stmt
            .query_map(params![from, to, stage, within], |r| {
                Ok(CampaignRow {
                    name: r.get(0)?,
                    channel: r.get(1)?,
                    launched_at: r.get(2)?,
                    recipients: r.get(3)?,
                    sent: r.get(4)?,
                    delivered: r.get(5)?,
                    read: r.get(6)?,
                    clicked: r.get(7)?,
                    replied: r.get(8)?,
                    opted_out: r.get(9)?,
                    converted: r.get(10)?,
                    held: 0,
                    held_converted: 0,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        // The holdouts: recipients with no message, who entered the stage all the same.
        let mut held = self.conn.prepare_cached(&format!(
            "SELECT k.name, r.channel, k.launched_at, count(*), coalesce(sum({CONVERTED}), 0) \
             FROM campaigns k CROSS JOIN campaign_recipients r ON r.campaign_id = k.id \
             WHERE k.launched_at >= ?1 AND k.launched_at < ?2 AND r.state = 'holdout' \
             GROUP BY k.id, r.channel"
        ))?;
        let mut found = held.query(params![from, to, stage, within])?;
        while let Some(r) = found.next()? {
            let (name, channel): (String, String) = (r.get(0)?, r.get(1)?);
            let at = rows.iter().position(|x| x.name == name && x.channel == channel);
            let row = match at {
                Some(i) => &mut rows[i],
                None => {
                    rows.push(CampaignRow { name, channel, launched_at: r.get(2)?, ..CampaignRow::default() });
                    rows.last_mut().expect("just pushed")
                }
            };
            row.held = r.get(3)?;
            row.held_converted = r.get(4)?;
        }
        rows.sort_by(|a, b| (a.launched_at, &a.name, &a.channel).cmp(&(b.launched_at, &b.name, &b.channel)));
        Ok(rows)
    }

    /// The surveys asked in [from, to), answered or not.
    pub fn report_csat(&self, from: Millis, to: Millis) -> Result<Vec<CsatRow>> {
        let sql = format!(
            "SELECT c.channel, s.agent, s.asked_at, s.score FROM csat s {} JOIN conversations c ON c.id = s.conversation_id \
             WHERE s.asked_at >= ?1 AND s.asked_at < ?2",
            self.plan("csat", "asked_at", from, to)?
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![from, to], |r| {
            Ok(CsatRow { channel: r.get(0)?, agent: r.get(1)?, asked_at: r.get(2)?, score: r.get(3)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Messages per hour, channel and sender, for the hours that begin in [from, to).
    pub fn report_volume(&self, from: Millis, to: Millis) -> Result<Vec<VolumeRow>> {
        const HOUR: Millis = 3_600_000;
        let mut stmt = self.conn.prepare_cached(
            "SELECT hour, channel, who, messages FROM volume WHERE hour >= ?1 AND hour < ?2 ORDER BY hour",
        )?;
        let (first, last) = (from.div_euclid(HOUR), to.div_euclid(HOUR) + i64::from(to.rem_euclid(HOUR) > 0));
        let rows = stmt.query_map(params![first, last], |r| {
            Ok(VolumeRow { hour: r.get(0)?, channel: r.get(1)?, who: r.get(2)?, messages: r.get(3)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// The condition that keeps a read to `ids` (?3 and ?4), none for every row: a range
/// the planner might prefer to the period's index.
fn id_range(ids: &std::ops::Range<i64>) -> &'static str {
    if *ids == (i64::MIN..i64::MAX) { " AND ?3 <= ?4" } else { " AND id >= ?3 AND id < ?4" }
}

/// What a message is to the reply clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Customer,
    Person,
    Bot,
}

fn role(direction: &str, kind: &str, author: Option<&str>, campaign: bool) -> Option<Role> {
    match direction {
        "in" if !matches!(kind, "click" | "system" | "reaction") => Some(Role::Customer),
        "out" if !matches!(kind, "note" | "system") && !campaign => {
            let author = author.unwrap_or("");
            if author.starts_with("campaign:") {
                None
            } else if super::is_machine(author) {
                Some(Role::Bot)
            } else {
                Some(Role::Person)
            }
        }
        _ => None,
    }
}

/// One conversation's blocks and session, as the triggers would have built them had
/// they seen its messages arrive in time order.
#[derive(Default)]
struct Walk {
    conversation: i64,
    channel: String,
    resolved: bool,
    assignee: Option<String>,
    /// The resolves known, oldest first: each ends a session.
    resolves: Vec<Millis>,
    /// Resolutions to record (the migration's, for the one resolve a store kept).
    record: bool,
    resolutions: Vec<(Millis, Millis)>,
    blocks: Vec<BlockRow>,
    open: Option<usize>,
    session: Option<Millis>,
}

impl Walk {
    /// Ends the sessions resolved by `at`.
    fn resolve_until(&mut self, at: Millis) {
        while let Some(&resolved) = self.resolves.first().filter(|r| **r <= at) {
            self.resolves.remove(0);
            if let Some(opened) = self.session.take() {
                if self.record {
                    self.resolutions.push((opened, resolved));
                }
                self.open = None;
            }
        }
    }

    fn step(&mut self, role: Role, at: Millis, author: Option<String>) {
        self.resolve_until(at);
        match role {
            Role::Customer => {
                match self.open {
                    Some(i) => {
                        let b = &mut self.blocks[i];
                        b.inbound += 1;
                        b.started_at = b.started_at.min(at);
                    }
                    None => {
                        self.blocks.push(BlockRow {
                            conversation: self.conversation,
                            channel: self.channel.clone(),
                            first: self.session.is_none(),
                            started_at: at,
                            inbound: 1,
                            outbound: 0,
                            bot_at: None,
                            replied_at: None,
                            agent: None,
                        });
                        self.open = Some(self.blocks.len() - 1);
                    }
                }
                self.session.get_or_insert(at);
            }
            Role::Person | Role::Bot => {
                if let Some(last) = self.blocks.last_mut() {
                    last.outbound += 1;
                }
                if let Some(i) = self.open {
                    let b = &mut self.blocks[i];
                    if role == Role::Person {
                        b.replied_at = Some(at);
                        b.agent = author;
                        self.open = None;
                    } else if b.bot_at.is_none() {
                        b.bot_at = Some(at);
                    }
                }
            }
        }
    }

    fn finish(mut self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        self.resolve_until(Millis::MAX);
        if self.resolved {
            self.open = None;
            self.session = None;
        }
        let mut insert = tx.prepare_cached(
            "INSERT INTO reply_blocks(conversation_id, channel, first, started_at, inbound, outbound, bot_at, \
               replied_at, agent, open) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for (i, b) in self.blocks.iter().enumerate() {
            insert.execute(params![
                b.conversation,
                b.channel,
                b.first,
                b.started_at,
                b.inbound,
                b.outbound,
                b.bot_at,
                b.replied_at,
                b.agent,
                self.open == Some(i)
            ])?;
        }
        for (opened, resolved) in self.resolutions {
            tx.prepare_cached(
                "INSERT INTO resolutions(conversation_id, channel, agent, opened_at, resolved_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![self.conversation, self.channel, self.assignee, opened, resolved])?;
        }
        if let Some(at) = self.session {
            tx.prepare_cached("UPDATE conversations SET session_started_at = ?2 WHERE id = ?1")?
                .execute(params![self.conversation, at])?;
        }
        Ok(())
    }
}

/// Builds the blocks, sessions and resolutions of the messages already stored, walking
/// each conversation in time order (migration 012). A store from before kept only the
/// last resolve of each conversation: that one ends a session and is recorded.
pub(super) fn backfill(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    walk_messages(tx, true)
}

/// The walk; `migrating`: the resolves are the conversations' last ones, to record;
/// otherwise the ones recorded, which end sessions.
fn walk_messages(tx: &Transaction<'_>, migrating: bool) -> rusqlite::Result<()> {
    let mut recorded =
        tx.prepare("SELECT resolved_at FROM resolutions WHERE conversation_id = ?1 ORDER BY resolved_at")?;
    let mut stmt = tx.prepare(
        "SELECT m.conversation_id, c.channel, c.status = 'resolved', c.resolved_at, c.assignee, \
           m.direction, m.kind, m.author, m.campaign_id IS NOT NULL, m.sent_at \
         FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         ORDER BY m.conversation_id, m.sent_at, m.id",
    )?;
    let mut rows = stmt.query([])?;
    let mut walk: Option<Walk> = None;
    while let Some(r) = rows.next()? {
        let conversation: i64 = r.get(0)?;
        if walk.as_ref().is_none_or(|w| w.conversation != conversation) {
            if let Some(done) = walk.take() {
                done.finish(tx)?;
            }
            let resolves = if migrating {
                r.get::<_, Option<Millis>>(3)?.into_iter().collect()
            } else {
                recorded.query_map([conversation], |r| r.get(0))?.collect::<rusqlite::Result<Vec<Millis>>>()?
            };
            walk = Some(Walk {
                conversation,
                channel: r.get(1)?,
                resolved: r.get(2)?,
                assignee: r.get(4)?,
                resolves,
                record: migrating,
                ..Walk::default()
            });
        }
        let (direction, kind, author): (String, String, Option<String>) = (r.get(5)?, r.get(6)?, r.get(7)?);
        let Some(role) = role(&direction, &kind, author.as_deref(), r.get(8)?) else { continue };
        if let Some(w) = walk.as_mut() {
            w.step(role, r.get(9)?, author);
        }
    }
    if let Some(done) = walk {
        done.finish(tx)?;
    }
    Ok(())
}
