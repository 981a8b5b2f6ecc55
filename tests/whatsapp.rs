//! WhatsApp Cloud API payloads of every kind, recorded from the documented shapes
//! (tests/fixtures/whatsapp, compact and \u-escaped as Meta sends them): what lands in
//! the store, receipts in any order, failures, consent, and the bodies we send.

mod common;

use common::rows;
use serde_json::{Value, json};
use switchboard::channels::whatsapp::decode::decode;
use switchboard::channels::{SendError, WhatsAppChannel, whatsapp};
use switchboard::config::{Secret, TemplateConfig, WhatsAppConfig};
use switchboard::model::{Button, ChannelKind, Content, InboundEvent, Outgoing};
use switchboard::store::{OutboxItem, Store};

const ANNA: &str = "79161234567";
const OURS: &str = "wamid.HBgLNzkxNjEyMzQ1NjcVAgARGBJBOURS";

fn raw(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/whatsapp/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn events(name: &str) -> Vec<InboundEvent> {
    decode(&serde_json::from_slice::<Value>(&raw(name)).unwrap()).unwrap()
}

fn ingest(store: &mut Store, name: &str) {
    let events = events(name);
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    let again = store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    assert_eq!(
        (again.stored, again.edits, again.clicks, again.receipts),
        (0, 0, 0, 0),
        "{name} twice changed the store"
    );
}

/// A store with Anna's conversation and our message OURS sent to her.
fn with_our_message() -> Store {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "text");
    let conversation = store.find_conversation(ChannelKind::WhatsApp, ANNA).unwrap().unwrap();
    let out = Outgoing {
        buttons: vec![vec![Button::parse("👍 Отлично=rate:good").unwrap()]],
        ..Outgoing::text("Как вам доставка?")
    };
    let id = store.enqueue_message(conversation, &out, "maria", 10, switchboard::model::now_ms()).unwrap();
    store.mark_sent(id, Some(OURS), 1).unwrap();
    store
}

#[test]
fn text_with_the_profile_name_and_seconds_as_strings() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "text");
    let r = rows(
        &store,
        "SELECT m.kind, m.body, m.sent_at, m.sender_name, c.title FROM messages m JOIN conversations c ON c.id = m.conversation_id",
    );
    assert_eq!(
        r[0],
        vec![
            json!("text"),
            json!("Добрый день! Где мой заказ? 📦"),
            json!(1_773_134_101_000i64),
            json!("Анна Петрова"),
            json!("Анна Петрова")
        ]
    );
}

#[test]
fn a_batch_of_media_keeps_every_message_and_its_sender() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "media_batch");
    let r = rows(
        &store,
        "SELECT m.kind, m.body, m.sender_name, json_extract(m.media, '$.id') FROM messages m ORDER BY m.sent_at",
    );
    assert_eq!(r.len(), 5);
    assert_eq!(
        r[0],
        vec![
            json!("photo"),
            json!("[photo image/jpeg]\nКоробка помята"),
            json!("Анна Петрова"),
            json!("1044871234567890")
        ]
    );
    assert_eq!(
        r[1][0..3],
        [json!("document"), json!("[document invoice-5512.pdf, application/pdf]\nInvoice"), json!("María García")]
    );
    assert_eq!(r[2][0], "voice");
    assert_eq!(r[3][0], "video");
    assert_eq!(r[4][0], "sticker");
    assert_eq!(rows(&store, "SELECT count(*) FROM conversations")[0][0], 2, "two senders, two conversations");
}

#[test]
fn locations_contacts_reactions_edits_and_unsupported() {
    let mut store = with_our_message();
    for name in ["location", "contacts", "reaction", "edit", "unsupported", "reply_with_context"] {
        ingest(&mut store, name);
    }
    let by_kind =
        |kind: &str| rows(&store, &format!("SELECT body, reply_to_external_id FROM messages WHERE kind = '{kind}'"));
    assert_eq!(by_kind("location")[0][0], "[location 55.79613, 49.10641: Kazan Kremlin, Kremlin St, Kazan]");
    assert_eq!(by_kind("contact")[0][0], "[contact Иван Петров, +7 900 111-22-33]");
    assert_eq!(by_kind("reaction")[0], vec![json!("reacted ❤️"), json!(OURS)]);
    assert_eq!(by_kind("unsupported").len(), 1);
    let edited = rows(&store, "SELECT body, edited_at IS NOT NULL FROM messages WHERE external_id LIKE '%0001'");
    assert_eq!(edited[0], vec![json!("Добрый день! Где мой заказ 5512? 📦"), json!(1)]);
    let reply = rows(&store, "SELECT reply_to_external_id FROM messages WHERE body = 'Да, этот'");
    assert_eq!(reply[0][0], OURS);
}

