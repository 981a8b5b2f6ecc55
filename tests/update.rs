//! `update` unit tests: keys in, state and effects out; no terminal, network or database.

use chrono::FixedOffset;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use switchboard::app::overlay::Overlay;
use switchboard::app::state::{ComposerMode, Found, MESSAGE_PAGE, MESSAGE_WINDOW, Scroll};
use switchboard::app::{Action, AppState, Effect, Focus, MessageRequest, update};
use switchboard::keymap::Keymap;
use switchboard::model::{ChannelKind, ConversationId, ConversationStatus, DeliveryStatus, Direction, MessageId};
use switchboard::store::{ConversationRow, MessageKey, MessageRow};

const NOW: i64 = 1_700_000_000_000;

fn state() -> AppState {
    AppState::new(Keymap::default(), "maria".into(), NOW, FixedOffset::east_opt(0).unwrap(), (120, 40))
}

fn row(id: i64, unanswered: bool) -> ConversationRow {
    ConversationRow {
        id: ConversationId(id),
        channel: ChannelKind::Telegram,
        external_chat_id: (1000 + id).to_string(),
        contact_id: None,
        is_group: false,
        title: format!("Customer {id}"),
        status: ConversationStatus::Open,
        last_message_at: NOW - id * 60_000,
        last_inbound_at: None,
        last_preview: "hi".into(),
        unread: i64::from(unanswered),
        unanswered,
        blocked_at: None,
        assignee: None,
        snoozed_until: None,
        muted: false,
    }
}

fn message(id: i64) -> MessageRow {
    MessageRow {
        id: MessageId(id),
        direction: if id % 2 == 0 { Direction::In } else { Direction::Out },
        kind: "text".into(),
        body: format!("message {id}"),
        sent_at: NOW - 1_000_000 + id * 1000,
        status: if id % 2 == 0 { DeliveryStatus::Received } else { DeliveryStatus::Sent },
        error: None,
        author: None,
        sender_name: None,
        edited_at: None,
        entities: None,
        buttons: None,
        quote: None,
        deleted_at: None,
        external_id: None,
    }
}

fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// The effects but those every tick sends: the presence heartbeat and the snooze wake.
fn but_routine(effects: Vec<Effect>) -> Vec<Effect> {
    effects.into_iter().filter(|e| !matches!(e, Effect::Heartbeat { .. } | Effect::WakeSnoozed(_))).collect()
}

fn chr(c: char) -> Action {
    key(KeyCode::Char(c))
}

/// A state whose list holds `n` rows (the first `unanswered` of them unanswered), with
/// the first conversation open and its messages loaded.
fn loaded(n: i64, unanswered: i64) -> AppState {
    let mut s = state();
    let generation = s.list.generation;
    let rows: Vec<_> = (1..=n).map(|i| row(i, i <= unanswered)).collect();
    let effects = update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows });
    assert!(matches!(effects[..], [Effect::LoadMessages { .. }]), "{effects:?}");
    // A full page, so there is more history above.
    let request = MessageRequest::Latest { limit: 20 };
    let rows = (1..=20).map(message).collect();
    update(&mut s, Action::MessagesLoaded { conversation: ConversationId(1), request, rows });
    s
}

#[test]
fn the_first_load_opens_the_top_conversation() {
    let s = loaded(5, 2);
    assert_eq!(s.open.as_ref().unwrap().row.id, ConversationId(1));
    assert_eq!(s.open.as_ref().unwrap().messages.len(), 20);
    assert_eq!(s.focus, Focus::List);
}

#[test]
fn moving_the_selection_opens_that_conversation() {
    let mut s = loaded(5, 2);
    let effects = update(&mut s, chr('j'));
    assert_eq!(s.list.selected, 1);
    assert_eq!(
        effects,
        vec![Effect::LoadMessages {
            conversation: ConversationId(2),
            request: MessageRequest::Latest { limit: MESSAGE_PAGE }
        }]
    );
    update(&mut s, key(KeyCode::Up));
    update(&mut s, key(KeyCode::Up));
    assert_eq!(s.list.selected, 0, "stops at the top");
    update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT)));
    assert_eq!(s.list.selected, 4);
}

#[test]
fn enter_opens_the_composer_and_marks_read() {
    let mut s = loaded(3, 1);
    let effects = update(&mut s, key(KeyCode::Enter));
    assert_eq!(s.focus, Focus::Composer);
    assert_eq!(effects, vec![Effect::MarkRead { conversation: ConversationId(1), agent: "maria".into() }]);
}

#[test]
fn typing_and_enter_enqueues_and_clears() {
    let mut s = loaded(3, 1);
    update(&mut s, key(KeyCode::Enter));
    for c in "Добрый день! 👋".chars() {
        update(&mut s, chr(c));
    }
    update(&mut s, Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)));
    for c in "Second line".chars() {
        update(&mut s, chr(c));
    }
    assert_eq!(s.composer_text(), "Добрый день! 👋\nSecond line");
    let effects = update(&mut s, key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Enqueue {
            conversation: ConversationId(1),
            text: "Добрый день! 👋\nSecond line".into(),
            author: "maria".into()
        }]
    );
    assert_eq!(s.composer_text(), "");
    assert!(update(&mut s, key(KeyCode::Enter)).is_empty(), "an empty composer sends nothing");
}

