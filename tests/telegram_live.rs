//! Telegram end to end against the emulator: buttons and presses, photos and documents,
//! edits and locations, blocks, pacing under Telegram's limits, and a poller killed in
//! the middle of a batch.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{eventually, serve};
use serde_json::json;
use switchboard::channels::{Channel, TelegramChannel};
use switchboard::config::{Secret, TelegramConfig};
use switchboard::model::{Button, ChannelKind, DeliveryStatus, Outgoing};
use switchboard::sandbox::customers::demo_customers;
use switchboard::sandbox::{EmulatorOptions, Said, TelegramEmulator};
use switchboard::store::{SendTarget, Store};
use switchboard::sync::{Engine, EngineLock};

const TOKEN: &str = "123:test-token";
const WAIT: Duration = Duration::from_secs(20);

async fn emulator(options: EmulatorOptions, customers: usize) -> TelegramEmulator {
    TelegramEmulator::start("127.0.0.1:0".parse().unwrap(), TOKEN, demo_customers(customers), options).await.unwrap()
}

fn engine(dir: &Path, url: &str) -> Engine {
    let lock = EngineLock::try_acquire(&dir.join("engine.lock")).unwrap().unwrap();
    let config = TelegramConfig { poll_timeout_secs: 1, ..TelegramConfig::new(Secret::new(TOKEN), url) };
    let channel = Channel::Telegram(TelegramChannel::new(&config).unwrap());
    Engine::start(lock, &dir.join("switchboard.db"), vec![channel], &Default::default()).unwrap()
}

fn target(chat: i64) -> SendTarget {
    SendTarget { channel: ChannelKind::Telegram, chat_id: chat.to_string() }
}

