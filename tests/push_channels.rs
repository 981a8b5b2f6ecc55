//! WhatsApp and Viber end to end through the engine's webhook server and the sandbox
//! emulators: signed calls in, sends out in the real shapes, receipts moving our
//! messages, the 24-hour window, opt-outs and unsubscriptions.

mod common;

use std::path::Path;
use std::time::Duration;

use common::eventually;
use serde_json::json;
use switchboard::channels::signature::hmac_sha256_hex;
use switchboard::channels::{Channel, ViberChannel, WhatsAppChannel};
use switchboard::config::{Secret, ViberConfig, WhatsAppConfig};
use switchboard::model::{ChannelKind, DeliveryStatus, Outgoing};
use switchboard::sandbox::customers::demo_customers;
use switchboard::sandbox::viber::{ViberEmulator, ViberOptions, user_id};
use switchboard::sandbox::whatsapp::{WhatsAppEmulator, WhatsAppOptions, wa_id};
use switchboard::store::{SendTarget, Store};
use switchboard::sync::{Engine, EngineLock};

const WAIT: Duration = Duration::from_secs(20);
const WA_TOKEN: &str = "EAAG-test-token";
const APP_SECRET: &str = "app-secret-1";
const PHONE: &str = "109876543210987";
const VB_TOKEN: &str = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f";

fn whatsapp(url: &str) -> WhatsAppConfig {
    WhatsAppConfig {
        token: Secret::new(WA_TOKEN),
        phone_number_id: PHONE.into(),
        app_secret: Secret::new(APP_SECRET),
        verify_token: Secret::new("verify-me"),
        api_url: url.into(),
        api_version: "v25.0".into(),
        welcome: None,
        rate_limits: true,
        templates: vec![],
    }
}

fn viber(url: &str) -> ViberConfig {
    ViberConfig {
        token: Secret::new(VB_TOKEN),
        api_url: url.into(),
        sender_name: "Switchboard Shop".into(),
        welcome: Some("Здравствуйте! Чем помочь?".into()),
        rate_limits: true,
        public_url: None,
    }
}

fn engine(dir: &Path, channels: Vec<Channel>) -> Engine {
    let lock = EngineLock::try_acquire(&dir.join("engine.lock")).unwrap().unwrap();
    let webhook = common::loopback_webhook();
    Engine::start(lock, &dir.join("switchboard.db"), channels, &webhook).unwrap()
}

