//! Training mode's scoring: how fast the first answer came, the spelling mistakes sent
//! (the test dictionaries), a canned reply or a note where one was expected, and a STOP
//! honoured or not; and the built-in scenarios read.

mod common;

use common::inbound;
use switchboard::store::Store;
use switchboard::training::{Expect, Scenario, score};

fn scenario(expect: Expect) -> Scenario {
    Scenario {
        name: "A price question".into(),
        customer: "Ольга Миронова".into(),
        language: "ru".into(),
        messages: vec!["Сколько стоит доставка?".into()],
        gap: 4,
        expect,
        target: 60,
    }
}

fn speller() -> switchboard::spell::Speller {
    let fixtures = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spell");
    let config = switchboard::spell::SpellConfig { dictionaries: vec![fixtures], ..Default::default() };
    switchboard::spell::dictionaries::load_all(&config).0
}

#[test]
fn a_fast_canned_answer_with_a_note_scores_every_point() {
    let mut store = Store::open_in_memory().unwrap();
    switchboard::sandbox::seed::canned_library(&mut store, 0).unwrap();
    let began = 1_800_000_000_000;
    store.ingest(&[inbound(42, "Ольга Миронова", 1, "Сколько стоит доставка?", began)], None, began).unwrap();
    let conversation = store.find_conversation(switchboard::model::ChannelKind::Telegram, "42").unwrap().unwrap();
    let canned = store.render_canned("цена", conversation, "maria").unwrap().unwrap();
    store.enqueue(conversation, &format!("Здравствуйте! {canned}"), "maria", 10, began + 40_000).unwrap();
    store.add_note(conversation, "maria", "спросила про Казань", began + 50_000).unwrap();
    let expect = Expect { canned: true, note: true, stop: false };
    let s = score(&store, None, conversation, &scenario(expect.clone()), began).unwrap();
    assert_eq!((s.first_answer_secs, s.canned, s.note, s.stop_honoured), (Some(40), true, true, None));
    let said = s.say(&scenario(expect));
    assert!(said.contains("first answer in 40 s (target 60 s) ✓"), "{said}");
    assert!(said.contains("canned reply: used ✓") && said.contains("private note: left ✓"), "{said}");
    assert!(said.ends_with("Score 4/4."), "{said}");
}

#[test]
fn a_slow_misspelled_answer_and_an_ignored_stop_lose_points() {
    let mut store = Store::open_in_memory().unwrap();
    let began = 1_800_000_000_000;
    store.ingest(&[inbound(42, "Tom Baker", 1, "Stop sending these", began)], None, began).unwrap();
    store.ingest(&[inbound(42, "Tom Baker", 2, "STOP", began + 5_000)], None, began).unwrap();
    let conversation = store.find_conversation(switchboard::model::ChannelKind::Telegram, "42").unwrap().unwrap();
    store.enqueue(conversation, "Спосибо, we will ship it", "maria", 10, began + 200_000).unwrap();
    let stop = Expect { stop: true, ..Expect::default() };
    let s = score(&store, Some(&speller()), conversation, &scenario(stop.clone()), began).unwrap();
    assert_eq!(s.misspelled, ["Спосибо"]);
    assert_eq!(s.stop_honoured, Some(false));
    let said = s.say(&scenario(stop));
    assert!(said.contains("spelling: Спосибо ✗") && said.contains("STOP: messages sent after it ✗"), "{said}");
    assert!(said.ends_with("Score 0/2."), "{said}");
    // Slow, with nothing else expected: the time is what it misses.
    let s = score(&store, Some(&speller()), conversation, &scenario(Expect::default()), began).unwrap();
    assert!(s.say(&scenario(Expect::default())).contains("first answer in 3 min 20 s (target 60 s) ✗"));
}

#[test]
fn a_scenario_file_is_read_or_refused_with_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    std::fs::write(&file, "[[scenario]]\nname = \"Refund\"\ncustomer = \"Анна\"\nmessages = [\"Верните деньги\"]\nexpect = { note = true }\n").unwrap();
    let loaded = switchboard::training::load(Some(&file)).unwrap();
    assert_eq!((loaded[0].gap, loaded[0].target, loaded[0].expect.note), (4, 120, true));
    std::fs::write(&file, "[[scenario]]\nname = \"x\"\ncustomer = \"y\"\nmesages = []\n").unwrap();
    let err = switchboard::training::load(Some(&file)).unwrap_err().to_string();
    assert!(err.contains("mine.toml") && err.contains("line 4"), "{err}");
}
