//! 10,000 signed WhatsApp webhook calls from a loopback generator, bounded in count and
//! concurrency: every message stored, none twice, while a reader on another connection
//! (what a console does) keeps reading. The reader's slowest read is printed for the
//! record, not asserted: timing belongs to the benchmarks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::channels::signature::hmac_sha256_hex;
use switchboard::channels::{Channel, WhatsAppChannel};
use switchboard::config::{Secret, WebhookConfig, WhatsAppConfig};
use switchboard::sandbox::push::ascii_json;
use switchboard::store::{ConversationFilter, Store};
use switchboard::sync::{Engine, EngineLock};

const CALLS: usize = 10_000;
const DUPLICATE_EVERY: usize = 10;
const CONCURRENCY: usize = 16;

fn body(i: usize) -> Vec<u8> {
    let customer = 79_000_000_000u64 + (i % 500) as u64;
    ascii_json(
        &json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "1", "phone_number_id": "1"},
        "contacts": [{"profile": {"name": format!("Клиент {}", i % 500)}, "wa_id": customer.to_string()}],
        "messages": [{"from": customer.to_string(), "id": format!("wamid.LOAD{i:08}"), "timestamp": "1773134100",
                      "type": "text", "text": {"body": format!("Сообщение {i} 📦")}}]}}]}]}),
    )
}

/// The engine on a new store in `dir`, with a WhatsApp channel taking webhooks; its URL.
fn engine(dir: &std::path::Path) -> (Engine, Arc<String>) {
    let db = dir.join("switchboard.db");
    Store::open(&db).unwrap();
    let config = WhatsAppConfig {
        token: Secret::new("t"),
        phone_number_id: "1".into(),
        app_secret: Secret::new("load-secret"),
        verify_token: Secret::new("v"),
        api_url: "http://127.0.0.1:9".into(),
        api_version: "v25.0".into(),
        welcome: None,
        rate_limits: true,
        templates: vec![],
    };
    let lock = EngineLock::try_acquire(&dir.join("engine.lock")).unwrap().unwrap();
    let webhook =
        WebhookConfig { listen: "127.0.0.1:0".parse().unwrap(), max_body_bytes: 1 << 20, ..Default::default() };
    let channels = vec![Channel::WhatsApp(WhatsAppChannel::new(&config).unwrap())];
    let engine = Engine::start(lock, &db, channels, &webhook).unwrap();
    let url = Arc::new(format!("http://{}/webhook/whatsapp", engine.webhook_addr().unwrap()));
    (engine, url)
}

async fn post(client: &reqwest::Client, url: &str, body: Vec<u8>) -> u16 {
    let signature = format!("sha256={}", hmac_sha256_hex(b"load-secret", &body));
    client
        .post(url)
        .header("X-Hub-Signature-256", signature)
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Calls that arrive together are stored together (group commit), yet each is answered
/// for itself: a call whose message cannot be stored gets 500, and the calls stored in
/// the same moment get 200 with their messages stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_are_answered_each_for_its_own_commit() {
    const N: usize = 400;
    let dir = tempfile::tempdir().unwrap();
    let (_engine, url) = engine(dir.path());
    let db = dir.path().join("switchboard.db");
    // Every message whose id ends in 3 cannot be stored.
    Store::open(&db)
        .unwrap()
        .conn()
        .execute_batch(
            "CREATE TRIGGER boom BEFORE INSERT ON messages WHEN new.external_id LIKE '%3' \
             BEGIN SELECT RAISE(ABORT, 'boom'); END;",
        )
        .unwrap();
    let client = reqwest::Client::new();
    let calls: Vec<_> = (0..N)
        .map(|i| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move { (i, post(&client, &url, body(i)).await) })
        })
        .collect();
    for call in calls {
        let (i, status) = call.await.unwrap();
        let expected = if i % 10 == 3 { 500 } else { 200 };
        assert_eq!(status, expected, "call {i}");
    }
    let store = Store::open(&db).unwrap();
    let stored: Vec<String> = store
        .conn()
        .prepare("SELECT external_id FROM messages ORDER BY external_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<String> = (0..N).filter(|i| i % 10 != 3).map(|i| format!("wamid.LOAD{i:08}")).collect();
    assert_eq!(stored, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_signed_webhooks_are_all_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let (_engine, url) = engine(dir.path());

    // A console's reads while the calls arrive.
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (db, done) = (db.clone(), done.clone());
        tokio::task::spawn_blocking(move || {
            let store = Store::open(&db).unwrap();
            let (mut slowest, mut reads) = (Duration::ZERO, 0);
            while !done.load(Ordering::Relaxed) {
                let start = Instant::now();
                let rows = store.conversations_page(ConversationFilter::default(), None, 100).unwrap();
                if let Some(first) = rows.first() {
                    store.messages_before(first.id, None, 200).unwrap();
                }
                slowest = slowest.max(start.elapsed());
                reads += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            (slowest, reads)
        })
    };

    let client = reqwest::Client::new();
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, url, next) = (client.clone(), url.clone(), next.clone());
            tokio::spawn(async move {
                let mut refused = 0;
                loop {
                    let call = next.fetch_add(1, Ordering::Relaxed);
                    if call >= CALLS {
                        return refused;
                    }
                    // Every tenth call repeats an earlier message, as a platform retry would.
                    let message = if call % DUPLICATE_EVERY == DUPLICATE_EVERY - 1 { call - 5 } else { call };
                    let status = post(&client, &url, body(message)).await;
                    if status != 200 {
                        refused += 1;
                    }
                }
            })
        })
        .collect();
    let mut refused = 0;
    for w in workers {
        refused += w.await.unwrap();
    }
    let took = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let (slowest, reads) = reader.await.unwrap();
    let store = Store::open(&db).unwrap();
    let stored = store.count("messages").unwrap();
    let distinct: i64 =
        store.conn().query_row("SELECT count(DISTINCT external_id) FROM messages", [], |r| r.get(0)).unwrap();
    println!(
        "{CALLS} signed webhook calls in {:.1} s ({:.0}/s); {reads} reads meanwhile, the slowest {:.1} ms",
        took.as_secs_f64(),
        CALLS as f64 / took.as_secs_f64(),
        slowest.as_secs_f64() * 1000.0
    );
    assert_eq!(refused, 0, "every call answered 200");
    let unique = (CALLS - CALLS / DUPLICATE_EVERY) as i64;
    assert_eq!(stored, unique, "every message stored, none twice");
    assert_eq!(distinct, unique);
    let customers: std::collections::HashSet<usize> =
        (0..CALLS).filter(|c| c % DUPLICATE_EVERY != DUPLICATE_EVERY - 1).map(|m| m % 500).collect();
    assert_eq!(store.count("conversations").unwrap(), customers.len() as i64, "one conversation per customer");
}
