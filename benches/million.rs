//! The console and the engine on a store of 1,000,000 messages (`switchboard generate`'s
//! defaults), each figure printed next to a baseline measured in the same run:
//!
//! - open the store and draw the first frame (list + open conversation), 200x60;
//! - draw one frame of the 100,000-message conversation scrolled anywhere (p99);
//! - one keystroke in the composer to a drawn frame;
//! - ingest of decoded inbound messages in batches, full-text index kept;
//! - full-text search, first page;
//! - the console's search panel: one keystroke's lookup (customers, then messages);
//! - the outbox sending through the Telegram emulator with limits off;
//! - presence: one console's heartbeat (mentions, its own row, who else is there);
//! - ingest of WhatsApp messages with phone-number linking on (`auto`) and off, from
//!   new customers and from known ones, and a link's own cost;
//! - a page of the list grouped by person, next to the same page in attention order;
//! - the suggested merges, next to a plain read of what they look at;
//! - resident memory of the console with the store open and scrolled through.
//!
//! `cargo bench --bench million` (`-- --store FILE` reuses a generated store: it is
//! copied first, since the ingest figure writes to it; `-- --only search` runs the search
//! figures alone, `-- --only outbox` the outbox's, `-- --only keystroke` the composer's, `-- --only frame` the first frame, frames and keystroke,
//! `-- --only people` one person across channels: linking, the list by person, the
//! suggested merges).

mod stats;

use stats::{median, ms, p99};

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::FixedOffset;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use rusqlite::{Connection, params};
use switchboard::app::state::{ConversationView, MESSAGE_WINDOW, Scroll};
use switchboard::app::{Action, AppState, Effect, Focus, MessageRequest, update};
use switchboard::keymap::{Command, Keymap};
use switchboard::model::{ChannelKind, ChatRef, ConversationId, InboundEvent, InboundMessage, MessageId, Peer, now_ms};
use switchboard::store::{MessageKey, Store};
use switchboard::theme::Styles;

const SIZE: (u16, u16) = (200, 60);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--memory-probe") {
        return memory_probe(Path::new(&args[i + 1]));
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("switchboard.db");
    stats::store_at(&path, &args);

    println!("\n{:<58} {:>12} {:>12} {:>8}  target", "figure", "switchboard", "baseline", "ratio");
    match args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).map(String::as_str) {
        Some("search") => {
            search(&path);
            search_panel(&path);
            return;
        }
        Some("outbox") => return outbox(),
        Some("presence") => return presence(&path),
        Some("people") => {
            by_person(&path);
            duplicates(&path);
            return linking(&path);
        }
        Some("keystroke") => return keystroke(&path),
        Some("frame") => {
            first_frame(&path);
            frames(&path);
            return keystroke(&path);
        }
        Some(other) => panic!("--only takes search, frame, outbox, keystroke, presence or people, not {other}"),
        None => {}
    }
    memory(&path);
    first_frame(&path);
    frames(&path);
    keystroke(&path);
    search(&path);
    search_panel(&path);
    presence(&path);
    ingest(&path, 2000);
    ingest(&path, 20);
    by_person(&path);
    duplicates(&path);
    linking(&path);
    outbox();
}

/// A page of the list by person (`b`), at the top and 5,000 rows down, next to the same
/// pages in attention order: the grouping reads every conversation the filter shows.
fn by_person(path: &Path) {
    use switchboard::store::ConversationFilter;
    let store = Store::open(path).expect("the store");
    let page = |by_person: bool, after| {
        let filter = ConversationFilter { by_person, ..ConversationFilter::default() };
        store.conversations_page(filter, after, 100).expect("a page")
    };
    // Where the 5,000th row is, in each order.
    let deep = |by_person: bool| {
        let mut after = None;
        for _ in 0..50 {
            after = page(by_person, after).last().map(|r| r.key());
        }
        after
    };
    let (deep_plain, deep_person) = (deep(false), deep(true));
    let time = |by_person: bool, after| {
        let mut v: Vec<Duration> = (0..50)
            .map(|_| {
                let t = Instant::now();
                assert_eq!(page(by_person, after).len(), 100);
                t.elapsed()
            })
            .collect();
        (median(&mut v), p99(&mut v))
    };
    for (what, plain_at, person_at) in [("the top", None, None), ("5,000 rows down", deep_plain, deep_person)] {
        let ((ours, ours_p99), (base, _)) = (time(true, person_at), time(false, plain_at));
        row(&format!("a page of the list by person, {what} (median)"), ms(ours), ms(base), "ms", "< 50 ms");
        row(&format!("a page of the list by person, {what} (p99)"), ms(ours_p99), ms(base), "ms", "< 50 ms");
    }
}

