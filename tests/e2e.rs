//! End to end: the real engine and console against the Telegram emulator over loopback,
//! and a real `switchboard serve` process killed with SIGKILL mid-queue.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::FixedOffset;
use common::{eventually, serve};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use switchboard::app::{self, Console};
use switchboard::channels::{Channel, TelegramChannel};
use switchboard::config::{Config, Secret, TelegramConfig};
use switchboard::keymap::Keymap;
use switchboard::model::{ChannelKind, DeliveryStatus, Direction, Outgoing};
use switchboard::sandbox::customers::demo_customers;
use switchboard::sandbox::{EmulatorOptions, TelegramEmulator};
use switchboard::store::{ConversationFilter, SendTarget, Store};
use switchboard::sync::{Engine, EngineLock};
use switchboard::theme::Styles;

const TOKEN: &str = "123:test-token";
const WAIT: Duration = Duration::from_secs(20);

fn telegram(url: &str) -> TelegramConfig {
    TelegramConfig { poll_timeout_secs: 1, ..TelegramConfig::new(Secret::new(TOKEN), url) }
}

async fn emulator(reply: bool) -> TelegramEmulator {
    let options = EmulatorOptions {
        reply_delay: reply.then_some((Duration::from_millis(50), Duration::from_millis(150))),
        ..EmulatorOptions::default()
    };
    TelegramEmulator::start("127.0.0.1:0".parse().unwrap(), TOKEN, demo_customers(4), options).await.unwrap()
}

fn start_engine(dir: &Path, url: &str) -> Engine {
    let lock = EngineLock::try_acquire(&dir.join("engine.lock")).unwrap().unwrap();
    let channel = Channel::Telegram(TelegramChannel::new(&telegram(url)).unwrap());
    Engine::start(lock, &dir.join("switchboard.db"), vec![channel], &Default::default()).unwrap()
}

