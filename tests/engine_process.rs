//! The engine in a process of its own: a console starts it, the status bar tells the
//! truth about it, a killed engine is replaced, it outlives nothing it should not (it
//! stops once the last console has gone), and drafts outlive the console.

mod common;

use std::path::Path;
use std::time::Duration;

use common::eventually;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use switchboard::app::{self, Console, EngineMode, SpawnEngine};
use switchboard::channels::{Channel, TelegramChannel};
use switchboard::config::{Config, Secret, TelegramConfig};
use switchboard::keymap::Keymap;
use switchboard::model::ChannelKind;
use switchboard::sandbox::customers::demo_customers;
use switchboard::sandbox::{EmulatorOptions, TelegramEmulator};
use switchboard::store::Store;
use switchboard::sync::EngineLock;
use switchboard::theme::Styles;

const TOKEN: &str = "123:test-token";
const WAIT: Duration = Duration::from_secs(20);

fn console_for(dir: &Path, url: &str) -> Console {
    let config_file = dir.join("config.toml");
    std::fs::write(
        &config_file,
        format!("[channels.telegram]\ntoken = \"{TOKEN}\"\napi_url = \"{url}\"\npoll_timeout_secs = 1\n"),
    )
    .unwrap();
    let mut config = Config::default();
    config.engine.refresh_ms = 50;
    config.ui.agent_name = "maria".into();
    let telegram = TelegramConfig { poll_timeout_secs: 1, ..TelegramConfig::new(Secret::new(TOKEN), url) };
    Console {
        store_path: dir.join("switchboard.db"),
        lock_path: dir.join("engine.lock"),
        consoles_path: dir.join("consoles.lock"),
        config,
        styles: Styles::load("dark", false).unwrap(),
        keymap: Keymap::default(),
        channels: vec![Channel::Telegram(TelegramChannel::new(&telegram).unwrap())],
        engine: EngineMode::OwnProcess(SpawnEngine {
            exe: env!("CARGO_BIN_EXE_switchboard").into(),
            config: config_file,
            data_dir: dir.to_path_buf(),
            log_dir: dir.join("logs"),
        }),
        clock: switchboard::app::real_clock(),
    }
}

fn screen(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| (0..buffer.area.width).map(|x| buffer[(x, y)].symbol()).collect::<String>() + "\n")
        .collect()
}

fn engine_pid(dir: &Path) -> Option<u32> {
    EngineLock::is_held(&dir.join("engine.lock")).then(|| EngineLock::holder(&dir.join("engine.lock"))).flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_starts_its_engine_replaces_a_killed_one_and_the_engine_leaves_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    Store::open(&db).unwrap();
    let emu =
        TelegramEmulator::start("127.0.0.1:0".parse().unwrap(), TOKEN, demo_customers(3), EmulatorOptions::default())
            .await
            .unwrap();
    let chat = demo_customers(3)[0].id;
    let (keys, events) = futures::channel::mpsc::unbounded::<std::io::Result<Event>>();
    let press =
        |code: KeyCode, mods: KeyModifiers| keys.unbounded_send(Ok(Event::Key(KeyEvent::new(code, mods)))).unwrap();
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
    let console = console_for(dir.path(), &emu.url());
    let driver = async {
        // A separate process takes the engine lock.
        let first = eventually(WAIT, || engine_pid(dir.path())).await.expect("the console started an engine");
        assert_ne!(first, std::process::id(), "the engine is not this process");
        // It receives while the console only reads.
        emu.customer_says(chat, "Где мой заказ?");
        eventually(WAIT, || {
            let store = Store::open(&db).ok()?;
            store.find_conversation(ChannelKind::Telegram, &chat.to_string()).ok().flatten()
        })
        .await
        .expect("the engine stored the message");
        // Killed: the console notices and starts another.
        // SAFETY: kill(2) on a pid this test's console started.
        unsafe { libc::kill(first as i32, libc::SIGKILL) };
        let second = eventually(WAIT, || engine_pid(dir.path()).filter(|p| *p != first)).await;
        assert!(second.is_some(), "a new engine replaced the killed one");
        // The console looks four times a second.
        tokio::time::sleep(Duration::from_millis(600)).await;
        // Type a draft, then quit: the first q asks, the second quits.
        press(KeyCode::Enter, KeyModifiers::NONE);
        for c in "Сейчас проверю".chars() {
            press(KeyCode::Char(c), KeyModifiers::NONE);
        }
        press(KeyCode::Esc, KeyModifiers::NONE);
        tokio::time::sleep(Duration::from_millis(300)).await;
        press(KeyCode::Char('q'), KeyModifiers::NONE);
        tokio::time::sleep(Duration::from_millis(300)).await;
        press(KeyCode::Char('q'), KeyModifiers::NONE);
    };
    let (result, ()) = tokio::join!(app::run_on(console, &mut terminal, events, |_, _| Ok(())), driver);
    result.unwrap();
    let shown = screen(&terminal);
    assert!(shown.contains("◆ engine pid"), "the status bar names the engine:\n{shown}");
    assert!(shown.contains("kept for next time"), "quit asked first:\n{shown}");
    // The draft is in the store.
    let store = Store::open(&db).unwrap();
    let conversation = store.find_conversation(ChannelKind::Telegram, &chat.to_string()).unwrap().unwrap();
    assert_eq!(store.drafts("maria").unwrap(), vec![(conversation, "Сейчас проверю".to_string())]);
    drop(store);
    // With no console left, the engine stops by itself.
    let gone =
        eventually(Duration::from_secs(15), || (!EngineLock::is_held(&dir.path().join("engine.lock"))).then_some(()))
            .await;
    assert!(gone.is_some(), "the engine stopped after the last console");

    // A new console shows the draft again in its conversation.
    let (keys, events) = futures::channel::mpsc::unbounded::<std::io::Result<Event>>();
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
    let console = console_for(dir.path(), &emu.url());
    let driver = async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        keys.unbounded_send(Ok(Event::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)))).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        keys.unbounded_send(Ok(Event::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)))).unwrap();
    };
    let (result, ()) = tokio::join!(app::run_on(console, &mut terminal, events, |_, _| Ok(())), driver);
    result.unwrap();
    let shown = screen(&terminal);
    assert!(shown.contains("Сейчас проверю"), "the draft is back:\n{shown}");
    eventually(Duration::from_secs(15), || (!EngineLock::is_held(&dir.path().join("engine.lock"))).then_some(()))
        .await
        .expect("and that engine stops too");
}