#[test]
fn a_message_arriving_in_the_conversation_in_view_is_read() {
    let mut s = loaded(3, 1);
    update(&mut s, key(KeyCode::Enter));
    let generation = s.list.generation + 1;
    update(&mut s, Action::StoreChanged);
    let rows = vec![row(1, true), row(2, false), row(3, false)];
    let effects = update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows });
    assert_eq!(effects, vec![Effect::MarkRead { conversation: ConversationId(1), agent: "maria".into() }]);
    // From the list, a new message stays unread.
    update(&mut s, key(KeyCode::Esc));
    let generation = s.list.generation + 1;
    update(&mut s, Action::StoreChanged);
    let rows = vec![row(1, true), row(2, false), row(3, false)];
    assert!(update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows }).is_empty());
}

#[test]
fn a_draft_stays_with_its_conversation() {
    let mut s = loaded(3, 1);
    update(&mut s, key(KeyCode::Enter));
    for c in "for customer one".chars() {
        update(&mut s, chr(c));
    }
    update(&mut s, key(KeyCode::Esc));
    update(&mut s, chr('j'));
    assert_eq!(s.open_id(), Some(ConversationId(2)));
    assert_eq!(s.composer_text(), "", "the draft does not follow to another customer");
    update(&mut s, key(KeyCode::Enter));
    assert!(update(&mut s, key(KeyCode::Enter)).is_empty(), "nothing to send here");
    update(&mut s, key(KeyCode::Esc));
    update(&mut s, chr('k'));
    assert_eq!(s.composer_text(), "for customer one");
}

#[test]
fn a_click_selects_a_conversation_and_the_wheel_moves() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut s = loaded(5, 1);
    let at = |kind, column, row| Action::Mouse(MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE });
    // Rows start below the list's border, two lines per conversation.
    update(&mut s, at(MouseEventKind::Down(MouseButton::Left), 5, 5));
    assert_eq!(s.list.selected, 2);
    update(&mut s, at(MouseEventKind::ScrollDown, 5, 5));
    assert_eq!(s.list.selected, 3);
    update(&mut s, at(MouseEventKind::Down(MouseButton::Left), 80, 37));
    assert_eq!(s.focus, Focus::Composer);
}

#[test]
fn q_types_in_the_composer_but_quits_from_the_list() {
    let mut s = loaded(3, 1);
    update(&mut s, key(KeyCode::Enter));
    assert!(update(&mut s, chr('q')).is_empty());
    assert_eq!(s.composer_text(), "q");
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(s.focus, Focus::List);
    // The "q" is an unsent draft: the first q keeps it and asks, the second quits.
    let drafts = vec![(ConversationId(1), "q".to_string())];
    let first = update(&mut s, chr('q'));
    assert_eq!(first, vec![Effect::SaveDrafts { agent: s.agent.clone(), drafts }]);
    assert!(!s.quit);
    assert!(s.notice.as_ref().unwrap().text.contains("1 unsent draft is kept"), "{:?}", s.notice);
    assert_eq!(update(&mut s, chr('q')), vec![Effect::Quit]);
    assert!(s.quit);
}

#[test]
fn another_key_between_the_two_quits_asks_again() {
    let mut s = loaded(3, 1);
    update(&mut s, key(KeyCode::Enter));
    update(&mut s, chr('x'));
    update(&mut s, key(KeyCode::Esc));
    update(&mut s, chr('q'));
    update(&mut s, chr('j'));
    assert!(!update(&mut s, chr('q')).contains(&Effect::Quit), "asked again");
    assert_eq!(update(&mut s, chr('q')), vec![Effect::Quit]);
}

#[test]
fn drafts_are_saved_on_the_tick_after_typing_and_removed_once_sent() {
    let mut s = loaded(3, 1);
    update(&mut s, key(KeyCode::Enter));
    for c in "Добрый день".chars() {
        update(&mut s, chr(c));
    }
    let effects = but_routine(update(&mut s, Action::Tick(NOW + 1_000)));
    let agent = s.agent.clone();
    assert_eq!(
        effects,
        vec![Effect::SaveDrafts {
            agent: agent.clone(), drafts: vec![(ConversationId(1), "Добрый день".into())]
        }]
    );
    assert!(but_routine(update(&mut s, Action::Tick(NOW + 2_000))).is_empty(), "unchanged: nothing written");
    update(&mut s, key(KeyCode::Enter));
    let effects = but_routine(update(&mut s, Action::Tick(NOW + 3_000)));
    assert_eq!(effects, vec![Effect::SaveDrafts { agent, drafts: vec![(ConversationId(1), String::new())] }]);
}

#[test]
fn stored_drafts_come_back_at_start() {
    let mut s = loaded(3, 1);
    update(
        &mut s,
        Action::DraftsLoaded(vec![
            (ConversationId(1), "для открытого".into()),
            (ConversationId(2), "для второго".into()),
        ]),
    );
    assert_eq!(s.composer_text(), "для открытого");
    update(&mut s, chr('j'));
    assert_eq!(s.composer_text(), "для второго");
    assert!(
        but_routine(update(&mut s, Action::Tick(NOW + 1_000))).is_empty(),
        "what the store has is not written again"
    );
}