/// Messages of the only conversation with `chat`, oldest first.
fn history(db: &Path, chat: i64) -> Vec<switchboard::store::MessageRow> {
    let store = Store::open(db).unwrap();
    match store.find_conversation(ChannelKind::Telegram, &chat.to_string()).unwrap() {
        Some(id) => store.messages_before(id, None, 1000).unwrap(),
        None => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_writes_the_agent_answers_the_customer_replies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    Store::open(&db).unwrap();
    let emu = emulator(true).await;
    let _engine = start_engine(dir.path(), &emu.url());
    let chat = demo_customers(4)[1].id;

    emu.customer_says(chat, "Привет! Где мой заказ? 📦");
    let inbound = eventually(WAIT, || history(&db, chat).into_iter().next()).await.expect("the message arrives");
    assert_eq!(inbound.body, "Привет! Где мой заказ? 📦");
    assert_eq!(inbound.direction, Direction::In);

    // A second connection enqueues, as another console on the same store would.
    let mut client = Store::open(&db).unwrap();
    let conversation = client.find_conversation(ChannelKind::Telegram, &chat.to_string()).unwrap().unwrap();
    client.enqueue(conversation, "Добрый день! 👋", "maria", 10, switchboard::model::now_ms()).unwrap();

    let sent = emu.wait_for_sent(1, WAIT).await;
    assert_eq!((sent[0].chat_id, sent[0].text.as_str()), (chat, "Добрый день! 👋"));
    // Telegram dates messages in whole seconds: an answer within the second of our
    // message may sort before it, so the three are found by what they are, not where.
    let messages = eventually(WAIT, || {
        let h = history(&db, chat);
        let sent = h.iter().any(|m| m.direction == Direction::Out && m.status == DeliveryStatus::Sent);
        (h.len() >= 3 && sent).then_some(h)
    })
    .await
    .expect("sent, and the customer's answer stored");
    assert_eq!(messages.iter().filter(|m| m.direction == Direction::In).count(), 2);
    // The poller confirms a batch by asking for the next one after the commit the test
    // just saw: a moment later.
    let confirmed = eventually(WAIT, || (emu.pending_updates() == 0).then_some(())).await;
    assert!(confirmed.is_some(), "every update was confirmed by the next offset: {} pending", emu.pending_updates());
    let offset = Store::open(&db).unwrap().sync_value("telegram", "offset").unwrap();
    assert_eq!(offset.as_deref(), Some("3"), "two updates stored, the offset covers both");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_control_delays_and_a_block_fails_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let emu = emulator(false).await;
    let customers = demo_customers(4);
    let mut store = Store::open(&db).unwrap();
    emu.set_paused(true);
    let (_, delayed) = store
        .enqueue_to_chat(
            &SendTarget { channel: ChannelKind::Telegram, chat_id: customers[0].id.to_string() },
            &Outgoing::text("one"),
            "a",
            switchboard::model::now_ms(),
        )
        .unwrap();
    emu.block(customers[2].id);
    let (_, blocked) = store
        .enqueue_to_chat(
            &SendTarget { channel: ChannelKind::Telegram, chat_id: customers[2].id.to_string() },
            &Outgoing::text("two"),
            "a",
            switchboard::model::now_ms(),
        )
        .unwrap();
    let (_, unknown) = store
        .enqueue_to_chat(
            &SendTarget { channel: ChannelKind::Telegram, chat_id: "42".into() },
            &Outgoing::text("three"),
            "a",
            switchboard::model::now_ms(),
        )
        .unwrap();
    let _engine = start_engine(dir.path(), &emu.url());

    let waiting = eventually(WAIT, || {
        let m = Store::open(&db).unwrap().message(delayed).unwrap();
        m.error.is_some().then_some(m)
    })
    .await
    .unwrap();
    assert_eq!(waiting.status, DeliveryStatus::Queued);
    assert!(waiting.error.unwrap().contains("flood control"));
    emu.set_paused(false);
    emu.wait_for_sent(1, WAIT).await;
    let sent = eventually(WAIT, || {
        let m = Store::open(&db).unwrap().message(delayed).unwrap();
        (m.status == DeliveryStatus::Sent).then_some(m)
    })
    .await;
    assert!(sent.is_some(), "sent once the server lets it");
    let failed = Store::open(&db).unwrap().message(blocked).unwrap();
    assert_eq!(
        (failed.status, failed.error.as_deref()),
        (DeliveryStatus::Failed, Some("the customer blocked the bot"))
    );
    let failed = Store::open(&db).unwrap().message(unknown).unwrap();
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert!(failed.error.unwrap().starts_with("chat not found"));
    assert_eq!(emu.sent().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_update_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    Store::open(&db).unwrap();
    let emu = emulator(false).await;
    let c = &demo_customers(1)[0];
    let message = serde_json::json!({"message": {
        "message_id": 77, "date": 1_700_000_000, "text": "twice",
        "chat": {"id": c.id, "type": "private", "first_name": c.first_name},
        "from": {"id": c.id, "is_bot": false, "first_name": c.first_name}
    }});
    emu.push_update(message.clone());
    emu.push_update(message);
    emu.customer_says(c.id, "after");
    let _engine = start_engine(dir.path(), &emu.url());
    let h = eventually(WAIT, || {
        let h = history(&db, c.id);
        (h.len() >= 2).then_some(h)
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let h2 = history(&db, c.id);
    assert_eq!(h2.len(), 2, "{h:?}");
    assert_eq!(h2[0].body, "twice");
}

/// The real console on a TestBackend: open the conversation, type, press Enter, and the
/// emulator receives the text; the customer's answer shows on the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_sends_what_the_agent_types() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let emu = emulator(true).await;
    let chat = demo_customers(4)[0].id;
    emu.customer_says(chat, "Здравствуйте!");

    let mut config = Config::default();
    config.engine.refresh_ms = 50;
    config.ui.agent_name = "maria".into();
    Store::open(&db).unwrap();
    let console = Console {
        store_path: db.clone(),
        lock_path: dir.path().join("engine.lock"),
        consoles_path: dir.path().join("consoles.lock"),
        engine: app::EngineMode::InProcess,
        channels: vec![Channel::Telegram(TelegramChannel::new(&telegram(&emu.url())).unwrap())],
        config,
        styles: Styles::load("dark", false).unwrap(),
        keymap: Keymap::default(),
        clock: app::real_clock(),
    };
    let (keys, events) = futures::channel::mpsc::unbounded::<std::io::Result<Event>>();
    let press =
        |code: KeyCode, mods: KeyModifiers| keys.unbounded_send(Ok(Event::Key(KeyEvent::new(code, mods)))).unwrap();
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let driver = async {
        // Wait for the customer's message, then open the conversation: opening marks it
        // read, which is how the test knows the composer has focus.
        eventually(WAIT, || (!history(&db, chat).is_empty()).then_some(())).await.unwrap();
        let opened = eventually(WAIT, || {
            press(KeyCode::Enter, KeyModifiers::NONE);
            std::thread::sleep(Duration::from_millis(100));
            let store = Store::open(&db).unwrap();
            let rows = store.conversations_page(ConversationFilter::default(), None, 10).unwrap();
            (rows.first()?.unread == 0).then_some(())
        })
        .await;
        assert!(opened.is_some(), "the conversation opened");
        for c in "Добрый день! 👋".chars() {
            press(KeyCode::Char(c), KeyModifiers::NONE);
        }
        press(KeyCode::Enter, KeyModifiers::NONE);
        let sent = emu.wait_for_sent(1, WAIT).await;
        assert_eq!(sent.first().map(|m| m.text.as_str()), Some("Добрый день! 👋"));
        eventually(WAIT, || (history(&db, chat).len() >= 3).then_some(())).await.expect("the customer answers");
        tokio::time::sleep(Duration::from_millis(400)).await;
        press(KeyCode::Char('c'), KeyModifiers::CONTROL);
    };
    let (result, ()) = tokio::join!(app::run_on(console, &mut terminal, events, |_, _| Ok(())), driver);
    result.unwrap();
    let buffer = terminal.backend().buffer();
    let screen: String = (0..buffer.area.height)
        .map(|y| (0..buffer.area.width).map(|x| buffer[(x, y)].symbol()).collect::<String>() + "\n")
        .collect();
    assert!(screen.contains("Добрый день! 👋"), "{screen}");
    assert!(screen.contains("→ maria  ✓ sent"), "{screen}");
    let h = history(&db, chat);
    let answer = &h[2].body;
    let first_words: String = answer.chars().take(8).collect();
    assert!(screen.contains(&first_words), "the answer `{answer}` shows:\n{screen}");
    let _ = FixedOffset::east_opt(0);
}

fn write_config(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!("[channels.telegram]\ntoken = \"{TOKEN}\"\napi_url = \"{url}\"\npoll_timeout_secs = 1\n"),
    )
    .unwrap();
    path
}

/// `kill -9` the engine while messages wait in the queue; after a restart each one is
/// sent exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_engine_sends_each_queued_message_exactly_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = data.join("switchboard.db");
    let emu = emulator(false).await;
    let config = write_config(dir.path(), &emu.url());
    let customers = demo_customers(4);
    emu.set_paused(true);

    let mut store = Store::open(&db).unwrap();
    let mut ids = Vec::new();
    for (i, c) in customers.iter().enumerate() {
        let target = SendTarget { channel: ChannelKind::Telegram, chat_id: c.id.to_string() };
        ids.push(
            store
                .enqueue_to_chat(
                    &target,
                    &Outgoing::text(format!("notice {i}")),
                    "script",
                    switchboard::model::now_ms(),
                )
                .unwrap()
                .1,
        );
    }
    let mut engine = serve(&config, &data);
    // Every message has been tried against the paused server at least once.
    let tried = eventually(WAIT, || {
        ids.iter().all(|id| Store::open(&db).unwrap().message(*id).unwrap().error.is_some()).then_some(())
    })
    .await;
    engine.kill().unwrap(); // SIGKILL
    engine.wait().unwrap();
    assert!(tried.is_some(), "the engine tried every message before it was killed");
    assert!(emu.sent().is_empty());

    emu.set_paused(false);
    let mut engine = serve(&config, &data);
    let sent = emu.wait_for_sent(ids.len(), WAIT).await;
    // Give a duplicate every chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    engine.kill().unwrap();
    engine.wait().unwrap();
    let sent_again = emu.sent();
    assert_eq!(sent.len(), ids.len());
    assert_eq!(sent_again.len(), ids.len(), "nothing was sent twice: {sent_again:?}");
    let mut texts: Vec<_> = sent_again.iter().map(|m| m.text.clone()).collect();
    texts.sort();
    assert_eq!(texts, ["notice 0", "notice 1", "notice 2", "notice 3"]);
    for id in ids {
        assert_eq!(Store::open(&db).unwrap().message(id).unwrap().status, DeliveryStatus::Sent);
    }
}

#[test]
fn cli_export_and_send_work_on_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("empty.toml");
    std::fs::write(&config, "").unwrap();
    let run = |args: &[&str]| common::cli(&config, dir.path(), args);
    let out = run(&["send", "--channel", "telegram", "--chat", "12345", "--text", "Ваш заказ отправлен \x1b[2J"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no engine runs"));
    let out = run(&["export", "messages", "--format", "jsonl"]);
    assert!(out.status.success());
    let line: serde_json::Value = serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    for key in
        ["channel", "chat_id", "contact_id", "direction", "external_id", "kind", "text", "sent_at", "status", "error"]
    {
        assert!(line.get(key).is_some(), "export lacks {key}: {line}");
    }
    assert_eq!(line["chat_id"], "12345");
    assert_eq!(line["direction"], "out");
    assert_eq!(line["status"], "queued");
    assert_eq!(line["text"], "Ваш заказ отправлен \u{1b}[2J", "JSON keeps the text exactly");
    assert!(line["sent_at"].as_str().unwrap().ends_with('Z'));
    let out = run(&["export", "messages", "--format", "csv"]);
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("id,conversation_id,channel,chat_id,contact_id,direction"), "{csv}");
    assert!(csv.contains("␛[2J") && !csv.contains('\x1b'), "CSV shows escapes as symbols");
    for what in ["contacts", "conversations"] {
        assert!(run(&["export", what, "--format", "csv"]).status.success());
    }
    // A bad config is an error that names the key and the line; nothing runs.
    std::fs::write(&config, "[ui]\nthem = \"dark\"\n").unwrap();
    let out = run(&["export", "messages"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2") && err.contains("them"), "{err}");
}

#[tokio::test]
async fn errors_name_the_problem_but_never_the_token() {
    // A port nobody listens on: the network error must not quote the URL with the token.
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let tg = TelegramChannel::new(&telegram(&format!("http://{unused}"))).unwrap();
    let err = tg.send_text("1", "hi").await.unwrap_err();
    assert!(matches!(err, switchboard::channels::SendError::Retry { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("test-token"), "{err:?}");

    // A token the server refuses stops the channel with a plain reason.
    let emu = emulator(false).await;
    let mut config = telegram(&emu.url());
    config.token = Secret::new("999:wrong-token");
    let tg = TelegramChannel::new(&config).unwrap();
    let err = tg.send_text(&demo_customers(1)[0].id.to_string(), "hi").await.unwrap_err();
    assert_eq!(err, switchboard::channels::SendError::ChannelDown("Telegram rejected the bot token".into()));
    assert!(!format!("{err:?}").contains("wrong-token"));
}

#[test]
fn cli_sends_a_whatsapp_template_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[channels.whatsapp]\ntoken = \"t\"\nphone_number_id = \"1\"\napp_secret = \"s\"\nverify_token = \"v\"\n\
         [[channels.whatsapp.templates]]\nname = \"order_update\"\nlanguage = \"en_US\"\nbody = \"Hi {{1}}, order {{2}} shipped\"\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let base = ["send", "--channel", "whatsapp", "--chat", "79161234567", "--template", "order_update"];
    let short = run(&[&base[..], &["--param", "Ann"]].concat());
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("takes 2 parameters"));
    let ok = run(&[&base[..], &["--param", "Ann", "--param", "5512"]].concat());
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let out = run(&["export", "messages"]);
    let line: serde_json::Value = serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!((line["kind"].as_str(), line["text"].as_str()), (Some("template"), Some("Hi Ann, order 5512 shipped")));
}
