//! Screen snapshots with ratatui's TestBackend: what a person sees, cell by cell.

use std::collections::BTreeMap;

use chrono::FixedOffset;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use switchboard::app::{Action, AppState, EngineView, MessageRequest, update};
use switchboard::keymap::Keymap;
use switchboard::model::{ChannelKind, ConversationId, DeliveryStatus, Direction, MessageId};
use switchboard::store::{ConversationRow, MessageRow};
use switchboard::sync::{ChannelState, ChannelStatus};
use switchboard::theme::Styles;

/// 2023-11-15 10:00 UTC, a Wednesday.
const NOW: i64 = 1_700_042_400_000;
const MIN: i64 = 60_000;

fn state(size: (u16, u16)) -> AppState {
    let mut s = AppState::new(Keymap::default(), "maria".into(), NOW, FixedOffset::east_opt(0).unwrap(), size);
    let mut map = BTreeMap::new();
    map.insert(ChannelKind::Telegram, ChannelStatus { state: ChannelState::Ok("polling".into()), last_error: None });
    update(&mut s, Action::Engine(EngineView::InProcess(map)));
    s
}

fn conversation(id: i64, title: &str, preview: &str, ago_min: i64, unanswered: bool, unread: i64) -> ConversationRow {
    ConversationRow {
        id: ConversationId(id),
        channel: ChannelKind::Telegram,
        external_chat_id: (5000 + id).to_string(),
        contact_id: None,
        is_group: false,
        title: title.into(),
        status: switchboard::model::ConversationStatus::Open,
        last_message_at: NOW - ago_min * MIN,
        last_inbound_at: None,
        last_preview: preview.into(),
        unread,
        unanswered,
        blocked_at: None,
        assignee: None,
        snoozed_until: None,
        muted: false,
    }
}

fn msg(id: i64, dir: Direction, status: DeliveryStatus, body: &str, ago_min: i64) -> MessageRow {
    MessageRow {
        id: MessageId(id),
        direction: dir,
        kind: "text".into(),
        body: body.into(),
        sent_at: NOW - ago_min * MIN,
        status,
        error: (status == DeliveryStatus::Failed).then(|| "the customer blocked the bot".to_string()),
        author: (dir == Direction::Out).then(|| "maria".to_string()),
        sender_name: (dir == Direction::In).then(|| "Анна Петрова".to_string()),
        edited_at: None,
        entities: None,
        buttons: None,
        quote: None,
        deleted_at: None,
        external_id: None,
    }
}

fn with_conversation(size: (u16, u16)) -> AppState {
    let mut s = state(size);
    let generation = s.list.generation;
    let rows = vec![
        conversation(1, "Анна Петрова", "А можно побыстрее?", 2, true, 2),
        conversation(2, "Liam Carter", "Thanks a lot! 🙌", 75, false, 0),
        conversation(3, "Дмитрий Смирнов", "Заказ №4821 до сих пор не пришёл 😕", 60 * 30, false, 0),
    ];
    update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows });
    use DeliveryStatus::*;
    use Direction::*;
    let messages = vec![
        msg(1, In, Received, "Здравствуйте! Когда будет доставка моего заказа?", 60 * 24 + 30),
        msg(2, Out, Read, "Здравствуйте! Сейчас проверю ваш заказ.", 60 * 24 + 20),
        msg(3, Out, Delivered, "Заказ передан в доставку, курьер позвонит завтра.", 60 * 24 + 19),
        msg(4, Out, Failed, "Трек-номер: RU123456789", 60 * 24 + 18),
        msg(5, In, Received, "А можно побыстрее?", 30),
        msg(6, Out, Sent, "Уточню у курьера 👍", 20),
        msg(7, Out, Sending, "Он будет у вас до 18:00.", 3),
        msg(8, Out, Queued, "Добрый день! 👋", 2),
    ];
    let request = MessageRequest::Latest { limit: 200 };
    update(&mut s, Action::MessagesLoaded { conversation: ConversationId(1), request, rows: messages });
    s
}

