//! The agent's workflow in the store and from the command line: resolving takes a
//! conversation out of triage, a customer's message reopens it, snoozes wake on time
//! (the scheduler's clock is a parameter: no test waits), and scripts list, assign,
//! snooze, resolve and reopen conversations.

mod common;

use common::{cli, inbound};
use serde_json::Value;
use switchboard::model::{ChannelKind, ConversationStatus};
use switchboard::store::Store;
use switchboard::sync::scheduler;

const T0: i64 = 1_773_134_000_000;
const HOUR: i64 = 3_600_000;

fn waiting(store: &Store, id: switchboard::model::ConversationId) -> (ConversationStatus, bool) {
    let row = store.conversation(id).unwrap();
    (row.status, row.unanswered)
}

#[test]
fn resolving_leaves_triage_and_the_customer_brings_it_back() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(42, "Анна", 1, "Где мой заказ?", T0)], None, T0).unwrap();
    let id = store.find_conversation(ChannelKind::Telegram, "42").unwrap().unwrap();
    assert_eq!(waiting(&store, id), (ConversationStatus::Open, true));
    store.set_status(id, ConversationStatus::Resolved).unwrap();
    assert_eq!(waiting(&store, id), (ConversationStatus::Resolved, false), "out of triage: no ●, `n` skips it");
    // Reopened by hand: waiting again, as the customer spoke last.
    store.set_status(id, ConversationStatus::Open).unwrap();
    assert_eq!(waiting(&store, id), (ConversationStatus::Open, true));
    store.set_status(id, ConversationStatus::Resolved).unwrap();
    store.ingest(&[inbound(42, "Анна", 2, "Ещё вопрос", T0 + HOUR)], None, T0 + HOUR).unwrap();
    assert_eq!(waiting(&store, id), (ConversationStatus::Open, true), "a new message reopens it");
    // Pending: the agent waits on the customer; out of triage until they write.
    store.set_status(id, ConversationStatus::Pending).unwrap();
    assert_eq!(waiting(&store, id), (ConversationStatus::Pending, false));
    store.ingest(&[inbound(42, "Анна", 3, "Вот номер заказа: 5512", T0 + 2 * HOUR)], None, T0 + 2 * HOUR).unwrap();
    assert_eq!(waiting(&store, id), (ConversationStatus::Open, true));
}

#[test]
fn a_snooze_wakes_on_time_and_until_reply_waits_for_the_customer() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(42, "Анна", 1, "Перезвоните завтра", T0)], None, T0).unwrap();
    store.ingest(&[inbound(43, "Иван", 1, "Жду счёт", T0)], None, T0).unwrap();
    let anna = store.find_conversation(ChannelKind::Telegram, "42").unwrap().unwrap();
    let ivan = store.find_conversation(ChannelKind::Telegram, "43").unwrap().unwrap();
    store.snooze(anna, Some(T0 + 2 * HOUR)).unwrap();
    store.snooze(ivan, None).unwrap();
    assert_eq!(waiting(&store, anna), (ConversationStatus::Snoozed, false));
    assert_eq!(store.next_wake().unwrap(), Some(T0 + 2 * HOUR));
    assert!(scheduler::tick(&store, T0 + 2 * HOUR - 1).unwrap().is_empty(), "not yet");
    assert_eq!(scheduler::tick(&store, T0 + 2 * HOUR).unwrap(), vec![anna]);
    assert_eq!(waiting(&store, anna), (ConversationStatus::Open, true), "back, and still waiting");
    // Until the customer writes: no clock wakes it; their message does.
    assert!(scheduler::tick(&store, T0 + 1000 * HOUR).unwrap().is_empty());
    assert_eq!(waiting(&store, ivan).0, ConversationStatus::Snoozed);
    store.ingest(&[inbound(43, "Иван", 2, "Счёт пришёл?", T0 + 3 * HOUR)], None, T0 + 3 * HOUR).unwrap();
    assert_eq!(waiting(&store, ivan), (ConversationStatus::Open, true));
    assert_eq!(store.next_wake().unwrap(), None);
}