#[test]
fn ctrl_c_quits_from_anywhere() {
    let mut s = loaded(3, 1);
    update(&mut s, key(KeyCode::Enter));
    let effects = update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
    assert_eq!(effects, vec![Effect::Quit]);
}

#[test]
fn a_paste_goes_into_the_composer_with_its_line_breaks() {
    let mut s = loaded(3, 1);
    update(&mut s, Action::Paste("line one\r\nline two".into()));
    assert_eq!(s.focus, Focus::Composer);
    assert_eq!(s.composer_text(), "line one\nline two");
}

#[test]
fn next_unanswered_jumps_and_wraps() {
    let mut s = state();
    let generation = s.list.generation;
    let rows = vec![row(1, true), row(2, false), row(3, true), row(4, false)];
    update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows });
    update(&mut s, chr('n'));
    assert_eq!(s.list.selected, 2);
    update(&mut s, chr('n'));
    assert_eq!(s.list.selected, 0);
}

#[test]
fn filters_cycle_and_reload_from_the_top() {
    let mut s = loaded(3, 1);
    let effects = update(&mut s, chr('c'));
    assert_eq!(s.list.filter.channel, Some(ChannelKind::Telegram));
    assert!(matches!(&effects[..], [Effect::LoadList { after: None, .. }]));
    assert!(s.list.rows.is_empty() && s.open.is_none());
    // Through every other channel, then back to all of them.
    for _ in 1..=ChannelKind::ALL.len() {
        update(&mut s, chr('c'));
    }
    assert_eq!(s.list.filter.channel, None, "back to all channels");
    update(&mut s, chr('s'));
    assert_eq!(s.list.filter.status, Some(ConversationStatus::Open));
}

#[test]
fn a_late_answer_to_an_old_request_is_dropped() {
    let mut s = loaded(3, 1);
    let stale = s.list.generation;
    update(&mut s, Action::StoreChanged);
    update(&mut s, Action::ListLoaded { generation: stale, after: None, limit: 100, rows: vec![row(9, false)] });
    assert_eq!(s.list.rows.len(), 3);
}

#[test]
fn the_selection_stays_on_its_conversation_when_the_order_changes() {
    let mut s = loaded(3, 0);
    update(&mut s, chr('j'));
    assert_eq!(s.list.selected_row().unwrap().id, ConversationId(2));
    let generation = s.list.generation + 1;
    update(&mut s, Action::StoreChanged);
    let rows = vec![row(3, true), row(1, false), row(2, false)];
    update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows });
    assert_eq!(s.list.selected_row().unwrap().id, ConversationId(2));
    // A short list shows everything: the newcomer is in view, nothing to announce.
    assert!(s.list.new_above.is_empty());

    // A list longer than the pane: the row at the top of the view stays at the top, and
    // what comes above it is announced, not scrolled to.
    let mut s = loaded(40, 0);
    update(&mut s, chr('j'));
    let reload = |s: &mut AppState, first: Vec<i64>| {
        let generation = s.list.generation + 1;
        update(s, Action::StoreChanged);
        let rest = (1..=40).filter(|i| !first.contains(i));
        let rows = first.iter().copied().chain(rest).map(|i| row(i, false)).collect();
        update(s, Action::ListLoaded { generation, after: None, limit: 100, rows });
    };
    reload(&mut s, vec![41]);
    assert_eq!(s.list.selected_row().unwrap().id, ConversationId(2));
    assert_eq!(s.list.rows[s.list.offset].id, ConversationId(1));
    assert_eq!(s.list.new_above, [ConversationId(41)].into_iter().collect());
    // One more, and one from further down that has news: three to tell.
    reload(&mut s, vec![42, 30, 41]);
    assert_eq!((s.list.new_above.len(), s.list.rows[s.list.offset].id), (3, ConversationId(1)));
    // Going to the top shows them: no longer news.
    update(&mut s, chr('g'));
    assert!(s.list.new_above.is_empty());
    assert_eq!(s.list.offset, 0);

    // The top row itself moving down (answered, say) is no news: the rows that were in
    // view below it come up, as they were seen.
    let mut s = loaded(40, 0);
    let generation = s.list.generation + 1;
    update(&mut s, Action::StoreChanged);
    let mut moved = row(1, false);
    moved.last_message_at -= 1;
    let rows: Vec<_> = (2..=6).map(|i| row(i, false)).chain([moved]).chain((7..=40).map(|i| row(i, false))).collect();
    update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows });
    assert_eq!((s.list.offset, s.list.new_above.len()), (0, 0));
    assert_eq!(s.list.selected_row().unwrap().id, ConversationId(1), "the selection follows its conversation");
}

