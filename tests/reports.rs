//! Reports over tiny stores with a fixed clock, every figure worked out by hand: the
//! response times of a conversation with two customer blocks, a bot reply and two agent
//! replies, in calendar time and business hours; a funnel of contacts moving through
//! stages; a campaign's open rate and click-through; new clients, engagement and CSAT;
//! the blocks the migration rebuilds equal to those the triggers keep; and the CLI.

mod common;

use common::app::TestApp;
use common::{cli, inbound, rows};
use crossterm::event::KeyCode;
use switchboard::automation::{HoursConfig, Schedule};
use switchboard::model::{ChannelKind, ConversationId, ConversationStatus, Millis, Outgoing, Zone};
use switchboard::report::{self, By, Context, Metric, Period, Value};
use switchboard::store::{PRIORITY_REPLY, Store};

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;

/// Moscow wall-clock time as an instant (UTC+3 all year).
fn msk(d: u32, h: u32, mi: u32) -> Millis {
    chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap().and_hms_opt(h, mi, 0).unwrap().and_utc().timestamp_millis()
        - 3 * HOUR
}

fn context(hours: bool) -> Context {
    let week = ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| (d.to_string(), "09:00-18:00".to_string())).collect();
    let schedule = hours.then(|| {
        Schedule::parse(&HoursConfig {
            enabled: true,
            time_zone: "Europe/Moscow".into(),
            week,
            holidays: vec![],
            away: None,
            language: None,
        })
        .unwrap()
    });
    Context {
        zone: Zone::parse("Europe/Moscow").unwrap(),
        schedule,
        conversion_stage: "customer".into(),
        conversion_days: 14,
    }
}

/// The whole of November 2026, Moscow time.
fn november() -> Period {
    Period::parse(Some("2026-11-01"), Some("2026-11-30"), 0, Zone::parse("Europe/Moscow").unwrap()).unwrap()
}

fn reply(store: &mut Store, conversation: ConversationId, author: &str, text: &str, at: Millis) {
    store.enqueue_message(conversation, &Outgoing::text(text), author, PRIORITY_REPLY, at).unwrap();
}

fn conversation(store: &Store, user: i64) -> ConversationId {
    store.find_conversation(ChannelKind::Telegram, &user.to_string()).unwrap().unwrap()
}

/// Tuesday 24 November, Moscow, open 09:00-18:00 on weekdays:
/// 10:00 customer, 10:01 bot, 10:05 customer, 10:10 maria (first block answered);
/// 17:50 customer, Wednesday 09:20 maria (second block); resolved Wednesday 09:30.
fn two_blocks() -> Store {
    let mut store = Store::open_in_memory().unwrap();
    fill_two_blocks(&mut store);
    store
}

fn fill_two_blocks(store: &mut Store) {
    store.ingest(&[inbound(1, "Анна", 1, "Здравствуйте, где заказ?", msk(24, 10, 0))], None, msk(24, 10, 0)).unwrap();
    let c = conversation(store, 1);
    reply(store, c, "bot", "Мы скоро ответим", msk(24, 10, 1));
    store.ingest(&[inbound(1, "Анна", 2, "Номер 5512", msk(24, 10, 5))], None, msk(24, 10, 5)).unwrap();
    reply(store, c, "maria", "Заказ у курьера", msk(24, 10, 10));
    store.ingest(&[inbound(1, "Анна", 3, "Курьер не пришёл", msk(24, 17, 50))], None, msk(24, 17, 50)).unwrap();
    reply(store, c, "maria", "Курьер будет завтра", msk(25, 9, 20));
    store.assign(c, Some("maria")).unwrap();
    store.set_status_at(c, ConversationStatus::Resolved, msk(25, 9, 30)).unwrap();
}

