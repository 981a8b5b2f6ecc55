//! Trust: each case here was a crash, a panic, a double send, a lost or misdated
//! message, a printed secret or a bad line number, reproduced before its fix.

mod common;

use std::path::Path;
use std::time::Duration;

use common::inbound;
use serde_json::{Value, json};
use switchboard::campaign::Filter;
use switchboard::campaign::plan::Zone;
use switchboard::channels::whatsapp::decode as whatsapp_decode;
use switchboard::channels::{Channel, TelegramChannel, WhatsAppChannel};
use switchboard::config::{Config, Secret, TelegramConfig, WhatsAppConfig};
use switchboard::model::{ChannelKind, InboundEvent, Outgoing, now_ms};
use switchboard::store::{SendTarget, Store, StoreError};
use switchboard::sync::{Engine, EngineLock};

fn whatsapp_body(messages: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "109876543210987"},
        "contacts": [{"profile": {"name": "Анна"}, "wa_id": "79161234567"}],
        "messages": messages}}]}]})
}

#[test]
fn a_whatsapp_edit_of_a_non_object_is_kept_raw_and_the_good_message_beside_it_is_stored() {
    for bad in [json!("text"), json!(42), json!([1, 2]), json!(true), Value::Null] {
        let body = whatsapp_body(json!([
            {"from": "79161234567", "id": "wamid.EDIT", "timestamp": "1773134113", "type": "edit",
             "edit": {"original_message_id": "wamid.ORIG", "message": bad}},
            {"from": "79161234567", "id": "wamid.GOOD", "timestamp": "1773134114", "type": "text",
             "text": {"body": "Привет 👋"}}
        ]));
        let events = whatsapp_decode::decode(&body).unwrap();
        assert!(matches!(&events[0], InboundEvent::Unsupported { what, .. } if what == "edit"), "{bad}: {events:?}");
        assert!(matches!(&events[1], InboundEvent::Message(m) if m.text == "Привет 👋"), "{bad}");
        let mut store = Store::open_in_memory().unwrap();
        let report = store.ingest(&events, None, now_ms()).unwrap();
        assert_eq!((report.stored, report.unsupported), (1, 1));
    }
}

#[test]
fn filters_too_deep_or_too_long_are_errors_that_point_at_the_place() {
    let deep = format!("{}tag:a{}", "(".repeat(15_000), ")".repeat(15_000));
    let e = Filter::parse(&deep).unwrap_err();
    assert!(e.to_string().contains("nest"), "{e}");
    assert_eq!(e.column, 16, "the first `(` past the limit");
    let long = vec!["tag:a"; 1_000].join(" ");
    let e = Filter::parse(&long).unwrap_err();
    assert!(e.to_string().contains("at most 100 terms"), "{e}");
    assert_eq!(e.column, 600, "the 101st term");
    // At the limits, the store can still run what the parser accepts.
    let store = Store::open_in_memory().unwrap();
    let widest = vec!["tag:a"; 100].join(" OR ");
    store.count_members(&Filter::parse(&widest).unwrap().condition(now_ms())).unwrap();
    let deepest = format!("{}tag:a{}", "(-tag:b ".repeat(16), ")".repeat(16));
    store.count_members(&Filter::parse(&deepest).unwrap().condition(now_ms())).unwrap();
}

/// An empty config file in `dir`: the CLI tests read no real configuration.
fn empty_config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, "").unwrap();
    path
}

#[test]
fn segment_save_of_a_bad_filter_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let long = vec!["tag:a"; 1_000].join(" ");
    let out = common::cli(&empty_config(dir.path()), dir.path(), &["segment", "save", "wide", "--filter", &long]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at most 100 terms"), "{}", &stderr[..stderr.len().min(400)]);
    let store = Store::open(&dir.path().join("switchboard.db")).unwrap();
    assert!(store.segments().unwrap().is_empty(), "nothing saved");
}