fn render(state: &AppState) -> Terminal<TestBackend> {
    let styles = Styles::load("dark", false).unwrap();
    let mut terminal = Terminal::new(TestBackend::new(state.size.0, state.size.1)).unwrap();
    terminal.draw(|f| switchboard::ui::draw(f, state, &styles)).unwrap();
    terminal
}

fn screen_text(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let mut x = 0;
        while x < buffer.area.width {
            let symbol = buffer[(x, y)].symbol();
            out.push_str(symbol);
            // A wide character covers the next cell too.
            x += unicode_width::UnicodeWidthStr::width(symbol).max(1) as u16;
        }
        out.push('\n');
    }
    out
}

#[test]
fn empty_store() {
    let mut s = state((100, 24));
    let generation = s.list.generation;
    update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows: vec![] });
    insta::assert_snapshot!("empty_store", render(&s).backend());
}

#[test]
fn open_conversation_with_every_delivery_mark() {
    let s = with_conversation((110, 30));
    let terminal = render(&s);
    let text = screen_text(&terminal);
    for mark in
        ["◷ queued", "↻ sending", "✓ sent", "✓✓ delivered", "✓✓ read", "✗ failed", "✗ the customer blocked the bot"]
    {
        assert!(text.contains(mark), "missing {mark}:\n{text}");
    }
    for separator in ["Yesterday", "Today"] {
        assert!(text.contains(separator), "missing {separator}");
    }
    insta::assert_snapshot!("open_conversation", terminal.backend());
}

#[test]
fn help_overlay() {
    let press = |s: &mut switchboard::app::AppState, code: KeyCode, mods: KeyModifiers| {
        update(s, Action::Key(KeyEvent::new(code, mods)));
    };
    let mut s = with_conversation((110, 34));
    press(&mut s, KeyCode::Char('?'), KeyModifiers::NONE);
    let terminal = render(&s);
    insta::assert_snapshot!("help_overlay", terminal.backend());
    // The help shows the keys of where the agent is: each pane, the card, the campaign
    // panel, a picker. Together they show every command with its live keys.
    let mut seen = screen_text(&terminal);
    let mut look = |s: &mut switchboard::app::AppState, open: &[(KeyCode, KeyModifiers)]| {
        for (code, mods) in open {
            press(s, *code, *mods);
        }
        press(s, KeyCode::F(1), KeyModifiers::NONE);
        seen.push_str(&screen_text(&render(s)));
        press(s, KeyCode::Char('x'), KeyModifiers::NONE);
    };
    let mut s = with_conversation((110, 34));
    look(&mut s, &[(KeyCode::Char('x'), KeyModifiers::NONE), (KeyCode::Tab, KeyModifiers::NONE)]);
    let mut s = with_conversation((110, 34));
    look(&mut s, &[(KeyCode::Char('r'), KeyModifiers::NONE)]);
    let mut s = with_conversation((110, 34));
    s.list.rows[0].contact_id = Some(switchboard::model::ContactId(1));
    look(&mut s, &[(KeyCode::Char('p'), KeyModifiers::NONE)]);
    let mut s = with_conversation((110, 34));
    look(&mut s, &[(KeyCode::Char('C'), KeyModifiers::NONE)]);
    let mut s = with_conversation((110, 34));
    look(&mut s, &[(KeyCode::Char('k'), KeyModifiers::CONTROL)]);
    // After a search, the conversation's match keys.
    let mut s = with_conversation((110, 34));
    press(&mut s, KeyCode::Tab, KeyModifiers::NONE);
    s.open.as_mut().unwrap().found = Some(switchboard::app::state::Found {
        query: "order".into(),
        words: vec!["order".into()],
        at: switchboard::store::MessageKey { sent_at: 0, id: switchboard::model::MessageId(1) },
    });
    look(&mut s, &[]);
    for c in switchboard::keymap::Command::ALL {
        assert!(seen.contains(c.describe()), "no help shows `{}`:\n{seen}", c.describe());
    }
    assert!(seen.contains("Alt-Enter") && seen.contains("Ctrl-c") && seen.contains("Ctrl-l"));
    assert!(seen.contains(":thumbsup: 👍"), "the composer's help lists a few emoji codes");
}