#[test]
fn reply_buttons_and_list_rows_are_clicks_on_our_message() {
    let mut store = with_our_message();
    ingest(&mut store, "button_reply");
    ingest(&mut store, "list_reply");
    let clicks = rows(&store, "SELECT body FROM messages WHERE kind = 'click' ORDER BY sent_at");
    assert_eq!(clicks, vec![vec![json!("pressed “👍 Отлично”")], vec![json!("pressed “Tuesday 10:00”")]]);
    let events = rows(&store, "SELECT detail FROM message_events WHERE kind = 'click' ORDER BY id");
    assert_eq!(events, vec![vec![json!("rate:good")], vec![json!("slot:tue-10")]]);
}

#[test]
fn a_press_is_a_customer_message_it_opens_the_window_and_waits_for_an_answer() {
    let mut store = with_our_message();
    let conversation = store.find_conversation(ChannelKind::WhatsApp, ANNA).unwrap().unwrap();
    // We answered Anna's text before she pressed (the fixture's press is dated
    // 1773134109 s), so nothing waited and her window had closed.
    store
        .conn()
        .execute(
            "UPDATE conversations SET last_inbound_at = 0, unanswered = 0, last_message_at = 1773134000000 \
             WHERE id = ?1",
            [conversation.0],
        )
        .unwrap();
    ingest(&mut store, "button_reply");
    let state = rows(
        &store,
        &format!("SELECT last_inbound_at, unanswered, last_preview FROM conversations WHERE id = {}", conversation.0),
    );
    // The press's own time (its timestamp, 1773134109 s).
    assert_eq!(state[0], vec![json!(1_773_134_109_000i64), json!(1), json!("pressed “👍 Отлично”")]);
    // A template's quick reply counts the same way.
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "template_stop");
    let state = rows(&store, "SELECT last_inbound_at IS NOT NULL, unanswered FROM conversations");
    assert_eq!(state[0], vec![json!(1), json!(1)]);
}

#[test]
fn stop_promotions_and_user_preferences_reach_the_ledger() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "template_stop");
    ingest(&mut store, "user_preferences_stop");
    let ledger = rows(&store, "SELECT action, purpose, source FROM consent_events ORDER BY id");
    assert_eq!(
        ledger,
        vec![
            vec![json!("opt_out"), json!("marketing"), json!("button")],
            vec![json!("opt_out"), json!("marketing"), json!("platform")]
        ]
    );
}

#[test]
fn statuses_out_of_order_never_move_a_message_backwards() {
    let mut store = with_our_message();
    ingest(&mut store, "statuses_out_of_order");
    let status = rows(&store, &format!("SELECT status FROM messages WHERE external_id = '{OURS}'"));
    assert_eq!(status[0][0], "read", "read came first; sent and delivered after it change nothing");
    let receipts = rows(&store, "SELECT status FROM message_events WHERE kind = 'receipt' ORDER BY at");
    assert_eq!(
        receipts,
        vec![vec![json!("sent")], vec![json!("delivered")], vec![json!("read")]],
        "every receipt is kept"
    );
    // A batch with a new message and a receipt in separate entries.
    ingest(&mut store, "mixed_batch");
    assert_eq!(rows(&store, "SELECT count(*) FROM messages WHERE body = 'Hi! Is the sale still on?'")[0][0], 1);
}

