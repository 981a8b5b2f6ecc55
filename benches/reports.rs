//! Every report over the generated 1,000,000-message store (`switchboard generate`'s
//! defaults: two years of history, five agents and a bot, resolves, satisfaction answers,
//! stage histories), for the last 30 days and for the whole two years, each next to its
//! baseline: the same figure computed in the same run by the leanest SQL over the raw
//! tables (the messages, the campaign recipients, the stage events, the surveys). Each
//! baseline's figure is compared with the report's, so the bench also checks on a million
//! messages that what the triggers keep agrees with the messages themselves.
//!
//! `cargo bench --bench reports` (`-- --store FILE` reuses a generated store, read only;
//! `-- --only NAME` runs one report, `screen` the screen alone).

mod stats;

use stats::{median, ms, p99};

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use switchboard::automation::{HoursConfig, Schedule};
use switchboard::model::{Millis, Zone, now_ms};
use switchboard::report::{self, Context, Metric, Period};
use switchboard::store::Store;

const RUNS: usize = 15;
const TARGET_MS: f64 = 200.0;
/// What store::human_author says, for the raw queries.
const PERSON: &str = "(coalesce(author, '') NOT IN ('welcome', 'switchboard', 'bot', 'trainer', '') \
                      AND author NOT LIKE 'bot%' AND author NOT LIKE 'campaign:%')";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = match args.iter().position(|a| a == "--store") {
        Some(i) => Path::new(&args[i + 1]).to_path_buf(),
        None => {
            let path = dir.path().join("switchboard.db");
            stats::generate_store(&path, Default::default());
            path
        }
    };
    let store = Store::open(&path).expect("the store");
    let raw = Connection::open(&path).expect("a raw connection");
    switchboard::store::add_functions(&raw).expect("the store's SQL functions");
    let ctx = context();
    let now = now_ms();
    let periods = [Period::last_days(30, now, ctx.zone), Period::last_days(731, now, ctx.zone)];
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);

    println!(
        "\n{:<52} {:>10} {:>10} {:>10} {:>8}  target",
        "report (p50 and p99 of 15; baseline p50 of 3)", "report", "p99", "baseline", "ratio"
    );
    for period in &periods {
        let span = if period.to - period.from > 40 * 86_400_000 { "2 years" } else { "30 days" };
        for metric in [
            Metric::ResponseTimes,
            Metric::NewClients,
            Metric::Funnel,
            Metric::Campaigns,
            Metric::Csat,
            Metric::Engagement,
        ] {
            if !wanted(metric.name()) {
                continue;
            }
            let (p50, worst, table) = time(|| report::table(&store, metric, period, None, &ctx).expect("a report"));
            let (base, figure) = baseline(&raw, metric, period);
            let ours = check(metric, &table);
            assert_eq!(ours, figure, "{} over {span}: the report and the raw tables disagree", metric.name());
            row(&format!("{} ({span}; {})", metric.name(), figure), p50, worst, base);
        }
        if !wanted("screen") {
            continue;
        }
        let (p50, worst, _) = time(|| screen(&store, period, &ctx));
        let (base, _) = baseline_volume(&raw, period);
        row(&format!("Reports screen, every chart ({span})"), p50, worst, base);
    }
}

fn row(name: &str, p50: f64, worst: f64, base: f64) {
    let verdict = if worst < TARGET_MS { "ok" } else { "MISSED" };
    println!(
        "{name:<52} {p50:>7.2} ms {worst:>7.2} ms {base:>7.1} ms {:>7.3}x  < {TARGET_MS} ms {verdict}",
        p50 / base
    );
}

fn time<T>(f: impl FnMut() -> T) -> (f64, f64, T) {
    time_n(RUNS, f)
}

/// The baselines take seconds each: three runs of them.
fn time_n<T>(n: usize, mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let mut last = f();
    let mut runs: Vec<Duration> = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        last = f();
        runs.push(started.elapsed());
    }
    (ms(median(&mut runs.clone())), ms(p99(&mut runs)), last)
}

