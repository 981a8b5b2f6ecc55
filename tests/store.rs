//! Store tests on `:memory:` with the real migrations: idempotent ingest, the cursor in
//! the same transaction, keyset pages, and the outbox's states.

mod common;

use common::inbound;
use switchboard::model::{ChannelKind, ConversationStatus, DeliveryStatus, InboundEvent, Outgoing};
use switchboard::store::{ConversationFilter, SendTarget, Store};

const T0: i64 = 1_700_000_000_000;

#[test]
fn the_same_update_twice_is_stored_once() {
    let mut store = Store::open_in_memory().unwrap();
    let event = inbound(111, "Анна", 42, "Добрый день! 👋", T0);
    let first = store
        .ingest(std::slice::from_ref(&event), Some(("telegram", "offset", "8".into())), switchboard::model::now_ms())
        .unwrap();
    let second =
        store.ingest(&[event], Some(("telegram", "offset", "8".into())), switchboard::model::now_ms()).unwrap();
    assert_eq!((first.stored, first.duplicates), (1, 0));
    assert_eq!((second.stored, second.duplicates), (0, 1));
    assert_eq!(store.count("messages").unwrap(), 1);
    assert_eq!(store.count("contacts").unwrap(), 1);
    assert_eq!(store.sync_value("telegram", "offset").unwrap().as_deref(), Some("8"));
    let rows = store.conversations_page(ConversationFilter::default(), None, 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].unread, 1, "a duplicate does not count as unread again");
    assert!(rows[0].unanswered);
    assert_eq!(rows[0].last_preview, "Добрый день! 👋");
}

#[test]
fn a_failed_ingest_keeps_neither_messages_nor_cursor() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .ingest(&[inbound(1, "A", 1, "hi", T0)], Some(("telegram", "offset", "2".into())), switchboard::model::now_ms())
        .unwrap();
    // Break the schema under the next ingest so it fails half-way.
    store.conn().execute_batch("CREATE TRIGGER boom BEFORE INSERT ON messages WHEN new.body = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;").unwrap();
    let events = vec![inbound(1, "A", 2, "fine", T0 + 1), inbound(1, "A", 3, "boom", T0 + 2)];
    assert!(store.ingest(&events, Some(("telegram", "offset", "4".into())), switchboard::model::now_ms()).is_err());
    assert_eq!(store.count("messages").unwrap(), 1);
    assert_eq!(store.sync_value("telegram", "offset").unwrap().as_deref(), Some("2"));
}

/// Group commit: batches stored together each get their own answer; a batch that fails
/// fails alone, and the others (with their cursors) are stored exactly once.
#[test]
fn batches_stored_together_answer_each_and_a_failing_one_fails_alone() {
    let mut store = Store::open_in_memory().unwrap();
    let now = switchboard::model::now_ms();
    let first = vec![inbound(1, "A", 1, "один", T0), inbound(2, "B", 1, "two", T0 + 1)];
    let again = vec![inbound(1, "A", 1, "один", T0)];
    let third = vec![inbound(3, "C", 1, "three 👋", T0 + 2)];
    let reports = store.ingest_together(
        &[
            (&first, Some(("telegram", "offset", "10".into()))),
            (&again, None),
            (&third, Some(("vk", "ts", "7".into()))),
        ],
        now,
    );
    let stored: Vec<_> = reports.into_iter().map(|r| r.unwrap()).map(|r| (r.stored, r.duplicates)).collect();
    assert_eq!(stored, [(2, 0), (0, 1), (1, 0)], "the copy in the second batch is recognised within the group");
    assert_eq!(store.count("messages").unwrap(), 3);
    assert_eq!(store.sync_value("telegram", "offset").unwrap().as_deref(), Some("10"));
    assert_eq!(store.sync_value("vk", "ts").unwrap().as_deref(), Some("7"));

    store.conn().execute_batch("CREATE TRIGGER boom BEFORE INSERT ON messages WHEN new.body = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;").unwrap();
    let good = vec![inbound(4, "D", 1, "fine", T0 + 3)];
    let bad = vec![inbound(5, "E", 1, "ok so far", T0 + 4), inbound(5, "E", 2, "boom", T0 + 5)];
    let later = vec![inbound(6, "F", 1, "after", T0 + 6)];
    let reports = store.ingest_together(
        &[(&good, None), (&bad, Some(("telegram", "offset", "20".into()))), (&later, Some(("vk", "ts", "8".into())))],
        now,
    );
    assert!(reports[0].is_ok() && reports[1].is_err() && reports[2].is_ok(), "{reports:?}");
    let bodies: Vec<String> = store
        .conn()
        .prepare("SELECT body FROM messages ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(bodies, ["один", "two", "three 👋", "fine", "after"], "nothing of the failed batch, the rest once");
    assert_eq!(store.sync_value("telegram", "offset").unwrap().as_deref(), Some("10"), "its cursor stays");
    assert_eq!(store.sync_value("vk", "ts").unwrap().as_deref(), Some("8"));
}

#[test]
fn the_list_pages_by_key_unanswered_first_then_newest() {
    let mut store = Store::open_in_memory().unwrap();
    for user in 0..25i64 {
        store
            .ingest(
                &[inbound(100 + user, &format!("user {user}"), 1, "hello", T0 + user * 1000)],
                None,
                switchboard::model::now_ms(),
            )
            .unwrap();
    }
    // Answer every third conversation: they drop below the unanswered ones.
    for user in (0..25i64).step_by(3) {
        let id = store.find_conversation(ChannelKind::Telegram, &(100 + user).to_string()).unwrap().unwrap();
        store.enqueue(id, "reply", "agent", 10, switchboard::model::now_ms()).unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.conversations_page(ConversationFilter::default(), after, 7).unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|r| r.key());
        seen.extend(page);
    }
    assert_eq!(seen.len(), 25);
    let unanswered: Vec<bool> = seen.iter().map(|r| r.unanswered).collect();
    let first_answered = unanswered.iter().position(|u| !u).unwrap();
    assert!(unanswered[first_answered..].iter().all(|u| !u), "unanswered first: {unanswered:?}");
    for pair in seen[..first_answered].windows(2) {
        assert!(pair[0].last_message_at >= pair[1].last_message_at);
    }
    let mut ids: Vec<_> = seen.iter().map(|r| r.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 25, "no row twice across pages");
    let filtered = ConversationFilter { channel: Some(ChannelKind::WhatsApp), ..Default::default() };
    assert!(store.conversations_page(filtered, None, 10).unwrap().is_empty());
}

