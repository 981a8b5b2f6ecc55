//! One customer across channels: phone numbers that platforms vouch for link a person's
//! identities at ingest; claimed numbers, e-mails and names only suggest; merges and
//! splits round-trip conversations and consent; a campaign reaches a person once.

mod common;

use common::app::TestApp;
use crossterm::event::KeyCode;
use serde_json::json;
use switchboard::campaign::{CampaignPolicy, Filter, Message};
use switchboard::channels::telegram::{DecodeOptions, decode_raw};
use switchboard::channels::whatsapp::decode::decode as whatsapp;
use switchboard::export::{ExportKind, Format, export};
use switchboard::model::phone::{LinkMode, Linking, Region};
use switchboard::model::{ChannelKind, ContactId, InboundEvent, Millis, now_ms};
use switchboard::store::{ContactRow, IngestRules, Store};

const MINUTE: Millis = 60_000;

/// A WhatsApp Cloud API call carrying one text from `wa_id`, as Meta sends it.
fn from_whatsapp(wa_id: &str, name: &str, id: &str, text: &str, at: Millis) -> Vec<InboundEvent> {
    whatsapp(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1"},
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": id, "timestamp": (at / 1000).to_string(), "type": "text",
                "text": {"body": text}}]}}]}]}))
    .unwrap()
}

/// A Telegram update from user `user` in their private chat; `contact` shares a number.
fn from_telegram(user: i64, name: &str, id: i64, at: Millis, body: serde_json::Value) -> Vec<InboundEvent> {
    let mut message = json!({"message_id": id, "date": at / 1000,
        "chat": {"id": user, "type": "private", "first_name": name},
        "from": {"id": user, "is_bot": false, "first_name": name}});
    message.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    decode_raw(&json!({"update_id": id, "message": message}), &DecodeOptions::default())
}

fn store_with(mode: LinkMode) -> Store {
    let mut store = Store::open_in_memory().unwrap();
    let region = Region::parse("RU").unwrap();
    store.set_ingest_rules(IngestRules { linking: Linking { mode, region }, ..IngestRules::default() });
    store
}

