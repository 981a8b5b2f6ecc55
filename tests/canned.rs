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
    Canned { name: name.into(), shortcut: shortcut.map(str::to_string), body: body.into(), language: Some("ru".into()) }
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