fn find<'a>(
    rows: &'a [(String, report::response::Measure, report::response::Times)],
    group: &str,
    m: &str,
) -> &'a report::response::Times {
    &rows.iter().find(|(g, measure, _)| g == group && measure.name() == m).unwrap_or_else(|| panic!("{group} {m}")).2
}

#[test]
fn two_blocks_a_bot_reply_and_two_agent_replies_give_the_exact_times() {
    let store = two_blocks();
    let rows = report::response::compute(&store, &november(), By::Agent, &context(true)).unwrap();
    let min = |m: f64| Some(m * MINUTE as f64);

    // First response: 10:00 → 10:10, the bot's reply at 10:01 stops no clock.
    let first = find(&rows, "maria", "first response");
    assert_eq!((first.calendar.count, first.calendar.median), (1, min(10.0)));
    assert_eq!(first.business.unwrap().median, min(10.0));

    // Responses: 10 min, and 17:50 → 09:20 the next day = 15 h 30 min; in business
    // hours 10 min (17:50-18:00) + 20 min (09:00-09:20) = 30 min.
    let response = find(&rows, "maria", "response");
    assert_eq!(response.calendar.count, 2);
    assert_eq!(response.calendar.mean, min((10.0 + 930.0) / 2.0));
    assert_eq!(response.calendar.median, min(470.0));
    assert_eq!(response.calendar.p90, min(10.0 + 0.9 * 920.0));
    let business = response.business.unwrap();
    assert_eq!((business.mean, business.median, business.p90), (min(20.0), min(20.0), min(28.0)));

    // The bot: 10:00 → 10:01, reported apart.
    let bot = find(&rows, "bot", "bot first response");
    assert_eq!((bot.calendar.count, bot.calendar.median), (1, min(1.0)));
    assert_eq!(find(&rows, "bot", "bot response").calendar.count, 1);
    assert!(!rows.iter().any(|(g, m, _)| g == "bot" && m.name() == "response"));

    // Resolution: Tuesday 10:00 → Wednesday 09:30 = 23 h 30 min; business 8 h + 30 min.
    let resolution = find(&rows, "maria", "resolution");
    assert_eq!(resolution.calendar.median, min(23.0 * 60.0 + 30.0));
    assert_eq!(resolution.business.unwrap().median, min(8.0 * 60.0 + 30.0));

    // Without business hours the business figures are absent, and the table says why.
    let table = report::table(&store, Metric::ResponseTimes, &november(), Some(By::Channel), &context(false)).unwrap();
    let row = table
        .rows
        .iter()
        .position(|r| r[0] == Value::Text("telegram".into()) && r[1] == Value::Text("response".into()))
        .unwrap();
    assert_eq!(table.cell(row, "median_s"), Some(&Value::Duration(min(470.0))));
    assert_eq!(table.cell(row, "business_median_s"), Some(&Value::Duration(None)));
    assert!(table.notes.iter().any(|n| n.contains("none are configured")), "{:?}", table.notes);
    let text = table.text();
    assert!(text.contains("7h 50m"), "{text}");
}

#[test]
fn a_reopening_is_a_new_session_with_its_own_first_response() {
    let mut store = two_blocks();
    let c = conversation(&store, 1);
    // Thursday: the customer writes again; the reply is a first response again.
    store.ingest(&[inbound(1, "Анна", 4, "Спасибо, всё пришло!", msk(26, 11, 0))], None, msk(26, 11, 0)).unwrap();
    reply(&mut store, c, "ivan", "Рады помочь", msk(26, 11, 3));
    let rows = report::response::compute(&store, &november(), By::Agent, &context(false)).unwrap();
    assert_eq!(find(&rows, "ivan", "first response").calendar.median, Some(3.0 * MINUTE as f64));
    assert_eq!(find(&rows, "all", "first response").calendar.count, 2);
    // A button press is not a customer message: it starts no block.
    store
        .conn()
        .execute(
            "INSERT INTO messages(conversation_id, direction, kind, body, sent_at, status, created_at) VALUES (?1, 'in', 'click', '5', ?2, 'received', ?2)",
            rusqlite::params![c, msk(26, 12, 0)],
        )
        .unwrap();
    let blocks: i64 = store.conn().query_row("SELECT count(*) FROM reply_blocks", [], |r| r.get(0)).unwrap();
    assert_eq!(blocks, 3);
}