#[test]
fn scripts_list_assign_snooze_resolve_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[ui]\nagent_name = \"maria\"\n").unwrap();
    let data = dir.path().join("data");
    {
        std::fs::create_dir_all(&data).unwrap();
        let mut store = Store::open(&data.join("switchboard.db")).unwrap();
        let now = switchboard::model::now_ms();
        store.ingest(&[inbound(42, "Анна Петрова", 1, "Здравствуйте", now)], None, now).unwrap();
        store.ingest(&[inbound(43, "Иван", 1, "Добрый день", now)], None, now).unwrap();
    }
    let run = |args: &[&str]| {
        let out = cli(&config, &data, args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let jsonl = |args: &[&str]| -> Vec<Value> { run(args).lines().map(|l| serde_json::from_str(l).unwrap()).collect() };
    let all = jsonl(&["conversations", "--format", "jsonl"]);
    assert_eq!(all.len(), 2);
    let anna = all.iter().find(|c| c["title"] == "Анна Петрова").unwrap()["id"].to_string();
    run(&["conversation", &anna, "assign", "--me"]);
    let mine = jsonl(&["conversations", "--assignee", "me", "--format", "jsonl"]);
    assert_eq!((mine.len(), mine[0]["assignee"].clone()), (1, Value::from("maria")));
    assert_eq!(jsonl(&["conversations", "--assignee", "none", "--format", "jsonl"]).len(), 1);
    run(&["conversation", &anna, "snooze", "--for", "2h"]);
    let snoozed = jsonl(&["conversations", "--status", "snoozed", "--format", "jsonl"]);
    assert_eq!(snoozed.len(), 1);
    assert!(snoozed[0]["snoozed_until"].is_string());
    run(&["conversation", &anna, "resolve"]);
    assert_eq!(jsonl(&["conversations", "--status", "resolved", "--format", "jsonl"])[0]["unanswered"], false);
    run(&["conversation", &anna, "reopen"]);
    run(&["conversation", &anna, "note", "Перезвонить после обеда"]);
    let notes: Vec<Value> =
        jsonl(&["export", "messages", "--format", "jsonl"]).into_iter().filter(|m| m["kind"] == "note").collect();
    assert_eq!((notes.len(), notes[0]["author"].clone()), (1, Value::from("maria")));
    assert_eq!(jsonl(&["conversations", "--status", "open", "--format", "jsonl"]).len(), 2);
    let text = run(&["conversations"]);
    assert!(text.contains("Анна Петрова") && text.contains("maria"), "{text}");
    // Mistakes are named.
    for (args, says) in [
        (vec!["conversation", "999", "resolve"], "no conversation 999"),
        (vec!["conversation", &anna, "snooze", "--for", "soon"], "--for `soon`"),
        (vec!["conversation", &anna, "snooze", "--until", "2001-01-01 09:00"], "has passed"),
        (vec!["conversations", "--status", "sleeping"], "--status"),
    ] {
        let out = cli(&config, &data, &args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn resend_queues_the_failed_replies_again() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(42, "Анна", 1, "Где мой заказ?", T0)], None, T0).unwrap();
    let id = store.find_conversation(ChannelKind::Telegram, "42").unwrap().unwrap();
    let reply = store.enqueue(id, "Уже в пути", "maria", 10, T0 + 1).unwrap();
    store.fail(reply, "network: connection reset", T0 + 2).unwrap();
    assert_eq!(store.resend_failed(id, "maria", T0 + 3).unwrap(), 1);
    assert_eq!(store.message(reply).unwrap().status, switchboard::model::DeliveryStatus::Queued);
    assert_eq!(store.outbox_due(ChannelKind::Telegram, T0 + 3, 10).unwrap().len(), 1, "back in the queue");
    let said: String = store
        .conn()
        .query_row("SELECT detail FROM message_events WHERE message_id = ?1 AND kind = 'retry'", [reply.0], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(said, "sent again by maria");
    assert_eq!(store.resend_failed(id, "maria", T0 + 4).unwrap(), 0, "nothing failed now");
}

#[test]
fn the_list_shows_mine_or_the_unassigned() {
    use switchboard::store::ConversationFilter;
    let mut store = Store::open_in_memory().unwrap();
    for (user, name) in [(42, "Анна"), (43, "Иван"), (44, "Олег")] {
        store.ingest(&[inbound(user, name, 1, "Здравствуйте", T0)], None, T0).unwrap();
    }
    let anna = store.find_conversation(ChannelKind::Telegram, "42").unwrap().unwrap();
    let ivan = store.find_conversation(ChannelKind::Telegram, "43").unwrap().unwrap();
    store.assign(anna, Some("maria")).unwrap();
    store.assign(ivan, Some("alex")).unwrap();
    let titles = |assignee: Option<Option<String>>| -> Vec<String> {
        let filter = ConversationFilter { assignee, ..Default::default() };
        store.conversations_page(filter, None, 10).unwrap().into_iter().map(|r| r.title).collect()
    };
    assert_eq!(titles(Some(Some("maria".into()))), ["Анна"]);
    assert_eq!(titles(Some(None)), ["Олег"]);
    assert_eq!(titles(None).len(), 3);
}

#[test]
fn a_note_stays_inside_it_is_not_a_reply_and_exports_as_a_note() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(42, "Анна", 1, "Где мой заказ?", T0)], None, T0).unwrap();
    let id = store.find_conversation(ChannelKind::Telegram, "42").unwrap().unwrap();
    let before = store.conversation(id).unwrap();
    store.add_note(id, "maria", "Звонила на склад: отгрузка в среду. @alex проверь", T0 + 60_000).unwrap();
    let after = store.conversation(id).unwrap();
    assert!(after.unanswered, "still waiting for a reply");
    assert_eq!((after.last_preview, after.last_message_at), (before.last_preview, before.last_message_at));
    assert!(store.outbox_due(ChannelKind::Telegram, T0 + 120_000, 10).unwrap().is_empty(), "never queued");
    // Resolving and reopening still reads the customer's message as the last word.
    store.set_status(id, ConversationStatus::Resolved).unwrap();
    store.set_status(id, ConversationStatus::Open).unwrap();
    assert!(store.conversation(id).unwrap().unanswered);
    let mut out = Vec::new();
    switchboard::export::export(
        &store,
        switchboard::export::ExportKind::Messages,
        switchboard::export::Format::Jsonl,
        &mut out,
    )
    .unwrap();
    let note: Value = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|m| m["kind"] == "note")
        .expect("the note is exported");
    assert_eq!((note["author"].as_str(), note["direction"].as_str()), (Some("maria"), Some("out")));
}

