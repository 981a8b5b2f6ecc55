//! Planning a campaign for 100,000 contacts (target: under 2 s), next to a baseline
//! measured in the same run: the same member query read row by row with plain rusqlite
//! into tuples, with no planning, rendering or allocation of results beyond the rows.
//!
//! Then the peak resident memory of 20 previews in a row (target: under 40 MB).
//!
//! `cargo bench --bench campaign_planning` (add `-- N` for another contact count).

mod stats;

use stats::median;

use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use switchboard::campaign::{CampaignPolicy, Filter, Message};
use switchboard::store::Store;

const RUNS: usize = 5;
const FILTER: &str = "consent:marketing -tag:churned";
const TEXT: &str = "Привет, {{first_name|друг}}! Скидка 20% в {{attr.city|вашем городе}} 🎉";
const DAY: i64 = 86_400_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--memory-probe") {
        return memory_probe(std::path::Path::new(&args[i + 1]));
    }
    let contacts: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("bench.db");
    let started = Instant::now();
    generate(&path, contacts, 42);
    println!("generated {contacts} contacts in {:.1} s", started.elapsed().as_secs_f64());

    let store = Store::open(&path).expect("the store");
    let filter = Filter::parse(FILTER).expect("the filter");
    let message = Message::new(&[TEXT.to_string()], 50, vec![], None, "bench", vec![]).expect("the message");
    // Quiet hours one minute long: every member's local time is still worked out.
    let policy = CampaignPolicy { quiet_hours: Some((0, 1)), ..CampaignPolicy::default() };

    let mut plan_times = Vec::new();
    let mut totals = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let plan =
            switchboard::campaign::launch::plan(&store, &filter, &message, &policy, switchboard::model::now_ms())
                .expect("a plan");
        plan_times.push(t.elapsed());
        totals = Some(plan.totals.clone());
        std::hint::black_box(&plan);
    }
    let totals = totals.expect("at least one run");
    let included = totals.included;
    let conn = Connection::open(&path).expect("a connection");
    // The same SQL functions the store's queries call (`fold` for tags).
    switchboard::store::add_functions(&conn).expect("the store's SQL functions");
    let mut base_times = Vec::new();
    let mut rows = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        rows = baseline(&conn, &filter);
        base_times.push(t.elapsed());
    }
    let (plan, base) = (median(&mut plan_times), median(&mut base_times));
    println!("campaign planning, {contacts} contacts (`{FILTER}`), median of {RUNS}:");
    println!("  switchboard launch::plan    {:>8.1} ms   ({included} included)", plan.as_secs_f64() * 1e3);
    println!("  baseline: the rows alone    {:>8.1} ms   ({rows} rows)", base.as_secs_f64() * 1e3);
    println!("  left out: {:?}", totals.by_reason);
    println!(
        "  ratio {:.2}x the baseline; target under 2000 ms: {}",
        plan.as_secs_f64() / base.as_secs_f64(),
        if plan < Duration::from_secs(2) { "met" } else { "MISSED" }
    );
    launch(&path, &message, &policy);
    memory(&path);
}

/// Resident memory of 20 previews in a row, measured in a child process of this binary
/// so nothing else this run did is counted. Baseline: the member query alone, read row
/// by row in the same child before the previews.
fn memory(path: &std::path::Path) {
    let exe = std::env::current_exe().expect("this binary");
    let out = std::process::Command::new(exe).arg("--memory-probe").arg(path).output().expect("the probe");
    let text = String::from_utf8_lossy(&out.stdout);
    let numbers: Vec<f64> = text.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    let [start, query, previews, members] = numbers[..] else { panic!("the probe said {text:?}") };
    println!("peak resident memory, {members} members (`{FILTER}`), in a child process:");
    println!("  at start                       {start:>8.1} MB");
    println!("  baseline: the member query     {query:>8.1} MB");
    println!("  20 previews in a row, as the console keeps them  {previews:>8.1} MB   target under 40 MB");
}

fn memory_probe(path: &std::path::Path) {
    let start = stats::status_mb("self", "VmHWM");
    let store = Store::open(path).expect("the store");
    let filter = Filter::parse(FILTER).expect("the filter");
    let conn = Connection::open(path).expect("a connection");
    switchboard::store::add_functions(&conn).expect("the store's SQL functions");
    let members = baseline(&conn, &filter);
    let query = stats::status_mb("self", "VmHWM");
    let message = Message::new(&[TEXT.to_string()], 50, vec![], None, "bench", vec![]).expect("the message");
    let policy = CampaignPolicy { quiet_hours: Some((0, 1)), ..CampaignPolicy::default() };
    // As the console's panel does: the last preview is let go when the next is asked
    // for, and a preview keeps a row per member but renders only a page.
    let mut kept = None;
    for _ in 0..20 {
        drop(kept.take());
        let preview = switchboard::campaign::preview::Preview::make(
            &store,
            &filter,
            &message,
            &policy,
            switchboard::model::now_ms(),
        )
        .expect("a preview");
        kept = Some(preview);
    }
    std::hint::black_box(&kept);
    println!("{start:.1} {query:.1} {:.1} {members}", stats::status_mb("self", "VmHWM"));
}

