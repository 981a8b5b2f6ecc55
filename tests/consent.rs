//! Consent from inbound keywords: a message that is only STOP (in any configured word
//! and case) opts the customer out of marketing, with the message as evidence, and gets
//! one confirmation; and the ledger's export is the audit trail.

mod common;

use std::time::Duration;

use common::{eventually, inbound};
use switchboard::export::{ExportKind, Format, export};
use switchboard::model::{ChannelKind, InboundEvent, Membership, Peer};
use switchboard::store::{StopPolicy, Store};

const T0: i64 = 1_773_134_100_000;

fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn stop_opts_out_once_and_is_confirmed_once() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(7, "Анна", 1, "Здравствуйте", T0)], None, switchboard::model::now_ms()).unwrap();
    store
        .ingest(&[inbound(7, "Анна", 2, "please stop sending me this", T0 + 1)], None, switchboard::model::now_ms())
        .unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM consent_events"), 0, "not the whole message");
    let stop = [inbound(7, "Анна", 3, " СТОП! ", T0 + 2)];
    store.ingest(&stop, None, switchboard::model::now_ms()).unwrap();
    store.ingest(&stop, None, switchboard::model::now_ms()).unwrap();
    let (action, purpose, source, evidence): (String, String, String, String) = store
        .conn()
        .query_row("SELECT action, purpose, source, evidence FROM consent_events", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap();
    assert_eq!((action.as_str(), purpose.as_str(), source.as_str()), ("opt_out", "marketing", "keyword"));
    assert_eq!(evidence, "message 3: СТОП!");
    assert_eq!(count(&store, "SELECT count(*) FROM consent_events"), 1, "a redelivery records nothing more");
    let confirmations = count(
        &store,
        "SELECT count(*) FROM messages m JOIN outbox o ON o.message_id = m.id WHERE m.author = 'switchboard'",
    );
    assert_eq!(confirmations, 1, "one confirmation, queued as a reply");
}

#[test]
fn the_words_and_the_confirmation_are_configurable() {
    let mut store = Store::open_in_memory().unwrap();
    store.set_stop_policy(StopPolicy { keywords: vec!["HALT".into()], confirmations: Default::default() });
    store.ingest(&[inbound(7, "Ann", 1, "STOP", T0)], None, switchboard::model::now_ms()).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM consent_events"), 0);
    store.ingest(&[inbound(7, "Ann", 2, "halt", T0 + 1)], None, switchboard::model::now_ms()).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM consent_events"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM outbox"), 0, "no confirmation configured");
}

#[test]
fn a_customer_who_blocked_us_gets_no_confirmation() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(7, "Ann", 1, "hi", T0)], None, switchboard::model::now_ms()).unwrap();
    let chat = switchboard::model::ChatRef {
        channel: ChannelKind::Telegram,
        external_chat_id: "7".into(),
        is_group: false,
        title: "Ann".into(),
    };
    let from = Peer { external_id: "7".into(), display_name: "Ann".into(), username: None, locale: None };
    store
        .ingest(
            &[InboundEvent::Membership(Membership {
                chat,
                from,
                blocked: true,
                at: T0 + 1,
                key: None,
                event_id: None,
            })],
            None,
            switchboard::model::now_ms(),
        )
        .unwrap();
    store.ingest(&[inbound(7, "Ann", 2, "stop", T0 + 2)], None, switchboard::model::now_ms()).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM consent_events WHERE source = 'keyword'"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM outbox"), 0);
}

#[test]
fn the_consent_export_is_the_full_audit_trail() {
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&[inbound(7, "Анна \x1b[2J", 1, "hi", T0)], None, switchboard::model::now_ms()).unwrap();
    store.ingest(&[inbound(7, "Анна", 2, "STOP", T0 + 1000)], None, switchboard::model::now_ms()).unwrap();
    let mut out = Vec::new();
    assert_eq!(export(&store, ExportKind::Consent, Format::Jsonl, &mut out).unwrap(), 1);
    let line: serde_json::Value = serde_json::from_slice(&out[..out.len() - 1]).unwrap();
    assert_eq!(line["channel"], "telegram");
    assert_eq!(line["external_id"], "7");
    assert_eq!(line["action"], "opt_out");
    assert_eq!(line["source"], "keyword");
    assert_eq!(line["evidence"], "message 2: STOP");
    assert_eq!(line["at"], "2026-03-10T09:15:01.000Z");
    let mut csv = Vec::new();
    export(&store, ExportKind::Consent, Format::Csv, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with(
            "id,contact_id,contact_name,channel,external_id,purpose,action,source,evidence,recorded_by,at\n"
        ),
        "{csv}"
    );
    assert!(csv.contains("Анна ␛[2J"), "names are made safe in CSV");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_through_the_engine_is_confirmed_to_the_customer() {
    use switchboard::channels::{Channel, TelegramChannel};
    use switchboard::config::{Secret, TelegramConfig};
    use switchboard::sandbox::customers::demo_customers;
    use switchboard::sandbox::{EmulatorOptions, TelegramEmulator};
    use switchboard::sync::{Engine, EngineLock};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let emu =
        TelegramEmulator::start("127.0.0.1:0".parse().unwrap(), "1:t", demo_customers(2), EmulatorOptions::default())
            .await
            .unwrap();
    let lock = EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
    let config = TelegramConfig { poll_timeout_secs: 1, ..TelegramConfig::new(Secret::new("1:t"), emu.url()) };
    let channel = Channel::Telegram(TelegramChannel::new(&config).unwrap());
    let stop = StopPolicy {
        keywords: vec!["СТОП".into()],
        confirmations: [("default".to_string(), "Вы отписаны.".to_string())].into_iter().collect(),
    };
    let _engine = Engine::start_with(
        lock,
        &db,
        vec![channel],
        &Default::default(),
        &stop.into(),
        &Default::default(),
        &Default::default(),
    )
    .unwrap();
    let chat = demo_customers(1)[0].id;
    emu.customer_says(chat, "стоп");
    let sent = emu.wait_for_sent(1, Duration::from_secs(20)).await;
    assert_eq!(sent.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["Вы отписаны."]);
    let recorded = eventually(Duration::from_secs(20), || {
        let store = Store::open(&db).unwrap();
        (count(&store, "SELECT count(*) FROM consent_events WHERE source = 'keyword'") == 1).then_some(())
    })
    .await;
    assert!(recorded.is_some());
}
