//! VK community-message events of every kind, recorded from the documented shapes
//! (tests/fixtures/vk): what lands in the store, and that the same event delivered twice
//! is stored once.

mod common;

use common::rows;
use serde_json::{Value, json};
use switchboard::channels::SendError;
use switchboard::channels::vk::{self, decode::decode};
use switchboard::model::{Button, ChannelKind, InboundEvent, Outgoing};
use switchboard::store::Store;

const ANNA: &str = "51422811";

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/vk/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

fn events(name: &str) -> Vec<InboundEvent> {
    decode(&fixture(name)).unwrap()
}

fn ingest(store: &mut Store, name: &str) {
    let events = events(name);
    let now = switchboard::model::now_ms();
    store.ingest(&events, None, now).unwrap();
    let again = store.ingest(&events, None, now + 1000).unwrap();
    assert_eq!((again.stored, again.edits, again.clicks), (0, 0, 0), "{name} twice changed the store");
}

#[test]
fn a_text_is_stored_exactly_under_its_id_in_the_conversation() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_new_text");
    let r = rows(
        &store,
        "SELECT m.kind, m.body, m.external_id, m.sent_at, c.channel, c.external_chat_id, c.unanswered \
                          FROM messages m JOIN conversations c ON c.id = m.conversation_id",
    );
    assert_eq!(
        r[0],
        vec![
            json!("text"),
            json!("Здравствуйте, где мой заказ? 📦"),
            json!("2551"),
            json!(1_773_134_000_000i64),
            json!("vk"),
            json!(ANNA),
            json!(1)
        ]
    );
}

#[test]
fn attachments_read_as_lines_and_keep_what_fetches_them() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_new_attachments");
    let r = rows(&store, "SELECT kind, body, media FROM messages");
    assert_eq!(r[0][0], "photo");
    assert_eq!(
        r[0][1],
        "[photo 604x453]\n[document счёт.pdf]\n[voice message 0:07]\n[sticker]\n[wall post wall-171104414_88: Распродажа до пятницы!]\n\
         [link Чайник https://shop.example/item/5]\n[location 55.79613, 49.10641: Казань]\nВот фото упаковки"
    );
    let media = r[0][2].as_str().unwrap();
    for kept in ["https://sun9-1.userapi.com/x.jpg", "ab12cd", "https://psv4.userapi.com/a.ogg", "doc51422811_601"] {
        assert!(media.contains(kept), "{kept} is kept: {media}");
    }
}

#[test]
fn a_keyboard_payload_a_reply_forwards_the_old_shape_and_a_group_chat() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_new_payload");
    ingest(&mut store, "message_new_before_5_103");
    ingest(&mut store, "message_new_chat");
    let r = rows(
        &store,
        "SELECT m.body, m.media, c.is_group, c.title FROM messages m JOIN conversations c \
                          ON c.id = m.conversation_id ORDER BY m.sent_at",
    );
    assert_eq!(r[0][0], "Начать");
    assert!(r[0][1].as_str().unwrap().contains(r#"{\"command\":\"start\"}"#), "the payload is kept: {}", r[0][1]);
    assert_eq!(r[1][0], "[forwarded 1 message(s)]\nСтарый формат");
    assert_eq!((r[2][2].clone(), r[2][3].clone()), (json!(1), json!("VK chat 7")));
}

#[test]
fn our_reply_seen_back_is_our_row_once_and_an_admin_reply_is_stored_as_ours() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_new_text");
    let conversation = store.find_conversation(ChannelKind::Vk, ANNA).unwrap().unwrap();
    // Our send, its random_id being the outbox row's; VK shows it back before the sender
    // recorded it as sent.
    let now = switchboard::model::now_ms();
    let ours = store.enqueue(conversation, "Ваш заказ №42 в пути", "maria", 10, now).unwrap();
    let mut reply = fixture("message_reply");
    reply["object"]["random_id"] = json!(vk::random_id(ours.0));
    store.ingest(&decode(&reply).unwrap(), None, now).unwrap();
    store.mark_sent(ours, Some("2552"), now).unwrap();
    let out = rows(&store, "SELECT id, external_id, author FROM messages WHERE direction = 'out'");
    assert_eq!(out, vec![vec![json!(ours.0), json!("2552"), json!("maria")]], "one row, ours");
    // A reply an admin typed in VK itself (a random_id that is none of ours).
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_new_text");
    ingest(&mut store, "message_reply");
    let out = rows(&store, "SELECT body, author, status FROM messages WHERE direction = 'out'");
    assert_eq!(out[0], vec![json!("Ваш заказ №42 в пути"), json!("VK admin id123456"), json!("sent")]);
    assert_eq!(rows(&store, "SELECT unanswered FROM conversations")[0][0], 0);
    // Then edits it, and the customer edits theirs.
    ingest(&mut store, "message_edit_ours");
    ingest(&mut store, "message_edit_customer");
    let edited = rows(&store, "SELECT direction, body, edited_at FROM messages ORDER BY direction");
    assert_eq!(edited[0], vec![json!("in"), json!("Здравствуйте, где мой заказ №42? 📦"), json!(1_773_134_300_000i64)]);
    assert_eq!(edited[1], vec![json!("out"), json!("Ваш заказ №42 доставлен"), json!(1_773_134_120_000i64)]);
}