/// Every suggested merge (`contacts duplicates`, `D`), next to a plain read of the
/// numbers, e-mails and cities it groups.
fn duplicates(path: &Path) {
    let store = Store::open(path).expect("the store");
    let mut ours: Vec<Duration> = (0..10)
        .map(|_| {
            let t = Instant::now();
            store.duplicates().expect("suggestions");
            t.elapsed()
        })
        .collect();
    let mut base: Vec<Duration> = (0..10)
        .map(|_| {
            let t = Instant::now();
            let n: i64 = store
                .conn()
                .query_row(
                    "SELECT (SELECT count(*) FROM contact_phones) + (SELECT count(json_extract(attributes, '$.email')) \
                       + count(json_extract(attributes, '$.city')) FROM contacts)",
                    [],
                    |r| r.get(0),
                )
                .expect("a count");
            assert!(n > 0);
            t.elapsed()
        })
        .collect();
    row(
        "suggested merges over 50,000 contacts (median)",
        ms(median(&mut ours)),
        ms(median(&mut base)),
        "ms",
        "off the loop",
    );
}

/// What phone-number linking costs ingest: WhatsApp messages as the decoder gives them
/// (the wa_id is the sender's verified number), stored in batches of 100 with
/// `[contacts] link = "auto"` and with `"off"`, in 40 alternating rounds of 500 each so
/// the store's growth falls on both alike; the median round of each is compared. New customers: each message from a number never seen
/// (auto records it and looks it up). Known customers: messages from the store's
/// WhatsApp customers (auto looks their number up). Then a link itself: a Telegram
/// customer shares a number a WhatsApp customer has, and the two become one.
fn linking(path: &Path) {
    use switchboard::model::phone::{LinkMode, Linking};
    use switchboard::store::IngestRules;
    const ROUNDS: usize = 40;
    const PER_ROUND: usize = 500;
    let mut store = Store::open(path).expect("the store");
    let known: Vec<(String, String)> = {
        let mut stmt = store
            .conn()
            .prepare("SELECT external_chat_id, title FROM conversations WHERE channel = 'whatsapp' LIMIT 2000")
            .expect("a query");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("rows").collect::<Result<_, _>>().expect("rows")
    };
    // A message from `user` on `channel` in their private chat, the platform vouching that
    // `phone` is theirs (as the decoders say it).
    let vouched = |channel, user: &str, name: &str, id: String, text: String, phone: &str, at| {
        let chat = ChatRef { channel, external_chat_id: user.into(), is_group: false, title: name.into() };
        let from = Peer { external_id: user.into(), display_name: name.into(), username: None, locale: None };
        let mut m = InboundMessage::text(chat, from, id, text, at);
        m.shared_phone = Some(format!("+{phone}"));
        m
    };
    let message = |wa_id: &str, name: &str, id: String, at| {
        let text = "Здравствуйте, где мой заказ?".to_string();
        InboundEvent::Message(vouched(ChannelKind::WhatsApp, wa_id, name, id, text, wa_id, at))
    };
    let run = |store: &mut Store, mode: LinkMode, events: &[InboundEvent]| {
        store.set_ingest_rules(IngestRules {
            linking: Linking { mode, ..Linking::default() },
            ..IngestRules::default()
        });
        let t = Instant::now();
        for batch in events.chunks(100) {
            store.ingest(batch, None, now_ms()).expect("ingest");
        }
        t.elapsed()
    };
    let now = now_ms();
    // Each round's time, by scenario and mode; the medians are compared, so a round that
    // a checkpoint happened to fall on counts for no more than any other.
    let (mut new_auto, mut new_off, mut known_auto, mut known_off) = (vec![], vec![], vec![], vec![]);
    let mut serial = 0u64;
    for round in 0..ROUNDS * 2 {
        // Pairs of rounds, auto first in one pair and off first in the next.
        let mode = if (round + round / 2) % 2 == 0 { LinkMode::Auto } else { LinkMode::Off };
        let fresh: Vec<InboundEvent> = (0..PER_ROUND)
            .map(|_| {
                serial += 1;
                // +7 915 …: numbers the generator never gives out.
                let wa_id = format!("7915{serial:07}");
                message(&wa_id, "Новый клиент", format!("wamid.link-{serial}"), now + serial as i64)
            })
            .collect();
        let returning: Vec<InboundEvent> = (0..PER_ROUND)
            .map(|i| {
                serial += 1;
                let (wa_id, name) = &known[(round * PER_ROUND + i) % known.len()];
                message(wa_id, name, format!("wamid.link-{serial}"), now + serial as i64)
            })
            .collect();
        let (new_took, known_took) = (run(&mut store, mode, &fresh), run(&mut store, mode, &returning));
        match mode {
            LinkMode::Auto => (new_auto.push(new_took), known_auto.push(known_took)),
            _ => (new_off.push(new_took), known_off.push(known_took)),
        };
    }
    let n = PER_ROUND as f64;
    for (what, mut auto, mut off) in [("new", new_auto, new_off), ("known", known_auto, known_off)] {
        let (ours, base) = (n / median(&mut auto).as_secs_f64(), n / median(&mut off).as_secs_f64());
        println!(
            "{:<58} {:>9.0} /s {:>9.0} /s {:>7.2}x  no measurable cost",
            format!("ingest WhatsApp from {what} customers, linking auto vs off"),
            ours,
            base,
            ours / base
        );
    }
    // A link: a Telegram customer shares a number a WhatsApp customer already has
    // verified, and joins them. Baseline: the same shares with linking off.
    const LINKS: usize = 200;
    let mut shares = |mode: LinkMode, from: usize| {
        let events: Vec<InboundEvent> = (from..from + LINKS)
            .map(|i| {
                let (wa_id, name) = &known[i % known.len()];
                let user = format!("{}", 9_100_000_000u64 + i as u64);
                let card = format!("[contact {name}, +{wa_id}]");
                let mut m = vouched(ChannelKind::Telegram, &user, name, "1".into(), card, wa_id, now);
                m.kind = "contact".into();
                InboundEvent::Message(m)
            })
            .collect();
        store.set_ingest_rules(IngestRules {
            linking: Linking { mode, ..Linking::default() },
            ..IngestRules::default()
        });
        let t = Instant::now();
        for e in &events {
            store.ingest(std::slice::from_ref(e), None, now_ms()).expect("ingest");
        }
        t.elapsed()
    };
    let off = shares(LinkMode::Off, 0);
    let auto = shares(LinkMode::Auto, LINKS);
    row(
        "a Telegram share that links to a WhatsApp customer (each alone)",
        ms(auto) / LINKS as f64,
        ms(off) / LINKS as f64,
        "ms",
        "(a link's own cost)",
    );
}

