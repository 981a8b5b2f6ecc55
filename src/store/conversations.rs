//! Conversations: the list the agent works through, read a page at a time in attention
//! order (unanswered first, then most recent), and the agent's changes to them.

use rusqlite::{OptionalExtension, Row, params};

use super::{Result, Store, StoreError, text_enum};
use crate::model::{ChannelKind, ContactId, ConversationId, ConversationStatus, Millis};

/// One line of the conversation list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConversationRow {
    pub id: ConversationId,
    pub channel: ChannelKind,
    pub external_chat_id: String,
    pub contact_id: Option<ContactId>,
    pub is_group: bool,
    pub title: String,
    pub status: ConversationStatus,
    pub last_message_at: Millis,
    pub last_inbound_at: Option<Millis>,
    pub last_preview: String,
    pub unread: i64,
    pub unanswered: bool,
    /// When the customer blocked us, if they have.
    pub blocked_at: Option<Millis>,
    /// The agent it belongs to, if anyone.
    pub assignee: Option<String>,
    /// When a snoozed conversation comes back (none: when the customer writes).
    pub snoozed_until: Option<Millis>,
    /// The filter's reader muted it (no bell for them); false when the list has no reader.
    pub muted: bool,
}

impl ConversationRow {
    /// Where the next page of the list starts.
    pub fn key(&self) -> ListKey {
        ListKey { unanswered: self.unanswered, last_message_at: self.last_message_at, id: self.id }
    }
}

/// A position in the attention order, for keyset pagination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListKey {
    pub unanswered: bool,
    pub last_message_at: Millis,
    pub id: ConversationId,
}

/// A private note that mentions an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub conversation: ConversationId,
    /// The conversation's title.
    pub title: String,
    pub author: String,
    pub note: String,
    pub at: Millis,
}

/// Which conversations the list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ConversationFilter {
    pub channel: Option<ChannelKind>,
    pub status: Option<ConversationStatus>,
    /// Whose: an agent's (`Some(Some(name))`), nobody's (`Some(None)`), or anyone's.
    pub assignee: Option<Option<String>>,
    /// Whose unread counts the rows carry: this agent's, or (None) the team's.
    pub reader: Option<String>,
    /// A person's conversations together (`by-person`): people in attention order (one
    /// with something unanswered first, then the latest activity), each person's
    /// conversations in attention order under them.
    pub by_person: bool,
}

/// Whether a conversation waits for an answer: its newest message that is neither a
/// notice nor a private note is the customer's.
const WAITING: &str = "coalesce((SELECT m.direction = 'in' FROM messages m WHERE m.conversation_id = conversations.id \
       AND m.kind NOT IN ('system', 'reaction', 'note') ORDER BY m.sent_at DESC, m.id DESC LIMIT 1), 0)";

const COLUMNS: &str = "id, channel, external_chat_id, contact_id, is_group, title, status, last_message_at, \
     last_inbound_at, last_preview, unread, unanswered, blocked_at, assignee, snoozed_until";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ConversationRow> {
    Ok(ConversationRow {
        id: r.get(0)?,
        channel: text_enum(r, 1)?,
        external_chat_id: r.get(2)?,
        contact_id: r.get(3)?,
        is_group: r.get(4)?,
        title: r.get(5)?,
        status: text_enum(r, 6)?,
        last_message_at: r.get(7)?,
        last_inbound_at: r.get(8)?,
        last_preview: r.get(9)?,
        unread: r.get(10)?,
        unanswered: r.get(11)?,
        blocked_at: r.get(12)?,
        assignee: r.get(13)?,
        snoozed_until: r.get(14)?,
        muted: false,
    })
}

/// A page in attention order (?3..?5: the key after which it starts), or with ?10 one
/// person's conversations in that order (read by the person's index).
const PAGE: &str = "SELECT {COLUMNS}, CASE WHEN ?9 IS NULL THEN unread ELSE coalesce((SELECT max(inbound_count - r.seen, 0) \
       FROM reads r WHERE r.agent = ?9 AND r.conversation_id = conversations.id), unread) END, \
       EXISTS (SELECT 1 FROM mutes m WHERE m.agent = ?9 AND m.conversation_id = conversations.id) \
     FROM conversations \
     WHERE {WHOSE} (?1 IS NULL OR channel = ?1) AND (?2 IS NULL OR status = ?2) \
       AND (?7 = 0 OR assignee IS ?8) \
       AND (?3 IS NULL OR (unanswered, last_message_at, id) < (?3, ?4, ?5)) \
       AND (last_inbound_at IS NOT NULL OR EXISTS (SELECT 1 FROM messages m \
         WHERE m.conversation_id = conversations.id AND m.status <> 'failed')) \
     ORDER BY unanswered DESC, last_message_at DESC, id DESC LIMIT ?6";

/// How many rows in attention order the list by person reads at a time.
const PEOPLE_CHUNK: usize = 200;

