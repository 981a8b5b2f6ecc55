//! The segment/campaign panel and the contact card, driven by keys through `update` and
//! drawn on a TestBackend: what a marketer and an agent do and see, with no terminal.

use chrono::FixedOffset;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use switchboard::app::action::ContactEdit;
use switchboard::app::{Action, AppState, Effect, update};
use switchboard::campaign::{CampaignPolicy, Filter};
use switchboard::keymap::Keymap;
use switchboard::model::{ChannelKind, ContactId, ConversationId, ConversationStatus, now_ms};
use switchboard::store::{ConversationRow, Store};
use switchboard::theme::Styles;

const NOW: i64 = 1_700_000_000_000;

fn state() -> AppState {
    AppState::new(Keymap::default(), "maria".into(), NOW, FixedOffset::east_opt(0).unwrap(), (140, 40))
}

fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn typed(s: &mut AppState, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        effects = update(s, key(KeyCode::Char(c)));
    }
    effects
}

fn screen(s: &AppState) -> String {
    let mut terminal = Terminal::new(TestBackend::new(s.size.0, s.size.1)).unwrap();
    terminal.draw(|f| switchboard::ui::draw(f, s, &Styles::load("dark", false).unwrap())).unwrap();
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

/// A store with three customers, for the effects the panel asks for.
fn store() -> Store {
    let mut store = Store::open_in_memory().unwrap();
    for (i, name) in ["Анна Петрова", "Emma Wilson", "Ольга"].iter().enumerate() {
        let event = switchboard::model::InboundEvent::Message(switchboard::model::InboundMessage::text(
            switchboard::model::ChatRef {
                channel: ChannelKind::Telegram,
                external_chat_id: i.to_string(),
                is_group: false,
                title: name.to_string(),
            },
            switchboard::model::Peer {
                external_id: i.to_string(),
                display_name: name.to_string(),
                username: None,
                locale: None,
            },
            format!("m{i}"),
            "Здравствуйте".into(),
            now_ms() - 3_600_000,
        ));
        store.ingest(&[event], None, switchboard::model::now_ms()).unwrap();
        let contact = store.contact_by_identity(ChannelKind::Telegram, &i.to_string()).unwrap().unwrap();
        if i < 2 {
            store
                .record_agent_consent(
                    contact,
                    ChannelKind::Telegram,
                    "marketing",
                    true,
                    "form",
                    "t",
                    switchboard::model::now_ms(),
                )
                .unwrap();
        }
    }
    store
}

/// Performs what the runtime would for the panel's effects, on `store`.
fn perform(s: &mut AppState, store: &mut Store, effects: Vec<Effect>) {
    for effect in effects {
        let action = match effect {
            Effect::LoadSegment { generation, filter } => {
                let f = Filter::parse(&filter).unwrap();
                let result = Ok((
                    store.count_members(&f.condition(switchboard::model::now_ms())).unwrap(),
                    store.sample_members(&f.condition(switchboard::model::now_ms()), 10).unwrap(),
                ));
                Action::SegmentLoaded { generation, result }
            }
            Effect::PlanCampaign { generation, filter, message, policy } => {
                let f = Filter::parse(&filter).unwrap();
                Action::Planned {
                    generation,
                    result: Ok(switchboard::campaign::preview::Preview::make(
                        store,
                        &f,
                        &message,
                        &policy,
                        switchboard::model::now_ms(),
                    )
                    .unwrap()),
                }
            }
            Effect::RenderPreview { generation, at, contacts, message, policy } => Action::PreviewRendered {
                generation,
                at,
                result: Ok(switchboard::campaign::preview::Preview::render(
                    store,
                    &contacts,
                    &message,
                    &policy,
                    switchboard::model::now_ms(),
                )
                .unwrap()),
            },
            Effect::LaunchCampaign { name, segment, filter, message, policy } => {
                let l = switchboard::campaign::launch::launch(
                    store,
                    &name,
                    segment.as_deref(),
                    &filter,
                    &message,
                    &policy,
                    switchboard::model::now_ms(),
                )
                .unwrap();
                Action::Launched(Ok(format!("campaign `{name}` launched: {} queued", l.plan.totals.included)))
            }
            Effect::LoadCampaigns { results_of, .. } => Action::CampaignsLoaded {
                campaigns: store.campaign_names().unwrap().iter().map(|n| store.campaign_status(n).unwrap()).collect(),
                results: results_of.map(|n| switchboard::campaign::results::of(store, &n).unwrap()),
            },
            Effect::Person(request) => Action::Person(switchboard::app::person::answer(store, request)),
            Effect::LoadContact(contact) => {
                Action::ContactLoaded(store.contact_card(contact).map_err(|e| e.to_string()))
            }
            _ => continue,
        };
        let more = update(s, action);
        perform(s, store, more);
    }
}

#[test]
fn a_marketer_builds_a_segment_previews_and_launches() {
    let mut s = state();
    s.policy = CampaignPolicy::permissive();
    let mut store = store();
    let effects = update(&mut s, key(KeyCode::Char('C')));
    assert!(effects.iter().any(|e| matches!(e, Effect::LoadSegment { .. })), "{effects:?}");
    assert!(effects.contains(&Effect::ListSegments));
    perform(&mut s, &mut store, effects);

    // A bad term: no query, and the error points at it.
    let effects = typed(&mut s, "consent:marketing stag:x");
    assert!(effects.is_empty(), "a filter that does not parse is not run: {effects:?}");
    let text = screen(&s);
    assert!(text.contains("^ unknown key `stag`"), "{text}");
    assert!(text.contains("Members: the filter does not parse"));
    for _ in 0.." stag:x".len() {
        update(&mut s, key(KeyCode::Backspace));
    }
    let effects = update(&mut s, key(KeyCode::Char(' ')));
    perform(&mut s, &mut store, effects);
    let text = screen(&s);
    assert!(text.contains("Members: 2"), "{text}");
    assert!(text.contains("Анна Петрова") && text.contains("Emma Wilson") && !text.contains("Ольга"));

    // Launch needs a name, then a preview of exactly this form, then a second press.
    update(&mut s, key(KeyCode::Tab));
    typed(&mut s, "autumn");
    update(&mut s, key(KeyCode::Tab));
    typed(&mut s, "Привет, {{first_name}}!");
    update(&mut s, key(KeyCode::Tab));
    typed(&mut s, "Hi {{first_name}} 👋");
    assert!(update(&mut s, ctrl('l')).is_empty());
    assert!(s.notice.as_ref().unwrap().text.contains("preview first"));
    let effects = update(&mut s, ctrl('p'));
    assert!(matches!(effects.as_slice(), [Effect::PlanCampaign { .. }]), "{effects:?}");
    perform(&mut s, &mut store, effects);
    let text = screen(&s);
    assert!(text.contains("2 members · 2 get it · 0 left out"), "{text}");
    assert!(text.contains("Привет, Анна!") || text.contains("Hi Анна 👋"), "{text}");
    assert!(update(&mut s, ctrl('l')).is_empty(), "the first press only asks");
    assert!(s.notice.as_ref().unwrap().text.contains("again sends `autumn` to 2 customers"));
    let effects = update(&mut s, ctrl('l'));
    assert!(matches!(effects.as_slice(), [Effect::LaunchCampaign { name, .. }] if name == "autumn"), "{effects:?}");
    perform(&mut s, &mut store, effects);
    let text = screen(&s);
    assert!(text.contains("▶ autumn") && text.contains("running"), "{text}");
    assert_eq!(store.campaign_status("autumn").unwrap().queued, 2);

    // Esc closes the panel; the form is still there when it opens again.
    update(&mut s, key(KeyCode::Esc));
    assert!(!screen(&s).contains("Segments and campaigns"));
    update(&mut s, key(KeyCode::Char('C')));
    assert!(screen(&s).contains("autumn"));
}

/// A preview keeps a row per member but renders only a page of them: scrolling far
/// down renders the rows there, the same as the whole plan has at those places.
#[test]
fn a_large_preview_renders_the_rows_it_scrolls_to() {
    large_preview((140, 40));
}

/// A terminal taller than a page: each page asked for still covers the screen.
#[test]
fn a_large_preview_in_a_tall_terminal_renders_the_rows_it_scrolls_to() {
    large_preview((140, 100));
}

fn large_preview(size: (u16, u16)) {
    use switchboard::campaign::preview::{PAGE, Row};
    let mut s = state();
    s.size = size;
    s.policy = CampaignPolicy::permissive();
    let mut store = Store::open_in_memory().unwrap();
    for i in 0..150 {
        let name = format!("Клиент {i:03}");
        let event = switchboard::model::InboundEvent::Message(switchboard::model::InboundMessage::text(
            switchboard::model::ChatRef {
                channel: ChannelKind::Telegram,
                external_chat_id: (1000 + i).to_string(),
                is_group: false,
                title: name.clone(),
            },
            switchboard::model::Peer {
                external_id: (1000 + i).to_string(),
                display_name: name,
                username: None,
                locale: None,
            },
            format!("m{i}"),
            "Здравствуйте".into(),
            now_ms() - 3_600_000,
        ));
        store.ingest(&[event], None, now_ms()).unwrap();
        // Every third has not agreed to campaigns: left out, after those who get it.
        if i % 3 != 0 {
            let contact = store.contact_by_identity(ChannelKind::Telegram, &(1000 + i).to_string()).unwrap().unwrap();
            store
                .record_agent_consent(contact, ChannelKind::Telegram, "marketing", true, "form", "t", now_ms())
                .unwrap();
        }
    }
    let effects = update(&mut s, key(KeyCode::Char('C')));
    perform(&mut s, &mut store, effects);
    let effects = typed(&mut s, "channel:telegram");
    perform(&mut s, &mut store, effects);
    update(&mut s, key(KeyCode::Tab));
    typed(&mut s, "p");
    update(&mut s, key(KeyCode::Tab));
    typed(&mut s, "Привет, {{first_name}}!");
    let effects = update(&mut s, ctrl('p'));
    perform(&mut s, &mut store, effects);
    let preview = s.campaign_panel.as_ref().unwrap().plan.as_ref().expect("a preview");
    assert_eq!((preview.rows.len(), preview.totals.included, preview.totals.excluded), (150, 100, 50));
    assert!(preview.page.len() <= PAGE, "only a page is rendered: {}", preview.page.len());
    assert!(screen(&s).contains("150 members · 100 get it · 50 left out"));

    // The whole plan, for what each place should show.
    let whole = switchboard::campaign::launch::plan(
        &store,
        &Filter::parse("channel:telegram").unwrap(),
        &preview.message,
        &preview.policy,
        now_ms(),
    )
    .unwrap();
    let expected = |at: usize| match whole.included.get(at) {
        Some(i) => i.name.clone(),
        None => whole.excluded[at - whole.included.len()].name.clone(),
    };
    // A member far down is deleted before the marketer gets there: the row keeps its
    // place and says so, and the page is not asked for again and again.
    let gone = whole.excluded.last().expect("someone left out").contact;
    store
        .conn()
        .execute_batch(&format!("PRAGMA foreign_keys = OFF; DELETE FROM contacts WHERE id = {};", gone.0))
        .unwrap();
    for _ in 0..12 {
        let effects = update(&mut s, key(KeyCode::PageDown));
        perform(&mut s, &mut store, effects);
    }
    let panel = s.campaign_panel.as_ref().unwrap();
    let preview = panel.plan.as_ref().unwrap();
    let offset = panel.preview_offset;
    assert_eq!(offset, 120);
    for at in offset..149 {
        let name = match preview.row(at).unwrap_or_else(|| panic!("row {at} is rendered")) {
            Row::Included(i) => &i.name,
            Row::Excluded(e) => &e.name,
            Row::Gone(c) => panic!("row {at}: {c:?} is still in the store"),
        };
        assert_eq!(name, &expected(at), "row {at}");
    }
    assert_eq!(preview.row(149), Some(&Row::Gone(gone)));
    assert!(panel.rendering.is_none(), "nothing is left asked for");
    let text = screen(&s);
    assert!(text.contains(&expected(offset)) && !text.contains("…\n"), "{text}");
    assert!(text.contains("no_consent"), "those left out show why: {text}");
    for _ in 0..3 {
        let effects = update(&mut s, key(KeyCode::PageDown));
        perform(&mut s, &mut store, effects);
    }
    assert!(screen(&s).contains("(no longer in the store)"), "the last row, at the bottom");
}

#[test]
fn editing_the_contact_card_asks_for_a_consent_note() {
    let mut s = state();
    let row = ConversationRow {
        id: ConversationId(1),
        channel: ChannelKind::WhatsApp,
        external_chat_id: "79001112233".into(),
        contact_id: Some(ContactId(7)),
        is_group: false,
        title: "Сергей".into(),
        status: ConversationStatus::Open,
        last_message_at: NOW,
        last_inbound_at: Some(NOW),
        last_preview: "hi".into(),
        unread: 0,
        unanswered: false,
        blocked_at: None,
        assignee: None,
        snoozed_until: None,
        muted: false,
    };
    let generation = s.list.generation;
    update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows: vec![row] });
    let effects = update(&mut s, key(KeyCode::Char('p')));
    let related = Effect::Person(switchboard::app::person::Request::Related(ContactId(7)));
    assert_eq!(effects, [Effect::LoadContact(ContactId(7)), related]);
    // Consent without a note is refused, with the reason.
    update(&mut s, key(KeyCode::Char('m')));
    let effects = update(&mut s, key(KeyCode::Enter));
    assert!(effects.is_empty());
    assert!(s.notice.as_ref().unwrap().text.contains("needs a note"));
    update(&mut s, key(KeyCode::Char('m')));
    typed(&mut s, "согласился по телефону");
    let effects = update(&mut s, key(KeyCode::Enter));
    assert_eq!(
        effects,
        [Effect::EditContact {
            contact: ContactId(7),
            edit: ContactEdit::Consent {
                channel: ChannelKind::WhatsApp,
                opt_in: true,
                note: "согласился по телефону".into(),
                by: "maria".into()
            }
        }]
    );
    update(&mut s, key(KeyCode::Char('t')));
    typed(&mut s, "vip");
    let effects = update(&mut s, key(KeyCode::Enter));
    assert_eq!(effects, [Effect::EditContact { contact: ContactId(7), edit: ContactEdit::ToggleTag("vip".into()) }]);
    let effects = update(&mut s, key(KeyCode::Char('s')));
    assert_eq!(effects, [Effect::EditContact { contact: ContactId(7), edit: ContactEdit::Stage("new".into()) }]);
    update(&mut s, key(KeyCode::Esc));
    assert!(s.contact_panel().is_none());
    // Merged away in another console: the card closes and says why, once.
    update(&mut s, key(KeyCode::Char('p')));
    update(&mut s, Action::ContactLoaded(Err("contact 7 does not exist".into())));
    assert!(s.contact_panel().is_none());
    assert!(s.notice.as_ref().unwrap().text.contains("merged into another"));
}