fn query_i64(db: &Path, sql: &str) -> i64 {
    Store::open(db).unwrap().conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_go_out_in_telegrams_shape_and_a_press_comes_back_as_a_click() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let emu = emulator(EmulatorOptions::default(), 2).await;
    let chat = demo_customers(1)[0].id;
    let out = Outgoing {
        buttons: vec![vec![
            Button::parse("👍 Отлично=rate:good").unwrap(),
            Button::parse("Shop=https://shop.example/").unwrap(),
        ]],
        ..Outgoing::text("Как вам доставка?")
    };
    let id = Store::open(&db)
        .unwrap()
        .enqueue_to_chat(&target(chat), &out, "maria", switchboard::model::now_ms())
        .unwrap()
        .1;
    let _engine = engine(dir.path(), &emu.url());

    let sent = emu.wait_for_sent(1, WAIT).await;
    assert_eq!(sent[0].method, "sendMessage");
    assert_eq!(
        sent[0].reply_markup,
        Some(json!({"inline_keyboard": [[
            {"text": "👍 Отлично", "callback_data": "rate:good"},
            {"text": "Shop", "url": "https://shop.example/"}
        ]]}))
    );
    eventually(WAIT, || (Store::open(&db).unwrap().message(id).unwrap().status == DeliveryStatus::Sent).then_some(()))
        .await
        .unwrap();

    emu.customer_presses(chat, sent[0].message_id, "rate:good").unwrap();
    let click = eventually(WAIT, || {
        let n = query_i64(&db, "SELECT count(*) FROM message_events WHERE kind = 'click' AND detail = 'rate:good'");
        (n == 1).then_some(n)
    })
    .await;
    assert!(click.is_some(), "the press is a click on our message");
    let body: String = Store::open(&db)
        .unwrap()
        .conn()
        .query_row("SELECT body FROM messages WHERE kind = 'click'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(body, "pressed “👍 Отлично”");
    let answered = eventually(WAIT, || (!emu.answered_presses().is_empty()).then(|| emu.answered_presses())).await;
    assert_eq!(answered.map(|a| a.len()), Some(1), "the press was answered, so the customer's spinner stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_by_url_and_a_document_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let file = dir.path().join("invoice-5512.pdf");
    std::fs::write(&file, b"%PDF-1.4 a small invoice").unwrap();
    let emu = emulator(EmulatorOptions::default(), 2).await;
    let chat = demo_customers(1)[0].id;
    let mut store = Store::open(&db).unwrap();
    let photo = Outgoing {
        kind: "photo".into(),
        attachment: Some("https://shop.example/box.jpg".into()),
        ..Outgoing::text("Ваша посылка")
    };
    let document = Outgoing {
        kind: "document".into(),
        attachment: Some(file.to_string_lossy().into_owned()),
        ..Outgoing::text("Счёт")
    };
    store.enqueue_to_chat(&target(chat), &photo, "maria", switchboard::model::now_ms()).unwrap();
    store.enqueue_to_chat(&target(chat), &document, "maria", switchboard::model::now_ms()).unwrap();
    let _engine = engine(dir.path(), &emu.url());
    let sent = emu.wait_for_sent(2, WAIT).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!((sent[0].method.as_str(), sent[0].text.as_str()), ("sendPhoto", "Ваша посылка"));
    assert_eq!(sent[0].file, Some(json!("https://shop.example/box.jpg")), "Telegram downloads a URL itself");
    assert_eq!((sent[1].method.as_str(), sent[1].text.as_str()), ("sendDocument", "Счёт"));
    assert_eq!(sent[1].file, Some(json!({"uploaded": "invoice-5512.pdf", "bytes": 24})), "a local file is uploaded");
    let sent_rows = eventually(WAIT, || {
        let n = query_i64(&db, "SELECT count(*) FROM messages WHERE status = 'sent'");
        (n == 2).then_some(n)
    })
    .await;
    assert!(sent_rows.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_photos_and_locations_arrive_through_the_poller() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    Store::open(&db).unwrap();
    let emu = emulator(EmulatorOptions::default(), 2).await;
    let chat = demo_customers(1)[0].id;
    emu.customer_says(chat, "Заказ 4821 не пришёл");
    emu.customer_edits_last(chat, "Заказ 4812 не пришёл").unwrap();
    emu.customer_does(chat, Said::Photo { caption: Some("коробка".into()) });
    emu.customer_does(chat, Said::Location { latitude: 55.7963, longitude: 49.1064 });
    emu.customer_does(chat, Said::Start("optin_landing".into()));
    let _engine = engine(dir.path(), &emu.url());
    let kinds = eventually(WAIT, || {
        let store = Store::open(&db).unwrap();
        let mut stmt =
            store.conn().prepare("SELECT kind, body, edited_at IS NOT NULL FROM messages ORDER BY id").unwrap();
        let rows: Vec<(String, String, bool)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
        (rows.len() == 4).then_some(rows)
    })
    .await
    .expect("four messages: the edit changed the first");
    assert_eq!(kinds[0], ("text".into(), "Заказ 4812 не пришёл".into(), true));
    assert_eq!(kinds[1].0, "photo");
    assert!(kinds[1].1.ends_with("\nкоробка"));
    assert_eq!(kinds[2].0, "location");
    assert_eq!(kinds[3].1, "/start optin_landing");
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM consent_events WHERE action = 'opt_in' AND source = 'start_link'"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_seen_on_send_fails_the_message_and_records_the_opt_out_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let emu = emulator(EmulatorOptions::default(), 2).await;
    let chat = demo_customers(1)[0].id;
    emu.customer_says(chat, "hi");
    let _engine = engine(dir.path(), &emu.url());
    eventually(WAIT, || (query_i64(&db, "SELECT count(*) FROM messages") == 1).then_some(())).await.unwrap();
    emu.block_quietly(chat);
    let mut store = Store::open(&db).unwrap();
    let a =
        store.enqueue_to_chat(&target(chat), &Outgoing::text("one"), "maria", switchboard::model::now_ms()).unwrap().1;
    let b =
        store.enqueue_to_chat(&target(chat), &Outgoing::text("two"), "maria", switchboard::model::now_ms()).unwrap().1;
    let failed = eventually(WAIT, || {
        let (ma, mb) = (store.message(a).unwrap(), store.message(b).unwrap());
        (ma.status == DeliveryStatus::Failed && mb.status == DeliveryStatus::Failed).then_some(ma)
    })
    .await
    .expect("both fail");
    assert_eq!(failed.error.as_deref(), Some("the customer blocked the bot"));
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM consent_events WHERE action = 'opt_out'"),
        2,
        "service and marketing, once"
    );
    assert_eq!(query_i64(&db, "SELECT count(*) FROM conversations WHERE blocked_at IS NOT NULL"), 1);
}

/// 200 messages to 20 chats with the emulator enforcing Telegram's limits: the per-chat
/// limit makes 9 s the least this can take (ten messages a chat, a second apart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_messages_to_twenty_chats_stay_within_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let emu = emulator(EmulatorOptions { enforce_limits: true, ..EmulatorOptions::default() }, 20).await;
    let customers = demo_customers(20);
    let mut store = Store::open(&db).unwrap();
    for round in 0..10 {
        for c in &customers {
            store
                .enqueue_to_chat(
                    &target(c.id),
                    &Outgoing::text(format!("notice {round}")),
                    "script",
                    switchboard::model::now_ms(),
                )
                .unwrap();
        }
    }
    let _engine = engine(dir.path(), &emu.url());
    let sent = emu.wait_for_sent(200, Duration::from_secs(40)).await;
    assert_eq!(sent.len(), 200);
    assert_eq!(emu.provoked_429s(), 0, "our pacing provoked no 429");
    let span = sent.last().unwrap().at_ms - sent.first().unwrap().at_ms;
    assert!(span >= 8_900, "the limits were kept: {span} ms");
    assert!(span <= 10_350, "within 15% of the 9 s the limits allow: {span} ms");
    // Each chat got its messages in order, a second apart or more.
    for c in &customers {
        let times: Vec<u64> = sent.iter().filter(|m| m.chat_id == c.id).map(|m| m.at_ms).collect();
        let texts: Vec<String> = sent.iter().filter(|m| m.chat_id == c.id).map(|m| m.text.clone()).collect();
        assert_eq!(texts, (0..10).map(|r| format!("notice {r}")).collect::<Vec<_>>());
        assert!(times.windows(2).all(|w| w[1] - w[0] >= 900), "{times:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_delays_only_its_chat() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let emu = emulator(EmulatorOptions { enforce_limits: true, ..EmulatorOptions::default() }, 10).await;
    let customers = demo_customers(10);
    let slow = customers[0].id;
    emu.inject_429(slow, 4);
    let mut store = Store::open(&db).unwrap();
    for round in 0..3 {
        for c in &customers {
            store
                .enqueue_to_chat(
                    &target(c.id),
                    &Outgoing::text(format!("n{round}")),
                    "script",
                    switchboard::model::now_ms(),
                )
                .unwrap();
        }
    }
    let _engine = engine(dir.path(), &emu.url());
    let sent = emu.wait_for_sent(30, Duration::from_secs(30)).await;
    assert_eq!(sent.len(), 30);
    let first = sent.first().unwrap().at_ms;
    let last_of = |chat: i64| sent.iter().filter(|m| m.chat_id == chat).map(|m| m.at_ms - first).max().unwrap();
    let first_of = |chat: i64| sent.iter().filter(|m| m.chat_id == chat).map(|m| m.at_ms - first).min().unwrap();
    assert!(first_of(slow) >= 3_900, "the flooded chat waited the 4 s it was told: {}", first_of(slow));
    for c in &customers[1..] {
        assert!(last_of(c.id) <= 3_000, "chat {} was not held up: {} ms", c.id, last_of(c.id));
    }
    assert_eq!(emu.provoked_429s(), 0);
}

/// A poller killed with SIGKILL in the middle of a stream of updates, then restarted:
/// every update is stored exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poller_killed_mid_batch_stores_every_update_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = data.join("switchboard.db");
    let emu = emulator(EmulatorOptions::default(), 30).await;
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[channels.telegram]\ntoken = \"{TOKEN}\"\napi_url = \"{}\"\npoll_timeout_secs = 1\n", emu.url()),
    )
    .unwrap();
    let customers = demo_customers(30);
    let total = 1500;
    for i in 0..total {
        emu.customer_says(customers[i % 30].id, &format!("message {i}"));
    }
    Store::open(&db).unwrap();
    // Kill it as soon as it has stored something, and again after the restart.
    for _ in 0..2 {
        let mut engine = serve(&config, &data);
        let before = query_i64(&db, "SELECT count(*) FROM messages");
        eventually(WAIT, || (query_i64(&db, "SELECT count(*) FROM messages") > before).then_some(())).await;
        engine.kill().unwrap();
        engine.wait().unwrap();
    }
    let stored = query_i64(&db, "SELECT count(*) FROM messages");
    assert!(stored < total as i64, "the kills landed mid-stream ({stored} of {total} stored)");
    let mut engine = serve(&config, &data);
    let all = eventually(Duration::from_secs(60), || {
        (query_i64(&db, "SELECT count(*) FROM messages") >= total as i64).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    engine.kill().unwrap();
    engine.wait().unwrap();
    assert!(all.is_some(), "every update arrived");
    assert_eq!(query_i64(&db, "SELECT count(*) FROM messages"), total as i64, "none twice");
    assert_eq!(query_i64(&db, "SELECT count(DISTINCT body) FROM messages"), total as i64);
    assert_eq!(emu.pending_updates(), 0, "every update was confirmed");
}

/// A Bot API server older than 8.0, or an emulator, answers getMe with `id` and
/// `username` only: polling starts all the same, and asks for reactions and member
/// changes explicitly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minimal_get_me_starts_polling_with_explicit_allowed_updates() {
    let (url, seen) = common::fake_bot_api(r#"{"id":777,"username":"old_server_bot"}"#, "[]").await;
    let dir = tempfile::tempdir().unwrap();
    let lock = switchboard::sync::EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
    let config = TelegramConfig { poll_timeout_secs: 1, ..TelegramConfig::new(Secret::new(TOKEN), &url) };
    let channel = Channel::Telegram(TelegramChannel::new(&config).unwrap());
    let engine =
        switchboard::sync::Engine::start(lock, &dir.path().join("switchboard.db"), vec![channel], &Default::default())
            .unwrap();
    let mut status = engine.status();
    let polled = common::eventually(Duration::from_secs(10), || {
        seen.lock().unwrap().iter().find(|r| r.to_lowercase().starts_with("getupdates")).cloned()
    })
    .await
    .expect("polling started");
    let body: serde_json::Value = serde_json::from_str(polled.split_once(' ').unwrap().1).unwrap();
    let allowed: Vec<&str> = body["allowed_updates"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    for kind in ["message", "edited_message", "callback_query", "my_chat_member", "chat_member", "message_reaction"] {
        assert!(allowed.contains(&kind), "{kind} in {allowed:?}");
    }
    let state = status.borrow_and_update().get(&ChannelKind::Telegram).unwrap().state.clone();
    assert_eq!(state, switchboard::sync::ChannelState::Ok("@old_server_bot".into()));
    drop(engine);
}