#[test]
fn time_zones_with_multibyte_characters_are_refused_not_a_panic() {
    for bad in ["+€1", "-€1", "UTC+€€", "+1€", "+€:00", "+0€", "GMT-ü1", "+12345", "+", "-:"] {
        assert_eq!(Zone::parse(bad), None, "{bad}");
    }
    assert!(Zone::parse("+0530").is_some() && Zone::parse("UTC+3").is_some() && Zone::parse("-03:00").is_some());
    let e = Config::parse("[campaigns]\ndefault_time_zone = \"+€1\"\n", Path::new("c.toml")).unwrap_err();
    assert!(e.to_string().contains("line 2"), "{e}");
}

#[test]
fn two_processes_opening_a_new_store_at_once_both_succeed() {
    for _ in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchboard.db");
        let openers: Vec<_> = (0..6)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || Store::open(&path).map(|_| ()).map_err(|e| e.to_string()))
            })
            .collect();
        for opener in openers {
            opener.join().unwrap().unwrap();
        }
        let version: i64 =
            Store::open(&path).unwrap().conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, switchboard::store::SCHEMA_VERSION);
        // No staging file is left behind.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with(".switchboard-new-"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

#[test]
fn an_empty_store_file_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    std::fs::write(&path, b"").unwrap();
    let e = Store::open(&path).err().unwrap();
    assert!(matches!(e, StoreError::Empty { .. }), "{e}");
    assert!(e.to_string().contains("empty (0 bytes)"), "{e}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "left as it was");
}

const TOKEN: &str = "5512345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

#[test]
fn config_errors_never_print_a_secret() {
    let cases = [
        format!("[channels.telegram]\ntokn = \"{TOKEN}\"\n"),
        format!("[channels.telegram]\ntoken = \"{TOKEN}\n"),
        format!("[channels.telegram]\ntoken = \"{TOKEN}\"\ntoken = \"{TOKEN}\"\n"),
        "[channels.telegram]\ntoken = 5512345678\n".to_string(),
        format!("[channels.telegram]\ntoken = \"\"\"{TOKEN}\nsecond-line\"\"\"\n"),
        format!("[channels.whatsapp]\ntoken = \"{TOKEN}\"\napp_secret = 77123456789\n"),
        format!("[webhook]\nsecret = \"{TOKEN}\"\n"),
    ];
    for text in &cases {
        let e = Config::parse(text, Path::new("/etc/switchboard/config.toml")).unwrap_err().to_string();
        assert!(!e.contains("AAHdqTcv") && !e.contains("5512345678") && !e.contains("77123456789"), "{text}\n→ {e}");
        assert!(e.contains("/etc/switchboard/config.toml") && e.contains("line "), "{e}");
    }
    // The key is named.
    let e = Config::parse(&cases[0], Path::new("c.toml")).unwrap_err().to_string();
    assert!(e.contains("channels.telegram.tokn"), "{e}");
    let e = Config::parse(&cases[4], Path::new("c.toml")).unwrap_err().to_string();
    assert!(e.contains("control character") && e.contains("channels.telegram.token"), "{e}");
}

#[test]
fn an_empty_environment_variable_is_no_secret() {
    // SAFETY: set before any thread of this test reads the environment; the name is
    // this test's own.
    unsafe { std::env::set_var("SWITCHBOARD_TEST_EMPTY_TOKEN", "") };
    let e = Config::parse("[channels.telegram]\ntoken = \"env:SWITCHBOARD_TEST_EMPTY_TOKEN\"\n", Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("set but empty") && e.contains("line 2"), "{e}");
}