#[test]
fn late_failures_say_why_and_an_opt_out_is_recorded() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "text");
    let conversation = store.find_conversation(ChannelKind::WhatsApp, ANNA).unwrap().unwrap();
    for (wamid, text) in [("wamid.FAILED000000001", "late hello"), ("wamid.FAILED000000002", "promo")] {
        let id = store.enqueue(conversation, text, "maria", 10, switchboard::model::now_ms()).unwrap();
        store.mark_sent(id, Some(wamid), 1).unwrap();
    }
    ingest(&mut store, "status_failed_window");
    ingest(&mut store, "status_failed_optout");
    let failed = rows(&store, "SELECT body, status, error FROM messages WHERE direction = 'out' ORDER BY id");
    assert_eq!(failed[0][1], "failed");
    assert!(failed[0][2].as_str().unwrap().contains("24-hour window"));
    assert!(failed[1][2].as_str().unwrap().contains("stopped marketing"));
    let ledger = rows(&store, "SELECT action, purpose FROM consent_events");
    assert_eq!(ledger, vec![vec![json!("opt_out"), json!("marketing")]]);
}

#[test]
fn other_fields_are_kept_raw_and_counted() {
    let mut store = Store::open_in_memory().unwrap();
    let events = events("template_status_update");
    assert!(matches!(&events[0], InboundEvent::Unsupported { what, .. } if what == "message_template_status_update"));
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    assert_eq!(store.sync_value("whatsapp", "unsupported").unwrap().as_deref(), Some("1"));
    assert!(decode(&json!({"object": "page"})).is_err());
}

fn channel() -> WhatsAppChannel {
    WhatsAppChannel::new(&WhatsAppConfig {
        token: Secret::new("EAAG-token"),
        phone_number_id: "109876543210987".into(),
        app_secret: Secret::new("app-secret-1"),
        verify_token: Secret::new("verify-me"),
        api_url: "http://127.0.0.1:9".into(),
        api_version: "v25.0".into(),
        welcome: None,
        rate_limits: true,
        templates: vec![],
    })
    .unwrap()
}

#[test]
fn the_signature_covers_the_raw_bytes_exactly() {
    let wa = channel();
    let body = raw("text");
    let good = format!("sha256={}", switchboard::channels::signature::hmac_sha256_hex(b"app-secret-1", &body));
    assert!(wa.verify(&body, Some(&good)));
    // The same JSON written back without the \u escapes is not what Meta signed.
    let rewritten = serde_json::to_vec(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap();
    assert_ne!(rewritten, body);
    assert!(!wa.verify(&rewritten, Some(&good)));
    assert!(!wa.verify(&body, None));
    assert!(!wa.verify(&body, Some("sha256=00")));
    assert_eq!(wa.handshake(Some("subscribe"), Some("verify-me"), Some("1158201444")), Some("1158201444"));
    assert_eq!(wa.handshake(Some("subscribe"), Some("nope"), Some("1158201444")), None);
}

fn item(content: Content, body: &str) -> OutboxItem {
    OutboxItem { content, ..OutboxItem::text(ChannelKind::WhatsApp, ANNA, body) }
}

#[test]
fn bodies_have_the_documented_shapes() {
    let wa = channel();
    assert_eq!(
        wa.body(&item(Content::Text, "Привет"), None).unwrap(),
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": ANNA, "type": "text",
               "text": {"body": "Привет", "preview_url": false}})
    );
    let mut buttons = item(Content::Text, "Как вам доставка?");
    buttons.buttons =
        vec![vec![Button::parse("👍 Отлично=rate:good").unwrap(), Button::parse("Stop promotions=optout").unwrap()]];
    assert_eq!(
        wa.body(&buttons, None).unwrap()["interactive"],
        json!({"type": "button", "body": {"text": "Как вам доставка?"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "rate:good", "title": "👍 Отлично"}},
            {"type": "reply", "reply": {"id": "optout", "title": "Stop promotions"}}]}})
    );
    // Four to ten replies: a list message, one row each.
    let mut scale = item(Content::Text, "Как мы справились?");
    scale.buttons = vec![(1..=5).map(|n| Button::parse(&format!("{n}=csat:{n}")).unwrap()).collect()];
    let list = &wa.body(&scale, None).unwrap()["interactive"];
    assert_eq!((list["type"].as_str(), list["action"]["button"].as_str()), (Some("list"), Some("Choose")));
    assert_eq!(list["action"]["sections"][0]["rows"][4], json!({"id": "csat:5", "title": "5"}));
    // One link button: a call-to-action that opens it.
    let mut link = item(Content::Text, "Ваш заказ собран");
    link.buttons = vec![vec![Button::parse("Отследить=https://shop.example/track/5512").unwrap()]];
    assert_eq!(
        wa.body(&link, None).unwrap()["interactive"],
        json!({"type": "cta_url", "body": {"text": "Ваш заказ собран"}, "action": {"name": "cta_url",
               "parameters": {"display_text": "Отследить", "url": "https://shop.example/track/5512"}}})
    );
    // What WhatsApp cannot carry fails with the reason, never truncated or dropped.
    let mut mixed = link.clone();
    mixed.buttons.push(vec![Button::parse("Стоп=optout").unwrap()]);
    assert!(matches!(wa.body(&mixed, None), Err(SendError::Permanent(r)) if r.contains("cannot mix")));
    let mut long = buttons.clone();
    long.buttons = vec![vec![Button::parse("Stop promotions please=optout").unwrap()]];
    assert!(matches!(wa.body(&long, None), Err(SendError::Permanent(r)) if r.contains("at most 20")));
    let mut photo_buttons = item(Content::Photo { source: "https://shop.example/box.jpg".into() }, "");
    photo_buttons.buttons = buttons.buttons.clone();
    assert!(matches!(wa.body(&photo_buttons, None), Err(SendError::Permanent(r)) if r.contains("only under a text")));
    let photo = item(Content::Photo { source: "https://shop.example/box.jpg".into() }, "Ваша посылка");
    assert_eq!(
        wa.body(&photo, None).unwrap()["image"],
        json!({"link": "https://shop.example/box.jpg", "caption": "Ваша посылка"})
    );
    let call = r#"{"name":"order_update","language":"en_US","params":["Ann","5512"]}"#;
    let template = item(Content::from_stored("template", Some(call)).unwrap(), "Hi Ann, order 5512 is ready");
    assert_eq!(
        wa.body(&template, None).unwrap()["template"],
        json!({"name": "order_update", "language": {"code": "en_US"}, "components": [{"type": "body", "parameters": [
            {"type": "text", "text": "Ann"}, {"type": "text", "text": "5512"}]}]})
    );
    let local = item(Content::Photo { source: "/tmp/box.jpg".into() }, "");
    assert!(matches!(wa.body(&local, None), Err(SendError::Permanent(_))));
}

