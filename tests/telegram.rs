//! Telegram payloads of every kind a customer can cause, recorded from the documented
//! shapes (tests/fixtures/telegram), decoded and stored: what lands in the store, and
//! that the same update delivered twice is stored once.

use rusqlite::params;
use switchboard::channels::telegram::{DecodeOptions, decode_raw};
use switchboard::export::{ExportKind, Format};
use switchboard::model::{Button, ChannelKind, InboundEvent, Outgoing};
use switchboard::store::Store;

const ANNA: &str = "111222333";

fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/fixtures/telegram/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn options() -> DecodeOptions {
    DecodeOptions { optin_prefixes: vec!["optin_".into()] }
}

fn events(name: &str) -> Vec<InboundEvent> {
    decode_raw(&fixture(name), &options())
}

/// Ingests a fixture twice, as a redelivery would, and returns the store.
fn ingest(store: &mut Store, name: &str) {
    let events = events(name);
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    let again = store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    assert_eq!((again.stored, again.edits, again.clicks), (0, 0, 0), "{name} delivered twice changed the store");
}

/// (kind, body, media, entities, reply_to, edited_at) of a message by its platform id.
type Row = (String, String, Option<String>, Option<String>, Option<String>, Option<i64>);

fn row(store: &Store, external_id: &str) -> Row {
    store
        .conn()
        .query_row(
            "SELECT kind, body, media, entities, reply_to_external_id, edited_at FROM messages WHERE external_id = ?1",
            [external_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap_or_else(|e| panic!("message {external_id}: {e}"))
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn media_field(row: &Row, key: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(row.2.as_deref().expect("media kept"))
        .unwrap()
        .get(key)
        .cloned()
        .unwrap_or_default()
}

#[test]
fn text_with_entities_keeps_them_with_utf16_offsets() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "text_entities");
    let r = row(&store, "1");
    assert_eq!(r.0, "text");
    assert!(r.1.starts_with("Привет 👋 Скидка 20%"));
    let entities: serde_json::Value = serde_json::from_str(r.3.as_deref().unwrap()).unwrap();
    assert_eq!(entities[0]["type"], "bold");
    // "Привет 👋 " is 7 + 2 (the emoji is a surrogate pair) + 1 = 10 UTF-16 units.
    assert_eq!(entities[0]["offset"], 10);
    assert_eq!(entities[1]["url"], "https://shop.example.com/sale");
}

#[test]
fn attachments_become_readable_lines_and_keep_their_file_ids() {
    let mut store = Store::open_in_memory().unwrap();
    for name in ["photo", "document", "video", "voice", "sticker", "location", "contact_other"] {
        ingest(&mut store, name);
    }
    let photo = row(&store, "2");
    assert_eq!(photo.0, "photo");
    assert_eq!(photo.1, "[photo 1280x960, 240 KB]\nВот так пришла коробка 😕");
    assert_eq!(media_field(&photo, "file_id"), "AgACAgIAAxk-large", "the largest size is kept");
    let doc = row(&store, "3");
    assert_eq!(doc.1, "[document invoice-5512.pdf, application/pdf, 1.2 MB]\nСчёт");
    assert_eq!(media_field(&doc, "file_id"), "BQACAgIAAxk-doc");
    assert_eq!(row(&store, "4").1, "[video 0:42, 1280x720, 5.1 MB]");
    assert_eq!(row(&store, "5").1, "[voice message 0:12]");
    assert_eq!(row(&store, "6").1, "[sticker 😀]");
    let location = row(&store, "7");
    assert_eq!(location.1, "[location 55.79613, 49.10641]");
    assert_eq!(media_field(&location, "latitude"), 55.796127);
    assert_eq!(row(&store, "9").1, "[contact Иван, +79001112233]");
    // Someone else's number is not the customer's own.
    assert_eq!(count(&store, "SELECT count(*) FROM contacts WHERE phone IS NOT NULL"), 0);
}

#[test]
fn a_customer_sharing_their_own_number_has_it_recorded() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "contact_own");
    let phone: String = store.conn().query_row("SELECT phone FROM contacts", [], |r| r.get(0)).unwrap();
    assert_eq!(phone, "+79161234567", "normalised with its +");
}

