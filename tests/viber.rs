//! Viber REST Bot API callbacks of every kind, recorded from the documented shapes
//! (tests/fixtures/viber): what lands in the store, tokens above 2^53 kept exactly,
//! presses on keyboard buttons, subscriptions, receipts, and the bodies we send.

use serde_json::{Value, json};
use switchboard::channels::viber::decode::decode;
use switchboard::channels::{SendError, ViberChannel, viber};
use switchboard::config::{Secret, ViberConfig};
use switchboard::model::{Button, ChannelKind, InboundEvent, MessageId, Outgoing};
use switchboard::store::{OutboxItem, Store};

const IRINA: &str = "01234567890A=";

fn raw(name: &str) -> String {
    let path = format!("{}/tests/fixtures/viber/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn events(name: &str) -> Vec<InboundEvent> {
    decode(&serde_json::from_str::<Value>(&raw(name)).unwrap()).unwrap()
}

fn ingest(store: &mut Store, name: &str) {
    let events = events(name);
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    let again = store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    assert_eq!((again.stored, again.clicks, again.receipts), (0, 0, 0), "{name} twice changed the store");
}

fn one<T: rusqlite::types::FromSql>(store: &Store, sql: &str) -> T {
    store.conn().query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn a_token_of_two_to_the_63_minus_one_round_trips_exactly() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_text");
    let token: String = one(&store, "SELECT external_id FROM messages");
    assert_eq!(token, "9223372036854775807");
    let mut out = Vec::new();
    switchboard::export::export(
        &store,
        switchboard::export::ExportKind::Messages,
        switchboard::export::Format::Jsonl,
        &mut out,
    )
    .unwrap();
    let line: Value = serde_json::from_slice(&out[..out.len() - 1]).unwrap();
    assert_eq!(line["external_id"], "9223372036854775807", "exported as the exact digits");
    assert_eq!(line["sent_at"], "2026-03-10T09:15:00.000Z", "milliseconds kept");
}

#[test]
fn a_first_message_is_a_subscription() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_text");
    let (action, purpose, source): (String, String, String) = store
        .conn()
        .query_row("SELECT action, purpose, source FROM consent_events", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    assert_eq!((action.as_str(), purpose.as_str(), source.as_str()), ("opt_in", "service", "platform_subscription"));
}

#[test]
fn every_kind_of_message_reads_at_a_glance() {
    let mut store = Store::open_in_memory().unwrap();
    for name in
        ["message_picture", "message_file", "message_location", "message_contact", "message_sticker", "message_url"]
    {
        ingest(&mut store, name);
    }
    let mut stmt = store.conn().prepare("SELECT kind, body FROM messages ORDER BY sent_at").unwrap();
    let rows: Vec<(String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    assert_eq!(
        rows,
        [
            ("photo".into(), "[photo]\nВот чек".into()),
            ("document".into(), "[document contract.pdf, 2.0 MB]".into()),
            ("location".into(), "[location 55.79613, 49.10641]".into()),
            ("contact".into(), "[contact Иван, +79001112233]".into()),
            ("sticker".into(), "[sticker]".into()),
            ("link".into(), "[link https://competitor.example/sale]".into()),
        ]
    );
    let media: String = one(&store, "SELECT json_extract(media, '$.media') FROM messages WHERE kind = 'photo'");
    assert!(media.starts_with("https://dl-media.viber.com/"));
}

#[test]
fn coordinates_given_as_strings_are_read_and_missing_ones_are_not_made_up() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_location_strings");
    let body: String = one(&store, "SELECT body FROM messages WHERE kind = 'location'");
    assert_eq!(body, "[location 55.79613, 49.10641]");
    let mut none = serde_json::from_str::<serde_json::Value>(&raw("message_location_strings")).unwrap();
    none["message"]["location"] = serde_json::json!({"lat": "north", "lon": null});
    none["message_token"] = serde_json::json!(5741311803571721099u64);
    store.ingest(&decode(&none).unwrap(), None, switchboard::model::now_ms()).unwrap();
    let bodies: Vec<String> = {
        let mut stmt = store.conn().prepare("SELECT body FROM messages WHERE kind = 'location' ORDER BY id").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(bodies[1], "[location]");
}

#[test]
fn a_keyboard_reply_is_a_press_on_the_message_that_carried_it() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_text");
    let conversation = store.find_conversation(ChannelKind::Viber, IRINA).unwrap().unwrap();
    let out = Outgoing {
        buttons: vec![vec![
            Button::parse("👍 Отлично=rate:good").unwrap(),
            Button::parse("👎 Плохо=rate:bad").unwrap(),
        ]],
        ..Outgoing::text("Как вам доставка?")
    };
    let ours = store.enqueue_message(conversation, &out, "maria", 10, switchboard::model::now_ms()).unwrap();
    store.mark_sent(ours, Some("5741311803571721087"), 1).unwrap();
    let fixture = raw("keyboard_reply").replace("sb:TRACKED", &format!("sb:{}", ours.0));
    let events = decode(&serde_json::from_str(&fixture).unwrap()).unwrap();
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    let body: String = one(&store, "SELECT body FROM messages WHERE kind = 'click'");
    assert_eq!(body, "pressed “👍 Отлично”");
    let clicks: i64 =
        one(&store, &format!("SELECT count(*) FROM message_events WHERE kind = 'click' AND message_id = {}", ours.0));
    assert_eq!(clicks, 1);
    // Text that is not one of the buttons is an ordinary message, tracking or not.
    let typed = fixture
        .replace("\"rate:good\"", "\"а можно позвонить?\"")
        .replace("5741311803571721094", "5741311803571721095");
    store.ingest(&decode(&serde_json::from_str(&typed).unwrap()).unwrap(), None, switchboard::model::now_ms()).unwrap();
    let text: i64 = one(&store, "SELECT count(*) FROM messages WHERE body = 'а можно позвонить?' AND kind = 'text'");
    assert_eq!(text, 1);
}

#[test]
fn unsubscribing_blocks_sends_and_a_new_message_subscribes_again() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "subscribed");
    ingest(&mut store, "unsubscribed");
    let conversation = store.find_conversation(ChannelKind::Viber, IRINA).unwrap().unwrap();
    assert!(store.conversation(conversation).unwrap().blocked_at.is_some());
    let lines: Vec<String> = {
        let mut stmt =
            store.conn().prepare("SELECT body FROM messages WHERE kind = 'system' ORDER BY sent_at").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(lines, ["subscribed", "unsubscribed"]);
    let marketing_out: i64 =
        one(&store, "SELECT count(*) FROM consent_events WHERE action = 'opt_out' AND purpose = 'marketing'");
    assert_eq!(marketing_out, 1);
    ingest(&mut store, "message_text");
    assert!(store.conversation(conversation).unwrap().blocked_at.is_none(), "writing to us subscribes again");
}