#[test]
fn the_migration_rebuilds_the_blocks_the_triggers_keep() {
    let mut store = two_blocks();
    let c = conversation(&store, 1);
    store.ingest(&[inbound(1, "Анна", 4, "И ещё вопрос", msk(26, 11, 0))], None, msk(26, 11, 0)).unwrap();
    reply(&mut store, c, "bot", "Минуту", msk(26, 11, 1));
    store.ingest(&[inbound(2, "Olivia", 1, "Hi!", msk(26, 12, 0))], None, msk(26, 12, 0)).unwrap();
    let blocks = |s: &Store| {
        rows(
            s,
            "SELECT conversation_id, channel, first, started_at, inbound, outbound, bot_at, replied_at, agent, open FROM reply_blocks ORDER BY id",
        )
    };
    let sessions = |s: &Store| rows(s, "SELECT id, session_started_at FROM conversations ORDER BY id");
    let (kept, kept_sessions) = (blocks(&store), sessions(&store));
    assert_eq!(kept.len(), 4);
    store.rebuild_reply_blocks().unwrap();
    assert_eq!(blocks(&store), kept);
    assert_eq!(sessions(&store), kept_sessions);
}

#[test]
fn a_contact_moving_new_qualified_customer_gives_the_funnel() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(1, "Анна", 1, "Привет", msk(24, 10, 0))], None, msk(24, 10, 0)).unwrap();
    store.ingest(&[inbound(2, "Olivia", 1, "Hi", msk(24, 11, 0))], None, msk(24, 11, 0)).unwrap();
    let contact = |user: i64| store.contact_of(conversation(&store, user)).unwrap().unwrap();
    let (anna, olivia) = (contact(1), contact(2));
    store.set_stage(anna, "qualified").unwrap();
    store.set_stage(anna, "customer").unwrap();
    store.set_stage(olivia, "lead").unwrap();
    store.set_stage(olivia, "churned").unwrap();
    // The clock: each stage change at a known time.
    let times = [
        (anna.0, "new", msk(24, 10, 0)),
        (anna.0, "qualified", msk(25, 10, 0)),
        (anna.0, "customer", msk(27, 10, 0)),
        (olivia.0, "new", msk(24, 11, 0)),
        (olivia.0, "lead", msk(24, 12, 0)),
        (olivia.0, "churned", msk(26, 12, 0)),
    ];
    for (contact, stage, at) in times {
        let n = store
            .conn()
            .execute(
                "UPDATE stage_events SET at = ?3 WHERE contact_id = ?1 AND to_stage = ?2",
                rusqlite::params![contact, stage, at],
            )
            .unwrap();
        assert_eq!(n, 1, "{stage}");
    }
    let cohorts = report::funnel::compute(&store, &november(), &context(false)).unwrap();
    assert_eq!(cohorts.len(), 2, "one week, and all");
    assert_eq!(cohorts[0].label, "week of 2026-11-23");
    let all = &cohorts[1];
    let step = |s: &str| all.steps.iter().find(|x| x.stage == s).unwrap();
    // Anna skipped `lead`: it counts as passed. Olivia churned after `lead`.
    let reached: Vec<i64> = all.steps.iter().map(|s| s.reached).collect();
    assert_eq!(reached, vec![2, 2, 1, 1, 0]);
    assert_eq!(step("lead").next, Some(50.0));
    assert_eq!(step("lead").dropped, 1);
    assert_eq!(step("customer").cumulative, Some(50.0));
    assert_eq!(step("customer").next, Some(0.0));
    assert_eq!(all.churned, 1);
    // Time in `new`: Anna a day, Olivia an hour; in `qualified` two days.
    let day = 24.0 * HOUR as f64;
    assert_eq!(step("new").time.median, Some((day + HOUR as f64) / 2.0));
    assert_eq!(step("qualified").time.median, Some(2.0 * day));
    assert_eq!(step("customer").time.count, 0, "Anna is still a customer");
}