#[test]
fn an_edit_updates_the_message_and_keeps_the_old_text() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "text_entities");
    ingest(&mut store, "reply");
    assert_eq!(row(&store, "10").4.as_deref(), Some("1"), "the reply names the message it quotes");
    ingest(&mut store, "edited_message");
    let r = row(&store, "10");
    assert_eq!(r.1, "Да, вот этот (синий)");
    assert_eq!(r.5, Some(1_763_719_300_000));
    let old: String =
        store.conn().query_row("SELECT detail FROM message_events WHERE kind = 'edit'", [], |r| r.get(0)).unwrap();
    assert_eq!(old, "Да, вот этот");
    assert_eq!(count(&store, "SELECT count(*) FROM messages"), 2, "an edit is not a new message");
}

#[test]
fn an_edit_of_a_message_never_seen_is_stored_as_it_reads_now() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "edited_message");
    let r = row(&store, "10");
    assert_eq!((r.1.as_str(), r.5.is_some()), ("Да, вот этот (синий)", true));
}

#[test]
fn a_button_press_is_a_click_on_the_message_that_carried_it() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "text_entities");
    let conversation = store.find_conversation(ChannelKind::Telegram, ANNA).unwrap().unwrap();
    let out = Outgoing {
        buttons: vec![vec![
            Button::parse("👍 Отлично=rate:good").unwrap(),
            Button::parse("👎 Плохо=rate:bad").unwrap(),
        ]],
        ..Outgoing::text("Как вам доставка?")
    };
    let ours = store.enqueue_message(conversation, &out, "maria", 10, switchboard::model::now_ms()).unwrap();
    store.mark_sent(ours, Some("500"), 1).unwrap();

    let mut events = events("callback_query");
    switchboard::channels::telegram::refine_times(&mut events, 1_763_719_999_000);
    let InboundEvent::Click(click) = &events[0] else { panic!("{events:?}") };
    assert_eq!((click.query_id.as_str(), click.data.as_deref()), ("4382bfdwdsb323b2d9", Some("rate:good")));
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    let (kind, body): (String, String) = store
        .conn()
        .query_row("SELECT kind, body FROM messages WHERE external_id = 'cb:4382bfdwdsb323b2d9'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((kind.as_str(), body.as_str()), ("click", "pressed “👍 Отлично”"));
    let clicks: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM message_events WHERE message_id = ?1 AND kind = 'click' AND detail = 'rate:good'",
            params![ours],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(clicks, 1, "one press, one click, however often it is delivered");

    // A press on a message too old to be sent back still shows, named by its data.
    ingest(&mut store, "callback_inaccessible");
    let body: String = store
        .conn()
        .query_row("SELECT body FROM messages WHERE external_id = 'cb:4382bfdwdsb323b2e0'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(body, "pressed “rate:bad”");
}

#[test]
fn start_links_record_the_source_and_an_opt_in_when_they_say_so() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "start_optin");
    ingest(&mut store, "start_plain");
    let source: String = store.conn().query_row("SELECT source FROM contacts", [], |r| r.get(0)).unwrap();
    assert_eq!(source, "optin_spring_form", "the first source is kept");
    let (action, purpose, how, evidence): (String, String, String, String) = store
        .conn()
        .query_row("SELECT action, purpose, source, evidence FROM consent_events", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .unwrap();
    assert_eq!(
        (action.as_str(), purpose.as_str(), how.as_str(), evidence.as_str()),
        ("opt_in", "marketing", "start_link", "optin_spring_form")
    );
    assert_eq!(count(&store, "SELECT count(*) FROM consent_events"), 1, "ad_vk_42 is a source, not consent");
}