#[test]
fn receipts_delivered_seen_and_failed() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_text");
    let conversation = store.find_conversation(ChannelKind::Viber, IRINA).unwrap().unwrap();
    let a = store.enqueue(conversation, "first", "maria", 10, switchboard::model::now_ms()).unwrap();
    store.mark_sent(a, Some("5741311803571721087"), 1_773_134_100_500).unwrap();
    let b = store.enqueue(conversation, "second", "maria", 10, switchboard::model::now_ms()).unwrap();
    store.mark_sent(b, Some("5741311803571721099"), 1_773_134_100_600).unwrap();
    // Our messages went out "now"; the seen receipt must be later than them to cover them.
    store.conn().execute("UPDATE messages SET sent_at = 1773134100500 WHERE direction = 'out'", []).unwrap();
    ingest(&mut store, "delivered");
    assert_eq!(store.message(a).unwrap().status.as_str(), "delivered");
    ingest(&mut store, "failed");
    let failed = store.message(b).unwrap();
    assert_eq!(
        (failed.status.as_str(), failed.error.as_deref()),
        ("failed", Some("failed to deliver: keyboard invalid"))
    );
    ingest(&mut store, "seen");
    assert_eq!(store.message(a).unwrap().status.as_str(), "read", "seen covers every earlier message");
    assert_eq!(store.message(b).unwrap().status.as_str(), "failed", "a failure stays a failure");
}