#[test]
fn a_campaign_with_reads_and_clicks_gives_open_rate_and_ctr() {
    let mut store = Store::open_in_memory().unwrap();
    // Four WhatsApp recipients (read, read, delivered, failed) and two on Telegram
    // (sent: Telegram reports no more); two clicks, one reply, one opt-out.
    let launched = msk(20, 12, 0);
    let recipients = [
        ("whatsapp", "79000000001", "read", true),
        ("whatsapp", "79000000002", "read", false),
        ("whatsapp", "79000000003", "delivered", false),
        ("whatsapp", "79000000004", "failed", false),
        ("telegram", "1001", "sent", true),
        ("telegram", "1002", "sent", false),
    ];
    let conn = store.conn();
    conn.execute(
        "INSERT INTO campaigns(id, name, filter, template, state, created_at, launched_at) VALUES (1, 'black-friday', '', 'x', 'done', ?1, ?1)",
        [launched],
    )
    .unwrap();
    for (i, (channel, chat, status, clicked)) in recipients.iter().enumerate() {
        let id = i as i64 + 1;
        conn.execute(
            "INSERT INTO contacts(id, display_name, created_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![id, chat, launched - HOUR],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO conversations(id, channel, external_chat_id, contact_id, title, created_at) VALUES (?1, ?2, ?3, ?1, ?3, ?4)",
            rusqlite::params![id, channel, chat, launched - HOUR],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO messages(id, conversation_id, direction, body, sent_at, status, author, campaign_id, created_at) \
             VALUES (?1, ?1, 'out', 'Скидка', ?2, ?3, 'campaign:black-friday', 1, ?2)",
            rusqlite::params![id, launched, status],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO campaign_recipients(campaign_id, contact_id, channel, variant, state, message_id) VALUES (1, ?1, ?2, 'A', 'sent', ?1)",
            rusqlite::params![id, channel],
        )
        .unwrap();
        if *clicked {
            conn.execute(
                "INSERT INTO message_events(message_id, kind, at) VALUES (?1, 'click', ?2)",
                rusqlite::params![id, launched + HOUR],
            )
            .unwrap();
        }
    }
    // Contact 1 answers and becomes a customer two days later; contact 3 opts out.
    conn.execute(
        "INSERT INTO messages(conversation_id, direction, body, sent_at, status, external_id, created_at) VALUES (1, 'in', 'Беру!', ?1, 'received', 'w1', ?1)",
        [launched + 2 * HOUR],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO consent_events(contact_id, channel, purpose, action, source, at) VALUES (3, 'whatsapp', 'marketing', 'opt_out', 'keyword', ?1)",
        [launched + 3 * HOUR],
    )
    .unwrap();
    store.set_stage(switchboard::model::ContactId(1), "customer").unwrap();
    store
        .conn()
        .execute(
            "UPDATE stage_events SET at = ?1 WHERE contact_id = 1 AND to_stage = 'customer'",
            [launched + 48 * HOUR],
        )
        .unwrap();

    // Two more members held out (sent nothing): one becomes a customer all the same.
    for id in [7i64, 8] {
        store
            .conn()
            .execute(
                "INSERT INTO contacts(id, display_name, created_at) VALUES (?1, 'held', ?2)",
                rusqlite::params![id, launched - HOUR],
            )
            .unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO campaign_recipients(campaign_id, contact_id, channel, variant, state) VALUES (1, ?1, 'whatsapp', 'A', 'holdout')",
                [id],
            )
            .unwrap();
    }
    store.set_stage(switchboard::model::ContactId(7), "customer").unwrap();
    store
        .conn()
        .execute(
            "UPDATE stage_events SET at = ?1 WHERE contact_id = 7 AND to_stage = 'customer'",
            [launched + 24 * HOUR],
        )
        .unwrap();

    let figures = report::campaigns::compute(&store, &november(), By::Campaign, &context(false)).unwrap();
    assert_eq!(figures.len(), 1);
    let f = &figures[0];
    assert_eq!((f.sent, f.delivered, f.read, f.clicked, f.replied, f.opted_out, f.converted), (5, 5, 2, 2, 1, 1, 1));
    // Open rate over WhatsApp alone: 2 read of 3 delivered. CTR: 2 clicks of 5 delivered.
    assert_eq!(f.open_rate().map(|r| (r * 10.0).round() / 10.0), Some(66.7));
    assert_eq!(f.ctr(), Some(40.0));
    let table = report::table(&store, Metric::Campaigns, &november(), None, &context(false)).unwrap();
    assert_eq!(table.cell(0, "open_rate_percent").map(Value::show), Some("66.7%".into()));
    assert_eq!(table.cell(0, "conversion_percent").map(Value::show), Some("20.0%".into()));
    assert!(table.notes.iter().any(|n| n.contains("Telegram reports neither")), "{:?}", table.notes);
    // Conversion 1 of 5 sent (20%), against 1 of 2 held out (50%): the campaign did
    // worse than nothing, by 30 points.
    assert_eq!((f.held, f.held_converted), (2, 1));
    assert_eq!(table.cell(0, "holdout_conversion_percent").map(Value::show), Some("50.0%".into()));
    assert_eq!(table.cell(0, "lift_points"), Some(&Value::Number(Some(-30.0))));
    assert!(table.notes.iter().any(|n| n.starts_with("Holdout:")), "{:?}", table.notes);
    let by_channel = report::table(&store, Metric::Campaigns, &november(), Some(By::Channel), &context(false)).unwrap();
    assert_eq!(by_channel.rows.len(), 2);
    let telegram = by_channel.rows.iter().position(|r| r[1] == Value::Text("telegram".into())).unwrap();
    assert_eq!(by_channel.cell(telegram, "open_rate_percent"), Some(&Value::Percent(None)));
}

