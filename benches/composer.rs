//! One keystroke in the composer to a drawn frame, with spell-check on, next to the same
//! keystrokes with it off (the baseline), measured in the same run.
//!
//! The store is generated (2,000 contacts and conversations, 20,000 messages, the
//! longest 2,000) and its longest conversation is open. The draft typed is a mixed
//! Russian and English reply with misspelled words, 4,000 keys, cleared every 400 (so
//! drafts run to 400 characters, ten times a usual reply). The dictionaries are the
//! system's (`/usr/share/hunspell`) when installed, else the test dictionaries; the
//! output says which.
//!
//! `cargo bench --bench composer`

mod stats;

use stats::{median, ms, p99};

use std::time::{Duration, Instant};

use chrono::FixedOffset;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use switchboard::app::state::ConversationView;
use switchboard::app::{Action, AppState, Focus, update};
use switchboard::keymap::Keymap;
use switchboard::model::{ConversationId, now_ms};
use switchboard::spell::SpellConfig;
use switchboard::store::Store;
use switchboard::theme::Styles;

const SIZE: (u16, u16) = (200, 60);
const KEYS: usize = 4000;
const DRAFT: usize = 400;
const TEXT: &str = "Добрый день, спосибо за заказ! Your parcel is on its wya, we will shipp it tomorow 👍 ";

fn main() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("switchboard.db");
    let size = switchboard::generate::Size {
        contacts: 2_000,
        conversations: 2_000,
        messages: 20_000,
        longest: 2_000,
        ..Default::default()
    };
    stats::generate_store(&path, size);
    let store = Store::open(&path).expect("the store");

    let system = SpellConfig::default();
    let (speller, problems) = switchboard::spell::dictionaries::load_all(&system);
    let (speller, source) = if speller.is_empty() {
        let fixtures = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spell");
        let config = SpellConfig { dictionaries: vec![fixtures], ..SpellConfig::default() };
        (switchboard::spell::dictionaries::load_all(&config).0, "the test dictionaries")
    } else {
        (speller, "the system's dictionaries")
    };
    let loaded = {
        let t = Instant::now();
        switchboard::spell::dictionaries::load_all(&system);
        t.elapsed()
    };
    println!(
        "spell-check in {} from {source}{}; loading them all took {:.0} ms (off the console's loop)",
        speller.names().join(", "),
        if problems.is_empty() { String::new() } else { format!(" ({})", problems.join("; ")) },
        loaded.as_secs_f64() * 1e3
    );
    let speller = std::sync::Arc::new(speller);

    let on = keystrokes(&store, Some(speller.clone()));
    let off = keystrokes(&store, None);
    println!("\n{:<58} {:>12} {:>12} {:>8}  target", "figure", "spell on", "spell off", "ratio");
    for (name, pick) in [("median", median as fn(&mut [Duration]) -> Duration), ("p99", p99)] {
        let (mut a, mut b) = (on.clone(), off.clone());
        let (a, b) = (ms(pick(&mut a)), ms(pick(&mut b)));
        let target = if name == "p99" { "< 1 ms" } else { "" };
        println!(
            "{:<58} {a:>9.3} ms {b:>9.3} ms {:>7.2}x  {target}",
            format!("one keystroke to a drawn frame, {name}"),
            a / b
        );
    }
    let t = Instant::now();
    let mut n = 0;
    for word in ["спосибо", "tomorow", "shipp", "wya"] {
        n += speller.suggest(word).len();
    }
    println!("suggestions for 4 words (off the loop): {:.1} ms, {n} found", t.elapsed().as_secs_f64() * 1e3);
}

/// Each key's time from its action to the frame that shows it.
fn keystrokes(store: &Store, speller: Option<std::sync::Arc<switchboard::spell::Speller>>) -> Vec<Duration> {
    let styles = Styles::load("dark", false).expect("a theme");
    let mut s = AppState::new(Keymap::default(), "bench".into(), now_ms(), FixedOffset::east_opt(0).unwrap(), SIZE);
    s.spell.style = styles.composer_misspelled;
    if let Some(speller) = speller {
        update(&mut s, Action::SpellLoaded { speller, problems: Vec::new() });
    }
    let id: i64 = store
        .conn()
        .query_row(
            "SELECT conversation_id FROM messages GROUP BY conversation_id ORDER BY count(*) DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("a conversation");
    let mut view = ConversationView::new(store.conversation(ConversationId(id)).expect("the conversation"));
    view.loading = false;
    s.open = Some(view);
    s.focus = Focus::Composer;
    let mut term = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).expect("a test terminal");
    term.draw(|f| switchboard::ui::draw(f, &s, &styles)).expect("a frame");
    let chars: Vec<char> = TEXT.chars().collect();
    let mut times = Vec::with_capacity(KEYS);
    for i in 0..KEYS {
        let c = chars[i % chars.len()];
        let t = Instant::now();
        update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        term.draw(|f| switchboard::ui::draw(f, &s, &styles)).expect("a frame");
        times.push(t.elapsed());
        if i % DRAFT == DRAFT - 1 {
            s.reset_composer();
        }
    }
    times
}