#[test]
fn search_finds_customers_and_messages_whatever_the_case_and_the_e() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(42, "Артём Зайцев", 1, "Привет! Ёлка ещё в наличии?", T0)], None, T0).unwrap();
    store.ingest(&[inbound(43, "Иван", 1, "Когда привезут ЁЛКУ?", T0 + 1)], None, T0 + 1).unwrap();
    let people = store.find_conversations("артем", 10).unwrap();
    assert_eq!(people.iter().map(|h| h.title.as_str()).collect::<Vec<_>>(), ["Артём Зайцев"]);
    let words = store.search("елк", None, 10).unwrap();
    assert_eq!(words.len(), 2, "ё is е and case is folded: {words:?}");
    assert!(store.find_conversations("   ", 10).unwrap().is_empty());
    // By the customer's handle, with or without the @, in any case.
    let chat = switchboard::model::ChatRef {
        channel: switchboard::model::ChannelKind::Telegram,
        external_chat_id: "44".into(),
        is_group: false,
        title: "Ольга".into(),
    };
    let from = switchboard::model::Peer {
        external_id: "44".into(),
        display_name: "Ольга".into(),
        username: Some("Olga_Shop".into()),
        locale: None,
    };
    let hello = switchboard::model::InboundMessage::text(chat, from, "1".into(), "Здравствуйте".into(), T0 + 2);
    store.ingest(&[switchboard::model::InboundEvent::Message(hello)], None, T0 + 2).unwrap();
    for q in ["@olga_shop", "OLGA_S", "@Olga"] {
        let found = store.find_conversations(q, 10).unwrap();
        assert_eq!(found.iter().map(|h| h.title.as_str()).collect::<Vec<_>>(), ["Ольга"], "{q}");
    }
    assert!(store.find_conversations("@", 10).unwrap().is_empty(), "a bare @ finds nobody");
}

/// The folded title the search reads is kept with the title: a group renamed on the
/// platform is found by its new name, not its old one.
#[test]
fn a_renamed_group_is_found_by_its_new_name() {
    use switchboard::model::{ChannelKind, ChatRef, InboundEvent, InboundMessage, Peer};
    let mut store = Store::open_in_memory().unwrap();
    let message = |title: &str, id: &str, at| {
        let chat = ChatRef {
            channel: ChannelKind::Telegram,
            external_chat_id: "-100500".into(),
            is_group: true,
            title: title.into(),
        };
        let from = Peer { external_id: "7".into(), display_name: "Ёжик".into(), username: None, locale: None };
        InboundEvent::Message(InboundMessage::text(chat, from, id.into(), "Всем привет".into(), at))
    };
    store.ingest(&[message("Оптовики ЁЛОК", "1", T0)], None, T0).unwrap();
    let titles = |store: &Store, q: &str| -> Vec<String> {
        store.find_conversations(q, 10).unwrap().into_iter().map(|h| h.title).collect()
    };
    assert_eq!(titles(&store, "елок"), ["Оптовики ЁЛОК"]);
    store.ingest(&[message("Розница 🎄", "2", T0 + 1)], None, T0 + 1).unwrap();
    assert_eq!(titles(&store, "РОЗН"), ["Розница 🎄"]);
    assert!(titles(&store, "елок").is_empty(), "the old name is gone");
}