fn ledger(store: &Store) -> String {
    let mut out = Vec::new();
    export(store, ExportKind::Consent, Format::Jsonl, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn conversations_of(store: &Store, contact: ContactId) -> Vec<i64> {
    store.contact_card(contact).unwrap().conversations.iter().map(|c| c.id.0).collect()
}

#[test]
fn a_whatsapp_and_a_telegram_customer_sharing_a_number_are_one_person() {
    let mut store = store_with(LinkMode::Auto);
    let t0 = now_ms() - 60 * MINUTE;
    store.ingest(&from_whatsapp("79161234567", "Анна", "wamid.1", "Привет из WhatsApp", t0), None, t0).unwrap();
    // On Telegram she first writes, then shares her own number, written another way.
    store
        .ingest(&from_telegram(4242, "Anna", 1, t0 + MINUTE, json!({"text": "Hi from Telegram 👋"})), None, t0)
        .unwrap();
    let tg = store.contact_by_identity(ChannelKind::Telegram, "4242").unwrap().unwrap();
    let wa = store.contact_by_identity(ChannelKind::WhatsApp, "79161234567").unwrap().unwrap();
    assert_ne!(tg, wa, "nothing links them before the number is shared");
    let share = json!({"contact": {"phone_number": "+7 (916) 123-45-67", "first_name": "Anna", "user_id": 4242}});
    store.ingest(&from_telegram(4242, "Anna", 2, t0 + 2 * MINUTE, share), None, t0).unwrap();

    let person = store.contact_by_identity(ChannelKind::Telegram, "4242").unwrap().unwrap();
    assert_eq!(person, wa, "the contact that had the number first stays");
    let card = store.contact_card(person).unwrap();
    let identities: Vec<_> = card.identities.iter().map(|i| (i.channel, i.external_id.as_str())).collect();
    assert_eq!(identities, [(ChannelKind::WhatsApp, "79161234567"), (ChannelKind::Telegram, "4242")]);
    assert_eq!(card.phone.as_deref(), Some("+79161234567"));
    assert!(card.phones.iter().all(|p| p.phone == "+79161234567" && p.verified_by.is_some()), "{:?}", card.phones);
    let timeline = store.timeline_before(person, None, 10).unwrap();
    let story: Vec<_> = timeline.iter().map(|r| (r.channel, r.message.body.as_str())).collect();
    assert_eq!(story[0], (ChannelKind::WhatsApp, "Привет из WhatsApp"));
    assert_eq!(story[1], (ChannelKind::Telegram, "Hi from Telegram 👋"));
    assert_eq!(story.len(), 3, "{story:?}");
    // The link is on record: what, why, when.
    let link = &store.links(person).unwrap()[0];
    let (kind, reason) = (&link.kind, &link.reason);
    assert_eq!((kind.as_str(), link.recorded_by.as_str(), link.other), ("link", "ingest", Some(tg)));
    assert!(reason.contains("+79161234567") && reason.contains("whatsapp") && reason.contains("telegram"), "{reason}");
    assert!(store.duplicates().unwrap().is_empty());

    // A number shared on WhatsApp first, then a new WhatsApp identity of the same person
    // arrives: it attaches at once.
    let t1 = t0 + 10 * MINUTE;
    store.ingest(&from_telegram(77, "Boris", 3, t1, json!({"text": "hello"})), None, t1).unwrap();
    let share = json!({"contact": {"phone_number": "79031112233", "first_name": "Boris", "user_id": 77}});
    store.ingest(&from_telegram(77, "Boris", 4, t1, share), None, t1).unwrap();
    store.ingest(&from_whatsapp("79031112233", "Борис", "wamid.2", "это я", t1 + MINUTE), None, t1).unwrap();
    let boris = store.contact_by_identity(ChannelKind::Telegram, "77").unwrap();
    assert_eq!(boris, store.contact_by_identity(ChannelKind::WhatsApp, "79031112233").unwrap());
}

#[test]
fn a_number_someone_else_shared_or_a_claimed_number_only_suggests() {
    let mut store = store_with(LinkMode::Auto);
    let t0 = now_ms() - 60 * MINUTE;
    // An imported customer claims the number; then the number writes on WhatsApp.
    let row = ContactRow {
        line: 2,
        name: "Анна Петрова".into(),
        phone: Some("+79161234567".into()),
        attributes: [("email".to_string(), "anna@example.com".to_string())].into(),
        ..ContactRow::default()
    };
    store.import_contacts(&[row], t0).unwrap();
    store.ingest(&from_whatsapp("79161234567", "Анна", "wamid.1", "Привет", t0), None, t0).unwrap();
    // A Telegram customer forwards someone else's contact card: not theirs to vouch for.
    let card = json!({"contact": {"phone_number": "79161234567", "first_name": "Anna", "user_id": 999}});
    store.ingest(&from_telegram(5, "Ivan", 1, t0, card), None, t0).unwrap();
    let wa = store.contact_by_identity(ChannelKind::WhatsApp, "79161234567").unwrap().unwrap();
    let ivan = store.contact_by_identity(ChannelKind::Telegram, "5").unwrap().unwrap();
    assert_eq!(store.count("contacts").unwrap(), 3, "nothing was linked");
    assert!(store.phones(ivan).unwrap().is_empty());

    let suggestions = store.duplicates().unwrap();
    assert_eq!(suggestions.len(), 1, "{suggestions:?}");
    let s = &suggestions[0];
    assert!(s.a == wa || s.b == wa);
    assert!(s.reasons[0].contains("+79161234567") && s.reasons[0].contains("claimed by import"), "{:?}", s.reasons);

    // Told they are two people, the pair is no longer suggested.
    store.mark_distinct(s.a, s.b, "test", t0).unwrap();
    assert!(store.duplicates().unwrap().is_empty());
}

#[test]
fn suggest_mode_records_verified_numbers_and_links_nothing() {
    let mut store = store_with(LinkMode::Suggest);
    let t0 = now_ms() - 60 * MINUTE;
    store.ingest(&from_whatsapp("79161234567", "Анна", "wamid.1", "Привет", t0), None, t0).unwrap();
    let share = json!({"contact": {"phone_number": "79161234567", "first_name": "Anna", "user_id": 4242}});
    store.ingest(&from_telegram(4242, "Anna", 1, t0, share), None, t0).unwrap();
    assert_eq!(store.count("contacts").unwrap(), 2);
    let reasons = &store.duplicates().unwrap()[0].reasons;
    assert!(reasons[0].contains("verified by whatsapp; verified by telegram"), "{reasons:?}");
}

/// Two contacts with conversations, consent events on both sides, tags and attributes.
fn two_contacts(store: &mut Store, t0: Millis) -> (ContactId, ContactId) {
    store.ingest(&from_whatsapp("79161234567", "Анна", "wamid.1", "Привет", t0), None, t0).unwrap();
    store.ingest(&from_telegram(4242, "Anna P.", 1, t0 + MINUTE, json!({"text": "/start"})), None, t0).unwrap();
    let wa = store.contact_by_identity(ChannelKind::WhatsApp, "79161234567").unwrap().unwrap();
    let tg = store.contact_by_identity(ChannelKind::Telegram, "4242").unwrap().unwrap();
    store.record_agent_consent(wa, ChannelKind::WhatsApp, "service", true, "asked in chat", "eva", t0).unwrap();
    store.record_agent_consent(tg, ChannelKind::Telegram, "marketing", true, "signed the form", "eva", t0).unwrap();
    store.record_agent_consent(tg, ChannelKind::Telegram, "marketing", false, "asked to stop", "eva", t0 + 1).unwrap();
    store.record_agent_consent(tg, ChannelKind::Telegram, "marketing", true, "signed again", "eva", t0 + 2).unwrap();
    store.set_attribute(wa, "city", "Казань").unwrap();
    store.set_attribute(tg, "city", "Москва").unwrap();
    store.set_attribute(tg, "email", "anna@example.com").unwrap();
    store.add_tag(tg, "vip").unwrap();
    store.set_stage(tg, "customer").unwrap();
    (wa, tg)
}

#[test]
fn merge_then_split_gives_back_conversations_and_consent_exactly() {
    let mut store = store_with(LinkMode::Auto);
    let t0 = now_ms() - 60 * MINUTE;
    let (wa, tg) = two_contacts(&mut store, t0);
    let ledger_before = ledger(&store);
    let (wa_chats, tg_chats) = (conversations_of(&store, wa), conversations_of(&store, tg));
    let tg_card = store.contact_card(tg).unwrap();

    let preview = store.preview_merge(wa, tg).unwrap();
    assert_eq!(preview.conflicts, [("city".to_string(), "Казань".to_string(), "Москва".to_string())]);
    assert_eq!(preview.result.identities.len(), 2);
    assert_eq!(preview.result.stage, "customer", "{}", preview.stage);
    assert!(preview.result.tags.contains(&"vip".to_string()));
    assert_eq!(preview.conversations, 1);
    assert_eq!(preview.consent_events, 3);
    let consent: Vec<_> =
        preview.result.consent.iter().map(|c| (c.channel, c.purpose.as_str(), c.action.as_str())).collect();
    assert_eq!(consent, [(ChannelKind::Telegram, "marketing", "opt_in"), (ChannelKind::WhatsApp, "service", "opt_in")]);
    assert_eq!(store.count("contacts").unwrap(), 2, "a preview changes nothing");
    assert_eq!(ledger(&store), ledger_before);

    store.merge_contacts(wa, tg, "eva", t0 + 5).unwrap();
    let card = store.contact_card(wa).unwrap();
    assert_eq!(card.identities.len(), 2);
    assert_eq!(card.attributes, preview.result.attributes);
    assert!(store.contact_card(tg).is_err());
    let mut all = [wa_chats.clone(), tg_chats.clone()].concat();
    all.sort();
    let mut merged = conversations_of(&store, wa);
    merged.sort();
    assert_eq!(merged, all);
    // The ledger's events only changed hands: same ids, same words.
    let moved = ledger(&store);
    assert_eq!(moved.lines().count(), ledger_before.lines().count());
    assert!(moved.lines().all(|l| l.contains(&format!("\"contact_id\":{}", wa.0))));
    let strip = |s: &str| s.lines().map(|l| l.split("\"channel\"").nth(1).unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(strip(&moved), strip(&ledger_before));

    let split = store.split_contact(wa, ChannelKind::Telegram, "4242", "eva", t0 + 6).unwrap();
    assert_eq!(split.contact, tg, "the contact merged in comes back as it was, under its id");
    assert!(split.restored);
    assert_eq!(ledger(&store), ledger_before, "the ledger is back exactly");
    assert_eq!(conversations_of(&store, wa), wa_chats);
    assert_eq!(conversations_of(&store, tg), tg_chats);
    let back = store.contact_card(tg).unwrap();
    assert_eq!(
        (back.name.as_str(), back.stage.as_str(), &back.tags),
        (tg_card.name.as_str(), "customer", &tg_card.tags)
    );
    assert_eq!(back.attributes, tg_card.attributes);
    // Split apart, they are not suggested again.
    assert!(store.duplicates().unwrap().iter().all(|s| !(s.a == wa && s.b == tg)));
    // Merging with itself, with someone gone, or twice, says what is wrong.
    assert!(store.merge_contacts(wa, wa, "eva", t0).unwrap_err().to_string().contains("with itself"));
    assert!(store.preview_merge(wa, ContactId(999)).unwrap_err().to_string().contains("contact 999 does not exist"));
    let foreign = store.split_contact(wa, ChannelKind::Telegram, "4242", "eva", t0).unwrap_err();
    assert!(foreign.to_string().contains(&format!("belongs to contact {tg}")), "{foreign}");
    // A contact's only identity cannot be split off.
    let only = store.split_contact(tg, ChannelKind::Telegram, "4242", "eva", t0).unwrap_err();
    assert!(only.to_string().contains("only identity"), "{only}");
}

#[test]
fn a_campaign_reaches_a_merged_person_once_on_the_consented_channel() {
    let mut store = store_with(LinkMode::Auto);
    let t0 = now_ms() - 60 * MINUTE;
    let (wa, tg) = two_contacts(&mut store, t0);
    // She wrote on WhatsApp last, but gave marketing consent only on Telegram.
    store.ingest(&from_whatsapp("79161234567", "Анна", "wamid.9", "ещё вопрос", t0 + 30 * MINUTE), None, t0).unwrap();
    let filter = Filter::parse("consent:marketing").unwrap();
    let message = Message::new(&["Скидка 10% для вас".to_string()], 50, vec![], None, "test", vec![]).unwrap();
    let policy = CampaignPolicy::permissive();
    let before = switchboard::campaign::launch::plan(&store, &filter, &message, &policy, now_ms()).unwrap();
    assert_eq!(before.totals.members, 1, "only the Telegram contact has consent");

    store.merge_contacts(wa, tg, "eva", t0 + 5).unwrap();
    let every = Filter::parse("").unwrap();
    let plan = switchboard::campaign::launch::plan(&store, &every, &message, &policy, now_ms()).unwrap();
    assert_eq!(plan.totals.members, 1, "a segment counts people");
    assert_eq!(plan.included.len(), 1);
    assert_eq!(plan.included[0].channel, ChannelKind::Telegram);
    assert_eq!(plan.included[0].why_channel, "the only one with marketing consent");
    // Launched, it queues one message: to her Telegram chat.
    let launched =
        switchboard::campaign::launch::launch(&mut store, "offer", None, "", &message, &policy, now_ms()).unwrap();
    assert_eq!(launched.plan.totals.included, 1);
    let queued: Vec<(String, String)> = store
        .conn()
        .prepare("SELECT channel, chat_id FROM outbox")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(queued, [("telegram".to_string(), "4242".to_string())]);

    // With consent on both, where she wrote last wins; then the configured order.
    store.record_agent_consent(wa, ChannelKind::WhatsApp, "marketing", true, "form", "eva", t0 + 6).unwrap();
    let policy = CampaignPolicy::permissive();
    let plan = switchboard::campaign::launch::plan(&store, &every, &message, &policy, now_ms()).unwrap();
    assert_eq!((plan.included[0].channel, plan.included[0].why_channel), (ChannelKind::WhatsApp, "wrote there last"));
}

#[test]
fn contacts_export_import_export_is_identical() {
    let mut store = store_with(LinkMode::Auto);
    let t0 = now_ms() - 60 * MINUTE;
    let (wa, tg) = two_contacts(&mut store, t0);
    store.merge_contacts(wa, tg, "eva", t0 + 5).unwrap();
    store.set_time_zone(wa, "Europe/Moscow").unwrap();
    store.claim_phone(wa, "8 (495) 123-45-67", Region::parse("RU").unwrap(), "eva", t0).unwrap();
    store.add_tag(wa, "большой клиент").unwrap();
    store.set_attribute(wa, "note", "comma, \"quote\" and ; semicolon").unwrap();
    store.ingest(&from_telegram(9, "Зоя 🌸", 1, t0, json!({"text": "hi"})), None, t0).unwrap();
    let export_csv = |store: &Store| {
        let mut out = Vec::new();
        export(store, ExportKind::Contacts, Format::Csv, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let first = export_csv(&store);
    assert!(first.contains("+79161234567 (whatsapp)") && first.contains("+74951234567"), "{first}");
    assert!(first.contains("whatsapp:79161234567;telegram:4242"), "{first}");

    let (rows, bad) = switchboard::import::parse(first.as_bytes(), std::path::Path::new("contacts.csv")).unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    let mut fresh = Store::open_in_memory().unwrap();
    fresh.import_contacts(&rows, now_ms()).unwrap();
    assert_eq!(export_csv(&fresh), first);
    // Ids twice in a file are a bad row; an id already taken gets a new one.
    let text = "id,name\n7,A\n7,B\n";
    let (_, bad) = switchboard::import::parse(text.as_bytes(), std::path::Path::new("ids.csv")).unwrap();
    assert_eq!(bad[0].to_string(), "line 3: duplicate id 7 (also on line 2)");
    let (rows_with_ids, _) =
        switchboard::import::parse("id,name\n,Earlier\n1,Later\n".as_bytes(), std::path::Path::new("x.csv")).unwrap();
    let mut taken = Store::open_in_memory().unwrap();
    let report = taken.import_contacts(&rows_with_ids, now_ms()).unwrap();
    assert_eq!(report.created, 2, "the row whose id was taken by the one before it gets another");
    // Read back into the store it came from, it changes nothing.
    let again = store.import_contacts(&rows, now_ms()).unwrap();
    assert_eq!((again.created, again.updated), (0, 0), "{again:?}");
    assert_eq!(export_csv(&store), first);
}

#[test]
fn the_cli_lists_duplicates_previews_merges_and_splits() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[contacts]\ndefault_region = \"RU\"\n").unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(
        &file,
        "name,phone,channel,external_id,email,city,consent\n\
         Анна Петрова,8 916 123-45-67,whatsapp,79161234567,anna@example.com,Казань,yes\n\
         анна петрова,,telegram,4242,ANNA@example.com,казань,no\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = common::cli(&config, dir.path(), args);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{args:?}: {}{text}", String::from_utf8_lossy(&out.stderr));
        text
    };
    run(&["import", "contacts", file.to_str().unwrap()]);
    let found = run(&["contacts", "duplicates"]);
    assert!(found.contains("the same e-mail") && found.contains("the same name and city"), "{found}");

    let dry = run(&["contact", "merge", "1", "2", "--dry-run"]);
    assert!(dry.contains("telegram 4242") && dry.contains("whatsapp 79161234567"), "{dry}");
    assert!(dry.contains("conflict: email is anna@example.com (kept) / ANNA@example.com (dropped)"), "{dry}");
    assert!(dry.contains("+79161234567 (claimed)") && dry.contains("dry run"), "{dry}");
    assert!(dry.contains("telegram marketing opt_out") && dry.contains("whatsapp marketing opt_in"), "{dry}");
    assert!(run(&["contacts", "duplicates"]).contains("⇄"), "a dry run changes nothing");

    let merged = run(&["contact", "merge", "1", "2"]);
    assert!(merged.contains("merged: contact 2 is now part of contact 1"), "{merged}");
    assert_eq!(run(&["contacts", "duplicates"]).trim(), "no suggested merges");
    let shown = run(&["contact", "show", "1"]);
    assert!(shown.contains("merge") && shown.contains("telegram 4242"), "{shown}");

    let split = run(&["contact", "split", "1", "--identity", "telegram:4242"]);
    assert!(split.contains("is now contact 2 (given back as it was before the merge)"), "{split}");
    assert!(split.contains("1 consent events"), "{split}");
    let wrong = common::cli(&config, dir.path(), &["contact", "split", "1", "--identity", "telegram"]);
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("is not CHANNEL:ID"));
    let bad_phone = common::cli(&config, dir.path(), &["contact", "phone", "1", "call me"]);
    assert!(!bad_phone.status.success());
    assert!(String::from_utf8_lossy(&bad_phone.stderr).contains("not a phone number"));
    assert!(run(&["contact", "phone", "1", "8 (495) 123-45-67"]).contains("+74951234567 (claimed)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_console_one_person_reads_as_one_and_a_duplicate_is_merged() {
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    let t0 = now - 60 * MINUTE;
    {
        let mut store = Store::open(&dir.path().join("switchboard.db")).unwrap();
        store.ingest(&from_whatsapp("79161234567", "Анна", "wamid.1", "Привет из WhatsApp", t0), None, t0).unwrap();
        let share = json!({"contact": {"phone_number": "79161234567", "first_name": "Anna", "user_id": 4242}});
        store.ingest(&from_telegram(4242, "Anna", 1, t0 + MINUTE, share), None, t0).unwrap();
        store
            .ingest(&from_telegram(4242, "Anna", 2, t0 + 2 * MINUTE, json!({"text": "и в Telegram"})), None, t0)
            .unwrap();
        // Someone else, twice: once from WhatsApp, once from an import with the same e-mail.
        store.ingest(&from_whatsapp("79031112233", "Boris", "wamid.2", "hello", t0 + 3 * MINUTE), None, t0).unwrap();
        let boris = store.contact_by_identity(ChannelKind::WhatsApp, "79031112233").unwrap().unwrap();
        store.set_attribute(boris, "email", "boris@example.com").unwrap();
        let row = ContactRow {
            line: 2,
            name: "Boris K.".into(),
            tags: vec!["vip".into()],
            attributes: [("email".to_string(), "Boris@Example.com".to_string())].into(),
            ..ContactRow::default()
        };
        store.import_contacts(&[row], t0).unwrap();
    }
    let app = TestApp::start(dir.path(), "maria", now);
    app.wait_for("Boris").await;

    // By person, Anna's two conversations sit together, the second marked.
    app.send_keys("b");
    app.wait_for("by person").await;
    let screen = app.wait_for("↳").await;
    assert!(screen.contains("↳ Anna") || screen.contains("↳ Анна"), "{screen}");

    // From her Telegram conversation, one key goes to her WhatsApp one, and back.
    app.send_keys("gj");
    app.wait_for("Anna · telegram private").await;
    app.send_keys("O");
    app.wait_for("Анна · whatsapp private").await;
    app.send_keys("O");
    app.wait_for("Anna · telegram private").await;

    // Her card: both identities, the verified number, the link; her whole story.
    app.send_keys("p");
    app.wait_for("verified by").await;
    let card = app.wait_for("link ·").await;
    assert!(card.contains("+79161234567 (verified by whatsapp)"), "{card}");
    app.send_keys("h");
    app.wait_for("Whole story").await;
    let story = app.wait_for("Привет из WhatsApp").await;
    assert!(story.contains("и в Telegram"), "{story}");
    app.press(KeyCode::Esc);
    app.press(KeyCode::Esc);

    // The suggested duplicate, merged from the list of suggestions.
    app.press(KeyCode::Esc);
    app.send_keys("D");
    app.wait_for("the same e-mail boris@example.com").await;
    app.press(KeyCode::Enter);
    let preview = app.wait_for("Merge contact").await;
    assert!(preview.contains("conflict: email") && preview.contains("vip"), "{preview}");
    app.press(KeyCode::Enter);
    app.wait_for("No suggested merges").await;
    let store = Store::open(&dir.path().join("switchboard.db")).unwrap();
    assert_eq!(store.count("contacts").unwrap(), 2, "Anna and Boris");
    app.quit().await;
}

#[test]
fn migration_15_records_the_numbers_a_store_already_had_and_merges_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.db");
    let t0 = now_ms() - 60 * MINUTE;
    {
        let mut store = Store::open(&path).unwrap();
        store.set_ingest_rules(IngestRules {
            linking: Linking { mode: LinkMode::Off, ..Linking::default() },
            ..IngestRules::default()
        });
        store.ingest(&from_whatsapp("79161234567", "Анна", "wamid.1", "Привет", t0), None, t0).unwrap();
        let share = json!({"contact": {"phone_number": "79161234567", "first_name": "Anna", "user_id": 4242}});
        store.ingest(&from_telegram(4242, "Anna", 1, t0, share), None, t0).unwrap();
        let tg = store.contact_by_identity(ChannelKind::Telegram, "4242").unwrap().unwrap();
        store.record_agent_consent(tg, ChannelKind::Telegram, "marketing", true, "form", "eva", t0).unwrap();
        // As the store stood at schema 14: no numbers, no links, the ledger fully frozen.
        store
            .conn()
            .execute_batch(
                "DROP TABLE contact_phones; DROP TABLE contact_links; DROP TRIGGER consent_events_no_update; \
                 CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events BEGIN \
                   SELECT RAISE(ABORT, 'consent_events is append-only'); END; \
                 PRAGMA user_version = 14;",
            )
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let version: i64 = store.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, switchboard::store::SCHEMA_VERSION);
    let wa = store.contact_by_identity(ChannelKind::WhatsApp, "79161234567").unwrap().unwrap();
    let tg = store.contact_by_identity(ChannelKind::Telegram, "4242").unwrap().unwrap();
    assert_ne!(wa, tg, "the migration links no one");
    let phones = |c| store.phones(c).unwrap().into_iter().map(|p| (p.phone, p.verified_by)).collect::<Vec<_>>();
    assert_eq!(phones(wa), [("+79161234567".to_string(), Some(ChannelKind::WhatsApp))]);
    assert_eq!(phones(tg), [("+79161234567".to_string(), None)], "where a phone came from is not known: claimed");
    let reasons = &store.duplicates().unwrap()[0].reasons;
    assert!(reasons[0].contains("verified by whatsapp; claimed by store"), "{reasons:?}");
    // What an event says still cannot change; whose it is may (a merge moves it).
    let rewrite = store.conn().execute("UPDATE consent_events SET action = 'opt_out'", []).unwrap_err();
    assert!(rewrite.to_string().contains("append-only"), "{rewrite}");
    store.conn().execute("UPDATE consent_events SET contact_id = ?1", [wa.0]).unwrap();
}

#[test]
fn a_campaign_both_contacts_got_keeps_one_row_on_merge_and_both_after_a_split() {
    let mut store = store_with(LinkMode::Auto);
    let t0 = now_ms() - 60 * MINUTE;
    let (wa, tg) = two_contacts(&mut store, t0);
    store.record_agent_consent(wa, ChannelKind::WhatsApp, "marketing", true, "form", "eva", t0).unwrap();
    let message = Message::new(&["Скидка".to_string()], 50, vec![], None, "test", vec![]).unwrap();
    let policy = CampaignPolicy::permissive();
    let launched =
        switchboard::campaign::launch::launch(&mut store, "both", None, "", &message, &policy, now_ms()).unwrap();
    assert_eq!(launched.plan.totals.included, 2);
    let recipients = |store: &Store| -> Vec<(i64, i64, String)> {
        store
            .conn()
            .prepare("SELECT id, contact_id, channel FROM campaign_recipients ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let before = recipients(&store);
    assert_eq!(before.len(), 2);
    store.merge_contacts(wa, tg, "eva", t0 + 5).unwrap();
    let merged = recipients(&store);
    assert_eq!(merged.len(), 1, "one row per campaign and person: {merged:?}");
    assert_eq!(merged[0].1, wa.0);
    store.split_contact(wa, ChannelKind::Telegram, "4242", "eva", t0 + 6).unwrap();
    assert_eq!(recipients(&store), before, "the split gives the row back, as it was");
}

#[test]
fn the_list_by_person_pages_through_everyone_once_with_each_person_together() {
    use switchboard::store::ConversationFilter;
    let mut store = store_with(LinkMode::Auto);
    let t0 = now_ms() - 600 * MINUTE;
    // Twelve people; every third also on WhatsApp (linked by the number they share on
    // Telegram), every fourth answered; and a group.
    for i in 0..12i64 {
        let user = 100 + i;
        let wa_id = format!("7916{:07}", 1_000 + i);
        let at = t0 + i * 7 * MINUTE;
        store.ingest(&from_telegram(user, &format!("P{i}"), 1, at, json!({"text": "привет"})), None, at).unwrap();
        if i % 3 == 0 {
            let share = json!({"contact": {"phone_number": wa_id, "first_name": "P", "user_id": user}});
            store.ingest(&from_telegram(user, &format!("P{i}"), 2, at + MINUTE, share), None, at).unwrap();
            let late = t0 + (40 - i) * 7 * MINUTE;
            store.ingest(&from_whatsapp(&wa_id, &format!("P{i}"), &format!("w{i}"), "hi", late), None, at).unwrap();
        }
        if i % 4 == 0 {
            let c = store.find_conversation(ChannelKind::Telegram, &user.to_string()).unwrap().unwrap();
            store.set_status_at(c, switchboard::model::ConversationStatus::Resolved, at + 3 * MINUTE).unwrap();
        }
    }
    let group = json!({"update_id": 900, "message": {"message_id": 1, "date": t0 / 1000 + 60,
        "chat": {"id": -500, "type": "group", "title": "Клуб"}, "from": {"id": 100, "is_bot": false, "first_name": "P0"},
        "text": "всем привет"}});
    store.ingest(&decode_raw(&group, &DecodeOptions::default()), None, t0).unwrap();

    for status in [None, Some(switchboard::model::ConversationStatus::Open)] {
        let filter = ConversationFilter { by_person: true, status, ..ConversationFilter::default() };
        let whole = store.conversations_page(filter.clone(), None, 1_000).unwrap();
        let plain =
            store.conversations_page(ConversationFilter { by_person: false, ..filter.clone() }, None, 1_000).unwrap();
        let mut ids: Vec<_> = whole.iter().map(|r| r.id).collect();
        ids.sort();
        let mut all: Vec<_> = plain.iter().map(|r| r.id).collect();
        all.sort();
        assert_eq!(ids, all, "the same conversations, each once");
        // Each person's conversations together, people in the order of their most urgent.
        let person = |r: &switchboard::store::ConversationRow| {
            r.contact_id.filter(|_| !r.is_group).map(|c| c.0).unwrap_or(-r.id.0)
        };
        let mut order: Vec<i64> = whole.iter().map(person).collect();
        order.dedup();
        let mut firsts: Vec<i64> = Vec::new();
        for r in &plain {
            if !firsts.contains(&person(r)) {
                firsts.push(person(r));
            }
        }
        assert_eq!(order, firsts, "status {status:?}");
        // Page by page, small pages give the same list.
        for limit in [1, 2, 3, 5] {
            let mut paged = Vec::new();
            let mut after = None;
            loop {
                let page = store.conversations_page(filter.clone(), after, limit).unwrap();
                if page.is_empty() {
                    break;
                }
                after = page.last().map(|r| r.key());
                paged.extend(page);
            }
            let paged: Vec<_> = paged.iter().map(|r| r.id).collect();
            assert_eq!(paged, whole.iter().map(|r| r.id).collect::<Vec<_>>(), "pages of {limit}");
        }
    }
}

#[test]
fn with_linking_off_a_whatsapp_message_keeps_the_number_an_import_chose() {
    let mut store = store_with(LinkMode::Off);
    let t0 = now_ms() - 60 * MINUTE;
    let row = ContactRow {
        line: 2,
        name: "Анна".into(),
        phone: Some("+74951234567".into()),
        identity: Some((ChannelKind::WhatsApp, "79161234567".into())),
        ..ContactRow::default()
    };
    store.import_contacts(&[row], t0).unwrap();
    store.ingest(&from_whatsapp("79161234567", "Анна", "wamid.1", "Привет", t0), None, t0).unwrap();
    let anna = store.contact_by_identity(ChannelKind::WhatsApp, "79161234567").unwrap().unwrap();
    assert_eq!(store.contact_card(anna).unwrap().phone.as_deref(), Some("+74951234567"));
    // A customer with no number gets the one WhatsApp gives.
    store.ingest(&from_whatsapp("79031112233", "Boris", "wamid.2", "hi", t0), None, t0).unwrap();
    let boris = store.contact_by_identity(ChannelKind::WhatsApp, "79031112233").unwrap().unwrap();
    assert_eq!(store.contact_card(boris).unwrap().phone.as_deref(), Some("+79031112233"));
    assert!(store.phones(boris).unwrap().is_empty(), "off records no numbers");
}
