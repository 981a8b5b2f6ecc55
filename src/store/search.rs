//! Full-text search over every message (FTS5, kept in step by triggers): the words an
//! agent types, each matched as a word or a word's beginning, newest messages first.

use rusqlite::params;

use super::{Result, Store, text_enum};
use crate::model::{ChannelKind, ConversationId, MessageId, Millis};

/// One message that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub message: MessageId,
    pub conversation: ConversationId,
    pub channel: ChannelKind,
    pub title: String,
    pub body: String,
    pub sent_at: Millis,
}

impl Store {
    /// Conversations whose title (the customer's name, a group's title) or whose
    /// contact's phone or handle contains `query`, folded (any case, `ё` as `е`): the most
    /// recent first.
    pub fn find_conversations(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let q = crate::text::fold(query.trim());
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id, c.channel, c.title, c.last_preview, c.last_message_at FROM conversations c \
             LEFT JOIN contacts k ON k.id = c.contact_id \
             WHERE instr(c.title_folded, ?1) > 0 OR instr(coalesce(k.phone, ''), ?1) > 0 \
               OR (ltrim(?1, '@') <> '' AND c.contact_id IN (SELECT i.contact_id FROM identities i \
                     WHERE i.username IS NOT NULL AND instr(fold(i.username), ltrim(?1, '@')) > 0)) \
             ORDER BY c.last_message_at DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![q, limit as i64], |r| {
            Ok(SearchHit {
                message: MessageId(0),
                conversation: r.get(0)?,
                channel: text_enum(r, 1)?,
                title: r.get(2)?,
                body: r.get(3)?,
                sent_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Messages with every word of `query` (any case, diacritics ignored; the last word
    /// may be unfinished), newest first, `limit` of them from before `before` (an id, for
    /// the next page). Words are quoted for FTS5, so nothing typed is taken as syntax.
    pub fn search(&self, query: &str, before: Option<MessageId>, limit: usize) -> Result<Vec<SearchHit>> {
        let Some(expression) = fts_expression(query) else { return Ok(Vec::new()) };
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.id, m.conversation_id, c.channel, c.title, m.body, m.sent_at \
             FROM messages_fts f JOIN messages m ON m.id = f.rowid JOIN conversations c ON c.id = m.conversation_id \
             WHERE messages_fts MATCH ?1 AND f.rowid < ?2 ORDER BY f.rowid DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![expression, before.map_or(i64::MAX, |b| b.0), limit as i64], |r| {
            Ok(SearchHit {
                message: r.get(0)?,
                conversation: r.get(1)?,
                channel: text_enum(r, 2)?,
                title: r.get(3)?,
                body: r.get(4)?,
                sent_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// `доставка заказ` → `"доставка" "заказ"*`: every word required, the last a prefix.
pub fn fts_expression(query: &str) -> Option<String> {
    let words: Vec<&str> = query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let last = words.len().checked_sub(1)?;
    // A word still being typed (no space after it yet) matches as a beginning.
    let typing = query.chars().last().is_some_and(char::is_alphanumeric);
    let terms: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let star = if i == last && typing { "*" } else { "" };
            // The tokenizer folds case but not `ё` (it strips Latin diacritics only):
            // a word with `е` or `ё` also matches as written the other way.
            let variants = e_variants(w);
            if variants.len() == 1 {
                return format!("\"{w}\"{star}");
            }
            let any: Vec<String> = variants.iter().map(|v| format!("\"{v}\"{star}")).collect();
            format!("({})", any.join(" OR "))
        })
        .collect();
    // Explicit AND: FTS5 takes an implicit one only between plain phrases, not after a
    // parenthesised group.
    Some(terms.join(" AND "))
}

impl Store {
    /// The next message (`forward`, by time) or the previous one after or before `from`
    /// in one conversation that has every word of `query`: what `n` and `N` move to.
    pub fn next_match(
        &self,
        conversation: ConversationId,
        query: &str,
        from: super::MessageKey,
        forward: bool,
    ) -> Result<Option<super::MessageKey>> {
        let Some(expression) = fts_expression(query) else { return Ok(None) };
        let sql = if forward {
            "SELECT m.sent_at, m.id FROM messages_fts f JOIN messages m ON m.id = f.rowid \
             WHERE messages_fts MATCH ?1 AND m.conversation_id = ?2 AND (m.sent_at, m.id) > (?3, ?4) \
             ORDER BY m.sent_at, m.id LIMIT 1"
        } else {
            "SELECT m.sent_at, m.id FROM messages_fts f JOIN messages m ON m.id = f.rowid \
             WHERE messages_fts MATCH ?1 AND m.conversation_id = ?2 AND (m.sent_at, m.id) < (?3, ?4) \
             ORDER BY m.sent_at DESC, m.id DESC LIMIT 1"
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params![expression, conversation, from.sent_at, from.id])?;
        match rows.next()? {
            Some(r) => Ok(Some(super::MessageKey { sent_at: r.get(0)?, id: r.get(1)? })),
            None => Ok(None),
        }
    }
}

/// The words of a query as the view marks them: folded (any case, `ё` as `е`).
pub fn query_words(query: &str) -> Vec<String> {
    query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(crate::text::fold).collect()
}

/// `word` with each of its first three `е`/`ё` (either case) written both ways, and the
/// rest as typed: "елка" is also "ёлка". At most eight spellings.
fn e_variants(word: &str) -> Vec<String> {
    let mut variants = vec![String::new()];
    let mut swapped = 0;
    for c in word.chars() {
        let other = match c {
            'е' => Some('ё'),
            'ё' => Some('е'),
            'Е' => Some('Ё'),
            'Ё' => Some('Е'),
            _ => None,
        };
        match other {
            Some(o) if swapped < 3 => {
                swapped += 1;
                variants = variants.into_iter().flat_map(|v| [format!("{v}{c}"), format!("{v}{o}")]).collect();
            }
            _ => variants.iter_mut().for_each(|v| v.push(c)),
        }
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_never_become_syntax() {
        assert_eq!(fts_expression("доставка заказ").as_deref(), Some("\"доставка\" AND \"заказ\"*"));
        assert_eq!(fts_expression("курьер позвонит").as_deref(), Some("(\"курьер\" OR \"курьёр\") AND \"позвонит\"*"));
        // And FTS5 takes it: a group followed by a word is no syntax error.
        let store = Store::open_in_memory().unwrap();
        for q in ["курьер позвонит", "позвонит курьер", "ещё её Ёлка", "e"] {
            store.search(q, None, 5).unwrap_or_else(|e| panic!("{q}: {e}"));
        }
        assert_eq!(
            fts_expression("NEAR(a b) OR \"x").as_deref(),
            Some("\"NEAR\" AND \"a\" AND \"b\" AND \"OR\" AND \"x\"*")
        );
        assert_eq!(fts_expression("order #5512 ").as_deref(), Some("\"order\" AND \"5512\""));
        assert_eq!(fts_expression("  ?! "), None);
        assert_eq!(fts_expression("елка").as_deref(), Some("(\"елка\"* OR \"ёлка\"*)"));
    }

    #[test]
    fn finds_words_newest_first_in_any_case_and_pages() {
        use crate::model::{ChatRef, InboundEvent, InboundMessage, Peer};
        let mut store = Store::open_in_memory().unwrap();
        let texts = ["Где моя ДОСТАВКА?", "delivery tomorrow", "Доставка завтра", "Спасибо", "доставку перенесли"];
        for (i, text) in texts.iter().enumerate() {
            let chat = ChatRef {
                channel: ChannelKind::Telegram,
                external_chat_id: "1".into(),
                is_group: false,
                title: "Анна".into(),
            };
            let from = Peer { external_id: "1".into(), display_name: "Анна".into(), username: None, locale: None };
            let m = InboundMessage::text(chat, from, i.to_string(), text.to_string(), 1_000 + i as i64);
            store.ingest(&[InboundEvent::Message(m)], None, 1_800_000_000_000).unwrap();
        }
        let bodies = |hits: Vec<SearchHit>| hits.into_iter().map(|h| h.body).collect::<Vec<_>>();
        assert_eq!(bodies(store.search("доставка", None, 10).unwrap()), ["Доставка завтра", "Где моя ДОСТАВКА?"]);
        assert_eq!(bodies(store.search("достав", None, 10).unwrap()).len(), 3, "the last word is a prefix");
        let first = store.search("достав", None, 1).unwrap();
        assert_eq!(bodies(store.search("достав", Some(first[0].message), 10).unwrap()).len(), 2);
        assert!(store.search("\"unbalanced", None, 10).unwrap().is_empty());
        assert_eq!(store.search("завтра доставка", None, 10).unwrap().len(), 1, "every word is required");
    }
}
