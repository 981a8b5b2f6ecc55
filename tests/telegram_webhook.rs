//! Telegram in webhook mode: the secret header, bad bodies, size caps, 200 only after the
//! commit, and redelivery by the emulator until the update is stored.

mod common;

use std::path::Path;
use std::time::Duration;

use common::eventually;
use serde_json::json;
use switchboard::channels::{Channel, TelegramChannel};
use switchboard::config::{Secret, TelegramConfig, TelegramMode, WebhookConfig};
use switchboard::sandbox::customers::demo_customers;
use switchboard::sandbox::{EmulatorOptions, TelegramEmulator};
use switchboard::store::Store;
use switchboard::sync::{Engine, EngineLock};

const TOKEN: &str = "123:test-token";
const SECRET: &str = "s3cret_Token-1";
const WAIT: Duration = Duration::from_secs(20);

fn engine(dir: &Path, api_url: &str) -> Engine {
    let lock = EngineLock::try_acquire(&dir.join("engine.lock")).unwrap().unwrap();
    let config = TelegramConfig {
        mode: TelegramMode::Webhook,
        secret_token: Some(Secret::new(SECRET)),
        ..TelegramConfig::new(Secret::new(TOKEN), api_url)
    };
    let channel = Channel::Telegram(TelegramChannel::new(&config).unwrap());
    let webhook =
        WebhookConfig { listen: "127.0.0.1:0".parse().unwrap(), max_body_bytes: 64 * 1024, ..Default::default() };
    Engine::start(lock, &dir.join("switchboard.db"), vec![channel], &webhook).unwrap()
}

fn update(id: i64, message_id: i64, text: &str) -> serde_json::Value {
    json!({"update_id": id, "message": {
        "message_id": message_id, "date": 1_763_719_200, "text": text,
        "chat": {"id": 42, "type": "private", "first_name": "Ann"},
        "from": {"id": 42, "is_bot": false, "first_name": "Ann"}
    }})
}

fn count(db: &Path) -> i64 {
    Store::open(db).unwrap().conn().query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_is_checked_bad_bodies_refused_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    Store::open(&db).unwrap();
    // No Bot API behind it: registering is by hand here, and receiving needs none.
    let engine = engine(dir.path(), "http://127.0.0.1:9");
    let url = format!("http://{}/webhook/telegram", engine.webhook_addr().unwrap());
    let client = reqwest::Client::new();
    let post = |body: String, secret: Option<&str>| {
        let mut request = client.post(&url).header("content-type", "application/json").body(body);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        request.send()
    };
    let good = update(1, 1, "Добрый день").to_string();
    assert_eq!(post(good.clone(), None).await.unwrap().status(), 401, "no secret");
    assert_eq!(post(good.clone(), Some("s3cret_Token-2")).await.unwrap().status(), 401, "wrong secret");
    assert_eq!(count(&db), 0);
    assert_eq!(post("{not json".into(), Some(SECRET)).await.unwrap().status(), 400);
    assert_eq!(post("[1, 2]".into(), Some(SECRET)).await.unwrap().status(), 400);
    let huge = update(2, 2, &"я".repeat(40_000)).to_string();
    assert_eq!(post(huge, Some(SECRET)).await.unwrap().status(), 413);
    // Still serving, and a redelivery is stored once.
    assert_eq!(post(good.clone(), Some(SECRET)).await.unwrap().status(), 200);
    assert_eq!(post(good, Some(SECRET)).await.unwrap().status(), 200);
    assert_eq!(count(&db), 1);
    // An update of a kind we do not handle is acknowledged: there is nothing to retry.
    let odd = json!({"update_id": 3, "guest_message": {"x": 1}}).to_string();
    assert_eq!(post(odd, Some(SECRET)).await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_delivers_until_stored_and_a_failed_commit_is_delivered_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let store = Store::open(&db).unwrap();
    // The next customer message that says "boom" cannot be stored, for now.
    store
        .conn()
        .execute_batch(
            "CREATE TRIGGER boom BEFORE INSERT ON messages WHEN new.body = 'boom' BEGIN SELECT RAISE(ABORT, 'disk trouble'); END;",
        )
        .unwrap();
    let emu =
        TelegramEmulator::start("127.0.0.1:0".parse().unwrap(), TOKEN, demo_customers(2), EmulatorOptions::default())
            .await
            .unwrap();
    let engine = engine(dir.path(), &emu.url());
    let hook = format!("http://{}/webhook/telegram", engine.webhook_addr().unwrap());
    let set = reqwest::Client::new()
        .post(format!("{}/bot{TOKEN}/setWebhook", emu.url()))
        .json(&json!({"url": hook, "secret_token": SECRET}))
        .send()
        .await
        .unwrap();
    assert!(set.status().is_success());
    let chat = demo_customers(1)[0].id;
    emu.customer_says(chat, "boom");
    emu.customer_says(chat, "after");
    // Refused with 500 and retried: nothing after it is delivered out of order.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count(&db), 0);
    assert_eq!(emu.pending_updates(), 2);
    store.conn().execute_batch("DROP TRIGGER boom").unwrap();
    let stored = eventually(WAIT, || (count(&db) == 2).then_some(())).await;
    assert!(stored.is_some(), "delivered again and stored");
    eventually(WAIT, || (emu.pending_updates() == 0).then_some(())).await.expect("acknowledged only once stored");
}