#[test]
fn new_clients_engagement_and_csat() {
    let store = two_blocks();
    let mut store = store;
    store.ingest(&[inbound(2, "Olivia", 1, "Hi", msk(26, 12, 0))], None, msk(26, 12, 0)).unwrap();
    let ctx = context(false);
    let clients = report::clients::compute(&store, &november(), By::Channel, &ctx).unwrap();
    assert_eq!(clients, vec![("telegram".to_string(), 2), ("all".to_string(), 2)]);
    let by_day = report::clients::compute(&store, &november(), By::Day, &ctx).unwrap();
    assert_eq!(by_day[0], ("2026-11-24".to_string(), 1));
    let engagement = report::engagement::compute(&store, &november(), By::Channel, &ctx).unwrap();
    let all = &engagement.last().unwrap().1;
    // Anna: 3 customer messages and 3 replies (bot, maria, maria), two-way; Olivia:
    // one unanswered message.
    assert_eq!((all.conversations, all.two_way, all.messages), (2, 1, 7));
    assert_eq!(all.per_conversation(), Some(3.5));

    let c = conversation(&store, 1);
    store
        .conn()
        .execute(
            "INSERT INTO csat(conversation_id, agent, asked_at, score, answered_at) VALUES (?1, 'maria', ?2, 4, ?2), (?1, 'maria', ?2, 5, ?2), (?1, 'ivan', ?2, NULL, NULL)",
            rusqlite::params![c, msk(25, 10, 0)],
        )
        .unwrap();
    let csat = report::engagement::csat(&store, &november(), By::Agent, &ctx).unwrap();
    let maria = &csat.iter().find(|(g, _)| g == "maria").unwrap().1;
    assert_eq!((maria.asked, maria.answered(), maria.average()), (2, 2, Some(4.5)));
    let all = &csat.last().unwrap().1;
    assert_eq!((all.asked, all.answered(), all.scores), (3, 2, [0, 0, 0, 1, 1]));
    // Funnel is by week only, and says so.
    let e = report::table(&store, Metric::Funnel, &november(), Some(By::Agent), &ctx).unwrap_err();
    assert!(e.to_string().contains("groups --by week"), "{e}");
}