/// Presence: what each console does every two seconds (`Effect::Heartbeat`): read the
/// notes that mention its agent since the last beat, then write its own row and read who
/// else has its conversation open. Twenty consoles on the longest conversation, 1,000
/// beats. Baseline: the same upsert and select by plain prepared statements, without the
/// mentions and the agent's row.
fn presence(path: &Path) {
    const CONSOLES: usize = 20;
    const FRESH: i64 = 6_000;
    let store = Store::open(path).expect("the store");
    let id = longest(&store);
    let mut ours = Vec::new();
    for i in 0..1000 {
        let console = format!("bench-console-{}", i % CONSOLES);
        let agent = format!("agent{}", i % CONSOLES);
        let now = now_ms();
        let t = Instant::now();
        std::hint::black_box(store.mentions(&agent, now - 2_000).expect("mentions"));
        std::hint::black_box(store.heartbeat(&console, &agent, Some(id), i % 7 == 0, now, FRESH).expect("a beat"));
        ours.push(t.elapsed());
    }
    let conn = Connection::open(path).expect("a connection");
    conn.busy_timeout(Duration::from_secs(5)).expect("timeout");
    // The same connection settings as the store's, so the ratio is the code's.
    conn.pragma_update(None, "synchronous", "NORMAL").expect("pragma");
    let mut base = Vec::new();
    for i in 0..1000 {
        let console = format!("bench-base-{}", i % CONSOLES);
        let now = now_ms();
        let t = Instant::now();
        conn.prepare_cached(
            "INSERT INTO presence(console, agent, conversation_id, typing, seen_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT(console) DO UPDATE SET conversation_id = excluded.conversation_id, seen_at = excluded.seen_at",
        )
        .and_then(|mut s| s.execute(params![console, "agent", id.0, false, now]))
        .expect("the upsert");
        let others: Vec<String> = conn
            .prepare_cached("SELECT agent FROM presence WHERE conversation_id = ?1 AND console <> ?2 AND seen_at >= ?3")
            .and_then(|mut s| {
                s.query_map(params![id.0, console, now - FRESH], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()
            })
            .expect("the others");
        std::hint::black_box(others);
        base.push(t.elapsed());
    }
    row(
        "presence: one console's heartbeat (mentions, beat, others), p99",
        ms(p99(&mut ours)),
        ms(p99(&mut base)),
        "ms",
        "< 10 ms",
    );
}

fn row(name: &str, ours: f64, base: f64, unit: &str, target: &str) {
    println!("{name:<58} {:>9.3} {unit:<2} {:>9.3} {unit:<2} {:>7.2}x  {target}", ours, base, ours / base);
}

fn state() -> AppState {
    let mut s = AppState::new(Keymap::default(), "bench".into(), now_ms(), FixedOffset::east_opt(0).unwrap(), SIZE);
    s.focus = Focus::List;
    s
}

fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).expect("a test terminal")
}