#[test]
fn platform_times_outside_a_sane_window_take_the_arrival_time() {
    let mut store = Store::open_in_memory().unwrap();
    let now = now_ms();
    // Milliseconds read as seconds (year 58,000), zero, negative, far future.
    let bad = [now * 1000, 0, -5_000, i64::MAX, now + 3 * 86_400_000];
    for (i, at) in bad.iter().enumerate() {
        store.ingest(&[inbound(7, "Olga", i as i64 + 1, "привет", *at)], None, now_ms()).unwrap();
    }
    let times: Vec<(i64, Option<String>)> = {
        let mut stmt = store
            .conn()
            .prepare(
                "SELECT m.sent_at, e.detail FROM messages m \
                 LEFT JOIN message_events e ON e.message_id = m.id AND e.kind = 'platform_time' ORDER BY m.id",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    for ((at, kept), original) in times.iter().zip(bad) {
        assert!((now..now + 60_000).contains(at), "{original} stored as {at}");
        assert!(kept.as_deref().is_some_and(|k| k.contains(&original.to_string())), "{kept:?}");
    }
    // An agent answers, then a believable message marks the conversation waiting again.
    let conversation = store.find_conversation(ChannelKind::Telegram, "7").unwrap().unwrap();
    store.enqueue(conversation, "Здравствуйте", "ann", 10, now_ms()).unwrap();
    store.ingest(&[inbound(7, "Olga", 99, "ещё вопрос", now_ms() + 1_000)], None, now_ms()).unwrap();
    let unanswered: i64 = store
        .conn()
        .query_row("SELECT unanswered FROM conversations WHERE id = ?1", [conversation.0], |r| r.get(0))
        .unwrap();
    assert_eq!(unanswered, 1);
    // A time within the window is kept exactly.
    let real = 1_773_134_113_000;
    store.ingest(&[inbound(8, "Ivan", 1, "hi", real)], None, now_ms()).unwrap();
    let kept: i64 = store
        .conn()
        .query_row(
            "SELECT m.sent_at FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE c.external_chat_id = '8'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, real);
}

fn telegram_channel() -> Channel {
    // Nothing listens on port 9: sends fail and are retried, which is all this needs.
    let config =
        TelegramConfig { poll_timeout_secs: 1, ..TelegramConfig::new(Secret::new("1:x"), "http://127.0.0.1:9") };
    Channel::Telegram(TelegramChannel::new(&config).unwrap())
}

fn whatsapp_channel() -> Channel {
    let config = WhatsAppConfig {
        token: Secret::new("t"),
        phone_number_id: "1".into(),
        app_secret: Secret::new("s"),
        verify_token: Secret::new("v"),
        api_url: "http://127.0.0.1:9".into(),
        api_version: "v25.0".into(),
        welcome: None,
        rate_limits: true,
        templates: vec![],
    };
    Channel::WhatsApp(WhatsAppChannel::new(&config).unwrap())
}

fn status_of(db: &Path, id: i64) -> String {
    Store::open(db).unwrap().conn().query_row("SELECT status FROM messages WHERE id = ?1", [id], |r| r.get(0)).unwrap()
}

/// On a single-threaded runtime no engine task runs before the test awaits, so this
/// sees exactly what `Engine::start` itself did.
#[tokio::test(flavor = "current_thread")]
async fn interrupted_sends_are_recovered_once_before_any_sender_starts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let mut store = Store::open(&db).unwrap();
    let target = SendTarget { channel: ChannelKind::Telegram, chat_id: "7".into() };
    let out = Outgoing::text("left mid-send by a crash");
    let (_, crashed) = store.enqueue_to_chat(&target, &out, "ann", now_ms()).unwrap();
    let (_, on_the_wire) = store.enqueue_to_chat(&target, &Outgoing::text("on the wire"), "ann", now_ms()).unwrap();
    store.conn().execute("UPDATE messages SET status = 'sending' WHERE id = ?1", [crashed.0]).unwrap();

    let lock = EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
    let webhook = switchboard::config::WebhookConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        max_body_bytes: 1 << 20,
        ..Default::default()
    };
    let engine = Engine::start(lock, &db, vec![telegram_channel(), whatsapp_channel()], &webhook).unwrap();
    assert_ne!(status_of(&db, crashed.0), "sending", "recovered by start itself");

    // A sender now has a message on the wire; the other channel's sender starting must
    // not put it back in the queue.
    store.conn().execute("UPDATE messages SET status = 'sending' WHERE id = ?1", [on_the_wire.0]).unwrap();
    store.conn().execute("DELETE FROM outbox WHERE message_id = ?1", [crashed.0]).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(status_of(&db, on_the_wire.0), "sending", "nobody re-queued a message in flight");
    drop(engine);
}

#[test]
fn csv_line_numbers_are_the_physical_lines_for_crlf_and_multiline_fields() {
    let text = "name,phone,channel,external_id\r\n\
                Anna,+79161234567,telegram,1\r\n\
                \"Multi\r\nline\r\nname\",+79171234567,telegram,2\r\n\
                Bad,+79181234567,fax,3\r\n\
                ,+79191234567,telegram,4\r\n";
    let (good, bad) = switchboard::import::parse(text.as_bytes(), Path::new("c.csv")).unwrap();
    assert_eq!(good.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(bad.iter().map(|r| r.line).collect::<Vec<_>>(), vec![6, 7], "{bad:?}");
    let unix = text.replace("\r\n", "\n");
    let (_, bad) = switchboard::import::parse(unix.as_bytes(), Path::new("c.csv")).unwrap();
    assert_eq!(bad.iter().map(|r| r.line).collect::<Vec<_>>(), vec![6, 7]);
}

#[test]
fn exported_csv_cells_cannot_be_formulas() {
    use switchboard::export::spreadsheet_safe;
    for risky in ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "=1"] {
        assert!(spreadsheet_safe(risky).starts_with('\''), "{risky:?}");
    }
    for plain in ["hello", "-12", "+3.5", "Привет", "", "a=b"] {
        assert_eq!(spreadsheet_safe(plain), plain);
    }
    // Through the real export: a customer's name and text that arrived by webhook.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("switchboard.db")).unwrap();
    store.ingest(&[inbound(7, "=cmd|'/c calc'!A1", 1, "@SUM(1+1)*cmd", now_ms())], None, now_ms()).unwrap();
    drop(store);
    let out = common::cli(&empty_config(dir.path()), dir.path(), &["export", "messages", "--format", "csv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(!cell.starts_with(['=', '+', '@', '\t', '\r']), "{cell:?} in\n{csv}");
        }
    }
    assert!(csv.contains("'@SUM(1+1)*cmd"), "{csv}");
}

const HOOK_SECRET: &str = "s3cret_Token-1";

fn telegram_webhook_engine(dir: &Path, max_connections: usize) -> Engine {
    use switchboard::config::TelegramMode;
    let lock = EngineLock::try_acquire(&dir.join("engine.lock")).unwrap().unwrap();
    let config = TelegramConfig {
        mode: TelegramMode::Webhook,
        secret_token: Some(Secret::new(HOOK_SECRET)),
        ..TelegramConfig::new(Secret::new("1:x"), "http://127.0.0.1:9")
    };
    let channel = Channel::Telegram(TelegramChannel::new(&config).unwrap());
    let webhook = switchboard::config::WebhookConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        max_body_bytes: 64 * 1024 * 1024,
        max_connections,
    };
    Engine::start(lock, &dir.join("switchboard.db"), vec![channel], &webhook).unwrap()
}

