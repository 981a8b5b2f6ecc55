//! Automation: the welcome once however often the platform delivers a `/start`, the away
//! reply outside business hours once per closed period (a fake clock: each message's own
//! time), keyword replies in Russian from the canned library that stop once an agent has
//! answered, nothing for STOP words or a customer nothing reaches, every message authored
//! `bot` (also in the export); and the welcome end to end through the engine and the
//! Telegram emulator.

mod common;

use std::time::Duration;

use common::{eventually, inbound, rows};
use serde_json::json;
use switchboard::automation::{Automation, AutomationConfig, HoursConfig, KeywordRule, WelcomeConfig, step};
use switchboard::channels::{Channel, TelegramChannel};
use switchboard::config::{Secret, TelegramConfig};
use switchboard::model::{ConversationStatus, StopPolicy};
use switchboard::sandbox::customers::demo_customers;
use switchboard::sandbox::{EmulatorOptions, TelegramEmulator};
use switchboard::store::{Canned, Store};

const HOUR: i64 = 3_600_000;

/// Moscow local time as an instant (UTC+3 all year).
fn msk(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, 0).unwrap().and_utc().timestamp_millis()
        - 3 * HOUR
}

fn config() -> AutomationConfig {
    let week = [
        ("mon", "09:00-18:00"),
        ("tue", "09:00-18:00"),
        ("wed", "09:00-18:00"),
        ("thu", "09:00-18:00"),
        ("fri", "09:00-18:00"),
    ]
    .into_iter()
    .map(|(d, s)| (d.to_string(), s.to_string()))
    .collect();
    AutomationConfig {
        welcome: Some(WelcomeConfig {
            enabled: true,
            text: "Здравствуйте! Чем помочь?".into(),
            payloads: [("promo_x".to_string(), "Спасибо, что пришли по акции!".to_string())].into_iter().collect(),
        }),
        hours: Some(HoursConfig {
            enabled: true,
            time_zone: "Europe/Moscow".into(),
            week,
            holidays: vec![],
            away: Some("Мы ответим {{next_open}} (по Москве).".into()),
            language: Some("ru".into()),
        }),
        keywords: vec![KeywordRule {
            name: "delivery".into(),
            enabled: true,
            words: vec!["доставка".into(), "когда привезут".into()],
            regex: None,
            reply: "Доставка".into(),
            tag: Some("delivery".into()),
            stage: None,
            assign: None,
        }],
        csat: None,
    }
}

fn store() -> Store {
    let store = Store::open_in_memory().unwrap();
    let canned = Canned {
        name: "Доставка".into(),
        body: "{{first_name|Здравствуйте}}, курьер привезёт заказ завтра.".into(),
        ..Canned::default()
    };
    store.save_canned(&canned, 0).unwrap().unwrap();
    store
}

/// What the bot has queued, oldest first.
fn bot(store: &Store) -> Vec<String> {
    rows(store, "SELECT body FROM messages WHERE author = 'bot' ORDER BY id")
        .into_iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect()
}

fn run(store: &mut Store, automation: &Automation, now: i64) -> usize {
    step(store, automation, &StopPolicy::default(), now).unwrap()
}

#[test]
fn history_is_never_answered_and_a_welcome_goes_once() {
    let mut store = store();
    let automation = Automation::new(&config()).unwrap();
    let open = msk(2026, 12, 1, 11, 0);
    store.ingest(&[inbound(7, "Старый клиент", 1, "доставка?", open - HOUR)], None, open).unwrap();
    assert_eq!(run(&mut store, &automation, open), 0, "what was there before automation stays unanswered");

    let start = inbound(42, "Анна Петрова", 1, "/start promo_x", open);
    store.ingest(std::slice::from_ref(&start), None, open).unwrap();
    run(&mut store, &automation, open);
    // Redelivered, and started again later: still one welcome.
    store.ingest(std::slice::from_ref(&start), None, open).unwrap();
    store.ingest(&[inbound(42, "Анна Петрова", 2, "/start", open + 60_000)], None, open).unwrap();
    run(&mut store, &automation, open + 60_000);
    assert_eq!(bot(&store), ["Спасибо, что пришли по акции!"]);
    let fired = store.automation_fired().unwrap();
    assert_eq!((fired[0].rule.as_str(), fired[0].who.as_str(), fired[0].times), ("welcome", "Анна Петрова", 1));
}