#[test]
fn scrolling_up_loads_older_messages_and_keeps_the_anchor() {
    let mut s = loaded(3, 1);
    update(&mut s, key(KeyCode::Tab));
    assert_eq!(s.focus, Focus::Conversation);
    let effects = update(&mut s, chr('k'));
    let view = s.open.as_ref().unwrap();
    assert_eq!(view.scroll, Scroll::Bottom(18));
    // Within the margin of the window's start: the next page is asked for.
    let Some(Effect::LoadMessages { request: MessageRequest::Older { before, limit }, .. }) = effects.last() else {
        panic!("{effects:?}");
    };
    assert_eq!(before.id, MessageId(1));
    let older = (-199..=0).map(message).collect();
    update(
        &mut s,
        Action::MessagesLoaded {
            conversation: ConversationId(1),
            request: MessageRequest::Older { before: *before, limit: *limit },
            rows: older,
        },
    );
    let view = s.open.as_ref().unwrap();
    assert_eq!(view.messages.len(), 220);
    assert_eq!(view.scroll, Scroll::Bottom(218), "the same message stays at the bottom");
    assert!(!view.at_oldest);
}

#[test]
fn the_window_never_grows_past_its_cap() {
    let mut s = loaded(3, 1);
    update(&mut s, key(KeyCode::Tab));
    for round in 0..8i64 {
        update(&mut s, chr('k'));
        let first = s.open.as_ref().unwrap().messages[0].key();
        let rows = (0..200).map(|i| message(-(round + 1) * 1000 + i)).collect();
        update(
            &mut s,
            Action::MessagesLoaded {
                conversation: ConversationId(1),
                request: MessageRequest::Older { before: first, limit: 200 },
                rows,
            },
        );
    }
    let view = s.open.as_ref().unwrap();
    assert_eq!(view.messages.len(), MESSAGE_WINDOW);
    assert!(!view.at_newest, "the newest end was dropped and will load again");
}

#[test]
fn bottom_follows_again() {
    let mut s = loaded(3, 1);
    update(&mut s, key(KeyCode::Tab));
    update(&mut s, chr('k'));
    update(&mut s, chr('j'));
    assert_eq!(s.open.as_ref().unwrap().scroll, Scroll::Follow);
}

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut s = loaded(3, 1);
    update(&mut s, chr('?'));
    assert!(matches!(s.overlay, Overlay::Help(_)));
    update(&mut s, chr('x'));
    assert!(s.overlay.is_none());
    // Over the contact card, the help gives the card back when it closes.
    s.list.rows[0].contact_id = Some(switchboard::model::ContactId(1));
    update(&mut s, chr('p'));
    assert!(s.contact_panel().is_some());
    update(&mut s, key(KeyCode::F(1)));
    assert!(matches!(s.overlay, Overlay::Help(_)));
    update(&mut s, chr('x'));
    assert!(s.contact_panel().is_some(), "the card is back");
}

#[test]
fn resolve_toggles_the_open_conversation() {
    let mut s = loaded(3, 1);
    assert_eq!(update(&mut s, chr('x')), vec![Effect::SetStatus(ConversationId(1), ConversationStatus::Resolved)]);
}

#[test]
fn errors_show_in_the_status_bar_then_expire() {
    let mut s = loaded(3, 1);
    update(&mut s, Action::Error("disk \x1b[2J full".into()));
    assert_eq!(s.notice.as_ref().unwrap().text, "disk ␛[2J full");
    update(&mut s, Action::Tick(NOW + 60_000));
    assert!(s.notice.is_none());
}

#[test]
fn a_text_over_the_channel_limit_is_refused_and_kept() {
    let mut s = loaded(3, 1);
    update(&mut s, key(KeyCode::Enter));
    update(&mut s, Action::Paste("я".repeat(4097)));
    assert!(update(&mut s, key(KeyCode::Enter)).is_empty());
    assert!(s.notice.as_ref().unwrap().text.contains("4097"), "{:?}", s.notice);
    assert_eq!(s.composer_text().chars().count(), 4097, "the text stays to be shortened");
}

fn open_whatsapp(last_inbound_hours_ago: i64) -> AppState {
    let mut s = state();
    s.templates = vec![switchboard::config::TemplateConfig {
        name: "order_update".into(),
        language: "en_US".into(),
        body: "Hi {{1}}, your order {{2}} is ready".into(),
    }];
    let generation = s.list.generation;
    let mut r = row(1, true);
    r.channel = ChannelKind::WhatsApp;
    r.last_inbound_at = Some(NOW - last_inbound_hours_ago * 3_600_000);
    update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows: vec![r] });
    update(&mut s, key(KeyCode::Enter));
    s
}

#[test]
fn inside_the_window_free_text_goes() {
    let mut s = open_whatsapp(3);
    assert_eq!(s.window().map(|w| w.0), Some(true));
    for c in "hello".chars() {
        update(&mut s, chr(c));
    }
    assert!(matches!(&update(&mut s, key(KeyCode::Enter))[..], [Effect::Enqueue { .. }]));
}