/// Does what the console's runtime does for each effect, on this thread.
fn perform(s: &mut AppState, store: &mut Store, effects: Vec<Effect>) {
    for effect in effects {
        let action = match effect {
            Effect::LoadList { generation, filter, after, limit } => {
                let rows = store.conversations_page(filter, after, limit).expect("a page");
                Action::ListLoaded { generation, after, limit, rows }
            }
            Effect::LoadMessages { conversation, request } => {
                let rows = switchboard::app::read_messages(store, conversation, request).expect("messages");
                Action::MessagesLoaded { conversation, request, rows }
            }
            Effect::MarkRead { .. }
            | Effect::LoadCampaigns { .. }
            | Effect::WakeSnoozed(_)
            | Effect::Heartbeat { .. } => continue,
            other => panic!("the bench does not perform {other:?}"),
        };
        let more = update(s, action);
        perform(s, store, more);
    }
}

/// The longest conversation (the generator's first).
fn longest(store: &Store) -> ConversationId {
    let id: i64 = store
        .conn()
        .query_row(
            "SELECT conversation_id FROM messages GROUP BY conversation_id ORDER BY count(*) DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("a conversation");
    ConversationId(id)
}

/// Opening the store and the first frame: the list's first page, the top conversation's
/// latest messages, drawn. Baseline: the same two queries with plain rusqlite.
fn first_frame(path: &Path) {
    let styles = Styles::load("dark", false).expect("a theme");
    let mut ours = Vec::new();
    for _ in 0..9 {
        let t = Instant::now();
        let mut store = Store::open(path).expect("the store");
        let mut s = state();
        let effects = update(&mut s, Action::StoreChanged);
        perform(&mut s, &mut store, effects);
        let mut term = terminal();
        term.draw(|f| switchboard::ui::draw(f, &s, &styles)).expect("a frame");
        ours.push(t.elapsed());
        assert!(s.open.as_ref().is_some_and(|o| !o.messages.is_empty()), "a conversation is open");
    }
    let mut base = Vec::new();
    for _ in 0..9 {
        let t = Instant::now();
        let conn = Connection::open(path).expect("a connection");
        let mut list = conn
            .prepare(
                "SELECT id, channel, title, last_preview, last_message_at, unread, unanswered FROM conversations \
                 ORDER BY unanswered DESC, last_message_at DESC, id DESC LIMIT 100",
            )
            .expect("a query");
        let rows: Vec<(i64, String, String, String, i64, i64, bool)> = list
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows");
        let mut messages = conn
            .prepare(
                "SELECT id, direction, body, sent_at, status FROM messages WHERE conversation_id = ?1 \
                 ORDER BY sent_at DESC, id DESC LIMIT 200",
            )
            .expect("a query");
        let n = messages
            .query_map([rows[0].0], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
            })
            .expect("rows")
            .count();
        std::hint::black_box(n);
        base.push(t.elapsed());
    }
    row(
        "open the store + first frame (list + conversation)",
        ms(median(&mut ours)),
        ms(median(&mut base)),
        "ms",
        "< 150 ms",
    );
}