#[test]
fn away_goes_once_per_closed_period_and_says_when() {
    let mut store = store();
    let automation = Automation::new(&config()).unwrap();
    run(&mut store, &automation, 0);
    // Friday 4 December, 19:00 in Moscow: closed until Monday 09:00.
    let friday = msk(2026, 12, 4, 19, 0);
    store.ingest(&[inbound(42, "Анна", 1, "Здравствуйте, вы работаете?", friday)], None, friday).unwrap();
    store.ingest(&[inbound(42, "Анна", 2, "Алло?", friday + HOUR)], None, friday).unwrap();
    run(&mut store, &automation, friday + HOUR);
    assert_eq!(bot(&store), ["Мы ответим в понедельник 07.12 в 09:00 (по Москве)."]);
    // Open on Monday: nothing; closed again that evening: a new period, a new reply.
    let monday = msk(2026, 12, 7, 10, 0);
    store.ingest(&[inbound(42, "Анна", 3, "Добрый день", monday)], None, monday).unwrap();
    let evening = msk(2026, 12, 7, 20, 0);
    store.ingest(&[inbound(42, "Анна", 4, "Ещё вопрос", evening)], None, evening).unwrap();
    run(&mut store, &automation, evening);
    assert_eq!(bot(&store).len(), 2);
    assert_eq!(bot(&store)[1], "Мы ответим завтра в 09:00 (по Москве).");
    // An agent working late answers; the customer's next message that night gets no
    // away reply (someone is there), even in a new closed period.
    let conversation = store.find_conversation(switchboard::model::ChannelKind::Telegram, "42").unwrap().unwrap();
    let late = msk(2026, 12, 8, 19, 0);
    store.enqueue(conversation, "Я ещё здесь, помогу", "maria", 10, late).unwrap();
    store.ingest(&[inbound(42, "Анна", 5, "Спасибо!", late + 60_000)], None, late).unwrap();
    run(&mut store, &automation, late + 60_000);
    assert_eq!(bot(&store).len(), 2);
    // The bot's reply leaves the customer waiting for a person.
    let waiting = rows(&store, "SELECT unanswered FROM conversations");
    assert_eq!(waiting, vec![vec![json!(1)]]);
}

#[test]
fn a_keyword_reply_in_russian_stops_once_an_agent_answers_until_resolved() {
    let mut store = store();
    // No business hours here: only the keyword rule answers. Resolving stamps the wall
    // clock, so this history is the last ten minutes.
    let automation = Automation::new(&AutomationConfig { hours: None, ..config() }).unwrap();
    run(&mut store, &automation, 0);
    let t = switchboard::model::now_ms() - 600_000;
    store.ingest(&[inbound(42, "Анна Петрова", 1, "А когда ПРИВЕЗУТ мой заказ?", t)], None, t).unwrap();
    run(&mut store, &automation, t);
    assert_eq!(bot(&store), ["Анна, курьер привезёт заказ завтра."]);
    let tags = rows(&store, "SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id");
    assert_eq!(tags, vec![vec![json!("delivery")]]);
    // STOP is consent's, never a keyword's; "доставкой" is another word.
    store.ingest(&[inbound(42, "Анна Петрова", 2, "STOP", t + 1000)], None, t).unwrap();
    store.ingest(&[inbound(42, "Анна Петрова", 3, "с доставкой всё ок", t + 2000)], None, t).unwrap();
    run(&mut store, &automation, t + 2000);
    assert_eq!(bot(&store).len(), 1);

    // An agent answers: the rule stays quiet in this conversation…
    let conversation = store.find_conversation(switchboard::model::ChannelKind::Telegram, "42").unwrap().unwrap();
    store.enqueue(conversation, "Уточню и вернусь", "maria", 10, t + 3000).unwrap();
    store.ingest(&[inbound(42, "Анна Петрова", 4, "Доставка?", t + 4000)], None, t).unwrap();
    run(&mut store, &automation, t + 4000);
    assert_eq!(bot(&store).len(), 1);
    // …until it is resolved; then the customer's next question gets it again.
    store.set_status(conversation, ConversationStatus::Resolved).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let later = switchboard::model::now_ms();
    store.ingest(&[inbound(42, "Анна Петрова", 5, "Когда привезут?", later)], None, later).unwrap();
    run(&mut store, &automation, later);
    assert_eq!(bot(&store).len(), 2);

    // In the export, the bot is the author.
    let mut out = Vec::new();
    switchboard::export::export(
        &store,
        switchboard::export::ExportKind::Messages,
        switchboard::export::Format::Jsonl,
        &mut out,
    )
    .unwrap();
    let exported = String::from_utf8(out).unwrap();
    assert!(exported.contains("\"author\":\"bot\""), "{exported}");
}