#[test]
fn outside_the_window_only_a_template_goes() {
    let mut s = open_whatsapp(30);
    for c in "hello".chars() {
        update(&mut s, chr(c));
    }
    assert!(update(&mut s, key(KeyCode::Enter)).is_empty());
    assert!(s.notice.as_ref().unwrap().text.contains("24-hour window closed"), "{:?}", s.notice);
    assert_eq!(s.composer_text(), "hello", "kept");
    // Ctrl-T opens the picker; Enter takes the template; the parameters go one per line.
    update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL)));
    assert!(matches!(s.overlay, Overlay::Templates(_)));
    update(&mut s, key(KeyCode::Enter));
    let ComposerMode::Template(t, kept) = &s.mode else { panic!("{:?}", s.mode) };
    assert_eq!(kept, "hello", "what was typed is put aside");
    assert_eq!(t.name, "order_update");
    for c in "Ann".chars() {
        update(&mut s, chr(c));
    }
    assert!(update(&mut s, key(KeyCode::Enter)).is_empty(), "one parameter of two");
    assert!(s.notice.as_ref().unwrap().text.contains("takes 2 parameters"));
    update(&mut s, Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)));
    for c in "5512".chars() {
        update(&mut s, chr(c));
    }
    let effects = update(&mut s, key(KeyCode::Enter));
    let [Effect::EnqueueOutgoing { outgoing, .. }] = &effects[..] else { panic!("{effects:?}") };
    assert_eq!(outgoing.kind, "template");
    assert_eq!(outgoing.text, "Hi Ann, your order 5512 is ready");
    let spec: serde_json::Value = serde_json::from_str(outgoing.attachment.as_deref().unwrap()).unwrap();
    assert_eq!(spec, serde_json::json!({"name": "order_update", "language": "en_US", "params": ["Ann", "5512"]}));
    assert_eq!(s.mode, ComposerMode::Reply, "back to plain replies");
    assert_eq!(s.composer_text(), "hello", "and the reply typed before is back");
}

#[test]
fn an_unsubscribed_viber_customer_cannot_be_written_to() {
    let mut s = state();
    let generation = s.list.generation;
    let mut r = row(1, true);
    r.channel = ChannelKind::Viber;
    r.blocked_at = Some(NOW - 60_000);
    update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows: vec![r] });
    update(&mut s, key(KeyCode::Enter));
    for c in "hi".chars() {
        update(&mut s, chr(c));
    }
    assert!(update(&mut s, key(KeyCode::Enter)).is_empty());
    assert!(s.notice.as_ref().unwrap().text.contains("unsubscribed"));
}

#[test]
fn assign_me_takes_the_conversation_and_gives_it_back() {
    let mut s = loaded(3, 1);
    let agent = s.agent.clone();
    assert_eq!(update(&mut s, chr('a')), vec![Effect::Assign(ConversationId(1), Some(agent.clone()))]);
    s.open.as_mut().unwrap().row.assignee = Some(agent);
    assert_eq!(update(&mut s, chr('a')), vec![Effect::Assign(ConversationId(1), None)]);
}

#[test]
fn snooze_offers_presets_and_takes_a_typed_time() {
    let mut s = loaded(3, 1);
    assert!(update(&mut s, chr('z')).is_empty());
    assert!(matches!(s.overlay, Overlay::Snooze(_)));
    assert_eq!(update(&mut s, key(KeyCode::Enter)), vec![Effect::Snooze(ConversationId(1), Some(NOW + 3_600_000))]);
    assert!(s.overlay.is_none());
    // The presets by ↓; the fourth is until they write.
    update(&mut s, chr('z'));
    for _ in 0..3 {
        update(&mut s, key(KeyCode::Down));
    }
    assert_eq!(update(&mut s, key(KeyCode::Enter)), vec![Effect::Snooze(ConversationId(1), None)], "until they write");
    // Tomorrow at 9:00 and Monday at 9:00 in the agent's zone, both ahead.
    for (downs, at_most_days) in [(1, 2), (2, 8)] {
        update(&mut s, chr('z'));
        for _ in 0..downs {
            update(&mut s, key(KeyCode::Down));
        }
        let [Effect::Snooze(_, Some(t))] = update(&mut s, key(KeyCode::Enter))[..] else { panic!("a time") };
        assert!(t > NOW && t - NOW <= at_most_days * 86_400_000, "{downs}: {t}");
        use chrono::{Datelike, TimeZone, Timelike};
        let local = s.tz.timestamp_millis_opt(t).unwrap();
        assert_eq!((local.hour(), local.minute()), (9, 0));
        if downs == 2 {
            assert_eq!(local.weekday(), chrono::Weekday::Mon);
        }
    }
    // A typed time goes first, read in the agent's zone; typing filters the presets.
    update(&mut s, chr('z'));
    for c in "3h".chars() {
        update(&mut s, chr(c));
    }
    assert_eq!(update(&mut s, key(KeyCode::Enter)), vec![Effect::Snooze(ConversationId(1), Some(NOW + 3 * 3_600_000))]);
    update(&mut s, chr('z'));
    for c in "until".chars() {
        update(&mut s, chr(c));
    }
    assert_eq!(update(&mut s, key(KeyCode::Enter)), vec![Effect::Snooze(ConversationId(1), None)]);
    // Esc leaves it be.
    update(&mut s, chr('z'));
    assert!(update(&mut s, key(KeyCode::Esc)).is_empty());
    assert!(s.overlay.is_none());
    assert_eq!(update(&mut s, chr('R')), vec![Effect::Resend(ConversationId(1), s.agent.clone())]);
}

