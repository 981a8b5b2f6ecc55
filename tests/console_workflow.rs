//! The agent's day in the real console, driven through `TestApp` as an agent would:
//! two consoles on one store see each other, assign and snooze; a snooze wakes on a
//! clock the test moves; search finds "Артём" by "Артем" and opens at the message;
//! the palette, the agent picker, mute and rebound card keys work.

mod common;

use common::app::TestApp;
use common::inbound;
use crossterm::event::{KeyCode, KeyModifiers};
use switchboard::model::{ChannelKind, now_ms};
use switchboard::store::Store;

const HOUR: i64 = 3_600_000;

fn store(dir: &std::path::Path) -> Store {
    Store::open(&dir.join("switchboard.db")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_on_one_store_see_each_other_assign_and_snooze() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    store(dir.path()).ingest(&[inbound(42, "Анна Петрова", 1, "Где мой заказ?", now - 60_000)], None, now).unwrap();
    let maria = TestApp::start(dir.path(), "maria", now);
    let ivan = TestApp::start(dir.path(), "ivan", now);
    // The first conversation opens by itself in each: each sees the other there.
    maria.wait_for("ivan is viewing").await;
    ivan.wait_for("maria is viewing").await;

    // Maria takes it; Ivan's console shows it hers.
    maria.send_keys("a");
    ivan.wait_for("open · maria").await;

    // Maria snoozes it for an hour; both show it snoozed.
    maria.send_keys("z");
    maria.wait_for("Snooze until").await;
    maria.press(KeyCode::Enter);
    ivan.wait_for("snoozed until").await;
    maria.wait_for("snoozed until").await;

    // An hour later by Maria's clock, her console wakes it, and Ivan sees it back.
    maria.advance(HOUR + 1_000);
    maria.wait_for("private · open").await;
    ivan.wait_for("private · open").await;

    // Until the customer writes: no clock brings it back; her message does.
    maria.send_keys("z");
    for _ in 0..3 {
        maria.press(KeyCode::Down);
    }
    maria.press(KeyCode::Enter);
    ivan.wait_for("snoozed until they write").await;
    maria.advance(100 * HOUR);
    let later = now_ms();
    store(dir.path()).ingest(&[inbound(42, "Анна Петрова", 2, "Алло, вы тут?", later)], None, later).unwrap();
    ivan.wait_for("Алло, вы тут?").await;
    maria.wait_until("open again", |s| s.contains("private · open") && s.contains("Алло, вы тут?")).await;
    maria.quit().await;
    ivan.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_artyom_by_artem_and_opens_at_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    let start = now - 400 * 60_000;
    let mut events = Vec::new();
    for i in 1..=300 {
        let text = match i {
            20 => "Артём, ваш заказ №5512 готов к выдаче".to_string(),
            250 => "Артём ещё раз: заказ ждёт до пятницы".to_string(),
            _ => format!("сообщение {i}"),
        };
        events.push(inbound(42, "Анна Петрова", i, &text, start + i * 60_000));
    }
    events.push(inbound(43, "Иван", 1, "\u{1b}[31mERROR 502\u{1b}[0m на сайте", now - 1_000));
    store(dir.path()).ingest(&events, None, now).unwrap();
    let app = TestApp::start(dir.path(), "maria", now);
    app.wait_for("Иван").await;

    app.send_keys("/Артем");
    app.wait_for("Артём, ваш заказ №5512").await;
    // The newest hit is first: go down to the older one, and open it.
    app.press(KeyCode::Down);
    app.press(KeyCode::Enter);
    let screen = app.wait_for("◀ found").await;
    assert!(screen.contains("Артём, ваш заказ №5512 готов"), "{screen}");
    assert!(
        screen.contains("сообщение 21") && !screen.contains("сообщение 299"),
        "at the match, not the end:\n{screen}"
    );
    assert!(screen.contains("n/N matches"), "{screen}");

    // n goes to the next match, 230 messages on: beyond what was loaded.
    app.send_keys("n");
    app.wait_for("Артём ещё раз").await;
    app.send_keys("n");
    app.wait_for("no later match").await;
    app.send_keys("N");
    app.wait_until("back at the first", |s| s.contains("№5512") && s.contains("◀ found")).await;

    // Words next to an escape sequence are found.
    app.press(KeyCode::Esc);
    app.send_keys("/error 502");
    app.wait_for("ERROR 502").await;
    app.press(KeyCode::Esc);
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn palette_picker_mute_and_rebound_keys() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    store(dir.path()).ingest(&[inbound(42, "Анна Петрова", 1, "Здравствуйте", now - 60_000)], None, now).unwrap();
    // Ivan has used this store before: the picker offers him.
    store(dir.path()).heartbeat("old-console", "ivan", None, false, now - HOUR, 6_000).unwrap();
    let mut config = switchboard::config::Config::default();
    config.engine.refresh_ms = 50;
    config.ui.agent_name = "maria".into();
    let keys = "[card]\ntag = \"T\"\n[list]\nmute = \"M\"\n";
    config.keys = toml::from_str(keys).unwrap();
    let app = TestApp::with(dir.path(), config, now);
    app.wait_for("Здравствуйте").await;

    // The palette finds a command by what it does, and runs it.
    app.press_with(KeyCode::Char('k'), KeyModifiers::CONTROL);
    app.wait_for("Commands").await;
    app.send_keys("resolved");
    app.wait_for("resolve — mark resolved").await;
    app.press(KeyCode::Enter);
    app.wait_for("private · resolved").await;

    // The agent picker: type part of a name.
    app.send_keys("A");
    app.wait_for("maria (you)").await;
    app.wait_for("nobody (unassign)").await;
    app.wait_for("ivan").await;
    app.send_keys("iv");
    app.press(KeyCode::Enter);
    app.wait_for("resolved · ivan").await;
    app.send_keys("U");
    app.wait_for("unassigned").await;

    // Mute, on the key the config gave it.
    app.send_keys("M");
    app.wait_for("muted: no alerts").await;
    let id = store(dir.path()).find_conversation(ChannelKind::Telegram, "42").unwrap().unwrap();
    common::eventually(std::time::Duration::from_secs(5), || {
        store(dir.path()).muted("maria").unwrap().contains(&id).then_some(())
    })
    .await
    .expect("the mute is kept");

    // The card's tag key, rebound to T: t does nothing there now, T asks for a tag.
    store(dir.path())
        .conn()
        .execute("UPDATE conversations SET contact_id = (SELECT min(id) FROM contacts)", [])
        .unwrap();
    app.send_keys("x");
    app.wait_for("private · open").await;
    app.send_keys("p");
    app.wait_for("T tag").await;
    app.send_keys("t");
    assert!(!app.screen().contains("Tag to add or remove"));
    app.send_keys("T");
    app.wait_for("Tag to add or remove").await;
    app.send_keys("vip");
    app.press(KeyCode::Enter);
    app.wait_for("vip").await;
    app.press(KeyCode::Esc);
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_mentions_and_the_traffic_cop_between_two_agents() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    store(dir.path()).ingest(&[inbound(42, "Анна Петрова", 1, "Где мой заказ?", now - 60_000)], None, now).unwrap();
    let maria = TestApp::start(dir.path(), "maria", now);
    let ivan = TestApp::start(dir.path(), "ivan", now);
    maria.wait_for("ivan is viewing").await;

    // Ivan leaves a note mentioning Maria; her console tells her, and shows it.
    ivan.press(KeyCode::Tab);
    ivan.send_keys("N");
    ivan.wait_for("Note on Анна Петрова").await;
    ivan.send_keys("@maria она ждёт звонка");
    ivan.press(KeyCode::Enter);
    maria.wait_for("ivan mentioned you").await;
    maria.wait_for("✎ note by ivan").await;

    // Maria starts a reply: Ivan's note came after she opened it, so Enter asks first.
    maria.press(KeyCode::Enter);
    maria.send_keys("Анна, курьер позвонит завтра");
    maria.press(KeyCode::Enter);
    maria.wait_for("ivan left a note after you opened this").await;
    assert!(maria.screen().contains("Анна, курьер позвонит завтра"), "the text stays");
    maria.press(KeyCode::Enter);
    maria.wait_for("→ maria").await;
    ivan.wait_for("Анна, курьер позвонит завтра").await;
    // With no engine, the reply waits in the outbox: no channel is configured.
    let queued: i64 = store(dir.path()).conn().query_row("SELECT count(*) FROM outbox", [], |r| r.get(0)).unwrap();
    assert_eq!(queued, 1);
    maria.quit().await;
    ivan.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_sent_on_telegram_is_edited_then_deleted_from_the_console() {
    use switchboard::channels::{Channel, TelegramChannel};
    use switchboard::config::{Secret, TelegramConfig};
    use switchboard::sandbox::customers::demo_customers;
    use switchboard::sandbox::{EmulatorOptions, TelegramEmulator};
    const TOKEN: &str = "123:test-token";
    let emu =
        TelegramEmulator::start("127.0.0.1:0".parse().unwrap(), TOKEN, demo_customers(1), EmulatorOptions::default())
            .await
            .unwrap();
    let chat = demo_customers(1)[0].id;
    emu.customer_says(chat, "Здравствуйте!");
    let dir = tempfile::tempdir().unwrap();
    let telegram = TelegramConfig { poll_timeout_secs: 1, ..TelegramConfig::new(Secret::new(TOKEN), emu.url()) };
    let channel = Channel::Telegram(TelegramChannel::new(&telegram).unwrap());
    let mut config = switchboard::config::Config::default();
    config.engine.refresh_ms = 50;
    config.ui.agent_name = "maria".into();
    let app = TestApp::with_channels(dir.path(), config, vec![channel], now_ms());
    app.wait_for("Здравствуйте!").await;
    app.press(KeyCode::Enter);
    app.send_keys("Ваш заказ готов");
    app.press(KeyCode::Enter);
    app.wait_for("✓ sent").await;

    // e: the reply comes into the composer; Enter changes it for the customer too.
    app.press(KeyCode::Esc);
    app.press(KeyCode::Tab);
    app.send_keys("e");
    app.wait_for("Editing your message").await;
    app.send_keys(" к выдаче");
    app.press(KeyCode::Enter);
    app.wait_for("Ваш заказ готов к выдаче").await;
    app.wait_for("(edited)").await;
    let sent = emu.wait_for_sent(2, std::time::Duration::from_secs(20)).await;
    assert!(sent.iter().any(|m| m.method == "editMessageText" && m.text == "Ваш заказ готов к выдаче"), "{sent:?}");

    // D twice: deleted for the customer, struck through here.
    app.press(KeyCode::Esc);
    app.press(KeyCode::Tab);
    app.send_keys("D");
    app.wait_for("again deletes it").await;
    app.send_keys("D");
    app.wait_for("deleted for the customer").await;
    let sent = emu.wait_for_sent(3, std::time::Duration::from_secs(20)).await;
    assert!(sent.iter().any(|m| m.method == "deleteMessage"), "{sent:?}");
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_draft_goes_to_the_agents_editor_and_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    store(dir.path()).ingest(&[inbound(42, "Анна Петрова", 1, "Здравствуйте", now - 60_000)], None, now).unwrap();
    // A fake editor: it records what it was given and appends a second paragraph, as an
    // agent would (an editor ends the file with a newline).
    let seen = dir.path().join("seen.txt");
    let script = dir.path().join("editor.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncp \"$1\" '{}'\nprintf '\\n\\nДоставка завтра, с 10 до 14.\\n' >> \"$1\"\n",
            seen.display()
        ),
    )
    .unwrap();
    let editor = format!("sh '{}'", script.display());
    let app = TestApp::with_editor(dir.path(), "maria", now, &editor);
    app.wait_for("Здравствуйте").await;
    app.press(KeyCode::Enter);
    app.send_keys("Анна, добрый день!");
    app.press_with(KeyCode::Char('o'), KeyModifiers::CONTROL);
    app.wait_for("Доставка завтра, с 10 до 14.").await;
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "Анна, добрый день!", "the editor got the draft");
    let screen = app.screen();
    assert!(screen.contains("Анна, добрый день!"), "{screen}");
    app.quit().await;
    // The edited draft is kept for next time, line breaks and all.
    let drafts = store(dir.path()).drafts("maria").unwrap();
    assert_eq!(drafts[0].1, "Анна, добрый день!\n\nДоставка завтра, с 10 до 14.");
}