#[test]
fn a_customer_nothing_reaches_gets_nothing_and_the_log_says_why() {
    let mut store = store();
    let automation = Automation::new(&config()).unwrap();
    run(&mut store, &automation, 0);
    let t = msk(2026, 12, 1, 11, 0);
    store.ingest(&[inbound(42, "Анна", 1, "доставка", t)], None, t).unwrap();
    let conversation = store.find_conversation(switchboard::model::ChannelKind::Telegram, "42").unwrap().unwrap();
    store.conn().execute("UPDATE conversations SET blocked_at = 1 WHERE id = ?1", [conversation]).unwrap();
    run(&mut store, &automation, t);
    assert!(bot(&store).is_empty());
    let fired = store.automation_fired().unwrap();
    assert_eq!(fired[0].detail, "not sent: the customer blocked the bot on Telegram");
}

#[test]
fn a_bad_rule_is_named_in_the_config() {
    let text = "[automation.hours]\ntime_zone = \"Europe/Moscow\"\nweek = { mon = \"9-18\" }\n";
    let err = switchboard::config::Config::parse(text, std::path::Path::new("c.toml")).unwrap_err().to_string();
    assert!(err.contains("line 1") && err.contains("`9-18` is not HH:MM-HH:MM"), "{err}");
    let text = "[[automation.keywords]]\nname = \"x\"\nregex = \"(\"\nreply = \"y\"\n";
    let err = switchboard::config::Config::parse(text, std::path::Path::new("c.toml")).unwrap_err().to_string();
    assert!(err.contains("the regex"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_welcomes_a_telegram_start_once_under_redelivery() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    Store::open(&db).unwrap();
    let token = "123:test-token";
    let emu =
        TelegramEmulator::start("127.0.0.1:0".parse().unwrap(), token, demo_customers(1), EmulatorOptions::default())
            .await
            .unwrap();
    let chat = demo_customers(1)[0].id;
    let lock = switchboard::sync::EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
    let telegram = TelegramConfig { poll_timeout_secs: 1, ..TelegramConfig::new(Secret::new(token), emu.url()) };
    let channel = Channel::Telegram(TelegramChannel::new(&telegram).unwrap());
    let automation = AutomationConfig { hours: None, keywords: vec![], ..config() };
    let _engine = switchboard::sync::Engine::start_with(
        lock,
        &db,
        vec![channel],
        &Default::default(),
        &Default::default(),
        &Default::default(),
        &automation,
    )
    .unwrap();
    // Give automation its first look (history before it is never answered).
    tokio::time::sleep(Duration::from_millis(700)).await;
    let update = json!({"message": {"message_id": 901, "date": switchboard::model::now_ms() / 1000,
        "chat": {"id": chat, "type": "private", "first_name": "Анна"},
        "from": {"id": chat, "is_bot": false, "first_name": "Анна"},
        "text": "/start promo_x", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}});
    emu.push_update(update.clone());
    let sent = emu.wait_for_sent(1, Duration::from_secs(20)).await;
    assert_eq!(sent[0].text, "Спасибо, что пришли по акции!");
    // The platform delivers the same message again: nothing more is sent.
    emu.push_update(update);
    let again = eventually(Duration::from_secs(3), || (emu.sent().len() > 1).then_some(())).await;
    assert!(again.is_none(), "{:?}", emu.sent());
    let store = Store::open(&db).unwrap();
    assert_eq!(bot(&store), ["Спасибо, что пришли по акции!"]);
}

fn csat_config() -> AutomationConfig {
    common::csat_automation()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csat_on_resolve_records_the_press_and_the_comment_once_a_month() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    Store::open(&db).unwrap();
    let token = "123:test-token";
    let emu =
        TelegramEmulator::start("127.0.0.1:0".parse().unwrap(), token, demo_customers(1), EmulatorOptions::default())
            .await
            .unwrap();
    let chat = demo_customers(1)[0].id;
    let lock = switchboard::sync::EngineLock::try_acquire(&dir.path().join("engine.lock")).unwrap().unwrap();
    let telegram = TelegramConfig { poll_timeout_secs: 1, ..TelegramConfig::new(Secret::new(token), emu.url()) };
    let channel = Channel::Telegram(TelegramChannel::new(&telegram).unwrap());
    let _engine = switchboard::sync::Engine::start_with(
        lock,
        &db,
        vec![channel],
        &Default::default(),
        &Default::default(),
        &Default::default(),
        &csat_config(),
    )
    .unwrap();
    emu.customer_says(chat, "Где мой заказ?");
    let conversation = eventually(Duration::from_secs(20), || {
        Store::open(&db)
            .unwrap()
            .find_conversation(switchboard::model::ChannelKind::Telegram, &chat.to_string())
            .unwrap()
    })
    .await
    .expect("the conversation");
    let mut store = Store::open(&db).unwrap();
    store.enqueue(conversation, "Уже в пути!", "maria", 10, switchboard::model::now_ms()).unwrap();
    emu.wait_for_sent(1, Duration::from_secs(20)).await;
    store.set_status(conversation, ConversationStatus::Resolved).unwrap();

    // The survey: five buttons in Telegram's inline keyboard, sent by the bot.
    let sent = emu.wait_for_sent(2, Duration::from_secs(20)).await;
    assert_eq!(sent[1].text, "Как мы справились?");
    let keyboard = sent[1].reply_markup.as_ref().unwrap()["inline_keyboard"][0].as_array().unwrap().clone();
    let data: Vec<&str> = keyboard.iter().map(|b| b["callback_data"].as_str().unwrap()).collect();
    assert_eq!(data, ["csat:1", "csat:2", "csat:3", "csat:4", "csat:5"]);
    // A press names our message by Telegram's id, which the store has once the send is
    // confirmed (a person takes longer than that; the emulator would not).
    let confirmed = eventually(Duration::from_secs(20), || {
        let n = rows(
            &Store::open(&db).unwrap(),
            "SELECT count(*) FROM messages WHERE author = 'bot' AND external_id IS NOT NULL",
        );
        (n[0][0] == json!(1)).then_some(())
    })
    .await;
    assert!(confirmed.is_some(), "the survey's send confirmed");
    emu.customer_presses(chat, sent[1].message_id, "csat:4");
    let scored = eventually(Duration::from_secs(20), || {
        let contact = Store::open(&db).unwrap().contact_of(conversation).unwrap()?;
        let scores = Store::open(&db).unwrap().csat_scores(contact).unwrap();
        scores.first().and_then(|s| s.score).map(|_| (contact, scores))
    })
    .await
    .expect("the score recorded");
    assert_eq!(scored.1[0].score, Some(4));
    assert_eq!(scored.1[0].agent.as_deref(), Some("maria"), "against the agent who answered");
    // The next words are the comment, and no rule answers them.
    emu.customer_says(chat, "Быстро, спасибо");
    let comment = eventually(Duration::from_secs(20), || {
        Store::open(&db).unwrap().csat_scores(scored.0).unwrap()[0].comment.clone()
    })
    .await;
    assert_eq!(comment.as_deref(), Some("Быстро, спасибо"));
    let card = Store::open(&db).unwrap().contact_card(scored.0).unwrap();
    assert_eq!(card.csat.len(), 1);

    // Resolved again the same month: not asked again.
    let store = Store::open(&db).unwrap();
    store.set_status(conversation, ConversationStatus::Open).unwrap();
    store.set_status(conversation, ConversationStatus::Resolved).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(emu.sent().len(), 2, "{:?}", emu.sent());
}

#[test]
fn csat_is_skipped_with_the_reason_when_a_whatsapp_window_has_closed() {
    use switchboard::model::{ChannelKind, ChatRef, InboundEvent, InboundMessage, Peer};
    let mut store = Store::open_in_memory().unwrap();
    let automation = Automation::new(&csat_config()).unwrap();
    let now = switchboard::model::now_ms();
    run(&mut store, &automation, now);
    let chat = ChatRef {
        channel: ChannelKind::WhatsApp,
        external_chat_id: "79161234567".into(),
        is_group: false,
        title: "Анна".into(),
    };
    let from =
        Peer { external_id: "79161234567".into(), display_name: "Анна".into(), username: None, locale: None };
    let old = InboundMessage::text(chat, from, "wamid.1".into(), "Здравствуйте".into(), now - 2 * 24 * HOUR);
    store.ingest(&[InboundEvent::Message(old)], None, now).unwrap();
    let conversation = store.find_conversation(ChannelKind::WhatsApp, "79161234567").unwrap().unwrap();
    std::thread::sleep(Duration::from_millis(2));
    store.set_status(conversation, ConversationStatus::Resolved).unwrap();
    run(&mut store, &automation, switchboard::model::now_ms());
    assert!(bot(&store).is_empty());
    let fired = store.automation_fired().unwrap();
    assert_eq!(fired[0].rule, "csat");
    assert!(
        fired[0].detail.contains("window has closed") && fired[0].detail.contains("whatsapp_template"),
        "{:?}",
        fired[0]
    );
}

#[test]
fn csat_is_asked_and_scored_on_whatsapp_viber_and_vk_too() {
    use switchboard::model::{ChannelKind, ChatRef, Click, InboundEvent, InboundMessage, Peer};
    let mut store = Store::open_in_memory().unwrap();
    let automation = Automation::new(&csat_config()).unwrap();
    run(&mut store, &automation, switchboard::model::now_ms());
    for (channel, chat) in
        [(ChannelKind::WhatsApp, "79161234567"), (ChannelKind::Viber, "vb+user=="), (ChannelKind::Vk, "51422811")]
    {
        let now = switchboard::model::now_ms();
        let c = ChatRef { channel, external_chat_id: chat.into(), is_group: false, title: "Анна".into() };
        let p =
            Peer {
                external_id: chat.into(), display_name: "Анна".into(), username: None, locale: Some("ru".into())
            };
        let m = InboundMessage::text(c.clone(), p.clone(), format!("{chat}-1"), "Здравствуйте".into(), now - 60_000);
        store.ingest(&[InboundEvent::Message(m)], None, now).unwrap();
        let conversation = store.find_conversation(channel, chat).unwrap().unwrap();
        store.enqueue(conversation, "Готово!", "maria", 10, now - 30_000).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        store.set_status(conversation, ConversationStatus::Resolved).unwrap();
        run(&mut store, &automation, switchboard::model::now_ms());
        let survey = rows(
            &store,
            &format!("SELECT id, buttons FROM messages WHERE conversation_id = {} AND author = 'bot'", conversation.0),
        );
        assert_eq!(survey.len(), 1, "{channel:?}: the survey is queued");
        assert!(survey[0][1].as_str().unwrap().contains("csat:5"), "{channel:?}");
        let id = switchboard::model::MessageId(survey[0][0].as_i64().unwrap());
        store.mark_sent(id, Some(&format!("{chat}-survey")), switchboard::model::now_ms()).unwrap();
        let press = Click {
            chat: c,
            from: p,
            query_id: format!("{chat}-press"),
            message_external_id: Some(format!("{chat}-survey")),
            data: Some("csat:4".into()),
            label: None,
            at: switchboard::model::now_ms(),
        };
        store.ingest(&[InboundEvent::Click(press)], None, switchboard::model::now_ms()).unwrap();
        run(&mut store, &automation, switchboard::model::now_ms());
        let contact = store.contact_of(conversation).unwrap().unwrap();
        assert_eq!(store.csat_scores(contact).unwrap()[0].score, Some(4), "{channel:?}");
        // The press leaves the conversation resolved, a WhatsApp press (a message) too.
        let status = rows(&store, &format!("SELECT status FROM conversations WHERE id = {}", conversation.0));
        assert_eq!(status[0][0], "resolved", "{channel:?}");
    }
}

#[test]
fn vk_message_allow_is_welcomed_and_platform_events_are_not_answered() {
    use switchboard::model::{ChannelKind, ChatRef, InboundEvent, Membership, Peer};
    let mut store = store();
    let automation = Automation::new(&config()).unwrap();
    run(&mut store, &automation, 0);
    // Saturday night in Moscow: closed, but a platform event gets no away reply.
    let night = msk(2026, 12, 5, 23, 0);
    let member = |channel, chat: &str, blocked, at| {
        let c = ChatRef { channel, external_chat_id: chat.into(), is_group: false, title: "Анна".into() };
        let p = Peer { external_id: chat.into(), display_name: "Анна".into(), username: None, locale: None };
        InboundEvent::Membership(Membership { chat: c, from: p, blocked, at, key: None, event_id: None })
    };
    store.ingest(&[member(ChannelKind::Vk, "51422811", false, night)], None, night).unwrap();
    store.ingest(&[member(ChannelKind::Telegram, "42", false, night)], None, night).unwrap();
    run(&mut store, &automation, night);
    assert_eq!(bot(&store), ["Здравствуйте! Чем помочь?"], "VK's message_allow is welcomed, once");
}