#[test]
fn blocking_and_unblocking_reach_the_ledger_and_the_conversation() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "text_entities");
    ingest(&mut store, "blocked");
    let conversation = store.find_conversation(ChannelKind::Telegram, ANNA).unwrap().unwrap();
    assert!(store.conversation(conversation).unwrap().blocked_at.is_some());
    let events: Vec<(String, String, String)> = {
        let mut stmt = store.conn().prepare("SELECT action, purpose, source FROM consent_events ORDER BY id").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(
        events,
        [
            ("opt_out".into(), "service".into(), "platform_block".into()),
            ("opt_out".into(), "marketing".into(), "platform_block".into())
        ]
    );
    ingest(&mut store, "unblocked");
    assert!(store.conversation(conversation).unwrap().blocked_at.is_none());
    let last: (String, String) = store
        .conn()
        .query_row("SELECT action, purpose FROM consent_events ORDER BY id DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(last, ("opt_in".into(), "service".into()), "unblocking does not restore marketing consent");
    let lines: Vec<String> = {
        let mut stmt =
            store.conn().prepare("SELECT body FROM messages WHERE kind = 'system' ORDER BY sent_at").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(lines, ["blocked the bot", "unblocked the bot"]);
}

#[test]
fn group_messages_keep_their_group_and_sender() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "group");
    let conversation = store.find_conversation(ChannelKind::Telegram, "-1001234567890").unwrap().unwrap();
    let c = store.conversation(conversation).unwrap();
    assert!(c.is_group);
    assert_eq!(c.title, "Оптовики / Wholesale");
    let messages = store.messages_before(conversation, None, 10).unwrap();
    assert_eq!(messages[0].sender_name.as_deref(), Some("Bob Stone"));
}

#[test]
fn rtl_and_zero_width_text_is_stored_exactly() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "rtl_zero_width");
    assert_eq!(row(&store, "13").1, "שלום, אני רוצה להזמין\u{200b} \u{202e}evil\u{202c} ok");
}

#[test]
fn updates_we_do_not_handle_are_counted_not_fatal() {
    let mut store = Store::open_in_memory().unwrap();
    // A reaction was once such an update; it is a stored `reaction` now.
    assert!(matches!(&events("reaction_unknown")[0], InboundEvent::Message(m) if m.kind == "reaction"));
    let events = events("future_kind");
    let InboundEvent::Unsupported { raw, .. } = &events[0] else { panic!("{events:?}") };
    let kept: serde_json::Value = serde_json::from_str(raw).unwrap();
    assert_eq!(kept, fixture("future_kind"), "the update is kept exactly as it came");
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    assert_eq!(store.sync_value("telegram", "unsupported").unwrap().as_deref(), Some("1"));
}

#[test]
fn a_text_of_4096_characters_is_taken_and_one_more_is_refused() {
    let text = "я".repeat(4096);
    assert!(Outgoing::text(text.clone()).check(ChannelKind::Telegram).is_ok());
    let err = Outgoing::text(text + "!").check(ChannelKind::Telegram).unwrap_err();
    assert!(err.contains("4097") && err.contains("4096"), "{err}");
    let caption = Outgoing {
        kind: "photo".into(),
        attachment: Some("https://x/y.jpg".into()),
        ..Outgoing::text("я".repeat(1025))
    };
    assert!(caption.check(ChannelKind::Telegram).unwrap_err().contains("caption"));
}