async fn read_answer(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut answer = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer)).await.expect("an answer").unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_telegram_secret_is_refused_before_the_body_is_read() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let engine = telegram_webhook_engine(dir.path(), 64);
    let addr = engine.webhook_addr().unwrap();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // 20 MB announced, 1 KB sent: the answer must come from the headers alone.
    let head = format!(
        "POST /webhook/telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         X-Telegram-Bot-Api-Secret-Token: wrong\r\nContent-Length: {}\r\n\r\n",
        20 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[b' '; 1024]).await.unwrap();
    let answer = read_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}

/// `switchboard serve` in webhook mode, with its limit of open files set to `nofile` as a
/// small server's might be, and the address it listens on.
#[cfg(unix)]
fn serve_with_few_files(dir: &Path, nofile: u64) -> (std::process::Child, std::net::SocketAddr) {
    use std::os::unix::process::CommandExt;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[channels.telegram]\ntoken = \"1:x\"\napi_url = \"http://127.0.0.1:9\"\nmode = \"webhook\"\n\
             secret_token = \"{HOOK_SECRET}\"\n[webhook]\nlisten = \"127.0.0.1:{port}\"\n"
        ),
    )
    .unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"));
    command.arg("--config").arg(&config).arg("--data-dir").arg(dir).arg("serve");
    command.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: nofile, rlim_max: nofile };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command.spawn().unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(std::time::Instant::now() < deadline, "serve did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, addr)
}