fn count(db: &Path, sql: &str) -> i64 {
    Store::open(db).unwrap().conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_round_trip_with_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let customers = demo_customers(3);
    let emu = WhatsAppEmulator::start(
        "127.0.0.1:0".parse().unwrap(),
        WA_TOKEN,
        PHONE,
        APP_SECRET,
        customers.clone(),
        WhatsAppOptions::default(),
    )
    .await
    .unwrap();
    let engine = engine(dir.path(), vec![Channel::WhatsApp(WhatsAppChannel::new(&whatsapp(&emu.url())).unwrap())]);
    emu.set_webhook(&format!("http://{}/webhook/whatsapp", engine.webhook_addr().unwrap()));
    let anna = wa_id(&customers[0]);
    emu.customer_says(&anna, "Добрый день! Где мой заказ?");
    eventually(WAIT, || (count(&db, "SELECT count(*) FROM messages") == 1).then_some(())).await.expect("stored");

    let mut store = Store::open(&db).unwrap();
    let conversation = store.find_conversation(ChannelKind::WhatsApp, &anna).unwrap().unwrap();
    let id = store
        .enqueue(conversation, "Здравствуйте! Сейчас проверю.", "maria", 10, switchboard::model::now_ms())
        .unwrap();
    let read = eventually(WAIT, || (store.message(id).unwrap().status == DeliveryStatus::Read).then_some(())).await;
    assert!(read.is_some(), "sent, delivered and read came back as signed webhooks");
    let sent = emu.sent();
    assert_eq!(sent[0].path, format!("/v25.0/{PHONE}/messages"));
    assert_eq!(sent[0].authorization, format!("Bearer {WA_TOKEN}"));
    assert_eq!(
        sent[0].body,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": anna, "type": "text",
               "text": {"body": "Здравствуйте! Сейчас проверю.", "preview_url": false}})
    );
    let receipts =
        count(&db, &format!("SELECT count(*) FROM message_events WHERE message_id = {} AND kind = 'receipt'", id.0));
    assert_eq!(receipts, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_window_closed_and_marketing_opt_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let customers = demo_customers(3);
    let emu = WhatsAppEmulator::start(
        "127.0.0.1:0".parse().unwrap(),
        WA_TOKEN,
        PHONE,
        APP_SECRET,
        customers.clone(),
        WhatsAppOptions::default(),
    )
    .await
    .unwrap();
    let engine = engine(dir.path(), vec![Channel::WhatsApp(WhatsAppChannel::new(&whatsapp(&emu.url())).unwrap())]);
    emu.set_webhook(&format!("http://{}/webhook/whatsapp", engine.webhook_addr().unwrap()));
    let anna = wa_id(&customers[0]);
    emu.close_window(&anna);
    emu.opt_out(&anna);
    let mut store = Store::open(&db).unwrap();
    let target = SendTarget { channel: ChannelKind::WhatsApp, chat_id: anna.clone() };
    let late = store
        .enqueue_to_chat(&target, &Outgoing::text("Are you still there?"), "maria", switchboard::model::now_ms())
        .unwrap()
        .1;
    let template = Outgoing {
        kind: "template".into(),
        attachment: Some(r#"{"name":"spring_sale","language":"en_US","params":[]}"#.into()),
        ..Outgoing::text("Spring sale: 20% off")
    };
    let promo = store.enqueue_to_chat(&target, &template, "campaign", switchboard::model::now_ms()).unwrap().1;
    let both = eventually(WAIT, || {
        let (a, b) = (store.message(late).unwrap(), store.message(promo).unwrap());
        (a.status == DeliveryStatus::Failed && b.status == DeliveryStatus::Failed).then_some((a, b))
    })
    .await
    .expect("both fail, later, by status webhook");
    assert!(both.0.error.unwrap().contains("24-hour window"));
    assert!(both.1.error.unwrap().contains("stopped marketing"));
    let opt_outs = count(&db, "SELECT count(*) FROM consent_events WHERE action = 'opt_out' AND purpose = 'marketing'");
    assert!(opt_outs >= 1, "user_preferences and 131050 reach the ledger");
    assert_eq!(emu.sent()[1].body["template"], json!({"name": "spring_sale", "language": {"code": "en_US"}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_handshake_signatures_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    Store::open(&db).unwrap();
    let engine =
        engine(dir.path(), vec![Channel::WhatsApp(WhatsAppChannel::new(&whatsapp("http://127.0.0.1:9")).unwrap())]);
    let url = format!("http://{}/webhook/whatsapp", engine.webhook_addr().unwrap());
    let client = reqwest::Client::new();
    let ok = client
        .get(format!("{url}?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444"))
        .send()
        .await
        .unwrap();
    assert_eq!((ok.status().as_u16(), ok.text().await.unwrap()), (200, "1158201444".to_string()));
    let bad =
        client.get(format!("{url}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")).send().await.unwrap();
    assert_eq!(bad.status(), 403);
    // One route per configured channel: others are not there.
    let base = format!("http://{}/webhook", engine.webhook_addr().unwrap());
    assert_eq!(client.post(format!("{base}/viber")).body("{}").send().await.unwrap().status(), 404);
    assert_eq!(client.post(format!("{base}/nonsense")).body("{}").send().await.unwrap().status(), 404);
    let body = std::fs::read(format!("{}/tests/fixtures/whatsapp/text.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let signed = format!("sha256={}", hmac_sha256_hex(APP_SECRET.as_bytes(), &body));
    let post = |sig: Option<String>, body: Vec<u8>| {
        let mut r = client.post(&url).body(body);
        if let Some(sig) = sig {
            r = r.header("X-Hub-Signature-256", sig);
        }
        r.send()
    };
    assert_eq!(post(None, body.clone()).await.unwrap().status(), 401);
    assert_eq!(post(Some("sha256=deadbeef".into()), body.clone()).await.unwrap().status(), 401);
    let mut tampered = body.clone();
    tampered[body.len() - 3] = b' ';
    assert_eq!(post(Some(signed.clone()), tampered).await.unwrap().status(), 401);
    let junk = b"{\"object\":".to_vec();
    let junk_sig = format!("sha256={}", hmac_sha256_hex(APP_SECRET.as_bytes(), &junk));
    assert_eq!(post(Some(junk_sig), junk).await.unwrap().status(), 400, "malformed JSON");
    assert_eq!(post(Some(signed.clone()), body.clone()).await.unwrap().status(), 200);
    assert_eq!(post(Some(signed), body).await.unwrap().status(), 200);
    assert_eq!(count(&db, "SELECT count(*) FROM messages"), 1, "the same webhook twice is stored once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viber_round_trip_welcome_and_unsubscribe() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let customers = demo_customers(3);
    let emu =
        ViberEmulator::start("127.0.0.1:0".parse().unwrap(), VB_TOKEN, customers.clone(), ViberOptions::default())
            .await
            .unwrap();
    let channel = ViberChannel::new(&viber(&emu.url())).unwrap();
    let engine = engine(dir.path(), vec![Channel::Viber(channel.clone())]);
    assert_eq!(channel.check().await.unwrap(), "Switchboard Demo");
    channel.set_webhook(&format!("http://{}/webhook/viber", engine.webhook_addr().unwrap())).await.unwrap();
    let irina = user_id(&customers[1]);

    emu.customer_opens(&irina, "ad_spring");
    let welcome =
        eventually(WAIT, || (count(&db, "SELECT count(*) FROM messages WHERE author = 'bot'") == 1).then_some(()))
            .await;
    assert!(welcome.is_some(), "the welcome went out in the answer and is in the conversation");

    emu.customer_says(&irina, "Есть доставка в Казань?");
    eventually(WAIT, || {
        (count(&db, "SELECT count(*) FROM messages WHERE body = 'Есть доставка в Казань?'") == 1).then_some(())
    })
    .await
    .expect("stored");
    let mut store = Store::open(&db).unwrap();
    let conversation = store.find_conversation(ChannelKind::Viber, &irina).unwrap().unwrap();
    let id = store.enqueue(conversation, "Да, доставляем.", "maria", 10, switchboard::model::now_ms()).unwrap();
    let read = eventually(WAIT, || (store.message(id).unwrap().status == DeliveryStatus::Read).then_some(())).await;
    assert!(read.is_some(), "delivered, then seen");
    let call = emu.calls().into_iter().find(|c| c.method == "send_message").unwrap();
    assert_eq!(call.auth_token, VB_TOKEN);
    assert_eq!(
        call.body,
        json!({"receiver": irina, "min_api_version": 1, "sender": {"name": "Switchboard Shop"}, "type": "text", "text": "Да, доставляем."})
    );
    let token: String = store
        .conn()
        .query_row(&format!("SELECT external_id FROM messages WHERE id = {}", id.0), [], |r| r.get(0))
        .unwrap();
    assert!(token.parse::<u64>().unwrap() > 1 << 53, "a token above 2^53, kept exactly: {token}");

    emu.customer_unsubscribes(&irina);
    eventually(WAIT, || store.conversation(conversation).unwrap().blocked_at.map(|_| ())).await.expect("unsubscribed");
    let after = store.enqueue(conversation, "Ещё вопрос?", "maria", 10, switchboard::model::now_ms()).unwrap();
    let failed = eventually(WAIT, || {
        let m = store.message(after).unwrap();
        (m.status == DeliveryStatus::Failed).then_some(m)
    })
    .await
    .expect("status 6: not subscribed");
    assert!(failed.error.unwrap().contains("not subscribed"));
}

/// Viber allows 100 messages an hour to a customer who does not answer: the 101st
/// waits, with the reason on it, and nothing reaches Viber.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viber_holds_the_hundred_and_first_unanswered_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let customers = demo_customers(2);
    let emu =
        ViberEmulator::start("127.0.0.1:0".parse().unwrap(), VB_TOKEN, customers.clone(), ViberOptions::default())
            .await
            .unwrap();
    let irina = user_id(&customers[1]);
    emu.subscribe_quietly(&irina);
    let mut store = Store::open(&db).unwrap();
    let target = SendTarget { channel: ChannelKind::Viber, chat_id: irina.clone() };
    let (conversation, first) =
        store.enqueue_to_chat(&target, &Outgoing::text("0"), "campaign", switchboard::model::now_ms()).unwrap();
    store.mark_sent(first, Some("1"), 0).unwrap();
    let now = switchboard::model::now_ms();
    for i in 1..100 {
        let record = switchboard::store::OutboundRecord {
            text: "earlier",
            sent_at: now - 30 * 60_000 + i,
            status: DeliveryStatus::Sent,
            error: None,
            author: "campaign",
            external_id: Some(format!("t{i}")),
            buttons: None,
        };
        store.record_outbound(conversation, &record).unwrap();
    }
    let held = store.enqueue(conversation, "the 101st", "campaign", 0, switchboard::model::now_ms()).unwrap();
    let _engine = engine(dir.path(), vec![Channel::Viber(ViberChannel::new(&viber(&emu.url())).unwrap())]);
    let waiting = eventually(WAIT, || {
        let m = store.message(held).unwrap();
        m.error.is_some().then_some(m)
    })
    .await
    .expect("held with a reason");
    assert_eq!(waiting.status, DeliveryStatus::Queued);
    assert!(waiting.error.unwrap().contains("100 messages an hour"));
    assert!(emu.calls().iter().all(|c| c.method != "send_message"), "nothing went to Viber");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_welcomes_a_customer_who_opens_the_chat_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let customers = demo_customers(1);
    let emu = WhatsAppEmulator::start(
        "127.0.0.1:0".parse().unwrap(),
        WA_TOKEN,
        PHONE,
        APP_SECRET,
        customers.clone(),
        WhatsAppOptions::default(),
    )
    .await
    .unwrap();
    let config = WhatsAppConfig {
        welcome: Some("Здравствуйте! Чем помочь?".into()), ..whatsapp(&emu.url())
    };
    let engine = engine(dir.path(), vec![Channel::WhatsApp(WhatsAppChannel::new(&config).unwrap())]);
    let anna = wa_id(&customers[0]);
    // Opening the chat lets the business write: WhatsApp's side knows it too.
    emu.set_last_inbound(&anna, switchboard::model::now_ms());
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE},
          "contacts": [{"profile": {"name": "Анна"}, "wa_id": anna}],
          "messages": [{"from": anna, "id": "wamid.opened1", "timestamp": (switchboard::model::now_ms() / 1000).to_string(),
                        "type": "request_welcome"}]}}]}]})
    .to_string()
    .into_bytes();
    let signed = format!("sha256={}", hmac_sha256_hex(APP_SECRET.as_bytes(), &body));
    let url = format!("http://{}/webhook/whatsapp", engine.webhook_addr().unwrap());
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let answer = client.post(&url).header("X-Hub-Signature-256", &signed).body(body.clone()).send().await.unwrap();
        assert_eq!(answer.status(), 200);
    }
    let sent = eventually(WAIT, || {
        // Sent, not only sending: the emulator has it by the time the send is recorded.
        (count(&db, "SELECT count(*) FROM messages WHERE author = 'bot' AND status IN ('sent', 'delivered', 'read')")
            == 1)
            .then_some(())
    })
    .await;
    assert!(sent.is_some(), "the welcome went out");
    let sends = emu.sent();
    assert_eq!(sends.len(), 1, "one welcome however often the opening comes");
    assert_eq!(sends[0].body["text"]["body"], "Здравствуйте! Чем помочь?");
    assert_eq!(count(&db, "SELECT count(*) FROM messages WHERE kind = 'system' AND direction = 'in'"), 1);
}