#[test]
fn small_terminal_60x20() {
    let s = with_conversation((60, 20));
    insta::assert_snapshot!("small_60x20", render(&s).backend());
}

#[test]
fn tiny_and_narrow_terminals_do_not_panic() {
    for size in [(1, 1), (10, 3), (30, 10), (49, 15), (200, 60)] {
        let mut s = with_conversation(size);
        render(&s);
        update(&mut s, Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        render(&s);
    }
}

#[test]
fn customer_escapes_show_as_text() {
    let mut s = state((100, 20));
    let generation = s.list.generation;
    let hostile = "\x1b[2J\x1b]0;title\x07bare\rcr \u{9b}31m end";
    let rows = vec![conversation(1, "Evil\x1b[31m Corp", hostile, 1, true, 1)];
    update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows });
    let messages = vec![msg(1, Direction::In, DeliveryStatus::Received, hostile, 1)];
    let request = MessageRequest::Latest { limit: 200 };
    update(&mut s, Action::MessagesLoaded { conversation: ConversationId(1), request, rows: messages });
    let terminal = render(&s);
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert!(!cell.symbol().chars().any(|c| c.is_control()), "a control character reached the screen");
    }
    let text = screen_text(&terminal);
    assert!(text.contains("␛[2J␛]0;title␇bare␍cr ¿31m end"), "{text}");
    assert!(text.contains("Evil␛[31m Corp"));
}

#[test]
fn telegram_kinds_read_at_a_glance() {
    let mut s = state((100, 30));
    let generation = s.list.generation;
    let mut row = conversation(1, "Анна Петрова", "blocked the bot", 1, false, 0);
    row.blocked_at = Some(NOW - MIN);
    update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows: vec![row] });
    use DeliveryStatus::*;
    use Direction::*;
    let mut offer = msg(1, Out, Sent, "Скидка 20% на всё! Подробнее: сайт", 60);
    offer.entities = Some(
        r#"[{"type":"bold","offset":0,"length":10},{"type":"text_link","offset":30,"length":4,"url":"https://shop.example/sale"}]"#
            .into(),
    );
    offer.buttons = Some(
        r#"[[{"text":"👍 Отлично","callback_data":"rate:good"},{"text":"Shop","url":"https://shop.example"}]]"#.into(),
    );
    let mut click = msg(2, In, Received, "pressed “👍 Отлично”", 50);
    click.kind = "click".into();
    let mut photo = msg(3, In, Received, "[photo 1280x960, 240 KB]\nВот так пришла коробка 😕", 40);
    photo.kind = "photo".into();
    let mut location = msg(4, In, Received, "[location 55.79613, 49.10641]", 30);
    location.kind = "location".into();
    let mut reply = msg(5, In, Received, "Да, вот этот (синий)", 20);
    reply.edited_at = Some(NOW - 10 * MIN);
    reply.quote = Some(("maria".into(), "Скидка 20% на всё! Подробнее: сайт".into()));
    let mut blocked = msg(6, In, Received, "blocked the bot", 1);
    blocked.kind = "system".into();
    let request = MessageRequest::Latest { limit: 200 };
    let rows = vec![offer, click, photo, location, reply, blocked];
    update(&mut s, Action::MessagesLoaded { conversation: ConversationId(1), request, rows });
    let terminal = render(&s);
    let text = screen_text(&terminal);
    for expected in [
        "Подробнее: сайт",
        "‹https://shop.example/sale›",
        "[👍 Отлично] [Shop ↗]",
        "⌁ Анна Петрова pressed “👍 Отлично”",
        "[photo 1280x960, 240 KB]",
        "Вот так пришла коробка 😕",
        "[location 55.79613, 49.10641]",
        "┃ maria: Скидка 20%",
        "(edited)",
        "⛔ Анна Петрова blocked the bot",
        "⛔ blocked the bot ┐",
        "⛔ blocked: a message will fail",
    ] {
        assert!(text.contains(expected), "missing `{expected}`:\n{text}");
    }
    // The bold entity reached the screen as a style.
    let buffer = terminal.backend().buffer();
    let bold =
        buffer.content().iter().any(|c| c.symbol() == "С" && c.modifier.contains(ratatui::style::Modifier::BOLD));
    assert!(bold, "Скидка is bold");
    insta::assert_snapshot!("telegram_kinds", terminal.backend());
}