#[test]
fn the_contact_card_shows_consent_with_its_evidence() {
    let mut store = store();
    let contact = store.contact_by_identity(ChannelKind::Telegram, "0").unwrap().unwrap();
    store.toggle_tag(contact, "vip").unwrap();
    store.set_attribute(contact, "city", "Казань").unwrap();
    let card = store.contact_card(contact).unwrap();
    let conversation = store.find_conversation(ChannelKind::Telegram, "0").unwrap().unwrap();
    let mut s = state();
    let row = store.conversation(conversation).unwrap();
    let generation = s.list.generation;
    update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows: vec![row] });
    update(&mut s, key(KeyCode::Char('p')));
    update(&mut s, Action::ContactLoaded(Ok(card)));
    let text = screen(&s);
    for expected in ["Анна Петрова", "vip", "city=Казань", "marketing opt-in", "by t", "form", "TG 0"]
    {
        assert!(text.contains(expected), "missing {expected}:\n{text}");
    }
}

#[test]
fn buttons_and_a_whatsapp_template_come_from_the_form() {
    let mut s = state();
    s.templates = vec![switchboard::config::TemplateConfig {
        name: "offer".into(),
        language: "ru".into(),
        body: "Здравствуйте, {{1}}! Скидка ждёт вас.".into(),
    }];
    update(&mut s, key(KeyCode::Char('C')));
    typed(&mut s, "channel:whatsapp");
    for _ in 0..2 {
        update(&mut s, key(KeyCode::Tab));
    }
    typed(&mut s, "Скидка 20%!");
    for _ in 0..3 {
        update(&mut s, key(KeyCode::Tab));
    }
    typed(&mut s, "В магазин=https://shop.example/sale | Не сейчас=later");
    update(&mut s, key(KeyCode::Tab));
    typed(&mut s, "ofer | {{first_name}}");
    assert!(update(&mut s, ctrl('p')).is_empty());
    assert!(s.notice.as_ref().unwrap().text.contains("no template `ofer`"), "{:?}", s.notice);
    for _ in 0.."ofer | {{first_name}}".chars().count() {
        update(&mut s, key(KeyCode::Backspace));
    }
    typed(&mut s, "offer | {{first_name|клиент}}");
    let effects = update(&mut s, ctrl('p'));
    let [Effect::PlanCampaign { message, .. }] = effects.as_slice() else { panic!("{effects:?} {:?}", s.notice) };
    assert_eq!(message.channels, [ChannelKind::WhatsApp]);
    let buttons = &message.variants[0].buttons;
    assert_eq!(buttons[0].len(), 2);
    assert_eq!(buttons[0][0].url.as_deref(), Some("https://shop.example/sale"));
    assert_eq!(buttons[0][1].callback_data.as_deref(), Some("later"));
    assert_eq!(message.whatsapp_template.as_ref().unwrap().template.name, "offer");
}

