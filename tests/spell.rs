//! Spell-check: the test dictionaries in `tests/fixtures/spell` (English and Russian,
//! written for these tests) check each word by its script and suggest corrections; in
//! the console a misspelled word is underlined, F7 corrects it or adds it to the agent's
//! dictionary, and Enter on a misspelled reply asks first.

mod common;

use std::path::PathBuf;

use common::app::TestApp;
use common::{inbound, rows};
use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::style::{Color, Modifier, Style};
use switchboard::config::Config;
use switchboard::model::now_ms;
use switchboard::spell::dictionaries::{self, Found};
use switchboard::spell::{BeforeSend, SpellConfig, Speller};
use switchboard::store::Store;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spell")
}

fn config() -> SpellConfig {
    SpellConfig { dictionaries: vec![fixtures()], ..SpellConfig::default() }
}

fn speller() -> Speller {
    let (speller, problems) = dictionaries::load_all(&config());
    assert!(problems.is_empty(), "{problems:?}");
    speller
}

/// How the dark theme draws a misspelled word.
fn misspelled() -> Style {
    Style::default().fg(Color::LightRed).add_modifier(Modifier::UNDERLINED)
}

#[test]
fn each_word_is_checked_against_the_dictionary_of_its_script() {
    let speller = speller();
    assert_eq!(speller.names(), ["en_US", "ru_RU"]);
    for right in ["спасибо", "Добрый", "заказом", "thanks", "Thanks", "ordered", "don't", "don’t"]
    {
        assert!(speller.check(right), "{right}");
    }
    for wrong in ["спосибо", "превед", "thnaks", "oderr"] {
        assert!(!speller.check(wrong), "{wrong}");
    }
    // A script no dictionary covers is never called wrong.
    assert!(speller.check("שלום") && !speller.covers("שלום"));

    let text = "Добрый день, спосибо за order :thumbsup: https://exampel.com/oderr thnaks";
    let wrong: Vec<&str> =
        switchboard::spell::words(text).into_iter().filter(|w| !speller.check(w.text)).map(|w| w.text).collect();
    assert_eq!(wrong, ["спосибо", "thnaks"]);
}

#[test]
fn corrections_come_from_the_same_script() {
    let speller = speller();
    assert_eq!(speller.suggest("спосибо").first().map(String::as_str), Some("спасибо"));
    assert!(speller.suggest("thnaks").contains(&"thanks".to_string()), "{:?}", speller.suggest("thnaks"));
    assert!(speller.suggest("teh").contains(&"the".to_string()));
    assert!(speller.suggest("спосибо").iter().all(|s| switchboard::spell::Script::of(s).is_some()));
}

#[test]
fn missing_and_unreadable_dictionaries_are_named_and_the_rest_load() {
    let dir = tempfile::tempdir().unwrap();
    let koi8 = dir.path().join("ru_RU.aff");
    // "SET KOI8-R" and a TRY line in KOI8-R bytes.
    std::fs::write(&koi8, b"SET KOI8-R\nTRY \xcf\xc5\xc1\n").unwrap();
    std::fs::write(dir.path().join("ru_RU.dic"), b"1\n\xd0\xd2\xc9\xd7\xc5\xd4\n").unwrap();
    let found = Found { language: "ru_RU".into(), aff: koi8.clone(), dic: dir.path().join("ru_RU.dic") };
    let err = dictionaries::load(&found).err().unwrap();
    assert!(err.contains("KOI8-R") && err.contains("ru_RU.aff"), "{err}");

    let config = SpellConfig { dictionaries: vec![dir.path().into(), fixtures().join("en_US.dic")], ..config() };
    let (speller, problems) = dictionaries::load_all(&config);
    assert_eq!(speller.names(), ["en_US"]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("KOI8-R"), "{problems:?}");

    let empty = tempfile::tempdir().unwrap();
    let (speller, problems) =
        dictionaries::load_all(&SpellConfig { dictionaries: vec![empty.path().into()], ..config });
    assert!(speller.is_empty());
    assert!(problems.iter().any(|p| p.contains("no ru_RU dictionary")), "{problems:?}");
    // Nothing at all is loaded when it is switched off.
    let (speller, problems) = dictionaries::load_all(&SpellConfig { enabled: false, ..SpellConfig::default() });
    assert!(speller.is_empty() && problems.is_empty());
}