/// A WhatsApp conversation resolved: the survey goes as a list message, the customer
/// picks a row, and the score is recorded with the conversation left resolved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csat_on_whatsapp_goes_as_a_list_and_the_chosen_row_is_the_score() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let customers = demo_customers(1);
    let emu = WhatsAppEmulator::start(
        "127.0.0.1:0".parse().unwrap(),
        WA_TOKEN,
        PHONE,
        APP_SECRET,
        customers.clone(),
        WhatsAppOptions::default(),
    )
    .await
    .unwrap();
    let lock = EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
    let webhook = common::loopback_webhook();
    let automation = common::csat_automation();
    let channel = Channel::WhatsApp(WhatsAppChannel::new(&whatsapp(&emu.url())).unwrap());
    let engine =
        Engine::start_with(lock, &db, vec![channel], &webhook, &Default::default(), &Default::default(), &automation)
            .unwrap();
    emu.set_webhook(&format!("http://{}/webhook/whatsapp", engine.webhook_addr().unwrap()));
    let anna = wa_id(&customers[0]);
    emu.customer_says(&anna, "Где мой заказ?");
    let conversation =
        eventually(WAIT, || Store::open(&db).unwrap().find_conversation(ChannelKind::WhatsApp, &anna).unwrap())
            .await
            .expect("the conversation");
    let mut store = Store::open(&db).unwrap();
    store.enqueue(conversation, "Уже в пути!", "maria", 10, switchboard::model::now_ms()).unwrap();
    eventually(WAIT, || (emu.sent().len() == 1).then_some(())).await.expect("the reply");
    store.set_status(conversation, switchboard::model::ConversationStatus::Resolved).unwrap();
    let survey = eventually(WAIT, || emu.sent().get(1).cloned()).await.expect("the survey");
    let list = &survey.body["interactive"];
    assert_eq!(list["type"], "list", "{list}");
    assert_eq!(list["action"]["sections"][0]["rows"].as_array().unwrap().len(), 5);
    // Its send confirmed (the press names it by the wamid), the customer picks 5.
    eventually(WAIT, || {
        let n = common::rows(
            &Store::open(&db).unwrap(),
            "SELECT count(*) FROM messages WHERE author = 'bot' AND external_id IS NOT NULL",
        );
        (n[0][0] == json!(1)).then_some(())
    })
    .await
    .expect("the survey's send confirmed");
    emu.customer_chooses(&anna, &survey.wamid, "csat:5", "5 😍");
    let contact = Store::open(&db).unwrap().contact_of(conversation).unwrap().unwrap();
    let score = eventually(WAIT, || Store::open(&db).unwrap().csat_scores(contact).unwrap()[0].score).await;
    assert_eq!(score, Some(5));
    let status = common::rows(
        &Store::open(&db).unwrap(),
        &format!("SELECT status FROM conversations WHERE id = {}", conversation.0),
    );
    assert_eq!(status[0][0], "resolved", "a press is a message on WhatsApp, yet the conversation stays resolved");
}