#[test]
fn error_codes_decide_retry_failure_or_opt_out() {
    assert!(matches!(whatsapp::classify(131056, "pair rate limit hit", 400), SendError::Retry { after: Some(_), .. }));
    assert!(matches!(whatsapp::classify(130429, "Rate limit hit", 400), SendError::Retry { after: None, .. }));
    assert!(
        matches!(whatsapp::classify(131047, "Re-engagement message", 400), SendError::Permanent(r) if r.contains("24-hour"))
    );
    assert!(matches!(whatsapp::classify(131050, "", 400), SendError::MarketingOptOut(_)));
    assert!(matches!(whatsapp::classify(190, "token expired", 401), SendError::ChannelDown(_)));
    assert!(matches!(whatsapp::classify(1, "x", 503), SendError::Retry { .. }));
    let t = TemplateConfig { name: "n".into(), language: "ru".into(), body: "{{1}}".into() };
    assert_eq!(t.parameters(), 1);
}

#[test]
fn a_customer_from_an_ad_keeps_the_ad_and_the_contact_records_its_source() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "ad_referral");
    let row = rows(&store, "SELECT kind, body, media FROM messages");
    assert_eq!(row[0][0], "text");
    assert_eq!(
        row[0][1],
        "Здравствуйте! Хочу узнать про скидку\n[from an ad “Скидка 20% на доставку” https://fb.me/3cr4Wqqkk]"
    );
    let media = row[0][2].as_str().unwrap();
    assert!(media.contains("ARAkLkA8rmlFeiCktEJQ") && media.contains("120212345678900123"), "{media}");
    let source = rows(&store, "SELECT source FROM contacts");
    assert_eq!(source[0][0], "ad:120212345678900123");
}

#[test]
fn a_message_whatsapp_could_not_pass_on_is_shown_with_its_reason() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "unknown_with_error");
    let row = rows(&store, "SELECT kind, body FROM messages");
    assert_eq!(
        row[0],
        vec![
            json!("unsupported"),
            json!("[a kind of message WhatsApp does not pass to businesses: Unsupported message type (131051)]")
        ]
    );
}