#[test]
fn message_windows_walk_a_long_history() {
    let mut store = Store::open_in_memory().unwrap();
    let events: Vec<InboundEvent> = (0..500).map(|i| inbound(7, "Long", i, &format!("m{i}"), T0 + i * 1000)).collect();
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    let conv = store.find_conversation(ChannelKind::Telegram, "7").unwrap().unwrap();
    let newest = store.messages_before(conv, None, 100).unwrap();
    assert_eq!(newest.first().unwrap().body, "m400");
    assert_eq!(newest.last().unwrap().body, "m499");
    let older = store.messages_before(conv, Some(newest[0].key()), 100).unwrap();
    assert_eq!((older[0].body.as_str(), older[99].body.as_str()), ("m300", "m399"));
    let newer = store.messages_after(conv, older[99].key(), 50).unwrap();
    assert_eq!(newer[0].body, "m400");
    let between = store.messages_between(conv, older[0].key(), older[9].key(), 100).unwrap();
    assert_eq!(between.len(), 10);
}

#[test]
fn outbox_states_from_queued_to_sent_retry_and_failed() {
    let mut store = Store::open_in_memory().unwrap();
    let target = SendTarget { channel: ChannelKind::Telegram, chat_id: "555".into() };
    let (conv, a) =
        store.enqueue_to_chat(&target, &Outgoing::text("first"), "script", switchboard::model::now_ms()).unwrap();
    let b = store.enqueue(conv, "second", "agent", 10, switchboard::model::now_ms()).unwrap();
    let c = store.enqueue(conv, "third", "agent", 10, switchboard::model::now_ms()).unwrap();
    assert_eq!(store.message(a).unwrap().status, DeliveryStatus::Queued);
    let due = store.outbox_due(ChannelKind::Telegram, i64::MAX, 10).unwrap();
    assert_eq!(due.iter().map(|d| d.body.as_str()).collect::<Vec<_>>(), ["first", "second", "third"]);

    store.mark_sending(a, switchboard::model::now_ms()).unwrap();
    store.mark_sent(a, Some("900"), T0).unwrap();
    store.retry_later(b, i64::MAX - 1, "network: timed out", switchboard::model::now_ms()).unwrap();
    store.fail(c, "the customer blocked the bot", switchboard::model::now_ms()).unwrap();

    assert_eq!(store.message(a).unwrap().status, DeliveryStatus::Sent);
    let retried = store.message(b).unwrap();
    assert_eq!((retried.status, retried.error.as_deref()), (DeliveryStatus::Queued, Some("network: timed out")));
    let failed = store.message(c).unwrap();
    assert_eq!(
        (failed.status, failed.error.as_deref()),
        (DeliveryStatus::Failed, Some("the customer blocked the bot"))
    );
    assert_eq!(store.count("outbox").unwrap(), 1, "only the retry is left to do");
    assert!(store.outbox_due(ChannelKind::Telegram, T0, 10).unwrap().is_empty(), "not due yet");
}