#[test]
fn a_callback_press_is_a_click_on_our_message() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_new_text");
    ingest(&mut store, "message_reply");
    ingest(&mut store, "message_event");
    ingest(&mut store, "message_event_string");
    let clicks = rows(&store, "SELECT m.kind, m.reply_to_external_id FROM messages m WHERE kind = 'click'");
    assert_eq!(clicks.len(), 2);
    assert_eq!(clicks[0][1], "2552");
    let data = rows(&store, "SELECT detail FROM message_events WHERE kind = 'click' ORDER BY id");
    assert_eq!(data, vec![vec![json!(r#"{"campaign":42,"cmd":"optout"}"#)], vec![json!("rate:good")]]);
    let InboundEvent::Click(c) = &events("message_event")[0] else { panic!() };
    assert_eq!((c.query_id.as_str(), c.from.external_id.as_str()), ("3159dc190b1f", ANNA), "what answers it");
}

#[test]
fn allow_and_deny_reach_the_ledger_with_where_it_came_from() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_allow");
    ingest(&mut store, "message_deny");
    let ledger = rows(&store, "SELECT purpose, action, source, evidence FROM consent_events ORDER BY id");
    assert_eq!(ledger[0][..3], [json!("service"), json!("opt_in"), json!("platform_permission")]);
    assert!(ledger[0][3].as_str().unwrap().contains("landing_spring_2026"));
    assert_eq!(ledger[1][..2], [json!("service"), json!("opt_out")]);
    assert_eq!(ledger[2][..2], [json!("marketing"), json!("opt_out")]);
    assert_eq!(rows(&store, "SELECT source FROM contacts")[0][0], "landing_spring_2026");
    let notices = rows(&store, "SELECT body FROM messages ORDER BY id");
    assert_eq!(
        notices,
        vec![vec![json!("allowed messages from the community")], vec![json!("denied messages from the community")]]
    );
    assert!(rows(&store, "SELECT blocked_at FROM conversations")[0][0].is_i64());
}

#[test]
fn other_events_are_kept_raw_and_counted() {
    let mut store = Store::open_in_memory().unwrap();
    let events = events("message_typing_state");
    assert!(matches!(&events[0], InboundEvent::Unsupported { what, .. } if what == "message_typing_state"));
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    assert_eq!(store.sync_value("vk", "unsupported").unwrap().as_deref(), Some("1"));
    assert_eq!(store.count("messages").unwrap(), 0);
}

#[test]
fn sends_carry_the_row_as_random_id_and_buttons_as_an_inline_keyboard() {
    let keyboard = vk::keyboard(&[
        vec![Button::parse("Отследить=https://shop.example/track").unwrap()],
        vec![Button::parse("👍=rate:good").unwrap(), Button::parse("👎=rate:bad").unwrap()],
    ])
    .unwrap();
    assert_eq!(
        keyboard,
        json!({"inline": true, "buttons": [
            [{"action": {"type": "open_link", "link": "https://shop.example/track", "label": "Отследить"}}],
            [{"action": {"type": "callback", "label": "👍", "payload": "\"rate:good\""}},
             {"action": {"type": "callback", "label": "👎", "payload": "\"rate:bad\""}}]]})
    );
    assert_eq!(vk::random_id(42), 42);
    assert_eq!(vk::random_id(1 << 31), 1, "always a positive 31-bit number");
    assert!(matches!(vk::classify(901, ""), SendError::Unreachable(r) if r.contains("allowed")));
    assert!(matches!(vk::classify(6, ""), SendError::Retry { after: Some(_), .. }));
    assert!(matches!(vk::classify(9, ""), SendError::Retry { .. }));
    assert!(matches!(vk::classify(5, ""), SendError::ChannelDown(_)));
    assert!(matches!(vk::classify(902, ""), SendError::Unreachable(_)));
    // 9000 characters go; one more is refused before anything is queued.
    assert!(Outgoing::text("я".repeat(9000)).check(ChannelKind::Vk).is_ok());
    assert!(Outgoing::text("я".repeat(9001)).check(ChannelKind::Vk).unwrap_err().contains("9000"));
    assert!(ChannelKind::Vk.check_chat_id("2000000007").is_ok() && ChannelKind::Vk.check_chat_id("id5").is_err());
}

#[test]
fn a_read_receipt_reads_our_message_and_the_earlier_ones() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "message_new_text");
    let conversation = store.find_conversation(ChannelKind::Vk, ANNA).unwrap().unwrap();
    let now = switchboard::model::now_ms();
    let first = store.enqueue(conversation, "Сейчас проверю", "maria", 10, now).unwrap();
    store.mark_sent(first, Some("2550"), now).unwrap();
    let second = store.enqueue(conversation, "Ваш заказ №42 в пути", "maria", 10, now).unwrap();
    store.mark_sent(second, Some("2552"), now).unwrap();
    ingest(&mut store, "message_read");
    let statuses = rows(&store, "SELECT status FROM messages WHERE direction = 'out' ORDER BY id");
    assert_eq!(statuses, vec![vec![json!("read")], vec![json!("read")]]);
}
