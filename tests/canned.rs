//! Canned replies: saved with their variables checked, rendered for a Cyrillic customer
//! (defaults, the agent, attributes), imported all-or-none and exported as the same
//! TOML, and put in the composer by `/shortcut` Tab in the real console.

mod common;

use common::app::TestApp;
use common::{cli, inbound};
use crossterm::event::KeyCode;
use switchboard::model::{ChannelKind, now_ms};
use switchboard::store::{Canned, CannedFile, Store};

const T0: i64 = 1_773_134_000_000;

fn canned(name: &str, shortcut: Option<&str>, body: &str) -> Canned {
    Canned {
        name: name.into(),
        shortcut: shortcut.map(str::to_string),
        body: body.into(),
        language: Some("ru".into()),
        ..Canned::default()
    }
}

#[test]
fn a_canned_reply_is_checked_when_saved_and_rendered_for_the_customer() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(42, "Анна Петрова", 1, "Здравствуйте", T0)], None, T0).unwrap();
    store.ingest(&[inbound(43, " ", 1, "?", T0)], None, T0).unwrap();
    let anna = store.find_conversation(ChannelKind::Telegram, "42").unwrap().unwrap();
    let nameless = store.find_conversation(ChannelKind::Telegram, "43").unwrap().unwrap();

    let thanks = canned("Спасибо", Some("спасибо"), "{{first_name|друг}}, спасибо за заказ! С уважением, {{agent}}");
    assert_eq!(store.save_canned(&thanks, T0).unwrap(), Ok(()));
    let rendered = store.render_canned("спасибо", anna, "Мария").unwrap();
    assert_eq!(rendered.unwrap(), "Анна, спасибо за заказ! С уважением, Мария");
    let rendered = store.render_canned("Спасибо", nameless, "Мария").unwrap();
    assert_eq!(rendered.unwrap(), "друг, спасибо за заказ! С уважением, Мария", "the default, by name too");

    // An unknown variable is refused when saved, with its name.
    let bad = canned("Плохой", Some("bad"), "Здравствуйте, {{firstname}}!");
    let why = store.save_canned(&bad, T0).unwrap().unwrap_err();
    assert!(why.contains("unknown variable `{{firstname}}`"), "{why}");
    // A shortcut is one reply's only; a variable with no value and no default says so.
    let city = canned("Город", Some("спасибо"), "Доставим в {{attr.city}}");
    assert!(store.save_canned(&city, T0).unwrap().unwrap_err().contains("/спасибо is `Спасибо`'s already"));
    let city = canned("Город", Some("город"), "Доставим в {{attr.city}}");
    assert_eq!(store.save_canned(&city, T0).unwrap(), Ok(()));
    let why = store.render_canned("город", anna, "Мария").unwrap().unwrap_err();
    assert!(why.contains("{{attr.city}} has no value"), "{why}");
    assert!(store.render_canned("нет", anna, "Мария").unwrap().unwrap_err().contains("no canned reply /нет"));
}

#[test]
fn import_is_all_or_none_and_export_reads_back() {
    let mut store = Store::open_in_memory().unwrap();
    let file: CannedFile = toml::from_str(
        "[[canned]]\nname = \"Привет\"\nshortcut = \"hi\"\nbody = \"Здравствуйте, {{name}}!\"\nlanguage = \"ru\"\n\n\
         [[canned]]\nname = \"Bye\"\nbody = \"Bye, {{first_name|friend}} 👋\"\n",
    )
    .unwrap();
    assert_eq!(store.import_canned(&file, T0).unwrap(), Ok(2));
    // One bad reply: nothing of the file is saved.
    let bad: CannedFile = toml::from_str(
        "[[canned]]\nname = \"Новый\"\nbody = \"ok\"\n\n[[canned]]\nname = \"Сломанный\"\nbody = \"{{nope}}\"\n",
    )
    .unwrap();
    assert!(store.import_canned(&bad, T0).unwrap().unwrap_err().contains("`Сломанный`"));
    let clash: CannedFile =
        toml::from_str("[[canned]]\nname = \"Новый\"\nbody = \"ok\"\n\n[[canned]]\nname = \"Другой\"\nshortcut = \"hi\"\nbody = \"x\"\n")
            .unwrap();
    assert!(store.import_canned(&clash, T0).unwrap().unwrap_err().contains("/hi is `Привет`'s already"));
    let names: Vec<String> = store.canned().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["Bye", "Привет"], "neither failed import left anything");
    // Export, import into a new store: the same replies.
    let exported = toml::to_string(&CannedFile { canned: store.canned().unwrap() }).unwrap();
    let mut other = Store::open_in_memory().unwrap();
    assert_eq!(other.import_canned(&toml::from_str(&exported).unwrap(), T0).unwrap(), Ok(2));
    assert_eq!(other.canned().unwrap(), store.canned().unwrap());
}