/// Moscow, open 09:00-18:00 on weekdays: the business-hours figures are computed too.
fn context() -> Context {
    let week = ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| (d.to_string(), "09:00-18:00".to_string())).collect();
    let config = HoursConfig {
        enabled: true,
        time_zone: "Europe/Moscow".into(),
        week,
        holidays: vec![],
        away: None,
        language: None,
    };
    Context {
        zone: Zone::parse("Europe/Moscow").expect("a zone"),
        schedule: Some(Schedule::parse(&config).expect("a schedule")),
        conversion_stage: "customer".into(),
        conversion_days: 14,
    }
}

/// What the Reports screen computes for one period.
fn screen(store: &Store, period: &Period, ctx: &Context) -> usize {
    let data = switchboard::app::reports::ReportData::read(store, period, ctx).expect("the screen's figures");
    data.volume.channels.len() + data.by_agent.rows.len() + data.funnel.rows.len()
}

/// The figure each report is checked by: its `all` row's key number.
fn check(metric: Metric, table: &report::Table) -> String {
    let all = |measure: Option<&str>| {
        (0..table.rows.len())
            .find(|&i| {
                table.rows[i][0] == report::Value::Text("all".into())
                    && measure.is_none_or(|m| table.rows[i][1] == report::Value::Text(m.into()))
            })
            .expect("an all row")
    };
    match metric {
        Metric::ResponseTimes => {
            let i = all(Some("response"));
            format!(
                "{} responses, median {}",
                table.cell(i, "count").map(|v| v.show()).unwrap_or_default(),
                table.cell(i, "median_s").map(|v| v.show()).unwrap_or_default()
            )
        }
        Metric::NewClients => {
            format!("{} new", table.cell(all(None), "new_clients").map(|v| v.show()).unwrap_or_default())
        }
        Metric::Funnel => {
            let i = all(Some("customer"));
            format!("{} reached customer", table.cell(i, "reached").map(|v| v.show()).unwrap_or_default())
        }
        Metric::Campaigns => {
            let sent: i64 = (0..table.rows.len())
                .map(|i| match table.cell(i, "sent") {
                    Some(report::Value::Count(n)) => *n,
                    _ => 0,
                })
                .sum();
            format!("{sent} sent")
        }
        Metric::Csat => format!("average {}", table.cell(all(None), "average").map(|v| v.show()).unwrap_or_default()),
        Metric::Engagement => {
            format!("{} two-way", table.cell(all(None), "two_way").map(|v| v.show()).unwrap_or_default())
        }
    }
}