impl Store {
    /// A page of the list in attention order, starting after `after` (or at the top).
    /// A conversation nobody ever wrote in and whose every message
    /// failed (a send to a chat that does not exist, say) is left out: there is nobody
    /// there. Its messages stay in the store and the export.
    pub fn conversations_page(
        &self,
        filter: ConversationFilter,
        after: Option<ListKey>,
        limit: usize,
    ) -> Result<Vec<ConversationRow>> {
        if filter.by_person {
            return self.people_page(&filter, after, limit);
        }
        self.page(&filter, after, limit, None)
    }

    /// Rows in attention order after `after`, or (with `person`) all of one contact's.
    fn page(
        &self,
        filter: &ConversationFilter,
        after: Option<ListKey>,
        limit: usize,
        person: Option<ContactId>,
    ) -> Result<Vec<ConversationRow>> {
        let whose = if person.is_some() { "contact_id = ?10 AND" } else { "?10 IS NULL AND" };
        let sql = PAGE.replace("{COLUMNS}", COLUMNS).replace("{WHOSE}", whose);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                filter.channel.map(ChannelKind::as_str),
                filter.status.map(ConversationStatus::as_str),
                after.map(|k| k.unanswered),
                after.map(|k| k.last_message_at),
                after.map(|k| k.id),
                limit as i64,
                filter.assignee.is_some(),
                filter.assignee.clone().flatten(),
                filter.reader,
                person,
            ],
            |r| {
                let mut row = from_row(r)?;
                row.unread = r.get(15)?;
                row.muted = r.get(16)?;
                Ok(row)
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The list by person: people in attention order by their most urgent conversation,
    /// each with all of theirs (the filter's) after it; a group stands alone. It walks
    /// the attention order as the plain list does and reads each new person's
    /// conversations by their index, so a page costs about what a plain one does. A page
    /// ends with a whole person, so it may hold a few more than `limit`.
    fn people_page(
        &self,
        filter: &ConversationFilter,
        after: Option<ListKey>,
        limit: usize,
    ) -> Result<Vec<ConversationRow>> {
        let person_of = |r: &ConversationRow| r.contact_id.filter(|_| !r.is_group);
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut cursor = after;
        // After a row of a person: the rest of theirs, then on from where they stand.
        if let Some(key) = after
            && let Some(last) = self.conversation(key.id).ok()
            && let Some(person) = person_of(&last)
        {
            let theirs = self.page(filter, None, usize::MAX >> 1, Some(person))?;
            // Gone from the list since (resolved under a status filter, say): the next
            // refresh reads the list from the top.
            let Some(at) = theirs.iter().position(|r| r.id == key.id) else { return Ok(out) };
            cursor = Some(theirs[0].key());
            seen.insert(person);
            out.extend(theirs.into_iter().skip(at + 1));
        }
        while out.len() < limit {
            let chunk = self.page(filter, cursor, PEOPLE_CHUNK, None)?;
            let last_chunk = chunk.len() < PEOPLE_CHUNK;
            for row in chunk {
                cursor = Some(row.key());
                match person_of(&row) {
                    None => out.push(row),
                    Some(person) if seen.insert(person) => {
                        let theirs = self.page(filter, None, usize::MAX >> 1, Some(person))?;
                        // Their most urgent conversation comes first: if this is not it,
                        // that one stood before this page began, and they were shown there.
                        if theirs.first().map(|r| r.id) == Some(row.id) {
                            out.extend(theirs);
                        }
                    }
                    Some(_) => {}
                }
                if out.len() >= limit {
                    break;
                }
            }
            if last_chunk {
                break;
            }
        }
        Ok(out)
    }

    pub fn conversation(&self, id: ConversationId) -> Result<ConversationRow> {
        let sql = format!("SELECT {COLUMNS} FROM conversations WHERE id = ?1");
        self.conn
            .query_row(&sql, [id], from_row)
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("conversation {id} does not exist")))
    }

    /// The same person's next conversation on another channel after `from` (or, with
    /// none, another of theirs on the same channel), in channel order.
    pub fn other_conversation(&self, from: ConversationId) -> Result<Option<ConversationRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM conversations WHERE contact_id = \
               (SELECT contact_id FROM conversations WHERE id = ?1 AND NOT is_group) AND NOT is_group \
             ORDER BY channel, id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let theirs = stmt.query_map([from], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        let Some(at) = theirs.iter().position(|r| r.id == from) else { return Ok(None) };
        let here = theirs[at].channel;
        let next = |same: bool| {
            (1..theirs.len()).map(|step| &theirs[(at + step) % theirs.len()]).find(|r| (r.channel == here) == same)
        };
        Ok(next(false).or_else(|| next(true)).cloned())
    }

    pub fn find_conversation(&self, channel: ChannelKind, chat_id: &str) -> Result<Option<ConversationId>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM conversations WHERE channel = ?1 AND external_chat_id = ?2",
                params![channel.as_str(), chat_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// `agent` has read the conversation: their unread count clears, and the team's.
    pub fn mark_read(&self, id: ConversationId, agent: &str) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("UPDATE conversations SET unread = 0 WHERE id = ?1 AND unread <> 0", [id])?;
        tx.execute(
            "INSERT INTO reads(agent, conversation_id, seen) SELECT ?2, id, inbound_count FROM conversations WHERE id = ?1 \
             ON CONFLICT(agent, conversation_id) DO UPDATE SET seen = excluded.seen",
            params![id, agent],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Resolved, snoozed or pending (the agent waits on the customer) takes the
    /// conversation out of triage (nothing waits for an answer there); open puts it back
    /// as its messages say: waiting when the customer spoke last. A snooze's time is cleared (`snooze` sets one).
    pub fn set_status(&self, id: ConversationId, status: ConversationStatus) -> Result<()> {
        self.set_status_at(id, status, crate::model::now_ms())
    }

    /// `set_status` at a given time: what the reports record as the resolve.
    pub fn set_status_at(&self, id: ConversationId, status: ConversationStatus, now: Millis) -> Result<()> {
        self.conn.execute(
            &format!(
                "UPDATE conversations SET status = ?2, snoozed_until = NULL, \
                   unanswered = CASE WHEN ?2 IN ('resolved', 'snoozed', 'pending') THEN 0 ELSE {WAITING} END, \
                   resolved_at = CASE WHEN ?2 = 'resolved' THEN ?3 ELSE resolved_at END \
                 WHERE id = ?1"
            ),
            params![id, status.as_str(), now],
        )?;
        Ok(())
    }

    /// Snoozes a conversation until `until`, or (None) until the customer writes. A new
    /// message from them wakes it either way.
    pub fn snooze(&self, id: ConversationId, until: Option<Millis>) -> Result<()> {
        self.conn.execute(
            "UPDATE conversations SET status = 'snoozed', snoozed_until = ?2, unanswered = 0 WHERE id = ?1",
            params![id, until],
        )?;
        Ok(())
    }

    /// Wakes the conversations whose snooze is due by `now`: open again, and waiting if
    /// the customer spoke last. Returns them.
    pub fn wake_snoozed(&self, now: Millis) -> Result<Vec<ConversationId>> {
        let mut stmt = self.conn.prepare(&format!(
            "UPDATE conversations SET status = 'open', snoozed_until = NULL, unanswered = {WAITING} \
             WHERE status = 'snoozed' AND snoozed_until <= ?1 RETURNING id"
        ))?;
        let woken = stmt.query_map([now], |r| r.get(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(woken)
    }

    /// When the next snooze is due, if any is timed.
    pub fn next_wake(&self) -> Result<Option<Millis>> {
        Ok(self.conn.query_row(
            "SELECT min(snoozed_until) FROM conversations WHERE status = 'snoozed' AND snoozed_until IS NOT NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// This console's heartbeat: which conversation it has open, and whether its agent
    /// is typing. Then who else (other consoles, seen within `fresh` ms) has the same one
    /// open: (agent, typing).
    pub fn heartbeat(
        &self,
        console: &str,
        agent: &str,
        conversation: Option<ConversationId>,
        typing: bool,
        now: Millis,
        fresh: Millis,
    ) -> Result<Vec<(String, bool)>> {
        // One commit for both rows: consoles beat every two seconds.
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO presence(console, agent, conversation_id, typing, seen_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT(console) DO UPDATE SET agent = excluded.agent, conversation_id = excluded.conversation_id, \
               typing = excluded.typing, seen_at = excluded.seen_at",
            params![console, agent, conversation, typing, now],
        )?;
        // The agent is known from now on (the assign picker offers them).
        tx.execute(
            "INSERT INTO agents(name, seen_at) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET seen_at = excluded.seen_at",
            params![agent, now],
        )?;
        tx.commit()?;
        let Some(conversation) = conversation else { return Ok(Vec::new()) };
        let mut stmt = self.conn.prepare_cached(
            "SELECT agent, max(typing) FROM presence WHERE conversation_id = ?1 AND console <> ?2 AND seen_at >= ?3 \
             GROUP BY agent ORDER BY agent",
        )?;
        let rows = stmt.query_map(params![conversation, console, now - fresh], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Notes that mention `@agent` written since `since` by someone else, oldest first.
    pub fn mentions(&self, agent: &str, since: Millis) -> Result<Vec<Mention>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.conversation_id, c.title, coalesce(m.author, ''), m.body, m.created_at FROM messages m \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.kind = 'note' AND m.created_at > ?2 AND coalesce(m.author, '') <> ?1 \
               AND instr(fold(m.body), fold('@' || ?1)) > 0 \
             ORDER BY m.created_at LIMIT 20",
        )?;
        let rows = stmt.query_map(params![agent, since], |r| {
            Ok(Mention { conversation: r.get(0)?, title: r.get(1)?, author: r.get(2)?, note: r.get(3)?, at: r.get(4)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// This console is gone.
    pub fn leave(&self, console: &str) -> Result<()> {
        self.conn.execute("DELETE FROM presence WHERE console = ?1", [console])?;
        Ok(())
    }

    /// Gives the conversation to `agent`, or to nobody.
    pub fn assign(&self, id: ConversationId, agent: Option<&str>) -> Result<()> {
        self.conn.execute("UPDATE conversations SET assignee = ?2 WHERE id = ?1", params![id, agent])?;
        Ok(())
    }
}
