//! Polls: created and checked from the command line, sent as a campaign to a segment
//! (consent and the campaign rules apply) through the engine and the Telegram emulator,
//! the customers' presses tallied per option and variant (each customer's latest press
//! counts), and the tally as text, JSON and CSV; and a poll sent from the console.

mod common;

use std::time::Duration;

use common::app::TestApp;
use common::{cli, eventually, inbound, rows};
use crossterm::event::{KeyCode, KeyModifiers};
use switchboard::channels::{Channel, TelegramChannel};
use switchboard::config::{Secret, TelegramConfig};
use switchboard::model::{ChannelKind, now_ms};
use switchboard::sandbox::customers::demo_customers;
use switchboard::sandbox::{EmulatorOptions, TelegramEmulator};
use switchboard::store::Store;

const TOKEN: &str = "123:test-token";
const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_to_a_segment_is_tallied_per_option_and_variant() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = data.join("switchboard.db");
    let emu =
        TelegramEmulator::start("127.0.0.1:0".parse().unwrap(), TOKEN, demo_customers(4), EmulatorOptions::default())
            .await
            .unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[channels.telegram]\ntoken = \"{TOKEN}\"\napi_url = \"{}\"\npoll_timeout_secs = 1\nrate_limits = false\n\
             [campaigns]\nquiet_hours = \"\"\n",
            emu.url()
        ),
    )
    .unwrap();
    let customers = demo_customers(4);
    {
        let mut store = Store::open(&db).unwrap();
        let events: Vec<_> =
            customers.iter().map(|c| inbound(c.id, &c.full_name(), 1, "Здравствуйте", now_ms() - 60_000)).collect();
        store.ingest(&events, None, now_ms()).unwrap();
        // Three opted in; the fourth never did, and gets no poll.
        for c in &customers[..3] {
            let contact = store.contact_by_identity(ChannelKind::Telegram, &c.id.to_string()).unwrap().unwrap();
            store
                .record_agent_consent(contact, ChannelKind::Telegram, "marketing", true, "form", "test", now_ms())
                .unwrap();
        }
    }
    let ok = |args: &[&str]| {
        let out = cli(&config, &data, args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    // A poll is checked when it is made.
    let out = cli(&config, &data, &["poll", "create", "x", "--question", "?", "--option", "один"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 to 10 options"), "{out:?}");
    let out = cli(
        &config,
        &data,
        &["poll", "create", "x", "--question", "?", "--option", "a", "--option", "очень длинный вариант ответа"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 to 20 characters"), "{out:?}");
    ok(&[
        "poll",
        "create",
        "доставка",
        "--question",
        "Как вам доставка?",
        "--option",
        "Быстро",
        "--option",
        "Медленно",
        "--option",
        "Не пришло",
    ]);
    let preview =
        ok(&["campaign", "preview", "--name", "опрос", "--filter", "consent:marketing", "--poll", "доставка"]);
    assert!(preview.contains("3 included") && preview.contains("Как вам доставка?"), "{preview}");
    let launched =
        ok(&["campaign", "launch", "--name", "опрос", "--filter", "consent:marketing", "--poll", "доставка"]);
    assert!(launched.contains("3 messages queued"), "{launched}");

    let lock = switchboard::sync::EngineLock::try_acquire(&data.join("engine.lock")).unwrap().unwrap();
    let telegram = TelegramConfig { poll_timeout_secs: 1, ..TelegramConfig::new(Secret::new(TOKEN), emu.url()) };
    let channel = Channel::Telegram(TelegramChannel::new(&telegram).unwrap());
    let _engine = switchboard::sync::Engine::start(lock, &db, vec![channel], &Default::default()).unwrap();
    let sent = emu.wait_for_sent(3, WAIT).await;
    let keyboard = sent[0].reply_markup.as_ref().unwrap()["inline_keyboard"].clone();
    assert_eq!(keyboard.as_array().unwrap().len(), 3, "a row per option: {keyboard}");
    // Each press names our message by its Telegram id: wait until the store has them.
    let confirmed = eventually(WAIT, || {
        let n = rows(
            &Store::open(&db).unwrap(),
            "SELECT count(*) FROM messages WHERE campaign_id IS NOT NULL AND external_id IS NOT NULL",
        );
        (n[0][0] == serde_json::json!(3)).then_some(())
    })
    .await;
    assert!(confirmed.is_some());
    let data_of = |row: usize| keyboard[row][0]["callback_data"].as_str().unwrap().to_string();
    let by_chat = |chat: i64| sent.iter().find(|m| m.chat_id == chat).unwrap().message_id;
    emu.customer_presses(customers[0].id, by_chat(customers[0].id), &data_of(0));
    emu.customer_presses(customers[1].id, by_chat(customers[1].id), &data_of(0));
    // The second customer changes their mind: the latest press counts.
    emu.customer_presses(customers[1].id, by_chat(customers[1].id), &data_of(2));
    emu.customer_presses(customers[2].id, by_chat(customers[2].id), &data_of(2));
    let tally = eventually(WAIT, || {
        let t = Store::open(&db).unwrap().poll_tally("доставка").unwrap().unwrap();
        (t.answered == 3 && t.options[2].1 == 2).then_some(t)
    })
    .await
    .expect("every answer tallied");
    assert_eq!(tally.options.iter().map(|(_, n)| *n).collect::<Vec<_>>(), [1, 0, 2]);
    assert_eq!(tally.by_variant["A"], [1, 0, 2]);

    let json = ok(&["poll", "results", "доставка", "--format", "json"]);
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed["answered"], 3);
    assert_eq!(parsed["options"][0], serde_json::json!(["Быстро", 1]));
    let csv = ok(&["poll", "results", "доставка", "--format", "csv"]);
    assert!(csv.starts_with("option,answers,variant A\nБыстро,1,1\nМедленно,0,0\nНе пришло,2,2\n"), "{csv}");
    let text = ok(&["poll", "results", "доставка"]);
    assert!(text.contains("Как вам доставка? — 3 answers"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_sends_a_poll_to_the_open_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    {
        let mut store = Store::open(&dir.path().join("switchboard.db")).unwrap();
        store.ingest(&[inbound(42, "Анна Петрова", 1, "Здравствуйте", now - 60_000)], None, now).unwrap();
        let options = ["Да".to_string(), "Нет".to_string()];
        store.create_poll("отзыв", "Порекомендуете нас друзьям?", &options, now).unwrap().unwrap();
    }
    let app = TestApp::start(dir.path(), "Мария", now);
    app.wait_for("Здравствуйте").await;
    app.press(KeyCode::Enter);
    app.press_with(KeyCode::Char('p'), KeyModifiers::ALT);
    app.wait_for("отзыв — Порекомендуете нас друзьям?").await;
    app.wait_for("[Да] [Нет]").await;
    app.press(KeyCode::Enter);
    app.wait_for("poll `отзыв` queued").await;
    app.quit().await;
    let store = Store::open(&dir.path().join("switchboard.db")).unwrap();
    let sent = rows(&store, "SELECT body, buttons FROM messages WHERE direction = 'out'");
    assert_eq!(sent[0][0], "Порекомендуете нас друзьям?");
    assert!(sent[0][1].as_str().unwrap().contains("poll:1:2"), "{:?}", sent[0][1]);
}
