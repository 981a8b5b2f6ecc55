//! Webhook ingest through the real HTTP path, on the 1,000,000-message store: the engine
//! runs with a WhatsApp channel and 16 concurrent senders post signed webhook calls, one
//! message each, to 2,000 existing customers, each call waiting for its 200 (which comes
//! only after the commit). Printed beside it, from the same run:
//!
//! - the baseline: the same rows inserted into the messages table (full-text trigger and
//!   all) by a plain prepared statement, in batches of 100 in one transaction each;
//! - the HTTP floor: the same calls, from the same client, to a route that answers 200
//!   at once, so what the client and the loopback cost is on the page.
//!
//! `cargo bench --bench webhook` (`-- --store FILE` reuses a generated store: it is copied
//! first, since the bench writes to it; `-- --calls N` changes the number of calls).

mod stats;

use stats::{median, ms, p99};

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use serde_json::json;
use switchboard::channels::signature::hmac_sha256_hex;
use switchboard::channels::{Channel, WhatsAppChannel};
use switchboard::config::{Secret, WebhookConfig, WhatsAppConfig};
use switchboard::sandbox::push::ascii_json;
use switchboard::sync::{Engine, EngineLock};

const SENDERS: usize = 16;
const SECRET: &str = "bench-app-secret";
const CHATS: i64 = 2_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let calls: usize =
        args.iter().position(|a| a == "--calls").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("switchboard.db");
    stats::store_at(&path, &args);
    let customers = customers(&path);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");

    println!("\n{:<58} {:>12} {:>12} {:>8}  target", "figure", "switchboard", "baseline", "ratio");
    let bodies: Vec<Signed> = (0..calls).map(|i| Signed::new(&customers[i % customers.len()], i)).collect();
    let floor = runtime.block_on(http_floor(&bodies));
    let (rate, mut latencies, wal) = runtime.block_on(through_engine(dir.path(), &path, &bodies));
    check_stored(&path, calls);
    let base = raw_inserts(&path, &customers, calls, 100);
    let one_transaction = raw_inserts(&path, &customers, calls, calls);
    println!(
        "{:<58} {:>9.0} /s {:>9.0} /s {:>7.2}x  >= 1/2 of the baseline",
        format!("webhook ingest, {SENDERS} senders, {calls} calls of one message"),
        rate,
        base,
        rate / base
    );
    let (mut floor_rate, mut floor_latencies) = floor;
    println!(
        "{:<58} {:>9.3} ms {:>9.3} ms {:>7.2}x  < 20 ms",
        "  latency of a webhook call, p99 (baseline: HTTP floor p99)",
        ms(p99(&mut latencies)),
        ms(p99(&mut floor_latencies)),
        p99(&mut latencies).as_secs_f64() / p99(&mut floor_latencies).as_secs_f64()
    );
    println!(
        "{:<58} {:>9.3} ms {:>9.3} ms {:>7.2}x",
        "  latency of a webhook call, median",
        ms(median(&mut latencies)),
        ms(median(&mut floor_latencies)),
        median(&mut latencies).as_secs_f64() / median(&mut floor_latencies).as_secs_f64()
    );
    latencies.sort();
    println!("{:<58} {:>9.3} ms", "  latency of a webhook call, slowest", ms(*latencies.last().expect("calls")));
    floor_rate = floor_rate.max(f64::MIN_POSITIVE);
    println!("{:<58} {:>9.0} /s", "  HTTP floor: the same calls answered 200 at once", floor_rate);
    println!(
        "{:<58} {:>9.0} /s {:>9.0} /s {:>7.2}x",
        "  against the same rows in one transaction",
        rate,
        one_transaction,
        rate / one_transaction
    );
    println!("{:<58} {:>9.1} MB", "  write-ahead log at the end of the burst", wal);
}

/// 2,000 WhatsApp customers of the generated store: their phone numbers (wa_id) and names.
fn customers(path: &Path) -> Vec<(String, String)> {
    let conn = Connection::open(path).expect("the store");
    let mut stmt = conn
        .prepare("SELECT external_chat_id, title FROM conversations WHERE channel = 'whatsapp' LIMIT ?1")
        .expect("a query");
    let rows: Vec<(String, String)> =
        stmt.query_map([CHATS], |r| Ok((r.get(0)?, r.get(1)?))).expect("rows").collect::<Result<_, _>>().expect("rows");
    assert!(!rows.is_empty(), "the store has WhatsApp conversations");
    rows
}

fn text(i: usize) -> String {
    if i.is_multiple_of(2) {
        format!("Где мой заказ №{i}? Уже неделя прошла 😕")
    } else {
        format!("Order #{i}: any news?")
    }
}

/// One call's body and its signature, made before the clock starts.
struct Signed {
    body: Vec<u8>,
    signature: String,
}

impl Signed {
    fn new((wa_id, name): &(String, String), i: usize) -> Signed {
        let body = ascii_json(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
            "field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {"display_phone_number": "1", "phone_number_id": "1"},
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": format!("wamid.BENCH{i:08}"), "timestamp": "1773134100",
                          "type": "text", "text": {"body": text(i)}}]}}]}]}));
        let signature = format!("sha256={}", hmac_sha256_hex(SECRET.as_bytes(), &body));
        Signed { body, signature }
    }
}