/// 300 stalled sockets against a server allowed 256 open files: a real webhook is
/// still answered at once.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connections_cannot_starve_a_real_webhook() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let (mut serve, addr) = serve_with_few_files(dir.path(), 256);
    // Some send half their headers, some all headers and half a body, then stall.
    let mut stalled = Vec::new();
    for i in 0..300 {
        let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else { continue };
        let part: &[u8] = if i % 2 == 0 {
            b"POST /webhook/telegram HTTP/1.1\r\nHost: x\r\n"
        } else {
            b"POST /webhook/telegram HTTP/1.1\r\nHost: x\r\nX-Telegram-Bot-Api-Secret-Token: s3cret_Token-1\r\nContent-Length: 1000\r\n\r\n{\"update_id\":"
        };
        let _ = s.write_all(part).await;
        stalled.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let update = json!({"update_id": 1, "message": {
        "message_id": 1, "date": now_ms() / 1000, "text": "Где мой заказ?",
        "chat": {"id": 42, "type": "private", "first_name": "Ann"},
        "from": {"id": 42, "is_bot": false, "first_name": "Ann"}}});
    let answer = reqwest::Client::new()
        .post(format!("http://{addr}/webhook/telegram"))
        .header("X-Telegram-Bot-Api-Secret-Token", HOOK_SECRET)
        .header("content-type", "application/json")
        .body(update.to_string())
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    let _ = serve.kill();
    let _ = serve.wait();
    let answer = answer.expect("a real webhook is served while stalled clients hold connections");
    assert_eq!(answer.status(), 200);
    let stored: i64 =
        Store::open(&db).unwrap().conn().query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 1);
    drop(stalled);
}

fn message_status(store: &Store, id: i64) -> String {
    store.conn().query_row("SELECT status FROM messages WHERE id = ?1", [id], |r| r.get(0)).unwrap()
}

fn receipt(status: switchboard::model::DeliveryStatus, id: &str) -> InboundEvent {
    InboundEvent::Receipt(switchboard::model::Receipt {
        channel: ChannelKind::WhatsApp,
        chat_id: "79161234567".into(),
        message_external_id: Some(id.into()),
        covers_earlier: false,
        status,
        error_code: None,
        error: (status == switchboard::model::DeliveryStatus::Failed).then(|| "late failure".into()),
        at: now_ms(),
    })
}

#[test]
fn a_receipt_that_beats_the_send_answer_is_applied_when_the_id_is_recorded() {
    use switchboard::model::DeliveryStatus::{Delivered, Read};
    let mut store = Store::open_in_memory().unwrap();
    let target = SendTarget { channel: ChannelKind::WhatsApp, chat_id: "79161234567".into() };
    let (_, id) = store.enqueue_to_chat(&target, &Outgoing::text("Ваш заказ готов"), "ann", now_ms()).unwrap();
    store.mark_sending(id, now_ms()).unwrap();
    // Meta's `delivered` arrives while our send is still waiting for its answer.
    store.ingest(&[receipt(Delivered, "wamid.FAST")], None, now_ms()).unwrap();
    assert_eq!(message_status(&store, id.0), "sending");
    store.mark_sent(id, Some("wamid.FAST"), now_ms()).unwrap();
    assert_eq!(message_status(&store, id.0), "delivered");
    let held: i64 = store.conn().query_row("SELECT count(*) FROM held_receipts", [], |r| r.get(0)).unwrap();
    assert_eq!(held, 0, "applied, not kept");
    // And the usual order still works.
    store.ingest(&[receipt(Read, "wamid.FAST")], None, now_ms()).unwrap();
    assert_eq!(message_status(&store, id.0), "read");
}