/// A window of the longest conversation around message `at` (an index into `keys`).
fn window(store: &Store, id: ConversationId, keys: &[MessageKey], at: usize) -> Vec<switchboard::store::MessageRow> {
    let end = (at + MESSAGE_WINDOW / 2).min(keys.len() - 1);
    let mut rows = store.messages_before(id, Some(keys[end]), MESSAGE_WINDOW - 1).expect("messages");
    rows.extend(store.messages_between(id, keys[end], keys[end], 1).expect("a message"));
    rows
}

fn keys_of(store: &Store, id: ConversationId) -> Vec<MessageKey> {
    let mut stmt = store
        .conn()
        .prepare("SELECT sent_at, id FROM messages WHERE conversation_id = ?1 ORDER BY sent_at, id")
        .expect("a query");
    stmt.query_map([id.0], |r| Ok(MessageKey { sent_at: r.get(0)?, id: MessageId(r.get(1)?) }))
        .expect("keys")
        .collect::<Result<_, _>>()
        .expect("keys")
}

fn open_at(store: &Store, id: ConversationId, keys: &[MessageKey], at: usize) -> AppState {
    let mut s = state();
    let row = store.conversation(id).expect("the conversation");
    let mut view = ConversationView::new(row);
    view.messages = window(store, id, keys, at);
    view.loading = false;
    view.at_newest = at + MESSAGE_WINDOW / 2 >= keys.len();
    view.at_oldest = at < MESSAGE_WINDOW / 2;
    s.open = Some(view);
    s.focus = Focus::Conversation;
    s
}

/// Frames of the 100,000-message conversation at positions all through it. Baseline: a
/// frame of the same size that is one paragraph of the same number of plain lines — what
/// filling 200x60 cells through ratatui costs at least.
fn frames(path: &Path) {
    let styles = Styles::load("dark", false).expect("a theme");
    let store = Store::open(path).expect("the store");
    let id = longest(&store);
    let keys = keys_of(&store, id);
    let mut term = terminal();
    let mut ours = Vec::new();
    let mut seed = 7u64;
    for w in 0..20 {
        let at = (w * keys.len() / 20 + 250).min(keys.len() - 1);
        let mut s = open_at(&store, id, &keys, at);
        let len = s.open.as_ref().map_or(0, |o| o.messages.len());
        for _ in 0..50 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let i = (seed >> 33) as usize % len.max(1);
            if let Some(o) = s.open.as_mut() {
                o.scroll = if i.is_multiple_of(2) { Scroll::Top(i) } else { Scroll::Bottom(i) };
            }
            let t = Instant::now();
            term.draw(|f| switchboard::ui::draw(f, &s, &styles)).expect("a frame");
            ours.push(t.elapsed());
        }
    }
    let lines: Vec<String> =
        store.messages_before(id, None, 60).expect("messages").into_iter().map(|m| m.body).collect();
    let mut base = Vec::new();
    for n in 0..1000 {
        let text: Vec<Line<'_>> =
            lines.iter().cycle().skip(n % 7).take(SIZE.1 as usize).map(|l| Line::raw(l.as_str())).collect();
        let t = Instant::now();
        term.draw(|f| f.render_widget(Paragraph::new(text.clone()), f.area())).expect("a frame");
        base.push(t.elapsed());
    }
    row(
        &format!("draw a frame of a {}-message conversation, p99", keys.len()),
        ms(p99(&mut ours)),
        ms(p99(&mut base)),
        "ms",
        "p99 < 2 ms",
    );
}

/// A key typed in the composer, to the frame that shows it. Baseline: drawing the same
/// frame again with nothing changed.
fn keystroke(path: &Path) {
    let styles = Styles::load("dark", false).expect("a theme");
    let store = Store::open(path).expect("the store");
    let id = longest(&store);
    let keys = keys_of(&store, id);
    let mut s = open_at(&store, id, &keys, keys.len() - 1);
    s.focus = Focus::Composer;
    let mut term = terminal();
    term.draw(|f| switchboard::ui::draw(f, &s, &styles)).expect("a frame");
    let mut ours = Vec::new();
    for i in 0..2000 {
        let c = "Добрый день! Your order ships today 👋 ".chars().nth(i % 38).unwrap_or('a');
        let t = Instant::now();
        update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        term.draw(|f| switchboard::ui::draw(f, &s, &styles)).expect("a frame");
        ours.push(t.elapsed());
        if i % 200 == 199 {
            s.reset_composer();
        }
    }
    let mut base = Vec::new();
    for _ in 0..2000 {
        let t = Instant::now();
        term.draw(|f| switchboard::ui::draw(f, &s, &styles)).expect("a frame");
        base.push(t.elapsed());
    }
    row("one keystroke in the composer to a drawn frame, p99", ms(p99(&mut ours)), ms(p99(&mut base)), "ms", "< 1 ms");
}