#[test]
fn seen_naming_our_message_reads_it_and_the_earlier_ones_whatever_our_clock_says() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_text");
    let conversation = store.find_conversation(ChannelKind::Viber, IRINA).unwrap().unwrap();
    let now = switchboard::model::now_ms();
    let earlier = store.enqueue(conversation, "first", "maria", 10, now).unwrap();
    store.mark_sent(earlier, Some("5741311803571721001"), now).unwrap();
    let named = store.enqueue(conversation, "second", "maria", 10, now).unwrap();
    store.mark_sent(named, Some("5741311803571721087"), now).unwrap();
    let later = store.enqueue(conversation, "third", "maria", 10, now).unwrap();
    store.mark_sent(later, Some("5741311803571721100"), now).unwrap();
    // Our clock is far ahead of Viber's: the receipt's time (1773134111000) is before
    // any of our messages went.
    ingest(&mut store, "seen");
    assert_eq!(store.message(named).unwrap().status.as_str(), "read", "the message it names");
    assert_eq!(store.message(earlier).unwrap().status.as_str(), "read", "and every earlier one");
    assert_eq!(store.message(later).unwrap().status.as_str(), "sent", "not a later one");
}

#[test]
fn opening_the_chat_records_where_the_customer_came_from() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "conversation_started");
    let source: String = one(&store, "SELECT source FROM contacts");
    assert_eq!(source, "ad_vk_spring");
    assert!(events("webhook").is_empty(), "the set_webhook probe stores nothing");
    let consents: i64 = one(&store, "SELECT count(*) FROM consent_events");
    assert_eq!(consents, 0, "opening the chat is not a subscription");
}

fn channel() -> ViberChannel {
    ViberChannel::new(&ViberConfig {
        token: Secret::new("44dafb7e0f40021e-61a47a1e6778d187-f2c5a676a07050b3"),
        api_url: "http://127.0.0.1:9".into(),
        sender_name: "Switchboard Shop".into(),
        welcome: Some("Здравствуйте! Напишите нам.".into()),
        rate_limits: true,
        public_url: None,
    })
    .unwrap()
}

#[test]
fn bodies_have_the_documented_shapes_and_errors_their_meaning() {
    let vb = channel();
    let mut item = OutboxItem::text(ChannelKind::Viber, IRINA, "Как вам доставка?");
    item.message_id = MessageId(42);
    assert_eq!(
        vb.body(&item).unwrap(),
        json!({"receiver": IRINA, "min_api_version": 1, "sender": {"name": "Switchboard Shop"}, "type": "text", "text": "Как вам доставка?"})
    );
    item.buttons = serde_json::from_str(
        r#"[[{"text":"👍","callback_data":"rate:good"},{"text":"Shop","url":"https://shop.example"}]]"#,
    )
    .unwrap();
    let body = vb.body(&item).unwrap();
    assert_eq!(body["tracking_data"], "sb:42");
    assert_eq!(
        body["keyboard"]["Buttons"],
        json!([{"Columns": 3, "Rows": 1, "ActionType": "reply", "ActionBody": "rate:good", "Text": "👍"},
               {"Columns": 3, "Rows": 1, "ActionType": "open-url", "ActionBody": "https://shop.example", "Text": "Shop"}])
    );
    assert!(matches!(viber::classify(6, "notSubscribed"), SendError::Unreachable(_)));
    assert!(matches!(viber::classify(12, "Too many requests"), SendError::Retry { after: Some(_), .. }));
    assert!(matches!(viber::classify(2, "invalidAuthToken"), SendError::ChannelDown(_)));
    // The SDK's known answer signs this body with this token.
    let body = br#"{"event":"webhook","timestamp":4977069964384421269,"message_token":1478683725125}"#;
    assert!(vb.verify(body, Some("d21b343448c8aee33b8e93768ef6ceb64a6ba6163099973a2b8bd028fea510ef")));
    assert!(!vb.verify(body, None));
}

#[tokio::test]
async fn opening_the_chat_is_answered_with_the_welcome_once() {
    let vb = channel();
    let events = events("conversation_started");
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    let store = switchboard::store::SharedStore::new(store);
    assert_eq!(
        vb.welcome(&events, &store).await,
        Some(json!({"sender": {"name": "Switchboard Shop"}, "type": "text", "text": "Здравствуйте! Напишите нам."}))
    );
    assert_eq!(vb.welcome(&events, &store).await, None, "a second opening gets no second welcome");
}