#[test]
fn the_cli_writes_text_csv_and_json_and_refuses_a_bad_period() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[campaigns]\ndefault_time_zone = \"Europe/Moscow\"\n").unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    {
        let mut store = Store::open(&data.join("switchboard.db")).unwrap();
        store
            .ingest(&[inbound(1, "=cmd|' /C calc'!A0", 1, "Здравствуйте", msk(24, 10, 0))], None, msk(24, 10, 0))
            .unwrap();
        let c = conversation(&store, 1);
        reply(&mut store, c, "maria", "Добрый день", msk(24, 10, 4));
        store.conn().execute("UPDATE contacts SET source = '=HYPERLINK(\"http://x\")'", []).unwrap();
    }
    let run = |args: &[&str]| {
        let out = cli(&config, &data, args);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, text, err) =
        run(&["report", "response-times", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "agent"]);
    assert!(ok, "{err}");
    assert!(text.contains("maria") && text.contains("4m 00s"), "{text}");
    let (ok, csv, err) = run(&[
        "report",
        "new-clients",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--by",
        "source",
        "--format",
        "csv",
    ]);
    assert!(ok, "{err}");
    assert!(csv.starts_with("group,new_clients\n"), "{csv}");
    assert!(csv.contains("'=HYPERLINK"), "a formula is neutralised: {csv}");
    let (ok, json, err) =
        run(&["report", "response-times", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json"]);
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let first = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"] == "telegram" && r["measure"] == "first response")
        .unwrap();
    assert_eq!(first["median_s"], serde_json::json!(240.0));
    let (ok, _, err) = run(&["report", "funnel", "--from", "tomorrow"]);
    assert!(!ok);
    assert!(err.contains("--from `tomorrow`"), "{err}");
    let (ok, _, err) = run(&["report", "csat", "--by", "source"]);
    assert!(!ok);
    assert!(err.contains("report csat groups --by"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reports_screen_shows_the_numbers_the_cli_prints() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    {
        let mut store = Store::open(&data.join("switchboard.db")).unwrap();
        fill_two_blocks(&mut store);
        // Ivan answers Olivia on Thursday within four minutes.
        let hi = inbound(2, "Olivia", 1, "Hi, is the blue one in stock?", msk(26, 10, 0));
        store.ingest(&[hi], None, msk(26, 10, 0)).unwrap();
        let olivia = conversation(&store, 2);
        reply(&mut store, olivia, "ivan", "Yes, in all sizes.", msk(26, 10, 4));
    }
    let config_file = dir.path().join("config.toml");
    std::fs::write(&config_file, "[campaigns]\ndefault_time_zone = \"Europe/Moscow\"\n").unwrap();

    let mut config = switchboard::config::Config::default();
    config.engine.refresh_ms = 50;
    config.ui.agent_name = "maria".into();
    config.ui.notify = switchboard::config::NotifyKind::Off;
    config.campaigns.default_time_zone = Zone::parse("Europe/Moscow");
    let app = TestApp::with(&data, config, msk(26, 12, 0));
    app.press(KeyCode::F(5));
    let screen = app.wait_for("telegram: 8 messages").await;
    assert!(screen.contains("1 Volume"), "{screen}");
    app.press(KeyCode::Right);
    let screen = app.wait_for("Median response per agent").await;
    assert!(screen.contains("last 30 days (2026-10-28 – 2026-11-26)"), "{screen}");

    // The CLI over the same days, as JSON; each agent's figures on the screen's line.
    let out = cli(
        &config_file,
        &data,
        &[
            "report",
            "response-times",
            "--from",
            "2026-10-28",
            "--to",
            "2026-11-26",
            "--by",
            "agent",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = json["rows"].as_array().unwrap();
    let seconds = |group: &str, measure: &str, key: &str| {
        let row = rows.iter().find(|r| r["group"] == group && r["measure"] == measure).unwrap();
        report::stats::duration(row[key].as_f64().map(|s| s * 1000.0))
    };
    for agent in ["maria", "ivan"] {
        let line =
            screen.lines().find(|l| l.contains(&format!("│{agent} "))).unwrap_or_else(|| panic!("{agent}: {screen}"));
        let median = seconds(agent, "response", "median_s");
        let p90 = seconds(agent, "response", "p90_s");
        let first = seconds(agent, "first response", "median_s");
        assert!(line.contains(&format!("{median} · p90 {p90} · first {first}")), "{line}");
    }
    assert_eq!(seconds("maria", "response", "median_s"), "7h 50m");
    let bot = screen.lines().find(|l| l.contains("│bot ")).unwrap();
    assert!(bot.contains(&seconds("bot", "bot response", "median_s")), "{bot}");

    // The funnel and the new clients, a section each.
    app.press(KeyCode::Right);
    let screen = app.wait_for("Contacts who entered the funnel").await;
    assert!(screen.lines().any(|l| l.contains("│new ") && l.contains("2 · 0.0% to next")), "{screen}");
    app.press(KeyCode::Right);
    let screen = app.wait_for("New clients: 2").await;
    let out = cli(&config_file, &data, &["report", "new-clients", "--from", "2026-10-28", "--to", "2026-11-26"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("telegram") && l.trim_end().ends_with(" 2")), "{text}");
    assert!(
        screen.lines().any(|l| l.contains("│telegram ") && l.trim_end_matches(['│', ' ']).ends_with(" 2")),
        "{screen}"
    );
    app.quit().await;
}

#[test]
fn the_triggers_tell_people_from_the_engine_as_is_machine_does() {
    // The report triggers name the engine's authors in SQL; they must agree with
    // store::is_machine, or a bot's reply would stop a person's clock.
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(1, "Анна", 1, "Привет", msk(24, 10, 0))], None, msk(24, 10, 0)).unwrap();
    let c = conversation(&store, 1);
    let authors = ["welcome", "switchboard", "bot", "bot:keyword", "trainer", "", "maria", "Мария", "robot"];
    for (i, author) in authors.iter().enumerate() {
        let at = msk(24, 11, i as u32);
        store
            .conn()
            .execute(
                "INSERT INTO messages(conversation_id, direction, body, sent_at, status, author, created_at) \
                 VALUES (?1, 'out', 'x', ?2, 'sent', nullif(?3, ''), ?2)",
                rusqlite::params![c, at, author],
            )
            .unwrap();
        let who: String = store
            .conn()
            .query_row("SELECT who FROM volume WHERE hour = ?1 / 3600000 AND who <> 'customer'", [at], |r| r.get(0))
            .unwrap();
        let expected = if switchboard::store::is_machine(author) { "bot" } else { "agent" };
        assert_eq!(who, expected, "{author:?}");
        store.conn().execute("DELETE FROM volume WHERE who <> 'customer'", []).unwrap();
    }
    // The first person to answer closed the block: `maria`, after the engine's replies.
    let agent: Option<String> = store.conn().query_row("SELECT agent FROM reply_blocks", [], |r| r.get(0)).unwrap();
    assert_eq!(agent.as_deref(), Some("maria"));
}