/// The first page (50) of full-text results over every message. Baseline: the bare FTS5
/// query for the same page.
fn search(path: &Path) {
    let store = Store::open(path).expect("the store");
    let conn = Connection::open(path).expect("a connection");
    let queries = ["доставка", "invoice", "курьер позвонит", "Kazakh", "возврат товара", "charged twice order"];
    let (mut ours, mut base) = time_search(&store, &conn, &queries);
    row(
        "full-text search over 1,000,000 messages, first page, p99",
        ms(p99(&mut ours)),
        ms(p99(&mut base)),
        "ms",
        "< 30 ms",
    );
    // The first letters of a search, as typed: the prefix indexes' case.
    let (mut ours, mut base) = time_search(&store, &conn, &["t", "д", "in", "ку", "o", "во", "k", "ch"]);
    row(
        "search for a one- or two-letter prefix, first page, p99",
        ms(p99(&mut ours)),
        ms(p99(&mut base)),
        "ms",
        "< 15 ms",
    );
}

/// Twenty rounds of `queries`: the store's search for the first page, and the bare
/// FTS5 query of the same expression.
fn time_search(store: &Store, conn: &Connection, queries: &[&str]) -> (Vec<Duration>, Vec<Duration>) {
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        for q in queries {
            let t = Instant::now();
            let hits = store.search(q, None, 50).expect("a search");
            ours.push(t.elapsed());
            std::hint::black_box(hits);
            let expression = switchboard::store::fts_expression(q).expect("words");
            let t = Instant::now();
            let mut stmt = conn
                .prepare_cached(
                    "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rowid DESC LIMIT 50",
                )
                .expect("a query");
            let n = stmt.query_map([expression], |r| r.get::<_, i64>(0)).expect("rows").count();
            base.push(t.elapsed());
            std::hint::black_box(n);
        }
    }
    (ours, base)
}

/// The console's search panel, one keystroke at a time: what each keystroke asks of the
/// store (the customers whose name, phone or handle contains the text, then the first 30
/// messages with every word), for every prefix of typed queries, Cyrillic with `е`
/// (spelled both ways) among them. Baseline: the bare FTS5 query for the same messages.
fn search_panel(path: &Path) {
    let store = Store::open(path).expect("the store");
    let conn = Connection::open(path).expect("a connection");
    let typed = ["доставка завтра", "Артем", "invoice", "курьер", "возврат товара", "Emma"];
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        for q in typed {
            let chars: Vec<char> = q.chars().collect();
            for n in 1..=chars.len() {
                let prefix: String = chars[..n].iter().collect();
                let t = Instant::now();
                let mut hits = store.find_conversations(&prefix, 8).expect("customers");
                hits.extend(store.search(&prefix, None, 30).expect("messages"));
                ours.push(t.elapsed());
                std::hint::black_box(hits);
                let Some(expression) = switchboard::store::fts_expression(&prefix) else { continue };
                let t = Instant::now();
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rowid DESC LIMIT 30",
                    )
                    .expect("a query");
                let n = stmt.query_map([expression], |r| r.get::<_, i64>(0)).expect("rows").count();
                base.push(t.elapsed());
                std::hint::black_box(n);
            }
        }
    }
    row("search panel: one keystroke's lookup, p99", ms(p99(&mut ours)), ms(p99(&mut base)), "ms", "< 50 ms");
}