#[test]
fn the_export_shows_kinds_edits_clicks_and_failures() {
    let mut store = Store::open_in_memory().unwrap();
    for name in ["text_entities", "photo", "reply", "edited_message"] {
        ingest(&mut store, name);
    }
    let conversation = store.find_conversation(ChannelKind::Telegram, ANNA).unwrap().unwrap();
    let out = Outgoing {
        buttons: vec![vec![Button::parse("👍 Отлично=rate:good").unwrap()]],
        ..Outgoing::text("Как вам доставка?")
    };
    let ours = store.enqueue_message(conversation, &out, "maria", 10, switchboard::model::now_ms()).unwrap();
    store.mark_sent(ours, Some("500"), 1).unwrap();
    ingest(&mut store, "callback_query");
    let failed = store.enqueue(conversation, "ещё", "maria", 10, switchboard::model::now_ms()).unwrap();
    store.fail(failed, "the customer blocked the bot", switchboard::model::now_ms()).unwrap();

    let mut out = Vec::new();
    switchboard::export::export(&store, ExportKind::Messages, Format::Jsonl, &mut out).unwrap();
    let rows: Vec<serde_json::Value> =
        String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let by = |key: &str, value: &str| {
        rows.iter().find(|r| r[key] == value).unwrap_or_else(|| panic!("{key}={value}: {rows:?}"))
    };
    let photo = by("kind", "photo");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(photo["media"].as_str().unwrap()).unwrap()["file_id"],
        "AgACAgIAAxk-large"
    );
    let edited = by("external_id", "10");
    assert_eq!((edited["edit_count"].as_i64(), edited["original_text"].as_str()), (Some(1), Some("Да, вот этот")));
    assert_eq!(edited["text"], "Да, вот этот (синий)");
    assert_eq!(edited["reply_to"], "1");
    let survey = by("external_id", "500");
    assert_eq!(survey["clicks"], 1);
    assert!(survey["buttons"].as_str().unwrap().contains("rate:good"));
    let click = by("kind", "click");
    assert_eq!((click["text"].as_str(), click["reply_to"].as_str()), (Some("pressed “👍 Отлично”"), Some("500")));
    let failure = by("status", "failed");
    assert_eq!(failure["error"], "the customer blocked the bot");
}

#[test]
fn service_messages_are_notices_that_never_mark_a_conversation_waiting() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "group");
    // An agent answers the group's question.
    let conversation = store.find_conversation(ChannelKind::Telegram, "-1001234567890").unwrap().unwrap();
    store.enqueue(conversation, "From 10 boxes", "maria", 10, 1_763_719_610_000).unwrap();
    ingest(&mut store, "group_member_joined");
    ingest(&mut store, "group_pinned");
    let notices: Vec<(String, String)> = {
        let mut stmt = store
            .conn()
            .prepare("SELECT kind, body FROM messages WHERE external_id IN ('78', '79') ORDER BY external_id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(
        notices,
        vec![
            ("system".to_string(), "Мария joined the group".to_string()),
            ("system".to_string(), "Bob Stone pinned “@shop_bot what is the minimum order?”".to_string())
        ]
    );
    assert!(!store.conversation(conversation).unwrap().unanswered, "nobody is waiting for an answer to a notice");
}

#[test]
fn audio_and_venues_read_as_lines_and_keep_what_fetches_them() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "audio");
    ingest(&mut store, "venue");
    let rows: Vec<(String, String, String)> = {
        let mut stmt = store.conn().prepare("SELECT kind, body, media FROM messages ORDER BY external_id").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str()),
        ("audio", "[audio Земфира – Искала, 3:05]\nВот эта песня из рекламы?")
    );
    assert!(rows[0].2.contains("CQACAgIAAxkBAAIBWmZ1aUdio"), "the file id is kept");
    assert_eq!(rows[1].0, "venue");
    assert_eq!(rows[1].1, "[venue 55.79855, 49.10632: Казанский Кремль, Кремлёвская ул., Казань]");
    assert!(rows[1].2.contains("4bbc5b0c1261d13a5a9f1d41"));
}

#[test]
fn a_press_on_an_inline_message_is_answered_though_nothing_is_stored() {
    let events = events("callback_inline");
    assert!(events.contains(&InboundEvent::AnswerOnly { query_id: "4382bfdwdsb323b2d9".into() }), "{events:?}");
    let presses = switchboard::channels::telegram::presses(&events);
    assert_eq!(presses, vec!["4382bfdwdsb323b2d9".to_string()], "the press is answered");
    let mut store = Store::open_in_memory().unwrap();
    store.ingest(&events, None, switchboard::model::now_ms()).unwrap();
    assert_eq!(store.count("messages").unwrap(), 0);
}