#[test]
fn the_view_cycles_all_mine_unassigned_and_reloads() {
    let mut s = loaded(3, 1);
    let effects = update(&mut s, chr('v'));
    assert_eq!(s.list.filter.assignee, Some(Some("maria".to_string())));
    assert!(
        matches!(&effects[..], [Effect::LoadList { filter, after: None, .. }] if filter.assignee == Some(Some("maria".into())))
    );
    update(&mut s, chr('v'));
    assert_eq!(s.list.filter.assignee, Some(None));
    update(&mut s, chr('v'));
    assert_eq!(s.list.filter.assignee, None, "back to all");
}

#[test]
fn a_note_is_written_in_the_composer_and_never_sent() {
    let mut s = loaded(3, 1);
    // From the conversation, N writes a note; ctrl-n in the composer switches back.
    s.focus = switchboard::app::Focus::Conversation;
    update(&mut s, chr('N'));
    assert!((s.mode == ComposerMode::Note) && s.focus == switchboard::app::Focus::Composer);
    for c in "Клиент VIP".chars() {
        update(&mut s, chr(c));
    }
    let effects = update(&mut s, key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::AddNote {
            conversation: ConversationId(1), text: "Клиент VIP".into(), author: "maria".into()
        }]
    );
    assert!(!(s.mode == ComposerMode::Note), "the next one is a reply again");
    update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::CONTROL)));
    assert!((s.mode == ComposerMode::Note));
    update(&mut s, key(KeyCode::Esc));
    assert!(
        !(s.mode == ComposerMode::Note) && s.focus == switchboard::app::Focus::Composer,
        "Esc leaves note mode first"
    );
}

#[test]
fn a_customers_new_message_rings_with_a_desktop_notice_when_unfocused() {
    let mut s = loaded(3, 1);
    s.notify = switchboard::config::NotifyKind::Osc9;
    let reload = |s: &mut switchboard::app::AppState, rows: Vec<ConversationRow>| {
        let generation = s.list.generation;
        update(s, Action::ListLoaded { generation, after: None, limit: 100, rows })
    };
    let rings =
        |effects: Vec<Effect>| effects.into_iter().filter(|e| matches!(e, Effect::Notify { .. })).collect::<Vec<_>>();
    assert!(rings(reload(&mut s, (1..=3).map(|i| row(i, i == 1)).collect())).is_empty(), "the first look only learns");
    update(&mut s, Action::Focus(false));
    let mut rows: Vec<_> = (1..=3).map(|i| row(i, i == 1)).collect();
    rows[0].last_message_at = NOW + 1000;
    rows[0].last_preview = "А где заказ?".into();
    assert_eq!(
        rings(reload(&mut s, rows)),
        vec![Effect::Notify {
            kind: switchboard::config::NotifyKind::Osc9,
            title: "Customer 1".into(),
            body: "А где заказ?".into(),
            desktop: true
        }]
    );
    // Muted (m): the same news rings nothing; the row shows it muted at once.
    update(&mut s, chr('m'));
    assert!(s.list.rows[0].muted && s.open.as_ref().unwrap().row.muted);
    let mut rows: Vec<_> = (1..=3).map(|i| row(i, i == 1)).collect();
    rows[0].last_message_at = NOW + 2000;
    rows[0].muted = true;
    assert!(rings(reload(&mut s, rows)).is_empty(), "a muted conversation rings nothing");
}

#[test]
fn search_finds_as_you_type_and_enter_opens_the_conversation() {
    let mut s = loaded(3, 1);
    update(&mut s, chr('/'));
    assert!(s.search().is_some());
    update(&mut s, chr('ё'));
    let effects = update(&mut s, chr('л'));
    assert_eq!(effects, vec![Effect::Search { generation: 2, query: "ёл".into() }]);
    let hit = |conversation: i64| switchboard::store::SearchHit {
        message: MessageId(conversation * 10),
        conversation: ConversationId(conversation),
        channel: ChannelKind::Telegram,
        title: format!("Customer {conversation}"),
        body: "Ёлка ещё есть?".into(),
        sent_at: NOW,
    };
    // An answer to an older query is dropped; the current one shows.
    update(&mut s, Action::Found { generation: 1, result: Ok(vec![hit(2)]) });
    assert!(s.search().unwrap().hits.is_empty());
    update(&mut s, Action::Found { generation: 2, result: Ok(vec![hit(2), hit(3)]) });
    update(&mut s, key(KeyCode::Down));
    let found =
        Found { query: "ёл".into(), words: vec!["ел".into()], at: MessageKey { sent_at: NOW, id: MessageId(30) } };
    assert_eq!(
        update(&mut s, key(KeyCode::Enter)),
        vec![Effect::OpenConversation { conversation: ConversationId(3), found: Some(found.clone()) }]
    );
    assert!(s.search().is_none());
    // It opens at the message: a page each side of it.
    let effects = update(&mut s, Action::ConversationRead { result: Ok(row(3, false)), found: Some(found.clone()) });
    let around = MessageRequest::Around { at: found.at, limit: 100 };
    assert!(
        effects.contains(&Effect::LoadMessages { conversation: ConversationId(3), request: around }),
        "{effects:?}"
    );
    assert_eq!(s.open_id(), Some(ConversationId(3)));
    // n asks for the next match after it; one in the loaded window is scrolled to.
    let mut messages: Vec<_> = (25..36).map(message).collect();
    messages[5].sent_at = NOW;
    update(&mut s, Action::MessagesLoaded { conversation: ConversationId(3), request: around, rows: messages });
    assert_eq!(s.open.as_ref().unwrap().scroll, Scroll::Top(4), "the match, with one before it");
    assert_eq!(s.focus, Focus::Conversation);
    let effects = update(&mut s, chr('n'));
    assert_eq!(
        effects,
        vec![Effect::FindMatch {
            conversation: ConversationId(3), query: "ёл".into(), from: found.at, forward: true
        }]
    );
    let next = MessageKey { sent_at: message(33).sent_at, id: MessageId(33) };
    update(
        &mut s,
        Action::Matched {
            conversation: ConversationId(3), query: "ёл".into(), forward: true, result: Ok(Some(next))
        },
    );
    assert_eq!(s.open.as_ref().unwrap().scroll, Scroll::Top(7));
    // Esc stops marking; then n is the next unanswered again.
    update(&mut s, key(KeyCode::Esc));
    assert!(s.open.as_ref().unwrap().found.is_none());
    assert!(!update(&mut s, chr('n')).iter().any(|e| matches!(e, Effect::FindMatch { .. })));
}

