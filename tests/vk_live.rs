//! VK end to end: the engine long-polls the sandbox's VK emulator, stores what customers
//! write under their names, answers, sees a callback press answered, survives `failed`
//! 1, 2 and 3 without losing a message, delivers a reply once across a crash between
//! the send and its commit, and serves the Callback API (confirmation, secret, `ok`).

mod common;

use std::path::Path;
use std::time::Duration;

use common::eventually;
use serde_json::json;
use switchboard::channels::{Channel, VkChannel};
use switchboard::config::{Secret, VkConfig, VkMode};
use switchboard::model::{Button, ChannelKind, DeliveryStatus, Outgoing};
use switchboard::sandbox::customers::demo_customers;
use switchboard::sandbox::vk::{VkEmulator, VkOptions, peer_id};
use switchboard::store::{OutboxItem, Store};
use switchboard::sync::{Engine, EngineLock};

const WAIT: Duration = Duration::from_secs(20);
const TOKEN: &str = "vk1.a.community-token";
const GROUP: i64 = 171104414;

fn engine(dir: &Path, vk: VkChannel) -> Engine {
    let lock = EngineLock::try_acquire(&dir.join("engine.lock")).unwrap().unwrap();
    let webhook = common::loopback_webhook();
    Engine::start(lock, &dir.join("switchboard.db"), vec![Channel::Vk(vk)], &webhook).unwrap()
}