#[test]
fn the_agents_own_dictionary_is_kept_per_agent() {
    let mut store = Store::open_in_memory().unwrap();
    store.remember_word("мария", "Свитчборд", 1).unwrap();
    store.remember_word("мария", "свитчборд", 2).unwrap();
    store.remember_word("мария", "  ", 3).unwrap();
    store.remember_word("boris", "kthx", 4).unwrap();
    assert_eq!(store.spell_words("мария").unwrap(), ["свитчборд"]);
    assert_eq!(store.spell_words("boris").unwrap(), ["kthx"]);
}

fn console(dir: &std::path::Path, before_send: BeforeSend, now: i64) -> TestApp {
    let mut config = Config::default();
    config.engine.refresh_ms = 50;
    config.ui.agent_name = "Мария".into();
    config.ui.notify = switchboard::config::NotifyKind::Off;
    config.spell = SpellConfig { before_send, ..self::config() };
    TestApp::with(dir, config, now)
}

fn seeded(dir: &std::path::Path, now: i64) {
    let mut store = Store::open(&dir.join("switchboard.db")).unwrap();
    store.ingest(&[inbound(42, "Анна Петрова", 1, "Где мой заказ?", now - 60_000)], None, now).unwrap();
}

fn sent(dir: &std::path::Path) -> Vec<String> {
    of_kind(dir, "text")
}