#[test]
fn presence_beats_on_the_tick_and_shows_who_else_is_there() {
    let mut s = loaded(3, 1);
    let beats = |effects: Vec<Effect>| effects.into_iter().filter(|e| matches!(e, Effect::Heartbeat { .. })).count();
    assert_eq!(beats(update(&mut s, Action::Tick(NOW + 1_000))), 1, "right after opening");
    assert_eq!(beats(update(&mut s, Action::Tick(NOW + 2_000))), 0, "then every two seconds");
    assert_eq!(beats(update(&mut s, Action::Tick(NOW + 3_500))), 1);
    update(&mut s, Action::Presence { conversation: ConversationId(1), others: vec![("alex".into(), true)] });
    assert_eq!(s.open.as_ref().unwrap().others, vec![("alex".to_string(), true)]);
    update(&mut s, Action::Presence { conversation: ConversationId(2), others: vec![] });
    assert_eq!(s.open.as_ref().unwrap().others.len(), 1, "another conversation's presence is not this one's");
}

#[test]
fn a_reply_by_someone_else_after_opening_asks_before_sending() {
    let mut s = loaded(3, 1);
    s.open.as_mut().unwrap().opened_at = NOW - 10_000;
    let mut theirs = message(99);
    theirs.direction = Direction::Out;
    theirs.author = Some("alex".into());
    theirs.sent_at = NOW - 5_000;
    s.open.as_mut().unwrap().messages.push(theirs);
    update(&mut s, key(KeyCode::Enter));
    for c in "Уже отвечаю".chars() {
        update(&mut s, chr(c));
    }
    assert!(update(&mut s, key(KeyCode::Enter)).is_empty(), "the first Enter asks");
    assert!(s.notice.as_ref().unwrap().text.contains("alex replied after you opened this"));
    let effects = update(&mut s, key(KeyCode::Enter));
    assert!(matches!(&effects[..], [Effect::Enqueue { .. }]), "the second sends: {effects:?}");
}

#[test]
fn a_mention_is_announced_and_not_again() {
    let mut s = loaded(3, 1);
    s.notify = switchboard::config::NotifyKind::Bel;
    let note = switchboard::store::Mention {
        conversation: ConversationId(2),
        title: "Customer 2".into(),
        author: "alex".into(),
        note: "@maria глянь".into(),
        at: NOW + 5,
    };
    let effects = update(&mut s, Action::Mentioned(vec![note]));
    assert!(matches!(&effects[..], [Effect::Notify { title, .. }] if title == "alex mentioned you"), "{effects:?}");
    assert!(s.notice.as_ref().unwrap().text.contains("alex mentioned you in Customer 2"));
    assert_eq!(s.mentions_since, NOW + 5, "the next look starts after it");
}

#[test]
fn pending_toggles_the_open_conversation() {
    let mut s = loaded(3, 1);
    assert_eq!(update(&mut s, chr('P')), vec![Effect::SetStatus(ConversationId(1), ConversationStatus::Pending)]);
}