#[test]
fn a_marketing_signup_is_an_opt_in_in_the_ledger() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "user_preferences_signup");
    let ledger = rows(&store, "SELECT action, purpose, source, at FROM consent_events");
    assert_eq!(ledger, vec![vec![json!("opt_in"), json!("marketing"), json!("platform"), json!(1_773_134_130_000i64)]]);
}

#[test]
fn an_audio_file_is_audio_and_a_voice_note_is_voice() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "audio_file");
    ingest(&mut store, "voice_note");
    let kinds = rows(&store, "SELECT kind, body, media FROM messages ORDER BY external_id");
    assert_eq!(kinds[0][0], "audio");
    assert_eq!(kinds[0][1], "[audio audio/mpeg]");
    assert!(kinds[0][2].as_str().unwrap().contains("1187654321098765"), "the media id is kept");
    assert_eq!(kinds[1][0], "voice");
}

#[test]
fn an_order_shows_each_item_and_the_total() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "order");
    let row = rows(&store, "SELECT kind, body, media FROM messages");
    assert_eq!(row[0][0], "order");
    assert_eq!(
        row[0][1],
        "[order of 2 item(s), 1289 RUB]\n2 × TEA-GREEN-100 at 349.5 RUB\n1 × MUG-WHITE at 590 RUB\nДоставка к 19:00, пожалуйста"
    );
    assert!(row[0][2].as_str().unwrap().contains("880011223344"), "the catalog id is kept");
    let waiting = rows(&store, "SELECT unanswered, last_inbound_at FROM conversations");
    assert_eq!(waiting[0], vec![json!(1), json!(1_773_134_200_000i64)]);
}

#[test]
fn a_filled_in_flow_shows_the_answers_and_keeps_them() {
    let mut store = with_our_message();
    ingest(&mut store, "flow_reply");
    let row = rows(
        &store,
        "SELECT kind, body, media, reply_to_external_id FROM messages WHERE direction = 'in' AND kind != 'text'",
    );
    assert_eq!(row[0][0], "flow_reply");
    let body = row[0][1].as_str().unwrap();
    assert!(body.starts_with("[form “Отзыв о доставке” filled in]"), "{body}");
    assert!(body.contains("comment: Курьер позвонил заранее 👍") && body.contains("courier rating: 5"), "{body}");
    assert!(!body.contains("tok-7781"), "the flow token is not shown: {body}");
    assert!(row[0][2].as_str().unwrap().contains("tok-7781"), "but it is kept");
    assert_eq!(row[0][3], OURS);
}

#[test]
fn a_call_permission_answer_is_a_press_on_our_request() {
    let mut store = with_our_message();
    ingest(&mut store, "call_permission_reply");
    let row = rows(&store, "SELECT kind, body, reply_to_external_id FROM messages WHERE kind = 'click'");
    assert_eq!(
        row[0],
        vec![json!("click"), json!("pressed “call permission: accept (until 2026-03-17 09:20 UTC)”"), json!(OURS)]
    );
    let window = rows(&store, "SELECT last_inbound_at FROM conversations");
    assert_eq!(window[0][0], json!(1_773_134_400_000i64));
}

#[test]
fn an_interactive_message_without_content_is_shown_with_the_bodys_error() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "interactive_without_content");
    let row = rows(&store, "SELECT kind, body FROM messages");
    assert_eq!(
        row[0],
        vec![
            json!("unsupported"),
            json!(
                "[a WhatsApp message switchboard cannot show (interactive): Something went wrong (131000, Unsupported webhook payload)]"
            )
        ]
    );
}

#[test]
fn opening_the_chat_is_a_notice_and_queues_the_welcome_once() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "request_welcome");
    let events = events("request_welcome");
    assert!(matches!(&events[0], InboundEvent::Opened(m) if m.chat.external_chat_id == ANNA));
    let row = rows(&store, "SELECT kind, body FROM messages");
    assert_eq!(row[0], vec![json!("system"), json!("opened the chat")]);
    assert_eq!(rows(&store, "SELECT unanswered FROM conversations")[0][0], 0);
    let now = switchboard::model::now_ms();
    assert!(store.enqueue_welcome(ChannelKind::WhatsApp, ANNA, "Здравствуйте! Чем помочь?", now).unwrap());
    assert!(!store.enqueue_welcome(ChannelKind::WhatsApp, ANNA, "Здравствуйте! Чем помочь?", now).unwrap());
    let queued = rows(&store, "SELECT body, status, author FROM messages WHERE direction = 'out'");
    assert_eq!(queued, vec![vec![json!("Здравствуйте! Чем помочь?"), json!("queued"), json!("bot")]]);
}