/// Inbound messages to existing Telegram chats, decoded, stored by `ingest` in batches
/// of 100 (a getUpdates page). Baseline: the same rows inserted into the messages table
/// (full-text trigger and all) by a plain prepared statement, in the same batches.
fn ingest(path: &Path, spread: usize) {
    const N: usize = 50_000;
    const BATCH: usize = 100;
    let mut store = Store::open(path).expect("the store");
    let chats: Vec<(i64, String, String)> = {
        let mut stmt = store
            .conn()
            .prepare("SELECT id, external_chat_id, title FROM conversations WHERE channel = 'telegram' LIMIT ?1")
            .expect("a query");
        stmt.query_map([spread as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let now = now_ms();
    let events: Vec<InboundEvent> = (0..N)
        .map(|i| {
            let (_, chat, title) = &chats[i % chats.len()];
            let chat_ref = ChatRef {
                channel: ChannelKind::Telegram,
                external_chat_id: chat.clone(),
                is_group: false,
                title: title.clone(),
            };
            let from = Peer { external_id: chat.clone(), display_name: title.clone(), username: None, locale: None };
            let text = if i % 2 == 0 {
                format!("Где мой заказ №{i}? Уже неделя прошла 😕")
            } else {
                format!("Order #{i}: any news?")
            };
            InboundEvent::Message(InboundMessage::text(
                chat_ref,
                from,
                format!("bench-{spread}-{i}"),
                text,
                now + i as i64,
            ))
        })
        .collect();
    let t = Instant::now();
    for batch in events.chunks(BATCH) {
        store.ingest(batch, None, switchboard::model::now_ms()).expect("ingest");
    }
    let ours = N as f64 / t.elapsed().as_secs_f64();
    let mut conn = Connection::open(path).expect("a connection");
    conn.busy_timeout(Duration::from_secs(5)).expect("timeout");
    switchboard::store::add_functions(&conn).expect("the store's SQL functions");
    // The same connection settings as the store's, so the ratio is the code's.
    conn.pragma_update(None, "synchronous", "NORMAL").expect("pragma");
    conn.pragma_update(None, "wal_autocheckpoint", 10_000).expect("pragma");
    let t = Instant::now();
    for (b, batch) in (0..N).collect::<Vec<_>>().chunks(BATCH).enumerate() {
        let tx = conn.transaction().expect("a transaction");
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO messages(conversation_id, direction, kind, body, sent_at, status, sender_name, external_id, created_at) \
                     VALUES (?1, 'in', 'text', ?2, ?3, 'received', ?4, ?5, ?3)",
                )
                .expect("a statement");
            for &i in batch {
                let (id, _, title) = &chats[i % chats.len()];
                let text = if i % 2 == 0 {
                    format!("Где мой заказ №{i}? Уже неделя прошла 😕")
                } else {
                    format!("Order #{i}: any news?")
                };
                insert
                    .execute(params![id, text, now + i as i64, title, format!("raw-{spread}-{b}-{i}")])
                    .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    let base = N as f64 / t.elapsed().as_secs_f64();
    println!(
        "{:<58} {:>9.0} /s {:>9.0} /s {:>7.2}x  >= 50,000/s and >= 1/3 of the baseline",
        format!("ingest 50,000 messages to {spread} chats, batches of 100, FTS kept"),
        ours,
        base,
        ours / base
    );
}

/// 20,000 queued messages to 1,000 customers sent through the Telegram emulator with
/// the rate limits off. Baseline: the same number of sendMessage calls straight to the
/// emulator from a plain HTTP client, 16 at a time (the sender's concurrency).
fn outbox() {
    use switchboard::channels::{Channel, TelegramChannel};
    use switchboard::config::{Secret, TelegramConfig};
    use switchboard::sandbox::{EmulatorOptions, TelegramEmulator};
    use switchboard::store::{OutboxItem, SendTarget};
    const N: usize = 20_000;
    const TOKEN: &str = "bench:token";
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let customers = switchboard::sandbox::customers::demo_customers(1000);
        let emu = TelegramEmulator::start("127.0.0.1:0".parse().unwrap(), TOKEN, customers.clone(), EmulatorOptions::default())
            .await
            .expect("the emulator");
        let dir = tempfile::tempdir().expect("a temp dir");
        let db = dir.path().join("switchboard.db");
        {
            let mut store = Store::open(&db).expect("the store");
            let out = switchboard::model::Outgoing::text("Ваш заказ отправлен / Your order has shipped");
            for i in 0..N {
                let target =
                    SendTarget { channel: ChannelKind::Telegram, chat_id: customers[i % customers.len()].id.to_string() };
                store.enqueue_to_chat(&target, &out, "bench", switchboard::model::now_ms()).expect("enqueue");
            }
        }
        let config = TelegramConfig { rate_limits: false, ..TelegramConfig::new(Secret::new(TOKEN), emu.url()) };
        let lock = switchboard::sync::EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
        let t = Instant::now();
        let channel = Channel::Telegram(TelegramChannel::new(&config).expect("a channel"));
        let _engine = switchboard::sync::Engine::start(lock, &db, vec![channel], &Default::default()).expect("the engine");
        emu.wait_for_sent(N, Duration::from_secs(300)).await;
        let reader = Store::open(&db).expect("the store");
        while reader.count("outbox").expect("a count") > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let ours = N as f64 / t.elapsed().as_secs_f64();

        // The baseline, against a fresh emulator so its bookkeeping starts empty.
        let emu = TelegramEmulator::start("127.0.0.1:0".parse().unwrap(), TOKEN, customers.clone(), EmulatorOptions::default())
            .await
            .expect("the emulator");
        let client = reqwest::Client::new();
        let url = format!("{}/bot{TOKEN}/sendMessage", emu.url());
        let t = Instant::now();
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (client, url, next, customers) = (client.clone(), url.clone(), next.clone(), customers.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= N {
                        break;
                    }
                    let item = OutboxItem::text(ChannelKind::Telegram, &customers[i % 1000].id.to_string(), "x");
                    let body = serde_json::json!({"chat_id": item.chat_id, "text": "Ваш заказ отправлен / Your order has shipped"});
                    client.post(&url).json(&body).send().await.expect("a send").bytes().await.expect("an answer");
                }
            }));
        }
        for task in tasks {
            task.await.expect("a task");
        }
        let base = N as f64 / t.elapsed().as_secs_f64();
        println!(
            "{:<58} {:>9.0} /s {:>9.0} /s {:>7.2}x  >= 2,000/s",
            "outbox through the emulator, limits off, 20,000 messages", ours, base, ours / base
        );
    });
}