#[test]
fn presence_says_who_else_has_a_conversation_open_and_forgets_the_gone() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(42, "Анна", 1, "Здравствуйте", T0)], None, T0).unwrap();
    let id = store.find_conversation(ChannelKind::Telegram, "42").unwrap().unwrap();
    let fresh = 6_000;
    assert!(store.heartbeat("a-1", "maria", Some(id), false, T0, fresh).unwrap().is_empty());
    let seen = store.heartbeat("b-1", "alex", Some(id), true, T0 + 1_000, fresh).unwrap();
    assert_eq!(seen, vec![("maria".to_string(), false)]);
    assert_eq!(
        store.heartbeat("a-1", "maria", Some(id), false, T0 + 2_000, fresh).unwrap(),
        vec![("alex".to_string(), true)]
    );
    // alex's console went quiet: gone after a few seconds; maria's closed cleanly.
    assert!(store.heartbeat("a-1", "maria", Some(id), false, T0 + 9_000, fresh).unwrap().is_empty());
    store.leave("a-1").unwrap();
    assert!(store.heartbeat("c-1", "olga", Some(id), false, T0 + 9_500, fresh).unwrap().is_empty());
}

#[test]
fn a_note_mentioning_an_agent_reaches_them_once_not_its_author() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(42, "Анна", 1, "Здравствуйте", T0)], None, T0).unwrap();
    let id = store.find_conversation(ChannelKind::Telegram, "42").unwrap().unwrap();
    store.add_note(id, "alex", "@Maria посмотри, пожалуйста: возврат", T0 + 1_000).unwrap();
    store.add_note(id, "maria", "себе: @maria позвонить", T0 + 2_000).unwrap();
    let mine = store.mentions("maria", T0).unwrap();
    assert_eq!(mine.len(), 1, "any case; never your own note");
    assert_eq!((mine[0].title.as_str(), mine[0].author.as_str()), ("Анна", "alex"));
    assert!(store.mentions("maria", mine[0].at).unwrap().is_empty(), "once");
}

#[test]
fn balanced_auto_assignment_fills_the_least_loaded_agent_on_duty_up_to_the_cap() {
    use switchboard::config::{AssignmentConfig, AutoAssign};
    let mut store = Store::open_in_memory().unwrap();
    let now = T0 + 10 * HOUR;
    // Five customers waiting, the longest-waiting first (user 1 wrote first).
    for user in 1..=5 {
        store
            .ingest(&[inbound(user, &format!("Клиент {user}"), 1, "Здравствуйте", T0 + user * HOUR)], None, now)
            .unwrap();
    }
    let id =
        |store: &Store, user: i64| store.find_conversation(ChannelKind::Telegram, &user.to_string()).unwrap().unwrap();
    // A conversation maria already has; ivan is marked available; olga's console left
    // long ago; maria's console is open.
    store.ingest(&[inbound(9, "Старый", 1, "Привет", T0)], None, now).unwrap();
    store.assign(id(&store, 9), Some("maria")).unwrap();
    store.set_available("ivan", true, now).unwrap();
    store.heartbeat("olga-console", "olga", None, false, now - HOUR, 6_000).unwrap();
    store.heartbeat("maria-console", "maria", None, false, now, 6_000).unwrap();

    let off = AssignmentConfig { auto: AutoAssign::Off, cap: 2 };
    assert!(scheduler::assign(&mut store, now, &off).unwrap().is_empty(), "off: nobody is given anything");
    let balanced = AssignmentConfig { auto: AutoAssign::Balanced, cap: 2 };
    let assigned = scheduler::assign(&mut store, now, &balanced).unwrap();
    let names: Vec<(i64, &str)> =
        assigned.iter().map(|(c, a)| ((1..=5).find(|u| id(&store, *u) == *c).unwrap(), a.as_str())).collect();
    // ivan has none and maria one: ivan gets the longest-waiting; then they are level,
    // and a tie goes by name; then each is at the cap of two and the rest wait.
    assert_eq!(names, [(1, "ivan"), (2, "ivan"), (3, "maria")]);
    assert_eq!(store.conversation(id(&store, 4)).unwrap().assignee, None, "everyone is full: it waits");
    assert!(scheduler::assign(&mut store, now, &balanced).unwrap().is_empty(), "nothing changes, nothing moves");

    // maria resolves one: the next round gives her the next in the queue.
    store.set_status(id(&store, 9), ConversationStatus::Resolved).unwrap();
    let assigned = scheduler::assign(&mut store, now, &balanced).unwrap();
    assert_eq!(assigned, vec![(id(&store, 4), "maria".to_string())]);
    // Her console goes: she is off duty, and ivan is full.
    store.leave("maria-console").unwrap();
    store.set_status(id(&store, 4), ConversationStatus::Resolved).unwrap();
    assert!(scheduler::assign(&mut store, now + 10_000, &balanced).unwrap().is_empty());
}