#[test]
fn what_the_business_does_in_the_app_shows_as_ours() {
    // Anna wrote; the business answers her from the app.
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "text");
    assert_eq!(rows(&store, "SELECT unanswered FROM conversations")[0][0], 1);
    ingest(&mut store, "echo_text");
    let echo = rows(
        &store,
        "SELECT direction, kind, body, status, author, sent_at FROM messages WHERE external_id LIKE '%ECHO01'",
    );
    assert_eq!(
        echo[0],
        vec![
            json!("out"),
            json!("text"),
            json!("Заказ передан курьеру, ждите звонка."),
            json!("sent"),
            json!("business app"),
            json!(1_773_134_600_000i64)
        ]
    );
    let waiting = rows(&store, "SELECT unanswered, last_outbound_at FROM conversations");
    assert_eq!(waiting[0], vec![json!(0), json!(1_773_134_600_000i64)]);
    let mut store = with_our_message();
    // The business edits our message in the app: the text changes, the old one is kept.
    ingest(&mut store, "echo_edit");
    let edited = rows(&store, &format!("SELECT body, edited_at, direction FROM messages WHERE external_id = '{OURS}'"));
    assert_eq!(
        edited[0],
        vec![json!("Как вам доставка? Оцените, пожалуйста."), json!(1_773_134_700_000i64), json!("out")]
    );
    let old = rows(&store, "SELECT detail FROM message_events WHERE kind = 'edit'");
    assert_eq!(old[0][0], "Как вам доставка?");
    // And deletes it (this echo has `from` and `to` the other way round): a notice on it.
    ingest(&mut store, "echo_revoke");
    let notice = rows(
        &store,
        "SELECT direction, kind, body, reply_to_external_id FROM messages WHERE external_id LIKE '%ECHO03'",
    );
    assert_eq!(
        notice[0],
        vec![json!("out"), json!("system"), json!("deleted this message in the WhatsApp Business app"), json!(OURS)]
    );
    assert_eq!(rows(&store, "SELECT count(*) FROM conversations")[0][0], 1, "no conversation with our own number");
}

#[test]
fn a_customer_known_only_by_username_is_kept_by_their_business_scoped_id() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "username_only");
    let row = rows(
        &store,
        "SELECT c.external_chat_id, c.title, m.body, i.username FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         JOIN identities i ON i.contact_id = c.contact_id",
    );
    assert_eq!(
        row[0],
        vec![
            json!("RU.4471200963318852"),
            json!("Лейла"),
            json!("مرحبا! Есть ли доставка в Казань?"),
            json!("@leila.shop")
        ]
    );
}

#[test]
fn an_echo_that_names_only_our_own_number_makes_no_conversation() {
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "smb_message_echoes",
        "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "+1 555 000 1111", "phone_number_id": "1"},
          "message_echoes": [{"from": "15550001111", "id": "wamid.x", "timestamp": "1773134600", "type": "text",
                              "text": {"body": "Привет"}}]}}]}]});
    let events = decode(&body).unwrap();
    assert!(
        matches!(&events[..], [InboundEvent::Unsupported { what, .. }] if what.contains("without a customer")),
        "{events:?}"
    );
}

#[test]
fn the_shared_business_app_history_is_stored_on_both_sides() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "history");
    let r = rows(&store, "SELECT direction, kind, body, author FROM messages ORDER BY sent_at");
    assert_eq!(r[0], vec![json!("in"), json!("text"), json!("Добрый вечер, доставка завтра будет?"), Value::Null]);
    assert_eq!(r[1], vec![json!("out"), json!("text"), json!("Да, курьер приедет с 10 до 14."), json!("business app")]);
    assert_eq!(r[2][..2], [json!("in"), json!("unsupported")], "a media placeholder shows, and is kept");
    assert_eq!(rows(&store, "SELECT count(*) FROM conversations")[0][0], 1);
}