/// Posts every body to `url` from `SENDERS` tasks, each waiting for its answer; the rate
/// in calls a second and each call's latency. Every answer must be 200.
async fn post_all(url: String, bodies: &[Signed]) -> (f64, Vec<Duration>) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(SENDERS).build().expect("a client");
    let bodies: Arc<Vec<(axum::body::Bytes, String)>> =
        Arc::new(bodies.iter().map(|s| (axum::body::Bytes::from(s.body.clone()), s.signature.clone())).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            let (client, url, next, bodies) = (client.clone(), url.clone(), next.clone(), bodies.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((body, signature)) = bodies.get(i) else { return latencies };
                    let t = Instant::now();
                    let response = client
                        .post(url.as_str())
                        .header("X-Hub-Signature-256", signature.as_str())
                        .body(body.clone())
                        .send()
                        .await
                        .expect("an answer");
                    assert_eq!(response.status().as_u16(), 200, "call {i} answered {}", response.status());
                    response.bytes().await.expect("the answer's body");
                    latencies.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(bodies.len());
    for sender in senders {
        latencies.extend(sender.await.expect("a sender"));
    }
    (bodies.len() as f64 / started.elapsed().as_secs_f64(), latencies)
}

/// The same calls to a server that answers 200 at once.
async fn http_floor(bodies: &[Signed]) -> (f64, Vec<Duration>) {
    let router =
        axum::Router::new().route("/webhook/whatsapp", axum::routing::post(|_: axum::body::Bytes| async { "ok\n" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("an address");
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let result = post_all(format!("http://{addr}/webhook/whatsapp"), bodies).await;
    server.abort();
    result
}

/// The engine on the store, with a WhatsApp channel taking webhooks.
/// The rate, the latencies, and the write-ahead log's size in MB at the end.
async fn through_engine(dir: &Path, db: &Path, bodies: &[Signed]) -> (f64, Vec<Duration>, f64) {
    let config = WhatsAppConfig {
        token: Secret::new("t"),
        phone_number_id: "1".into(),
        app_secret: Secret::new(SECRET),
        verify_token: Secret::new("v"),
        api_url: "http://127.0.0.1:9".into(),
        api_version: "v25.0".into(),
        welcome: None,
        rate_limits: true,
        templates: vec![],
    };
    let lock = EngineLock::try_acquire(&dir.join("engine.lock")).expect("the lock").expect("no other engine");
    let webhook =
        WebhookConfig { listen: "127.0.0.1:0".parse().unwrap(), max_body_bytes: 1 << 20, ..Default::default() };
    let channels = vec![Channel::WhatsApp(WhatsAppChannel::new(&config).expect("a channel"))];
    let engine = Engine::start(lock, db, channels, &webhook).expect("the engine");
    let url = format!("http://{}/webhook/whatsapp", engine.webhook_addr().expect("the webhook server"));
    let (rate, latencies) = post_all(url, bodies).await;
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::fs::metadata(Path::new(&wal)).map_or(0.0, |m| m.len() as f64 / 1e6);
    (rate, latencies, wal)
}

/// Every call's message is in the store once.
fn check_stored(db: &Path, calls: usize) {
    let conn = Connection::open(db).expect("the store");
    let stored: i64 = conn
        .query_row("SELECT count(*) FROM messages WHERE external_id LIKE 'wamid.BENCH%'", [], |r| r.get(0))
        .expect("a count");
    assert_eq!(stored, calls as i64, "every call's message stored once");
}

/// The same rows inserted by a plain prepared statement in transactions of `batch` rows,
/// with the store's connection settings.
fn raw_inserts(db: &Path, customers: &[(String, String)], calls: usize, batch: usize) -> f64 {
    let mut conn = Connection::open(db).expect("a connection");
    conn.busy_timeout(Duration::from_secs(5)).expect("timeout");
    switchboard::store::add_functions(&conn).expect("the store's SQL functions");
    conn.pragma_update(None, "synchronous", "NORMAL").expect("pragma");
    conn.pragma_update(None, "wal_autocheckpoint", 10_000).expect("pragma");
    let ids: Vec<i64> = customers
        .iter()
        .map(|(wa_id, _)| {
            conn.query_row(
                "SELECT id FROM conversations WHERE channel = 'whatsapp' AND external_chat_id = ?1",
                [wa_id],
                |r| r.get(0),
            )
            .expect("the conversation")
        })
        .collect();
    let now = switchboard::model::now_ms();
    let t = Instant::now();
    for rows in (0..calls).collect::<Vec<_>>().chunks(batch) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).expect("a transaction");
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO messages(conversation_id, direction, kind, body, sent_at, status, sender_name, external_id, created_at) \
                     VALUES (?1, 'in', 'text', ?2, ?3, 'received', ?4, ?5, ?3)",
                )
                .expect("a statement");
            for &i in rows {
                let c = i % customers.len();
                insert
                    .execute(params![
                        ids[c],
                        text(i),
                        now + i as i64,
                        customers[c].1,
                        format!("wamid.RAW{batch}-{i:08}")
                    ])
                    .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    calls as f64 / t.elapsed().as_secs_f64()
}