#[test]
fn the_command_line_adds_lists_removes_imports_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let data = dir.path().join("data");
    let ok = |args: &[&str]| {
        let out = cli(&config, &data, args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    ok(&[
        "canned",
        "add",
        "Спасибо",
        "--shortcut",
        "/спасибо",
        "--body",
        "{{first_name|друг}}, спасибо!",
        "--language",
        "ru",
    ]);
    let listed = ok(&["canned", "list"]);
    assert!(listed.contains("Спасибо") && listed.contains("/спасибо") && listed.contains("ru"), "{listed}");
    let out = cli(&config, &data, &["canned", "add", "Плохой", "--body", "{{nope}}"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown variable `{{nope}}`"));
    let exported = ok(&["canned", "export"]);
    let file = dir.path().join("canned.toml");
    std::fs::write(&file, &exported).unwrap();
    ok(&["canned", "remove", "Спасибо"]);
    assert!(ok(&["canned", "list"]).trim().is_empty());
    ok(&["canned", "import", file.to_str().unwrap()]);
    assert!(ok(&["canned", "list"]).contains("/спасибо"));
    // A damaged file says where.
    std::fs::write(&file, "[[canned]]\nname = \"x\"\nbdy = \"y\"\n").unwrap();
    let out = cli(&config, &data, &["canned", "import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_shortcut_tab_puts_the_reply_for_this_customer_in_the_composer() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    {
        let mut store = Store::open(&dir.path().join("switchboard.db")).unwrap();
        store.ingest(&[inbound(42, "Анна Петрова", 1, "Где мой заказ?", now - 60_000)], None, now).unwrap();
        let thanks = canned("Спасибо", Some("спасибо"), "{{first_name|друг}}, спасибо за терпение! {{agent}}");
        store.save_canned(&thanks, now).unwrap().unwrap();
        store.save_canned(&canned("Доставка", Some("когда"), "Курьер привезёт заказ завтра."), now).unwrap().unwrap();
    }
    let app = TestApp::start(dir.path(), "Мария", now);
    app.wait_for("Где мой заказ?").await;
    app.press(KeyCode::Enter);
    app.send_keys("Добрый день! /спасибо");
    app.press(KeyCode::Tab);
    app.wait_for("Добрый день! Анна, спасибо за терпение! Мария").await;
    // The picker: typed text stays, the reply goes in at the cursor.
    app.send_keys(" ");
    app.press_with(KeyCode::Char('c'), crossterm::event::KeyModifiers::ALT);
    app.wait_for("Canned replies").await;
    app.wait_for("Курьер привезёт заказ завтра.").await;
    app.send_keys("Доста");
    app.press(KeyCode::Enter);
    app.wait_for("Мария Курьер привезёт").await;
    // Tab with no shortcut before the cursor moves on, as before.
    app.press(KeyCode::Tab);
    app.press(KeyCode::Esc);
    app.quit().await;
}

#[test]
fn a_macro_is_checked_when_saved_and_exports_with_its_actions_and_key() {
    let store = Store::open_in_memory().unwrap();
    let shipped = Canned {
        actions: vec!["tag shipped".into(), "resolve".into()],
        key: Some("alt-1".into()),
        ..canned("Отправлено", Some("отпр"), "{{first_name|друг}}, ваш заказ отправлен!")
    };
    assert_eq!(store.save_canned(&shipped, T0).unwrap(), Ok(()));
    let acts_only = Canned { actions: vec!["snooze 2h".into()], ..canned("Позже", None, "") };
    assert_eq!(store.save_canned(&acts_only, T0).unwrap(), Ok(()), "a macro may only act");

    let refused = |c: Canned| store.save_canned(&c, T0).unwrap().unwrap_err();
    let why = refused(Canned { actions: vec!["close".into()], ..canned("Плохой", None, "x") });
    assert!(why.contains("`Плохой`") && why.contains("`close` is no action"), "{why}");
    let why = refused(Canned { actions: vec!["stage vip".into()], ..canned("Плохой", None, "x") });
    assert!(why.contains("the stage is one of"), "{why}");
    let why = refused(Canned { key: Some("ctrl-c".into()), ..canned("Плохой", None, "x") });
    assert!(
        why.contains("Ctrl-c is the console's key for quit") || why.contains("the console's key for quit"),
        "{why}"
    );
    let why = refused(Canned { key: Some("ы".into()), ..canned("Плохой", None, "x") });
    assert!(why.contains("typed into the composer"), "{why}");
    let why = refused(Canned { key: Some("alt-1".into()), ..canned("Другой", None, "x") });
    assert!(why.contains("alt-1 runs `Отправлено` already"), "{why}");
    let why = refused(Canned { key: Some("hyper-q".into()), ..canned("Плохой", None, "x") });
    assert!(why.contains("is not a key"), "{why}");

    let exported = toml::to_string(&CannedFile { canned: store.canned().unwrap() }).unwrap();
    assert!(
        exported.contains("actions = [\"tag shipped\", \"resolve\"]") && exported.contains("key = \"alt-1\""),
        "{exported}"
    );
    let mut other = Store::open_in_memory().unwrap();
    assert_eq!(other.import_canned(&toml::from_str(&exported).unwrap(), T0).unwrap(), Ok(2));
    assert_eq!(other.canned().unwrap(), store.canned().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_macro_replies_tags_and_resolves_after_a_preview() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    let db = dir.path().join("switchboard.db");
    {
        let mut store = Store::open(&db).unwrap();
        store.ingest(&[inbound(42, "Анна Петрова", 1, "Когда отправите?", now - 60_000)], None, now).unwrap();
        let shipped = Canned {
            actions: vec!["tag shipped".into(), "resolve".into()],
            key: Some("alt-1".into()),
            ..canned("Отправлено", None, "{{first_name|друг}}, ваш заказ отправлен! {{agent}}")
        };
        store.save_canned(&shipped, now).unwrap().unwrap();
    }
    let app = TestApp::start(dir.path(), "Мария", now);
    app.wait_for("Когда отправите?").await;
    // The help and the palette name it with its key.
    app.press(KeyCode::F(1));
    app.wait_for("Alt-1             Отправлено: reply, tag shipped").await;
    app.press(KeyCode::Esc);
    app.press(KeyCode::Enter);
    app.send_keys("черновик");
    // Its key shows what it will do for this customer; Esc leaves everything as it was.
    app.press_with(KeyCode::Char('1'), crossterm::event::KeyModifiers::ALT);
    app.wait_for("Macro “Отправлено”").await;
    app.wait_for("Enter runs: reply, tag shipped, resolve").await;
    app.wait_for("Анна, ваш заказ отправлен! Мария").await;
    app.press(KeyCode::Esc);
    app.wait_for("the macro did not run").await;
    app.press_with(KeyCode::Char('1'), crossterm::event::KeyModifiers::ALT);
    app.wait_for("Анна, ваш заказ отправлен! Мария").await;
    app.press(KeyCode::Enter);
    app.wait_for("`Отправлено`: replied, tagged shipped, res").await;
    app.wait_for("→ Мария").await;
    app.wait_for("черновик").await;
    app.quit().await;

    let store = Store::open(&db).unwrap();
    let sent = common::rows(&store, "SELECT body, author FROM messages WHERE direction = 'out'");
    assert_eq!(sent, vec![vec![serde_json::json!("Анна, ваш заказ отправлен! Мария"), serde_json::json!("Мария")]]);
    let tags = common::rows(&store, "SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id");
    assert_eq!(tags, vec![vec![serde_json::json!("shipped")]]);
    let status = common::rows(&store, "SELECT status FROM conversations");
    assert_eq!(status, vec![vec![serde_json::json!("resolved")]]);
}