/// A Viber conversation resolved: the survey goes as a keyboard of five buttons, the
/// customer presses one, and the score is recorded against the conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csat_on_viber_goes_as_a_keyboard_and_the_press_is_the_score() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let customers = demo_customers(2);
    let emu =
        ViberEmulator::start("127.0.0.1:0".parse().unwrap(), VB_TOKEN, customers.clone(), ViberOptions::default())
            .await
            .unwrap();
    let lock = EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
    let webhook = common::loopback_webhook();
    let automation = common::csat_automation();
    let channel = ViberChannel::new(&viber(&emu.url())).unwrap();
    let engine = Engine::start_with(
        lock,
        &db,
        vec![Channel::Viber(channel.clone())],
        &webhook,
        &Default::default(),
        &Default::default(),
        &automation,
    )
    .unwrap();
    channel.set_webhook(&format!("http://{}/webhook/viber", engine.webhook_addr().unwrap())).await.unwrap();
    let irina = user_id(&customers[1]);
    emu.customer_says(&irina, "Заказ пришёл, спасибо");
    let conversation =
        eventually(WAIT, || Store::open(&db).unwrap().find_conversation(ChannelKind::Viber, &irina).unwrap())
            .await
            .expect("the conversation");
    let mut store = Store::open(&db).unwrap();
    store.enqueue(conversation, "Рады помочь!", "maria", 10, switchboard::model::now_ms()).unwrap();
    store.assign(conversation, Some("maria")).unwrap();
    store.set_status(conversation, switchboard::model::ConversationStatus::Resolved).unwrap();
    let survey = eventually(WAIT, || {
        emu.calls().into_iter().find(|c| c.method == "send_message" && c.body["keyboard"].is_object())
    })
    .await
    .expect("the survey");
    let buttons = survey.body["keyboard"]["Buttons"].as_array().unwrap();
    let data: Vec<&str> = buttons.iter().map(|b| b["ActionBody"].as_str().unwrap()).collect();
    assert_eq!(data, ["csat:1", "csat:2", "csat:3", "csat:4", "csat:5"], "{}", survey.body);
    emu.customer_presses(&irina, "csat:4");
    let contact = store.contact_of(conversation).unwrap().unwrap();
    let score =
        eventually(WAIT, || Store::open(&db).unwrap().csat_scores(contact).unwrap().first().and_then(|s| s.score))
            .await;
    assert_eq!(score, Some(4));
    let agent = common::rows(&store, "SELECT agent FROM csat");
    assert_eq!(agent[0][0], "maria");
}