#[test]
fn wide_emoji_keep_every_border_in_place() {
    // ❤️ (VS16), a ZWJ family, a skin tone, a flag, a keycap and a ZWJ flag.
    let wide = "Спасибо ❤️ 👨‍👩‍👧 👍🏽 🇷🇺 1️⃣ 🏳️‍🌈 за заказ, всё пришло вовремя и в целости";
    for size in [(100, 24), (61, 20), (120, 30)] {
        let mut s = state(size);
        let generation = s.list.generation;
        let rows = vec![
            conversation(1, "Семья 👨‍👩‍👧 Петровых 🇷🇺", wide, 2, true, 2),
            conversation(2, "❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️❤️", wide, 5, false, 0),
        ];
        update(&mut s, Action::ListLoaded { generation, after: None, limit: 100, rows });
        let messages = vec![
            msg(1, Direction::In, DeliveryStatus::Received, wide, 30),
            msg(2, Direction::Out, DeliveryStatus::Sent, &wide.repeat(3), 20),
        ];
        let request = MessageRequest::Latest { limit: 200 };
        update(&mut s, Action::MessagesLoaded { conversation: ConversationId(1), request, rows: messages });
        update(&mut s, Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        for c in "Ответ: ❤️👨‍👩‍👧🇷🇺".chars() {
            update(&mut s, Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        }
        let terminal = render(&s);
        let buffer = terminal.backend().buffer();
        let w = buffer.area.width;
        // Nothing whose width terminals disagree on reaches a cell (tmux draws ❤️ and
        // 👍🏽 narrower than ratatui measures them, and the rest of the row shifts), the
        // composer's cells included: it keeps the text, and shows each such emoji by
        // its first one.
        let all: String = buffer.content().iter().map(|c| c.symbol()).collect();
        let ambiguous = ['\u{fe0f}', '\u{200d}', '\u{1f3fd}'];
        assert!(!all.contains(ambiguous), "{size:?}:\n{}", screen_text(&terminal));
        assert!(all.contains('❤') && all.contains("🇷🇺"), "the emoji themselves are shown");
        // Every row but the status bar ends with a pane's right border in the last cell,
        // and the list's right border sits where the list ends.
        let list_right = (w / 3).clamp(20, 44) - 1;
        for y in 0..buffer.area.height - 1 {
            let last = buffer[(w - 1, y)].symbol();
            assert!(
                ["│", "┃", "┐", "┓", "┘", "┛"].contains(&last),
                "{size:?} row {y} ends with {last:?}:\n{}",
                screen_text(&terminal)
            );
            let list = buffer[(list_right, y)].symbol();
            assert!(
                ["│", "┃", "┐", "┓", "┘", "┛"].contains(&list),
                "{size:?} row {y}, list border {list:?}:\n{}",
                screen_text(&terminal)
            );
        }
    }
}

#[test]
fn our_photo_shows_what_it_is_not_only_its_caption() {
    let mut s = with_conversation((100, 30));
    let mut photo = msg(9, Direction::Out, DeliveryStatus::Sent, "Вот ваш заказ", 1);
    photo.kind = "photo".into();
    let mut rows = s.open.as_ref().unwrap().messages.clone();
    rows.push(photo);
    let request = MessageRequest::Latest { limit: 200 };
    update(&mut s, Action::MessagesLoaded { conversation: ConversationId(1), request, rows });
    let text = screen_text(&render(&s));
    let at = text.find("[photo]").expect("the marker");
    assert!(text[at..].contains("Вот ваш заказ"), "{text}");
}

/// The list and the conversation are copied from the last frame when what they show is
/// unchanged (`ui::memo`): after every step of a session, the frame drawn that way is
/// the frame drawn afresh, cell by cell and style by style.
#[test]
fn panes_copied_from_the_last_frame_are_what_drawing_afresh_gives() {
    let styles = Styles::load("dark", false).unwrap();
    let mut s = with_conversation((100, 30));
    let mut warm = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let key = |code| Action::Key(KeyEvent::new(code, KeyModifiers::NONE));
    let steps = vec![
        Action::Tick(NOW),
        key(KeyCode::Char('j')),
        key(KeyCode::Char('j')),
        key(KeyCode::Char('k')),
        key(KeyCode::Tab),
        key(KeyCode::PageUp),
        key(KeyCode::Tab),
        key(KeyCode::Char('П')),
        key(KeyCode::Char('!')),
        key(KeyCode::Backspace),
        Action::Tick(NOW + 61 * MIN),
        key(KeyCode::Esc),
        key(KeyCode::Char('j')),
        Action::Resize(80, 24),
        Action::Tick(NOW + 62 * MIN),
    ];
    // The frames as drawn (what the terminal is told is a diff of them, which depends
    // on the frame before).
    for (i, step) in steps.into_iter().enumerate() {
        update(&mut s, step);
        if (warm.backend().buffer().area.width, warm.backend().buffer().area.height) != s.size {
            warm = Terminal::new(TestBackend::new(s.size.0, s.size.1)).unwrap();
        }
        let a = warm.draw(|f| switchboard::ui::draw(f, &s, &styles)).unwrap().buffer.clone();
        let cache = std::mem::take(&mut s.frames);
        let mut cold = Terminal::new(TestBackend::new(s.size.0, s.size.1)).unwrap();
        let b = cold.draw(|f| switchboard::ui::draw(f, &s, &styles)).unwrap().buffer.clone();
        s.frames = cache;
        let differ: Vec<_> =
            a.content.iter().zip(&b.content).enumerate().filter(|(_, (x, y))| x != y).take(3).collect();
        assert!(differ.is_empty() && a.area == b.area, "step {i}: cells differ: {differ:?}");
    }
}

/// The console draws nothing for what changes nothing: a key bound to nothing, a mouse
/// move, a key the composer has no use for where the cursor is. Everything else draws.
#[test]
fn keys_that_change_nothing_ask_for_no_frame() {
    use crossterm::event::{MouseEvent, MouseEventKind};
    let mut s = with_conversation((100, 30));
    let key = |code| Action::Key(KeyEvent::new(code, KeyModifiers::NONE));
    let moved =
        Action::Mouse(MouseEvent { kind: MouseEventKind::Moved, column: 5, row: 5, modifiers: KeyModifiers::NONE });
    let unchanged = |s: &mut AppState, action| {
        update(s, action);
        s.unchanged
    };
    assert!(unchanged(&mut s, key(KeyCode::F(12))), "unbound in the list");
    assert!(unchanged(&mut s, moved.clone()), "a mouse move");
    assert!(!unchanged(&mut s, key(KeyCode::Char('j'))), "the selection moves");
    assert!(!unchanged(&mut s, key(KeyCode::Char('r'))), "into the composer");
    assert!(unchanged(&mut s, key(KeyCode::F(12))), "unbound in the composer");
    assert!(!unchanged(&mut s, key(KeyCode::Char('ы'))), "a letter");
    assert!(!unchanged(&mut s, key(KeyCode::Left)), "the cursor moves");
    assert!(unchanged(&mut s, key(KeyCode::Left)), "already at the start");
    assert!(unchanged(&mut s, moved), "a mouse move");
    assert!(!unchanged(&mut s, Action::Tick(NOW + MIN)), "the clock");
}