#[test]
fn agents_are_listed_and_marked_available_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[ui]\nagent_name = \"maria\"\n[assignment]\nauto = \"balanced\"\ncap = 3\n").unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    Store::open(&data.join("switchboard.db")).unwrap();
    let out = cli(&config, &data, &["agents", "--available", "me"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "maria: available");
    let out = cli(&config, &data, &["agents", "--away", "ivan"]);
    assert!(out.status.success());
    let out = cli(&config, &data, &["agents"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("auto-assignment: balanced, up to 3 each"), "{text}");
    let lines: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0][..4], ["ivan", "away", "0", "open"]);
    assert_eq!(lines[1][..4], ["maria", "available", "0", "open"]);
    // A cap of 0 with balanced assignment is refused, with the line.
    std::fs::write(&config, "[assignment]\nauto = \"balanced\"\ncap = 0\n").unwrap();
    let out = cli(&config, &data, &["agents"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3, key `assignment.cap`"));
}

#[test]
fn unread_counts_clear_for_the_agent_who_read() {
    use switchboard::store::ConversationFilter;
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(42, "Анна", 1, "Здравствуйте", T0)], None, T0).unwrap();
    let id = store.find_conversation(ChannelKind::Telegram, "42").unwrap().unwrap();
    let unread = |store: &Store, reader: Option<&str>| {
        let filter = ConversationFilter { reader: reader.map(str::to_string), ..Default::default() };
        store.conversations_page(filter, None, 10).unwrap()[0].unread
    };
    store.mark_read(id, "ivan").unwrap();
    store.ingest(&[inbound(42, "Анна", 2, "Вы тут?", T0 + 1000)], None, T0 + 1000).unwrap();
    store.ingest(&[inbound(42, "Анна", 3, "Ау", T0 + 2000)], None, T0 + 2000).unwrap();
    assert_eq!((unread(&store, Some("ivan")), unread(&store, Some("maria")), unread(&store, None)), (2, 2, 2));
    // Maria reads it: hers and the team's clear; Ivan has not seen the two new ones.
    store.mark_read(id, "maria").unwrap();
    assert_eq!((unread(&store, Some("ivan")), unread(&store, Some("maria")), unread(&store, None)), (2, 0, 0));
    store.ingest(&[inbound(42, "Анна", 4, "Спасибо", T0 + 3000)], None, T0 + 3000).unwrap();
    assert_eq!((unread(&store, Some("ivan")), unread(&store, Some("maria"))), (3, 1));
    // A mute is the muting agent's alone.
    store.set_muted("maria", id, true).unwrap();
    let muted = |reader: &str| {
        let filter = ConversationFilter { reader: Some(reader.into()), ..Default::default() };
        store.conversations_page(filter, None, 10).unwrap()[0].muted
    };
    assert_eq!((muted("maria"), muted("ivan")), (true, false));
}

#[test]
fn generate_fills_a_new_store_that_search_and_the_list_read() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let data = dir.path().join("data");
    let args = ["generate", "--contacts", "60", "--conversations", "30", "--messages", "3000", "--longest", "500"];
    let out = cli(&config, &data, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store = Store::open(&data.join("switchboard.db")).unwrap();
    let messages: i64 = store.conn().query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).unwrap();
    assert!(messages >= 3000, "{messages}");
    // Every message is in the search index, through the same triggers as ingest.
    let indexed: i64 = store.conn().query_row("SELECT count(*) FROM messages_fts", [], |r| r.get(0)).unwrap();
    assert_eq!(indexed, messages);
    let page = store.conversations_page(Default::default(), None, 100).unwrap();
    assert_eq!(page.len(), 30);
}

#[test]
fn whoever_writes_a_reply_or_a_note_is_an_agent_to_assign_to() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(42, "Анна", 1, "Здравствуйте", T0)], None, T0).unwrap();
    let id = store.find_conversation(ChannelKind::Telegram, "42").unwrap().unwrap();
    store.enqueue(id, "Добрый день", "olga", 10, T0).unwrap();
    store.add_note(id, "pavel", "перезвонить", T0).unwrap();
    store.enqueue(id, "Автоответ", "bot:away", 10, T0).unwrap();
    assert_eq!(store.agents().unwrap(), ["olga", "pavel"], "not the engine's own authors");
}