fn count(db: &Path, sql: &str) -> i64 {
    Store::open(db).unwrap().conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn external_id(db: &Path, id: i64) -> String {
    Store::open(db)
        .unwrap()
        .conn()
        .query_row("SELECT coalesce(external_id, '') FROM messages WHERE id = ?1", [id], |r| r.get(0))
        .unwrap()
}

async fn emulator() -> VkEmulator {
    let options = VkOptions { max_wait: Some(Duration::from_millis(500)), ..VkOptions::default() };
    VkEmulator::start("127.0.0.1:0".parse().unwrap(), TOKEN, GROUP, demo_customers(2), options).await.unwrap()
}

fn channel(url: &str) -> VkChannel {
    VkChannel::new(&VkConfig::new(Secret::new(TOKEN), GROUP as u64, url)).unwrap()
}

async fn stored(db: &Path, text: &str) -> bool {
    let sql = format!("SELECT count(*) FROM messages WHERE body = '{text}'");
    eventually(WAIT, || (count(db, &sql) == 1).then_some(())).await.is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_round_trip_presses_and_every_failed_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    Store::open(&db).unwrap();
    let emu = emulator().await;
    let _engine = engine(dir.path(), channel(&emu.url()));
    let anna = peer_id(&demo_customers(2)[0]);
    emu.customer_says(anna, "Здравствуйте! Где мой заказ? 📦");
    assert!(stored(&db, "Здравствуйте! Где мой заказ? 📦").await, "the message is stored: {:?}", emu.calls());
    let mut store = Store::open(&db).unwrap();
    let conversation = store.find_conversation(ChannelKind::Vk, &anna.to_string()).unwrap().unwrap();
    assert_eq!(store.conversation(conversation).unwrap().title, "Анна Петрова", "named by users.get");

    let out = Outgoing {
        buttons: vec![vec![Button::parse("👍 Отлично=rate:good").unwrap()]],
        ..Outgoing::text("Уже в пути! Как вам доставка?")
    };
    let id = store.enqueue_message(conversation, &out, "maria", 10, switchboard::model::now_ms()).unwrap();
    let sent = eventually(WAIT, || (store.message(id).unwrap().status == DeliveryStatus::Sent).then_some(())).await;
    assert!(sent.is_some(), "the reply went out");
    assert_eq!(emu.delivered(), vec![(anna, "Уже в пути! Как вам доставка?".to_string())]);
    let send = emu.calls().into_iter().find(|c| c.method == "messages.send").unwrap();
    assert_eq!(send.params["random_id"], id.0.to_string());
    assert_eq!(send.params["v"], "5.199");
    // message_reply comes back: still one row, ours.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(count(&db, "SELECT count(*) FROM messages WHERE direction = 'out'"), 1);
    let cmid: i64 = external_id(&db, id.0).parse().unwrap();

    let press = emu.customer_presses(anna, cmid, "\"rate:good\"");
    let clicked = eventually(WAIT, || emu.answered().contains(&press).then_some(())).await;
    assert!(clicked.is_some(), "the press is answered with sendMessageEventAnswer");
    assert_eq!(count(&db, "SELECT count(*) FROM message_events WHERE kind = 'click' AND detail = 'rate:good'"), 1);

    // failed 1: the poll skips a message; the catch-up finds it.
    emu.customer_says_unseen(anna, 1, "Потерялось в истории (1)");
    assert!(stored(&db, "Потерялось в истории (1)").await, "caught up after failed 1");
    // failed 2: a new key, the same ts: nothing after it is missed.
    emu.fail_next_poll(2);
    emu.customer_says(anna, "После нового ключа (2)");
    assert!(stored(&db, "После нового ключа (2)").await, "received after failed 2");
    // failed 3: a new key and ts; the message in between is caught up.
    emu.customer_says_unseen(anna, 3, "Потерялось совсем (3)");
    assert!(stored(&db, "Потерялось совсем (3)").await, "caught up after failed 3");
    emu.customer_says(anna, "И ещё одно");
    assert!(stored(&db, "И ещё одно").await);
    assert_eq!(count(&db, "SELECT count(*) FROM messages WHERE direction = 'in' AND kind = 'text'"), 5, "none twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_interrupted_between_send_and_commit_is_delivered_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let emu = emulator().await;
    let anna = peer_id(&demo_customers(2)[0]);
    let vk = channel(&emu.url());
    // The state a kill leaves between the send and its commit: the row `sending`, VK
    // holding the message.
    let mut store = Store::open(&db).unwrap();
    let target = switchboard::store::SendTarget { channel: ChannelKind::Vk, chat_id: anna.to_string() };
    let (_, id) = store.enqueue_to_chat(&target, &Outgoing::text("Заказ передан курьеру"), "maria", 1).unwrap();
    store.mark_sending(id, 2).unwrap();
    let mut item = OutboxItem::text(ChannelKind::Vk, &anna.to_string(), "Заказ передан курьеру");
    item.message_id = id;
    vk.send(&item).await.unwrap();
    drop(store);
    // The engine restarts: recovery puts the reply back in the queue and sends it again,
    // with the same random_id, which VK drops.
    let _engine = engine(dir.path(), vk);
    let store = Store::open(&db).unwrap();
    let sent = eventually(WAIT, || (store.message(id).unwrap().status == DeliveryStatus::Sent).then_some(())).await;
    assert!(sent.is_some(), "the requeued reply is sent");
    let sends = emu.calls().into_iter().filter(|c| c.method == "messages.send").count();
    assert_eq!(sends, 2, "sent twice on the wire");
    assert_eq!(emu.delivered().len(), 1, "delivered once");
    assert!(!external_id(&db, id.0).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_mode_confirms_checks_the_secret_and_answers_ok_after_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    Store::open(&db).unwrap();
    let emu = emulator().await;
    let config = VkConfig {
        mode: VkMode::Callback,
        secret: Some(Secret::new("s3cr3t-key")),
        confirmation: Some("a1b2c3d4".into()),
        ..VkConfig::new(Secret::new(TOKEN), GROUP as u64, emu.url())
    };
    let engine = engine(dir.path(), VkChannel::new(&config).unwrap());
    let url = format!("http://{}/webhook/vk", engine.webhook_addr().unwrap());
    let client = reqwest::Client::new();
    let post = |body: serde_json::Value| client.post(&url).body(body.to_string()).send();
    let confirm = post(json!({"type": "confirmation", "group_id": GROUP})).await.unwrap();
    assert_eq!((confirm.status().as_u16(), confirm.text().await.unwrap()), (200, "a1b2c3d4".to_string()));
    let message = json!({"type": "message_new", "event_id": "e1", "v": "5.199", "group_id": GROUP, "secret": "s3cr3t-key",
        "object": {"message": {"date": 1773134000, "from_id": 51422811, "id": 1, "out": 0, "peer_id": 51422811,
                               "text": "Привет из Callback API", "conversation_message_id": 7, "attachments": []}}});
    let mut wrong = message.clone();
    wrong["secret"] = json!("guess");
    assert_eq!(post(wrong).await.unwrap().status(), 403);
    let mut missing = message.clone();
    missing.as_object_mut().unwrap().remove("secret");
    assert_eq!(post(missing).await.unwrap().status(), 403);
    assert_eq!(count(&db, "SELECT count(*) FROM messages"), 0, "nothing from a wrong secret");
    for _ in 0..2 {
        let ok = post(message.clone()).await.unwrap();
        assert_eq!((ok.status().as_u16(), ok.text().await.unwrap()), (200, "ok".to_string()));
        // Answered after the commit: stored by the time `ok` arrives.
        assert_eq!(count(&db, "SELECT count(*) FROM messages WHERE body = 'Привет из Callback API'"), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_and_documents_go_through_vk_upload_servers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let emu = emulator().await;
    let anna = peer_id(&demo_customers(2)[0]);
    let photo = dir.path().join("упаковка.jpg");
    std::fs::write(&photo, [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).unwrap();
    let invoice = dir.path().join("счёт.pdf");
    std::fs::write(&invoice, b"%PDF-1.4 test").unwrap();
    let mut store = Store::open(&db).unwrap();
    let target = switchboard::store::SendTarget { channel: ChannelKind::Vk, chat_id: anna.to_string() };
    let with = |kind: &str, path: &Path, caption: &str| Outgoing {
        kind: kind.into(),
        attachment: Some(path.display().to_string()),
        ..Outgoing::text(caption)
    };
    let (_, a) = store.enqueue_to_chat(&target, &with("photo", &photo, "Вот упаковка"), "maria", 1).unwrap();
    let (_, b) = store.enqueue_to_chat(&target, &with("document", &invoice, ""), "maria", 2).unwrap();
    let _engine = engine(dir.path(), channel(&emu.url()));
    let done = eventually(WAIT, || {
        [a, b].iter().all(|id| store.message(*id).unwrap().status == DeliveryStatus::Sent).then_some(())
    })
    .await;
    assert!(done.is_some(), "both sent");
    assert_eq!(
        emu.uploads(),
        vec![("photo".to_string(), "упаковка.jpg".to_string(), 7), ("doc".to_string(), "счёт.pdf".to_string(), 13)]
    );
    assert_eq!(emu.attachments(), vec![format!("photo-{GROUP}_457000001_k3y"), format!("doc-{GROUP}_600002")]);
}

/// A VK conversation resolved: the survey goes with callback buttons, the customer
/// presses one, and the score is recorded against the conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csat_on_vk_goes_as_callback_buttons_and_the_press_is_the_score() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    Store::open(&db).unwrap();
    let emu = emulator().await;
    let lock = EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
    let webhook = common::loopback_webhook();
    let automation = common::csat_automation();
    let _engine = Engine::start_with(
        lock,
        &db,
        vec![Channel::Vk(channel(&emu.url()))],
        &webhook,
        &Default::default(),
        &Default::default(),
        &automation,
    )
    .unwrap();
    let anna = peer_id(&demo_customers(2)[0]);
    emu.customer_says(anna, "Всё получила, спасибо!");
    assert!(stored(&db, "Всё получила, спасибо!").await);
    let mut store = Store::open(&db).unwrap();
    let conversation = store.find_conversation(ChannelKind::Vk, &anna.to_string()).unwrap().unwrap();
    store.enqueue(conversation, "Рады помочь!", "maria", 10, switchboard::model::now_ms()).unwrap();
    store.set_status(conversation, switchboard::model::ConversationStatus::Resolved).unwrap();
    // The survey sent, and VK's id for it known (the press names it).
    let survey = eventually(WAIT, || {
        let rows = common::rows(
            &store,
            "SELECT external_id, buttons FROM messages WHERE author = 'bot' AND external_id IS NOT NULL",
        );
        rows.first().cloned()
    })
    .await
    .expect("the survey sent");
    assert!(survey[1].as_str().unwrap().contains("csat:5"), "{survey:?}");
    let send = emu.calls().into_iter().rfind(|c| c.method == "messages.send").unwrap();
    assert!(send.params["keyboard"].contains("callback"), "{:?}", send.params);
    let cmid: i64 = survey[0].as_str().unwrap().parse().unwrap();
    let press = emu.customer_presses(anna, cmid, "\"csat:2\"");
    eventually(WAIT, || emu.answered().contains(&press).then_some(())).await.expect("the press is answered");
    let contact = store.contact_of(conversation).unwrap().unwrap();
    let score =
        eventually(WAIT, || Store::open(&db).unwrap().csat_scores(contact).unwrap().first().and_then(|s| s.score))
            .await;
    assert_eq!(score, Some(2));
}