/// The leanest SQL over the raw tables for the same figure, timed; and the figure.
fn baseline(raw: &Connection, metric: Metric, period: &Period) -> (f64, String) {
    let (from, to) = (period.from, period.to);
    let (p50, _, figure) = time_n(3, || match metric {
        Metric::ResponseTimes => {
            // Every reply by a person, back to the first customer message after the
            // previous one: a window over every message of every conversation.
            let sql = format!(
                "WITH m AS (SELECT conversation_id, sent_at, id, \
                   direction = 'in' AND kind NOT IN ('click', 'system', 'reaction') AS customer, \
                   direction = 'out' AND kind NOT IN ('note', 'system') AND campaign_id IS NULL AND {PERSON} AS person \
                   FROM messages), \
                 g AS (SELECT *, coalesce(sum(person) OVER (PARTITION BY conversation_id ORDER BY sent_at, id \
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS k FROM m WHERE customer OR person), \
                 b AS (SELECT *, min(CASE WHEN customer THEN sent_at END) OVER (PARTITION BY conversation_id, k) AS started \
                   FROM g) \
                 SELECT sent_at - started FROM b WHERE person AND started IS NOT NULL AND sent_at >= ?1 AND sent_at < ?2"
            );
            let mut stmt = raw.prepare_cached(&sql).expect("the baseline");
            let v: Vec<Millis> =
                stmt.query_map(params![from, to], |r| r.get(0)).expect("rows").map(|r| r.expect("a row")).collect();
            let s = report::stats::Summary::of(v.into_iter().map(|d| d.max(0)).collect());
            format!("{} responses, median {}", s.count, report::stats::duration(s.median))
        }
        Metric::NewClients => {
            let n: i64 = raw
                .query_row(
                    "SELECT count(*) FROM (SELECT c.contact_id, min(m.sent_at) AS first FROM messages m \
                       JOIN conversations c ON c.id = m.conversation_id \
                       WHERE m.direction = 'in' AND m.kind NOT IN ('click', 'system', 'reaction') \
                       AND c.contact_id IS NOT NULL GROUP BY c.contact_id) WHERE first >= ?1 AND first < ?2",
                    params![from, to],
                    |r| r.get(0),
                )
                .expect("the baseline");
            format!("{n} new")
        }
        Metric::Funnel => {
            let n: i64 = raw
                .query_row(
                    "WITH entered AS (SELECT contact_id, max(CASE to_stage WHEN 'new' THEN 0 WHEN 'lead' THEN 1 \
                       WHEN 'qualified' THEN 2 WHEN 'customer' THEN 3 WHEN 'repeat' THEN 4 ELSE -1 END) AS furthest, \
                       max(to_stage = 'customer') AS was_customer, \
                       (SELECT to_stage FROM stage_events l WHERE l.contact_id = s.contact_id ORDER BY at DESC, id DESC LIMIT 1) AS last \
                       FROM stage_events s GROUP BY contact_id HAVING min(at) >= ?1 AND min(at) < ?2) \
                     SELECT count(*) FROM entered WHERE (last <> 'churned' AND furthest >= 3) \
                       OR (last = 'churned' AND was_customer)",
                    params![from, to],
                    |r| r.get(0),
                )
                .expect("the baseline");
            format!("{n} reached customer")
        }
        Metric::Campaigns => {
            let n: i64 = raw
                .query_row(
                    "SELECT count(*) FROM campaigns k JOIN campaign_recipients r ON r.campaign_id = k.id \
                       JOIN messages m ON m.id = r.message_id \
                     WHERE k.launched_at >= ?1 AND k.launched_at < ?2 AND m.status IN ('sent', 'delivered', 'read')",
                    params![from, to],
                    |r| r.get(0),
                )
                .expect("the baseline");
            format!("{n} sent")
        }
        Metric::Csat => {
            let avg: Option<f64> = raw
                .query_row(
                    "SELECT avg(score) FROM csat WHERE asked_at >= ?1 AND asked_at < ?2 AND score IS NOT NULL",
                    params![from, to],
                    |r| r.get(0),
                )
                .expect("the baseline");
            format!("average {}", avg.map_or("—".into(), |a| format!("{a:.2}")))
        }
        Metric::Engagement => {
            // Conversations whose customer began a block in the period and got an
            // answer: from the messages, in time order.
            let sql = format!(
                "WITH m AS (SELECT conversation_id, sent_at, id, \
                   direction = 'in' AND kind NOT IN ('click', 'system', 'reaction') AS customer, \
                   direction = 'out' AND kind NOT IN ('note', 'system') AND campaign_id IS NULL \
                     AND coalesce(author, '') NOT LIKE 'campaign:%' AS reply, \
                   direction = 'out' AND kind NOT IN ('note', 'system') AND campaign_id IS NULL AND {PERSON} AS person \
                   FROM messages), \
                 a AS (SELECT *, max(reply) OVER (PARTITION BY conversation_id ORDER BY sent_at DESC, id DESC \
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS answered FROM m WHERE customer OR reply), \
                 s AS (SELECT *, lag(customer) OVER (PARTITION BY conversation_id ORDER BY sent_at, id) AS previous \
                   FROM a WHERE customer OR person) \
                 SELECT count(DISTINCT conversation_id) FROM s WHERE customer AND coalesce(previous, 0) = 0 \
                   AND answered AND sent_at >= ?1 AND sent_at < ?2"
            );
            let n: i64 = raw.query_row(&sql, params![from, to], |r| r.get(0)).expect("the baseline");
            format!("{n} two-way")
        }
    });
    (p50, figure)
}

/// Messages per channel and day, from the messages.
fn baseline_volume(raw: &Connection, period: &Period) -> (f64, usize) {
    let (p50, _, n) = time_n(3, || {
        let mut stmt = raw
            .prepare_cached(
                "SELECT c.channel, m.sent_at / 86400000, count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE m.sent_at >= ?1 AND m.sent_at < ?2 AND m.kind <> 'note' GROUP BY 1, 2",
            )
            .expect("the baseline");
        stmt.query_map(params![period.from, period.to], |r| r.get::<_, i64>(2)).expect("rows").count()
    });
    (p50, n)
}