fn of_kind(dir: &std::path::Path, kind: &str) -> Vec<String> {
    let store = Store::open(&dir.join("switchboard.db")).unwrap();
    rows(&store, &format!("SELECT body FROM messages WHERE direction = 'out' AND kind = '{kind}' ORDER BY id"))
        .into_iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelled_word_is_underlined_and_f7_corrects_it() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    seeded(dir.path(), now);
    let app = console(dir.path(), BeforeSend::Warn, now);
    app.wait_for("Где мой заказ?").await;
    app.press(KeyCode::Enter);
    app.send_keys("Добрый день, спосибо за заказ :thumbsup:");
    app.wait_for("спосибо за заказ 👍").await;
    // Only the misspelled word, and only once it is finished.
    let start = std::time::Instant::now();
    while app.drawn_in(misspelled()) != ["спосибо"] {
        assert!(start.elapsed().as_secs() < 10, "underlined: {:?}\n{}", app.drawn_in(misspelled()), app.screen());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    app.send_keys(" превед");
    assert_eq!(app.drawn_in(misspelled()), ["спосибо"], "the word being typed is left alone");

    // F7 at the end: the nearest misspelled word before the cursor, here "превед" once
    // it is finished; the cursor is in it, so it is that one.
    app.press(KeyCode::Left);
    app.press(KeyCode::F(7));
    app.wait_for("Spelling of “превед”").await;
    app.press(KeyCode::Esc);
    // Back on "спосибо": its correction replaces it.
    for _ in 0..22 {
        app.press(KeyCode::Left);
    }
    app.press(KeyCode::F(7));
    app.wait_for("Spelling of “спосибо”").await;
    app.wait_for("спасибо").await;
    app.press(KeyCode::Enter);
    app.wait_for("Добрый день, спасибо за заказ 👍 превед").await;
    // "Add to my dictionary" for the other one: it is right for this agent from now on.
    app.press(KeyCode::End);
    app.press(KeyCode::F(7));
    app.wait_for("Spelling of “превед”").await;
    app.send_keys("add");
    app.wait_for("add “превед” to my dictionary").await;
    app.press(KeyCode::Enter);
    app.wait_for("“превед” is in your dictionary now").await;
    assert!(app.drawn_in(misspelled()).is_empty(), "{:?}", app.drawn_in(misspelled()));
    app.press(KeyCode::Enter);
    let start = std::time::Instant::now();
    while sent(dir.path()).is_empty() {
        assert!(start.elapsed().as_secs() < 10, "nothing sent:\n{}", app.screen());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(sent(dir.path()), ["Добрый день, спасибо за заказ 👍 превед"]);
    app.quit().await;
    let store = Store::open(&dir.path().join("switchboard.db")).unwrap();
    assert_eq!(store.spell_words("Мария").unwrap(), ["превед"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_on_misspelled_words_asks_first_or_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    seeded(dir.path(), now);
    let app = console(dir.path(), BeforeSend::Warn, now);
    app.wait_for("Где мой заказ?").await;
    app.press(KeyCode::Enter);
    app.send_keys("thnaks for your oder");
    app.press(KeyCode::Enter);
    app.wait_for("“thnaks”, “oder” may be misspelled: F7 cor").await;
    assert!(sent(dir.path()).is_empty());
    // A changed text asks again; the same text sent on the second Enter.
    for _ in 0.."oder".len() {
        app.press(KeyCode::Backspace);
    }
    app.send_keys("order");
    app.press(KeyCode::Enter);
    app.wait_for("“thnaks” may be misspelled").await;
    app.press(KeyCode::Enter);
    app.wait_until("the reply sent", |_| !sent(dir.path()).is_empty()).await;
    assert_eq!(sent(dir.path()), ["thnaks for your order"]);
    app.quit().await;

    let app = console(dir.path(), BeforeSend::Block, now);
    app.wait_for("Где мой заказ?").await;
    app.press(KeyCode::Enter);
    app.send_keys("спосибо");
    app.press(KeyCode::Enter);
    app.wait_for("not sent: “спосибо” misspelled").await;
    app.press(KeyCode::Enter);
    app.wait_for("not sent: “спосибо” misspelled").await;
    // A note is for the team: it is not held back.
    app.press_with(KeyCode::Char('n'), KeyModifiers::CONTROL);
    app.press(KeyCode::Enter);
    app.wait_until("the note kept", |_| !of_kind(dir.path(), "note").is_empty()).await;
    app.quit().await;
    assert_eq!(sent(dir.path()).len(), 1, "only the first console's reply");
    assert_eq!(of_kind(dir.path(), "note"), ["спосибо"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_dictionaries_the_composer_works_and_says_how_to_get_them() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let now = now_ms();
    seeded(dir.path(), now);
    let mut config = Config::default();
    config.ui.agent_name = "Мария".into();
    config.spell.dictionaries = vec![empty.path().into()];
    let app = TestApp::with(dir.path(), config, now);
    app.wait_for("apt install hunspell-en-us hunspell-ru").await;
    app.wait_for("Где мой заказ?").await;
    app.press(KeyCode::Enter);
    app.send_keys("спосибо ");
    app.press(KeyCode::F(7));
    app.wait_for("spell-check off: no dictionaries").await;
    app.press(KeyCode::Enter);
    app.wait_until("the reply sent", |_| !sent(dir.path()).is_empty()).await;
    app.quit().await;
}

#[test]
fn doctor_names_the_dictionaries_or_how_to_install_them() {
    let (ok, text) = switchboard::doctor::spell_check(&config());
    assert!(ok, "{text}");
    assert!(text.contains("en_US (") && text.contains("ru_RU (") && text.contains("fixtures"), "{text}");
    let empty = tempfile::tempdir().unwrap();
    let (ok, text) =
        switchboard::doctor::spell_check(&SpellConfig { dictionaries: vec![empty.path().into()], ..config() });
    assert!(!ok);
    assert!(text.contains("no en_US dictionary") && text.contains("apt install hunspell-en-us hunspell-ru"), "{text}");
}