#[test]
fn a_failure_after_read_is_recorded_but_read_stays() {
    use switchboard::model::DeliveryStatus::{Failed, Read};
    let mut store = Store::open_in_memory().unwrap();
    let target = SendTarget { channel: ChannelKind::WhatsApp, chat_id: "79161234567".into() };
    let (_, id) = store.enqueue_to_chat(&target, &Outgoing::text("hi"), "ann", now_ms()).unwrap();
    store.mark_sent(id, Some("wamid.R"), now_ms()).unwrap();
    store.ingest(&[receipt(Read, "wamid.R")], None, now_ms()).unwrap();
    store.ingest(&[receipt(Failed, "wamid.R")], None, now_ms()).unwrap();
    assert_eq!(message_status(&store, id.0), "read");
    let failures: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM message_events WHERE message_id = ?1 AND kind = 'receipt' AND status = 'failed'",
            [id.0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(failures, 1, "the failure is kept as an event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_viber_conversation_started_gets_one_welcome() {
    use switchboard::channels::ViberChannel;
    use switchboard::config::ViberConfig;
    let token = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f";
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let config = ViberConfig {
        token: Secret::new(token),
        api_url: "http://127.0.0.1:9".into(),
        sender_name: "Shop".into(),
        welcome: Some("Здравствуйте!".into()),
        rate_limits: true,
        public_url: None,
    };
    let lock = EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
    let webhook = switchboard::config::WebhookConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        max_body_bytes: 1 << 20,
        ..Default::default()
    };
    let channel = Channel::Viber(ViberChannel::new(&config).unwrap());
    let engine = Engine::start(lock, &db, vec![channel], &webhook).unwrap();
    let url = format!("http://{}/webhook/viber", engine.webhook_addr().unwrap());
    let body =
        json!({"event": "conversation_started", "timestamp": now_ms(), "message_token": 5_093_384_756_123_456_789u64,
        "type": "open", "user": {"id": "01234567890A=", "name": "Ольга", "language": "ru"}, "subscribed": false})
        .to_string();
    let signature = {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let mut answers = Vec::new();
    for _ in 0..4 {
        let answer = reqwest::Client::new()
            .post(&url)
            .header("X-Viber-Content-Signature", &signature)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        answers.push(answer.text().await.unwrap());
    }
    assert!(answers[0].contains("Здравствуйте"), "{}", answers[0]);
    assert!(answers[1..].iter().all(|a| !a.contains("Здравствуйте")), "{answers:?}");
    let welcomes: i64 = Store::open(&db)
        .unwrap()
        .conn()
        .query_row("SELECT count(*) FROM messages WHERE author = 'bot'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(welcomes, 1);
    drop(engine);
}

/// A small tmpfs for the disk-full test, unmounted on drop. None where this user may
/// not mount (the test then says so and passes: CI runs as root).
struct SmallDisk {
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { path, _dir: dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.path).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_updates_then_heals_when_space_is_freed_and_loses_nothing() {
    let Some(disk) = SmallDisk::mount("4M") else {
        eprintln!("skipped: cannot mount a tmpfs here (not root)");
        return;
    };
    let filler = disk.path.join("filler");
    std::fs::write(&filler, vec![0u8; 1 << 20]).unwrap();
    let data = disk.path.join("data");
    std::fs::create_dir(&data).unwrap();
    let db = data.join("switchboard.db");
    let engine = telegram_webhook_engine(&data, 64);
    let mut status = engine.status();
    let url = format!("http://{}/webhook/telegram", engine.webhook_addr().unwrap());
    let client = reqwest::Client::new();
    let post = |id: i64| {
        let update = json!({"update_id": id, "message": {
            "message_id": id, "date": now_ms() / 1000, "text": "я".repeat(10_000),
            "chat": {"id": 42, "type": "private", "first_name": "Ann"},
            "from": {"id": 42, "is_bot": false, "first_name": "Ann"}}});
        client
            .post(&url)
            .header("X-Telegram-Bot-Api-Secret-Token", HOOK_SECRET)
            .header("content-type", "application/json")
            .body(update.to_string())
            .send()
    };
    let mut accepted = 0;
    let mut id = 1;
    loop {
        let answer = post(id).await.unwrap().status();
        if answer != 200 {
            assert_eq!(answer, 500, "a full disk is a passing failure: the platform delivers again");
            break;
        }
        accepted += 1;
        id += 1;
        assert!(id < 2_000, "the disk never filled");
    }
    let state = status.borrow_and_update().get(&ChannelKind::Telegram).unwrap().state.clone();
    assert_eq!(state, switchboard::sync::ChannelState::DiskFull);
    // Space is freed: the very next deliveries are stored, the refused one included.
    std::fs::remove_file(&filler).unwrap();
    for _ in 0..20 {
        assert_eq!(post(id).await.unwrap().status(), 200, "update {id} after space was freed");
        accepted += 1;
        id += 1;
    }
    let state = status.borrow_and_update().get(&ChannelKind::Telegram).unwrap().state.clone();
    assert!(matches!(state, switchboard::sync::ChannelState::Ok(_)), "{state:?}");
    drop(engine);
    let store = Store::open(&db).unwrap();
    let stored: i64 = store.conn().query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, accepted, "every update answered 200 is stored, and nothing else");
    drop(store);
    let log = std::fs::metadata(data.join("switchboard.db-wal")).map(|m| m.len()).unwrap_or(0);
    assert_eq!(log, 0, "a clean stop leaves no log behind");
    // And a restart on the same disk takes large messages again.
    let engine = telegram_webhook_engine(&data, 64);
    let url = format!("http://{}/webhook/telegram", engine.webhook_addr().unwrap());
    let update = json!({"update_id": id, "message": {"message_id": id, "date": now_ms() / 1000, "text": "я".repeat(10_000),
        "chat": {"id": 42, "type": "private", "first_name": "Ann"}, "from": {"id": 42, "is_bot": false, "first_name": "Ann"}}});
    let answer = client
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", HOOK_SECRET)
        .body(update.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    drop(engine);
}

#[test]
fn send_to_a_chat_id_the_channel_cannot_have_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = empty_config(dir.path());
    for (channel, chat) in [
        ("telegram", "not-a-number"),
        ("telegram", "0"),
        ("whatsapp", "+7 916 123"),
        ("whatsapp", ""),
        ("viber", "a b"),
    ] {
        let out = common::cli(&config, dir.path(), &["send", "--channel", channel, "--chat", chat, "--text", "hi"]);
        assert!(!out.status.success(), "{channel} {chat}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--chat"), "{out:?}");
    }
    let store = Store::open(&dir.path().join("switchboard.db")).unwrap();
    assert_eq!(store.count("messages").unwrap(), 0, "nothing queued");
    assert_eq!(store.count("conversations").unwrap(), 0, "no conversation left behind");
}

#[cfg(unix)]
#[test]
fn a_new_store_takes_the_umask_like_any_file_so_a_group_can_share_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    Store::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    // SAFETY: umask is read by setting it and putting it back at once.
    let umask = unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    } as u32;
    assert_eq!(mode, 0o666 & !umask, "{mode:o}");
}