/// Launching writes what planning decided: a recipient row per member, and a message
/// with its outbox row and first event for each included one, in one transaction.
/// Baseline: the same rows inserted by plain prepared statements in one transaction.
fn launch(path: &std::path::Path, message: &Message, policy: &CampaignPolicy) {
    let copy = path.with_extension("launch.db");
    std::fs::copy(path, &copy).expect("a copy");
    let mut store = Store::open(&copy).expect("the store");
    let t = Instant::now();
    let launched = switchboard::campaign::launch::launch(
        &mut store,
        "bench",
        None,
        FILTER,
        message,
        policy,
        switchboard::model::now_ms(),
    )
    .expect("a launch");
    let ours = t.elapsed();
    drop(store);
    let _ = std::fs::remove_file(copy.with_extension("db-wal"));
    let _ = std::fs::remove_file(copy.with_extension("db-shm"));
    std::fs::copy(path, &copy).expect("a copy");
    let mut conn = Connection::open(&copy).expect("a connection");
    switchboard::store::add_functions(&conn).expect("the store's SQL functions");
    conn.pragma_update(None, "synchronous", "NORMAL").expect("pragma");
    conn.pragma_update(None, "wal_autocheckpoint", 10_000).expect("pragma");
    let t = Instant::now();
    let tx = conn.transaction().expect("a transaction");
    tx.execute(
        "INSERT INTO campaigns(name, filter, template, state, created_at) VALUES ('raw', '', '', 'running', 0)",
        [],
    )
    .expect("a campaign");
    let campaign = tx.last_insert_rowid();
    {
        let mut message_row = tx
            .prepare(
                "INSERT INTO messages(conversation_id, direction, kind, body, sent_at, status, author, created_at, campaign_id) \
                 VALUES (?1, 'out', 'text', ?2, 0, 'queued', 'campaign', 0, ?3)",
            )
            .expect("insert");
        let mut outbox = tx
            .prepare(
                "INSERT INTO outbox(message_id, channel, chat_id, priority, next_attempt_at) VALUES (?1, ?2, ?3, 0, 0)",
            )
            .expect("insert");
        let mut event = tx
            .prepare("INSERT INTO message_events(message_id, kind, status, at) VALUES (?1, 'status', 'queued', 0)")
            .expect("insert");
        let mut recipient = tx
            .prepare(
                "INSERT INTO campaign_recipients(campaign_id, contact_id, channel, variant, state, message_id) \
                 VALUES (?1, ?2, ?3, 'A', 'queued', ?4)",
            )
            .expect("insert");
        for i in &launched.plan.included {
            let conversation = i.conversation.map_or(0, |c| c.0);
            message_row.execute(params![conversation, i.text(), campaign]).expect("a message");
            let id = tx.last_insert_rowid();
            outbox.execute(params![id, i.channel.as_str(), i.chat_id]).expect("an outbox row");
            event.execute([id]).expect("an event");
            recipient.execute(params![campaign, i.contact.0, i.channel.as_str(), id]).expect("a recipient");
        }
        let mut excluded = tx
            .prepare(
                "INSERT INTO campaign_recipients(campaign_id, contact_id, channel, state, reason) \
                 VALUES (?1, ?2, '', 'excluded', ?3)",
            )
            .expect("insert");
        for e in &launched.plan.excluded {
            excluded.execute(params![campaign, e.contact.0, e.reason.code()]).expect("an excluded row");
        }
    }
    tx.commit().expect("commit");
    let base = t.elapsed();
    println!(
        "campaign launch ({} messages with their outbox rows, {} recipients, one transaction):",
        launched.plan.totals.included, launched.plan.totals.members
    );
    println!("  switchboard launch::launch  {:>8.1} ms   (planning included)", ours.as_secs_f64() * 1e3);
    println!("  baseline: the same inserts  {:>8.1} ms   (planning not included)", base.as_secs_f64() * 1e3);
}

/// The member query with plain rusqlite: every column planning reads, into tuples.
fn baseline(conn: &Connection, filter: &Filter) -> usize {
    let (sql, params) = filter.to_sql(switchboard::model::now_ms());
    let mut stmt = conn
        .prepare(&format!(
            "SELECT c.id, c.display_name, c.phone, c.stage, c.attributes, c.time_zone, \
               i.channel, i.external_id, cv.id, cv.blocked_at IS NOT NULL, cv.last_inbound_at, \
               (SELECT e.action FROM consent_events e WHERE e.contact_id = c.id AND e.channel = i.channel \
                  AND e.purpose = 'marketing' ORDER BY e.at DESC, e.id DESC LIMIT 1) \
             FROM contacts c LEFT JOIN identities i ON i.contact_id = c.id \
             LEFT JOIN conversations cv ON cv.channel = i.channel AND cv.external_chat_id = i.external_id \
             WHERE {sql} ORDER BY c.id"
        ))
        .expect("the baseline query");
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params.iter()), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<i64>>(8)?,
                r.get::<_, Option<bool>>(9)?,
                r.get::<_, Option<i64>>(10)?,
                r.get::<_, Option<String>>(11)?,
            ))
        })
        .expect("rows");
    let mut n = 0;
    for row in rows {
        std::hint::black_box(row.expect("a row"));
        n += 1;
    }
    n
}