#[test]
fn a_send_interrupted_by_a_crash_is_queued_again() {
    let mut store = Store::open_in_memory().unwrap();
    let target = SendTarget { channel: ChannelKind::Telegram, chat_id: "1".into() };
    let (_, id) = store.enqueue_to_chat(&target, &Outgoing::text("hi"), "agent", switchboard::model::now_ms()).unwrap();
    store.mark_sending(id, switchboard::model::now_ms()).unwrap();
    assert_eq!(switchboard::sync::recovery::recover(&mut store, switchboard::model::now_ms()).unwrap().requeued, 1);
    assert_eq!(store.message(id).unwrap().status, DeliveryStatus::Queued);
    assert_eq!(store.outbox_due(ChannelKind::Telegram, i64::MAX, 10).unwrap().len(), 1);
}

#[test]
fn a_new_message_reopens_a_resolved_conversation() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(9, "Bob", 1, "hi", T0)], None, switchboard::model::now_ms()).unwrap();
    let conv = store.find_conversation(ChannelKind::Telegram, "9").unwrap().unwrap();
    store.set_status(conv, ConversationStatus::Resolved).unwrap();
    store.mark_read(conv, "maria").unwrap();
    store.ingest(&[inbound(9, "Bob", 2, "one more thing", T0 + 1)], None, switchboard::model::now_ms()).unwrap();
    let row = store.conversation(conv).unwrap();
    assert_eq!((row.status, row.unread, row.unanswered), (ConversationStatus::Open, 1, true));
}

#[test]
fn the_consent_ledger_is_append_only() {
    let store = Store::open_in_memory().unwrap();
    store.conn().execute("INSERT INTO contacts(display_name, created_at) VALUES ('A', 0)", []).unwrap();
    store
        .conn()
        .execute(
            "INSERT INTO consent_events(contact_id, channel, purpose, action, source, at) \
             VALUES (1, 'telegram', 'marketing', 'opt_in', 'import', 0)",
            [],
        )
        .unwrap();
    assert!(store.conn().execute("UPDATE consent_events SET action = 'opt_out'", []).is_err());
    assert!(store.conn().execute("DELETE FROM consent_events", []).is_err());
}

#[test]
fn every_table_of_the_data_model_exists() {
    let store = Store::open_in_memory().unwrap();
    for table in [
        "contacts",
        "identities",
        "conversations",
        "messages",
        "messages_fts",
        "message_events",
        "consent_events",
        "tags",
        "contact_tags",
        "segments",
        "campaigns",
        "campaign_recipients",
        "outbox",
        "sync_state",
    ] {
        let n: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM sqlite_master WHERE name = ?1", [table], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "{table}");
    }
    // The full-text index follows the messages.
    let mut store = store;
    store.ingest(&[inbound(1, "A", 1, "доставка завтра", T0)], None, switchboard::model::now_ms()).unwrap();
    let hits: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'доставка'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(hits, 1);
}

#[test]
fn a_store_file_reopens_at_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    Store::open(&path).unwrap();
    let store = Store::open(&path).unwrap();
    let version: i64 = store.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, switchboard::store::SCHEMA_VERSION, "every migration applied");
    let mode: String = store.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn one_and_two_letter_beginnings_are_found_through_the_prefix_indexes() {
    let mut store = Store::open_in_memory().unwrap();
    let events = [
        inbound(1, "A", 1, "Трек-номер не работает", T0),
        inbound(1, "A", 2, "tracking: \u{1b}[31mERROR 502\u{1b}[0m", T0 + 1),
        inbound(2, "B", 1, "Ёлка приехала", T0 + 2),
    ];
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    let sql: String =
        store.conn().query_row("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'", [], |r| r.get(0)).unwrap();
    assert!(sql.contains("prefix = '1 2'"), "{sql}");
    let bodies = |q: &str| -> Vec<String> { store.search(q, None, 10).unwrap().into_iter().map(|h| h.body).collect() };
    assert_eq!(bodies("т"), ["Трек-номер не работает"]);
    assert_eq!(bodies("t"), ["tracking: \u{1b}[31mERROR 502\u{1b}[0m"]);
    assert_eq!(bodies("er"), ["tracking: \u{1b}[31mERROR 502\u{1b}[0m"], "the escape sequence is not part of the word");
    assert_eq!(bodies("ел"), ["Ёлка приехала"], "е finds ё");
    assert_eq!(bodies("тр"), ["Трек-номер не работает"]);
}