#[test]
fn filters_fold_case_in_every_script_and_yo() {
    use switchboard::import::ContactRow;
    let mut store = Store::open_in_memory().unwrap();
    let row = |line, name: &str, city: &str, tag: &str| ContactRow {
        line,
        name: name.into(),
        phone: None,
        identity: None,
        tags: vec![tag.into()],
        consent: None,
        consent_source: None,
        consent_at: None,
        locale: None,
        attributes: [("city".to_string(), city.to_string())].into_iter().collect(),
        ..ContactRow::default()
    };
    store
        .import_contacts(
            &[row(2, "Артём", "Казань", "опт"), row(3, "Ann", "London", "VIP"), row(4, "Пётр", "Орёл", "ОПТ")],
            now_ms(),
        )
        .unwrap();
    let count = |f: &str| store.count_members(&Filter::parse(f).unwrap().condition(now_ms())).unwrap();
    assert_eq!(count("tag:ОПТ"), 2);
    assert_eq!(count("tag:опт"), 2);
    assert_eq!(count("attr:city=казань"), 1);
    assert_eq!(count("attr:city=ОРЕЛ"), 1, "ё = е");
    assert_eq!(count("tag:vip"), 1);
}

/// Runs the CLI with `config_text` as its config; returns stderr when it failed.
fn cli_error(config_text: &str, args: &[&str]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, config_text).unwrap();
    let out = common::cli(&config, dir.path(), args);
    (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn every_command_checks_the_whole_config_and_names_file_line_and_key() {
    let theme = cli_error("[ui]\nagent_name = \"ann\"\ntheme = \"solarized-nope\"\n", &["export", "contacts"]).unwrap();
    assert!(theme.contains("config.toml") && theme.contains("line 3") && theme.contains("ui.theme"), "{theme}");
    let keys = cli_error("[keys.list]\nopen = \"ctrl-nonsense\"\n", &["segment", "list"]).unwrap();
    assert!(keys.contains("config.toml") && keys.contains("line 2") && keys.contains("keys.list.open"), "{keys}");
    let context = cli_error("[keys.sidebar]\nopen = \"o\"\n", &["segment", "list"]).unwrap();
    assert!(context.contains("line 1") && context.contains("keys.sidebar"), "{context}");
    let brake = cli_error("[campaigns]\nbrake_share = 5\n", &["segment", "list"]).unwrap();
    assert!(brake.contains("line 2") && brake.contains("campaigns.brake_share"), "{brake}");
    assert!(cli_error("[campaigns]\nbrake_share = 0.1\n", &["segment", "list"]).is_none());
}

#[tokio::test(flavor = "current_thread")]
async fn a_damaged_outbox_row_fails_with_its_reason_and_is_never_sent() {
    let mut store = Store::open_in_memory().unwrap();
    let target = SendTarget { channel: ChannelKind::Telegram, chat_id: "7".into() };
    let (_, id) = store.enqueue_to_chat(&target, &Outgoing::text("hi"), "ann", now_ms()).unwrap();
    store.conn().execute("UPDATE messages SET buttons = '{\"not\": \"rows\"}' WHERE id = ?1", [id.0]).unwrap();
    let due = store.outbox_due(ChannelKind::Telegram, now_ms() + 1, 10).unwrap();
    let reason = due[0].unreadable.clone().expect("flagged, not parsed again by the adapter");
    assert!(reason.contains("buttons"), "{reason}");
    let sent = telegram_channel().send(&due[0]).await;
    assert!(matches!(sent, Err(switchboard::channels::SendError::Permanent(r)) if r == reason));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_id_no_offset_can_name_is_kept_once_and_never_makes_the_poller_spin() {
    let odd = r#"[{"update_id":18446744073709551616,"message":{"message_id":1,"date":1773134113,"text":"hi","chat":{"id":42,"type":"private","first_name":"A"},"from":{"id":42,"is_bot":false,"first_name":"A"}}}]"#;
    let (url, seen) =
        common::fake_bot_api(r#"{"id":777,"is_bot":true,"first_name":"Kit","username":"kit_bot"}"#, odd).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let lock = EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
    let config = TelegramConfig { poll_timeout_secs: 1, ..TelegramConfig::new(Secret::new("1:x"), &url) };
    let channel = Channel::Telegram(TelegramChannel::new(&config).unwrap());
    let engine = Engine::start(lock, &db, vec![channel], &Default::default()).unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(engine);
    let calls = seen.lock().unwrap().iter().filter(|r| r.to_lowercase().starts_with("getupdates")).count();
    assert!((1..=5).contains(&calls), "{calls} getUpdates calls in 3 s");
    let counted = Store::open(&db).unwrap().sync_value("telegram", "unsupported").unwrap();
    assert_eq!(counted.as_deref(), Some("1"), "kept raw and counted once");
}

#[test]
fn a_send_to_a_chat_that_does_not_exist_leaves_no_conversation_in_the_list() {
    use switchboard::store::ConversationFilter;
    let mut store = Store::open_in_memory().unwrap();
    let target = SendTarget { channel: ChannelKind::Telegram, chat_id: "999999".into() };
    let (_, id) = store.enqueue_to_chat(&target, &Outgoing::text("hello?"), "script", now_ms()).unwrap();
    let listed = |s: &Store| s.conversations_page(ConversationFilter::default(), None, 50).unwrap().len();
    assert_eq!(listed(&store), 1, "queued: it shows, waiting to go");
    store.fail(id, "Bad Request: chat not found", now_ms()).unwrap();
    assert_eq!(listed(&store), 0, "failed, and nobody there: no phantom");
    assert_eq!(store.count("messages").unwrap(), 1, "the failed message is still on record");
    // A customer who does write makes it a real conversation.
    store.ingest(&[inbound(999_999, "Nina", 1, "hi", now_ms())], None, now_ms()).unwrap();
    assert_eq!(listed(&store), 1);
}