/// A store of `n` contacts over the three channels: a conversation each, a city for
/// nine in ten, tags, time zones, consent (most in, some out, some never asked), a few
/// blocks, and a past campaign that reached a fifth of them.
fn generate(path: &std::path::Path, n: usize, seed: u64) {
    Store::open(path).expect("the schema");
    let mut conn = Connection::open(path).expect("a connection");
    switchboard::store::add_functions(&conn).expect("the store's SQL functions");
    let tx = conn.transaction().expect("a transaction");
    let now = switchboard::model::now_ms();
    let mut rng = switchboard::sandbox::Rng::new(seed);
    let mut next = move |m: u64| rng.below(m);
    const CITIES: &[&str] = &["Kazan", "Moscow", "Saint Petersburg", "London", "Manchester", "Almaty"];
    const NAMES: &[&str] = &["Анна Петрова", "Emma Wilson", "Дмитрий", "Liam Carter", "Ольга Соколова", "Noah"];
    const ZONES: &[&str] = &["Europe/Moscow", "Europe/London", "+05:00", "Asia/Almaty"];
    tx.execute("INSERT INTO tags(id, name) VALUES (1, 'vip'), (2, 'churned')", []).expect("tags");
    tx.execute(
        "INSERT INTO campaigns(id, name, filter, template, state, created_at) VALUES (1, 'past', '', 'x', 'done', ?1)",
        [now - 3 * DAY],
    )
    .expect("a past campaign");
    {
        let mut contact = tx
            .prepare("INSERT INTO contacts(id, display_name, locale, time_zone, attributes, stage, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .expect("insert");
        let mut identity = tx
            .prepare("INSERT INTO identities(contact_id, channel, external_id, created_at) VALUES (?1, ?2, ?3, ?4)")
            .expect("insert");
        let mut conversation = tx
            .prepare("INSERT INTO conversations(id, channel, external_chat_id, contact_id, title, last_message_at, last_inbound_at, blocked_at, created_at) VALUES (?1, ?2, ?3, ?1, ?4, ?5, ?5, ?6, ?7)")
            .expect("insert");
        let mut consent = tx
            .prepare("INSERT INTO consent_events(contact_id, channel, purpose, action, source, at) VALUES (?1, ?2, 'marketing', ?3, 'import', ?4)")
            .expect("insert");
        let mut tag = tx.prepare("INSERT INTO contact_tags(contact_id, tag_id) VALUES (?1, ?2)").expect("insert");
        let mut message = tx
            .prepare("INSERT INTO messages(id, conversation_id, direction, body, sent_at, status, campaign_id, created_at) VALUES (?1, ?1, 'out', 'Скидка!', ?2, 'sent', 1, ?2)")
            .expect("insert");
        let mut recipient = tx
            .prepare("INSERT INTO campaign_recipients(campaign_id, contact_id, channel, variant, state, message_id) VALUES (1, ?1, ?2, 'A', 'queued', ?1)")
            .expect("insert");
        for i in 1..=n as i64 {
            let channel = ["telegram", "whatsapp", "viber"][(i % 3) as usize];
            let attributes = if next(10) < 9 {
                format!("{{\"city\":\"{}\"}}", CITIES[next(CITIES.len() as u64) as usize])
            } else {
                "{}".into()
            };
            let zone = (next(2) == 0).then(|| ZONES[next(ZONES.len() as u64) as usize]);
            let locale = if i % 2 == 0 { "ru" } else { "en" };
            let stage = ["new", "lead", "customer"][next(3) as usize];
            contact
                .execute(params![i, NAMES[(i % 6) as usize], locale, zone, attributes, stage, now - 400 * DAY])
                .expect("contact");
            let external = format!("{channel}-{i}");
            identity.execute(params![i, channel, external, now]).expect("identity");
            let last_inbound = now - next(60) as i64 * DAY - next(DAY as u64) as i64;
            let blocked = (next(100) == 0).then_some(now - DAY);
            conversation
                .execute(params![i, channel, external, NAMES[(i % 6) as usize], last_inbound, blocked, now])
                .expect("conversation");
            let roll = next(100);
            if roll < 85 {
                consent.execute(params![i, channel, "opt_in", now - 100 * DAY]).expect("consent");
            }
            if (80..85).contains(&roll) {
                consent.execute(params![i, channel, "opt_out", now - 10 * DAY]).expect("consent");
            }
            if next(10) == 0 {
                tag.execute(params![i, 1]).expect("tag");
            }
            if next(20) == 0 {
                tag.execute(params![i, 2]).expect("tag");
            }
            if next(5) == 0 {
                message.execute(params![i, now - 3 * DAY]).expect("message");
                recipient.execute(params![i, channel]).expect("recipient");
            }
        }
    }
    tx.commit().expect("commit");
}