#[test]
fn the_last_own_reply_can_be_edited_or_deleted_on_telegram() {
    let mut s = loaded(3, 1);
    // Message 19 is ours (odd ids are), sent by this agent with its Telegram id.
    let agent = s.agent.clone();
    let view = s.open.as_mut().unwrap();
    view.messages[18].author = Some(agent);
    view.messages[18].external_id = Some("555".into());
    update(&mut s, key(KeyCode::Tab));
    update(&mut s, chr('e'));
    assert_eq!(s.mode, ComposerMode::Edit(MessageId(19), String::new()));
    assert_eq!(s.composer_text(), "message 19");
    assert_eq!(s.focus, Focus::Composer);
    for c in " (fixed)".chars() {
        update(&mut s, chr(c));
    }
    let effects = update(&mut s, key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::ChangeMessage {
            message: MessageId(19),
            change: switchboard::store::Change::Edit("message 19 (fixed)".into())
        }]
    );
    assert_eq!(s.mode, ComposerMode::Reply);
    // Esc leaves an edit, dropping its text.
    update(&mut s, key(KeyCode::Esc));
    update(&mut s, key(KeyCode::Tab));
    assert_eq!(s.focus, Focus::Conversation);
    update(&mut s, chr('e'));
    assert_eq!(s.focus, Focus::Composer);
    update(&mut s, key(KeyCode::Esc));
    assert_eq!((s.mode.clone(), s.composer_text()), (ComposerMode::Reply, String::new()));
    // Delete asks first; the second press deletes.
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(s.focus, Focus::List);
    update(&mut s, key(KeyCode::Tab));
    assert!(update(&mut s, chr('D')).is_empty());
    assert!(s.notice.as_ref().unwrap().text.starts_with("D again deletes it"));
    assert_eq!(
        update(&mut s, chr('D')),
        vec![Effect::ChangeMessage { message: MessageId(19), change: switchboard::store::Change::Delete }]
    );
    // On WhatsApp there is nothing to edit.
    s.open.as_mut().unwrap().row.channel = ChannelKind::WhatsApp;
    assert!(update(&mut s, chr('e')).is_empty());
    assert!(s.notice.as_ref().unwrap().text.contains("does not let a business edit"));
}

#[test]
fn shortcodes_the_emoji_picker_and_clearing_the_draft() {
    let mut s = loaded(3, 1);
    update(&mut s, key(KeyCode::Enter));
    assert_eq!(s.focus, Focus::Composer);
    for c in "Спасибо :thumbsup: ".chars() {
        update(&mut s, chr(c));
    }
    assert_eq!(s.composer_text(), "Спасибо 👍 ");
    // The picker finds one by name and puts it at the cursor.
    update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::ALT)));
    assert!(matches!(s.overlay, Overlay::Emoji(_)));
    for c in "fire".chars() {
        update(&mut s, chr(c));
    }
    update(&mut s, key(KeyCode::Enter));
    assert_eq!(s.composer_text(), "Спасибо 👍 🔥");
    // Ctrl-L clears the draft; Ctrl-U, the composer's undo, brings it back.
    update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL)));
    assert_eq!(s.composer_text(), "");
    update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)));
    assert_eq!(s.composer_text(), "Спасибо 👍 🔥");
}

#[test]
fn an_edit_puts_the_typed_reply_aside_and_gives_it_back() {
    let mut s = loaded(3, 1);
    let agent = s.agent.clone();
    let view = s.open.as_mut().unwrap();
    view.messages[18].author = Some(agent);
    view.messages[18].external_id = Some("555".into());
    update(&mut s, key(KeyCode::Enter));
    for c in "половина ответа".chars() {
        update(&mut s, chr(c));
    }
    update(&mut s, key(KeyCode::Esc));
    update(&mut s, key(KeyCode::Tab));
    update(&mut s, chr('e'));
    assert_eq!(s.composer_text(), "message 19");
    // The draft kept meanwhile is the reply put aside, not the edit.
    assert_eq!(s.current_drafts(), vec![(ConversationId(1), "половина ответа".to_string())]);
    update(&mut s, chr('!'));
    assert_eq!(update(&mut s, key(KeyCode::Enter)).len(), 1);
    assert_eq!(s.composer_text(), "половина ответа", "back after the edit went");
}

#[test]
fn a_draft_becomes_a_canned_reply_and_a_reply_is_edited_in_the_composer() {
    use switchboard::store::Canned;
    let mut s = loaded(3, 1);
    update(&mut s, key(KeyCode::Enter));
    for c in "Спасибо, {{first_name|друг}}!".chars() {
        update(&mut s, chr(c));
    }
    update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::ALT)));
    assert!(matches!(s.overlay, Overlay::CannedName(_)));
    for c in "Спасибо /спс".chars() {
        update(&mut s, chr(c));
    }
    let saved = Canned {
        name: "Спасибо".into(),
        shortcut: Some("спс".into()),
        body: "Спасибо, {{first_name|друг}}!".into(),
        ..Canned::default()
    };
    assert_eq!(update(&mut s, key(KeyCode::Enter)), vec![Effect::SaveCanned(saved.clone())]);
    assert_eq!(s.composer_text(), "Спасибо, {{first_name|друг}}!", "the draft stays");

    // Edit it: its raw text comes into the composer; Enter saves, and the draft is back.
    update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::ALT)));
    update(&mut s, Action::CannedLoaded(vec![(saved.clone(), Ok("Спасибо, Анна!".into()))]));
    update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::CONTROL)));
    assert!(matches!(s.mode, ComposerMode::CannedBody(..)));
    assert_eq!(s.composer_text(), "Спасибо, {{first_name|друг}}!");
    for c in " 🙏".chars() {
        update(&mut s, chr(c));
    }
    let effects = update(&mut s, key(KeyCode::Enter));
    assert_eq!(effects, vec![Effect::SaveCanned(Canned { body: "Спасибо, {{first_name|друг}}! 🙏".into(), ..saved })]);
    assert_eq!((s.mode.clone(), s.composer_text()), (ComposerMode::Reply, "Спасибо, {{first_name|друг}}!".to_string()));
}