/// Resident memory, measured in a child process of this binary so nothing else this run
/// did is counted.
fn memory(path: &Path) {
    let exe = std::env::current_exe().expect("this binary");
    let out = std::process::Command::new(exe).arg("--memory-probe").arg(path).output().expect("the probe");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut numbers = text.split_whitespace().filter_map(|w| w.parse::<f64>().ok());
    let (before, after, peak) =
        (numbers.next().unwrap_or(f64::NAN), numbers.next().unwrap_or(f64::NAN), numbers.next().unwrap_or(f64::NAN));
    row("resident memory, store open and scrolled through (peak)", peak, before, "MB", "< 80 MB");
    println!("{:<58} {:>9.3} MB", "  resident at the end of the scroll", after);
}

/// In the child: resident size before anything, then open the store, page through the
/// list, open the 100,000-message conversation and scroll from its newest message to
/// its oldest and back, drawing every frame; prints before, after and peak in MB.
fn memory_probe(path: &Path) {
    let before = stats::status_mb("self", "VmRSS");
    let styles = Styles::load("dark", false).expect("a theme");
    let mut store = Store::open(path).expect("the store");
    let mut s = state();
    let mut term = terminal();
    let effects = update(&mut s, Action::StoreChanged);
    perform(&mut s, &mut store, effects);
    for _ in 0..400 {
        let effects = switchboard::app::update::run_command(&mut s, Command::PageDown);
        perform(&mut s, &mut store, effects);
        term.draw(|f| switchboard::ui::draw(f, &s, &styles)).expect("a frame");
    }
    let id = longest(&store);
    s.open = Some(ConversationView::new(store.conversation(id).expect("the conversation")));
    s.focus = Focus::Conversation;
    let effects = vec![Effect::LoadMessages { conversation: id, request: MessageRequest::Latest { limit: 200 } }];
    perform(&mut s, &mut store, effects);
    for command in [Command::PageUp, Command::PageDown] {
        for steps in 0..20_000 {
            let effects = switchboard::app::update::run_command(&mut s, command);
            perform(&mut s, &mut store, effects);
            term.draw(|f| switchboard::ui::draw(f, &s, &styles)).expect("a frame");
            let done = s.open.as_ref().is_some_and(|o| match command {
                Command::PageUp => o.at_oldest && o.scroll == Scroll::Bottom(0) || o.scroll == Scroll::Top(0),
                _ => o.at_newest && o.scroll == Scroll::Follow,
            });
            if done {
                eprintln!("{command:?}: {steps} presses to the end", steps = steps + 1);
                break;
            }
        }
    }
    println!("{before:.1} {:.1} {:.1}", stats::status_mb("self", "VmRSS"), stats::status_mb("self", "VmHWM"));
}