#[test]
fn a_reaction_is_stored_like_whatsapps_and_waits_for_nobody() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "venue");
    let conversation = store.find_conversation(ChannelKind::Telegram, "222333444").unwrap().unwrap();
    store.enqueue(conversation, "Ждём вас!", "maria", 10, 1_763_720_100_000).unwrap();
    ingest(&mut store, "message_reaction");
    let row: (String, String, String) = store
        .conn()
        .query_row("SELECT kind, body, reply_to_external_id FROM messages WHERE kind = 'reaction'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(row, ("reaction".into(), "reacted ❤".into(), "91".into()));
    assert!(!store.conversation(conversation).unwrap().unanswered);
}

#[test]
fn newer_service_messages_are_notices_too() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "community_chat_added");
    ingest(&mut store, "poll_option_added");
    ingest(&mut store, "managed_bot_created");
    assert_eq!(row(&store, "90").1, "the chat was added to the community “Казанские магазины”");
    assert_eq!(row(&store, "91").1, "Bob Stone added the option “Суббота утром” to the poll");
    assert_eq!(row(&store, "12").1, "Анна Петрова created the bot @anna_shop_bot");
    assert_eq!(count(&store, "SELECT count(*) FROM messages WHERE kind != 'system'"), 0);
    assert_eq!(count(&store, "SELECT count(*) FROM conversations WHERE unanswered"), 0);
}

#[test]
fn a_rich_message_reads_block_by_block() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "rich_message");
    let r = row(&store, "13");
    assert_eq!(r.0, "rich_message");
    assert_eq!(
        r.1,
        "Заказ 5512\nПрошу срочно проверить:\nТовар | Кол-во\nTEA-100 | 2\n• доставка до 19:00\n• звонить заранее\n[photo] вот упаковка"
    );
    assert!(r.2.as_deref().unwrap().contains("AgACAgIAAxk-rich"), "the photo's file id is kept");
}

#[test]
fn a_forward_says_where_it_came_from() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "forwarded_from_channel");
    ingest(&mut store, "forwarded_hidden_user");
    let channel = row(&store, "14");
    assert_eq!(channel.1, "[forwarded from Новости магазина]\nСкидка 20% на всё до пятницы!");
    assert_eq!(media_field(&channel, "forward_origin")["message_id"], 301);
    assert_eq!(row(&store, "15").1, "[forwarded from Мария К.]\nМне тоже не пришёл заказ");
}

#[test]
fn a_message_of_a_kind_newer_than_us_names_its_fields_and_is_kept_whole() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, "unknown_message_kind");
    let r = row(&store, "16");
    assert_eq!(
        (r.0.as_str(), r.1.as_str()),
        ("unsupported", "[a kind of message switchboard does not show yet: hologram]")
    );
    assert_eq!(media_field(&r, "raw")["hologram"]["file_id"], "HOLO-1");
}

#[test]
fn a_conversation_made_by_a_send_takes_the_customers_name_when_they_write() {
    let mut store = Store::open_in_memory().unwrap();
    let target = switchboard::store::SendTarget { channel: ChannelKind::Telegram, chat_id: ANNA.into() };
    let (conversation, _) =
        store.enqueue_to_chat(&target, &Outgoing::text("Ваш заказ готов"), "script", 1_763_719_000_000).unwrap();
    assert_eq!(store.conversation(conversation).unwrap().title, ANNA);
    ingest(&mut store, "photo");
    assert_eq!(store.conversation(conversation).unwrap().title, "Анна Петрова");
    // Once named, a later message under another name does not rename it.
    store.conn().execute("UPDATE conversations SET title = 'Анна (опт)' WHERE id = ?1", [conversation.0]).unwrap();
    ingest(&mut store, "voice");
    assert_eq!(store.conversation(conversation).unwrap().title, "Анна (опт)");
}