#[test]
fn the_whole_story_pages_through_every_message_of_both_channels() {
    let mut store = Store::open_in_memory().unwrap();
    let t0 = now_ms() - 1_000 * 60_000;
    // Ninety messages, alternating channels, from one person known on both.
    let mut events = Vec::new();
    for i in 0..90i64 {
        let channel = if i % 2 == 0 { ChannelKind::Telegram } else { ChannelKind::WhatsApp };
        let id = if channel == ChannelKind::Telegram { "42" } else { "79161234567" };
        let chat =
            switchboard::model::ChatRef {
                channel, external_chat_id: id.into(), is_group: false, title: "Анна".into()
            };
        let from = switchboard::model::Peer {
            external_id: id.into(),
            display_name: "Анна".into(),
            username: None,
            locale: None,
        };
        let text = format!("сообщение {i:02}");
        let m = switchboard::model::InboundMessage::text(chat, from, format!("m{i}"), text, t0 + i * 60_000);
        events.push(switchboard::model::InboundEvent::Message(m));
    }
    store.ingest(&events, None, now_ms()).unwrap();
    let tg = store.contact_by_identity(ChannelKind::Telegram, "42").unwrap().unwrap();
    let wa = store.contact_by_identity(ChannelKind::WhatsApp, "79161234567").unwrap().unwrap();
    store.merge_contacts(tg, wa, "maria", now_ms()).unwrap();
    let mut s = state();
    let row = store.conversation(store.find_conversation(ChannelKind::Telegram, "42").unwrap().unwrap()).unwrap();
    let generation = s.list.generation;
    update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows: vec![row] });
    let effects = update(&mut s, key(KeyCode::Char('p')));
    perform(&mut s, &mut store, effects);
    let effects = update(&mut s, key(KeyCode::Char('h')));
    perform(&mut s, &mut store, effects);
    // The terminal shrinks once the first page is read: what no longer fits comes with
    // the next page up.
    update(&mut s, Action::Resize(140, 24));
    // Page by page back to the start, every message is on the screen once.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let text = screen(&s);
        assert!(text.contains("Whole story"), "{text}");
        for i in 0..90 {
            if text.contains(&format!("сообщение {i:02}")) {
                seen.insert(i);
            }
        }
        let effects = update(&mut s, key(KeyCode::PageUp));
        if effects.is_empty() {
            break;
        }
        perform(&mut s, &mut store, effects);
    }
    assert_eq!(seen.len(), 90, "missing: {:?}", (0..90).filter(|i| !seen.contains(i)).collect::<Vec<_>>());
    assert!(screen(&s).contains("TG") && screen(&s).contains("WA"));
    // And back down to the newest.
    for _ in 0..20 {
        let effects = update(&mut s, key(KeyCode::PageDown));
        perform(&mut s, &mut store, effects);
    }
    assert!(screen(&s).contains("сообщение 89"));
}
