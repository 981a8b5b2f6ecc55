//! Our own sent Telegram message edited and deleted through the outbox, against the
//! emulator (editMessageText, deleteMessage), done again safely after a crash; and what
//! cannot be changed, refused with the reason.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{eventually, inbound};
use switchboard::channels::{Channel, TelegramChannel};
use switchboard::config::{Secret, TelegramConfig};
use switchboard::model::{ChannelKind, ChatRef, InboundEvent, InboundMessage, MessageId, Outgoing, Peer, now_ms};
use switchboard::sandbox::customers::demo_customers;
use switchboard::sandbox::{EmulatorOptions, TelegramEmulator};
use switchboard::store::{Change, SendTarget, Store};
use switchboard::sync::{Engine, EngineLock};

const TOKEN: &str = "123:test-token";
const WAIT: Duration = Duration::from_secs(20);
const HOUR: i64 = 3_600_000;

fn engine(dir: &Path, url: &str) -> Engine {
    let lock = EngineLock::try_acquire(&dir.join("engine.lock")).unwrap().unwrap();
    let config = TelegramConfig { poll_timeout_secs: 1, ..TelegramConfig::new(Secret::new(TOKEN), url) };
    let channel = Channel::Telegram(TelegramChannel::new(&config).unwrap());
    Engine::start(lock, &dir.join("switchboard.db"), vec![channel], &Default::default()).unwrap()
}

/// (body, edited, deleted, error, still in the outbox) of a message.
fn state(db: &Path, id: MessageId) -> (String, bool, bool, Option<String>, bool) {
    Store::open(db)
        .unwrap()
        .conn()
        .query_row(
            "SELECT body, edited_at IS NOT NULL, deleted_at IS NOT NULL, error, \
               EXISTS (SELECT 1 FROM outbox WHERE message_id = ?1) FROM messages WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sent_reply_is_edited_then_deleted_through_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let emu =
        TelegramEmulator::start("127.0.0.1:0".parse().unwrap(), TOKEN, demo_customers(1), EmulatorOptions::default())
            .await
            .unwrap();
    let chat = demo_customers(1)[0].id;
    let target = SendTarget { channel: ChannelKind::Telegram, chat_id: chat.to_string() };
    let (_, id) = Store::open(&db)
        .unwrap()
        .enqueue_to_chat(&target, &Outgoing::text("Ваш заказ готов"), "maria", now_ms())
        .unwrap();
    let _engine = engine(dir.path(), &emu.url());
    let sent = emu.wait_for_sent(1, WAIT).await;
    let telegram_id = sent[0].message_id;
    eventually(WAIT, || (!state(&db, id).4).then_some(())).await.expect("sent, out of the outbox");

    // The edit: Telegram gets the new text for the same message; the store follows.
    let edit = Change::Edit("Ваш заказ №5512 готов 📦".into());
    assert_eq!(Store::open(&db).unwrap().request_change(id, &edit, now_ms()).unwrap(), Ok(()));
    let sent = emu.wait_for_sent(2, WAIT).await;
    assert_eq!(
        (sent[1].method.as_str(), sent[1].message_id, sent[1].text.as_str()),
        ("editMessageText", telegram_id, "Ваш заказ №5512 готов 📦")
    );
    let done = eventually(WAIT, || Some(state(&db, id)).filter(|s| !s.4)).await.unwrap();
    assert_eq!(done, ("Ваш заказ №5512 готов 📦".into(), true, false, None, false));

    // The same edit again, as after a crash between Telegram's answer and our record:
    // Telegram says "not modified", which is done.
    assert_eq!(Store::open(&db).unwrap().request_change(id, &edit, now_ms()).unwrap(), Ok(()));
    let done = eventually(WAIT, || Some(state(&db, id)).filter(|s| !s.4)).await.unwrap();
    assert_eq!(done.3, None, "no error: {done:?}");

    // The delete: gone for the customer, kept (marked) here.
    assert_eq!(Store::open(&db).unwrap().request_change(id, &Change::Delete, now_ms()).unwrap(), Ok(()));
    let sent = emu.wait_for_sent(3, WAIT).await;
    assert_eq!((sent[2].method.as_str(), sent[2].message_id), ("deleteMessage", telegram_id));
    let done = eventually(WAIT, || Some(state(&db, id)).filter(|s| s.2 && !s.4)).await.unwrap();
    assert_eq!(done.0, "Ваш заказ №5512 готов 📦", "the text stays in the store");
    let again = Store::open(&db).unwrap().request_change(id, &Change::Delete, now_ms()).unwrap();
    assert_eq!(again, Err("it is deleted already".into()));
}

#[test]
fn what_cannot_be_changed_is_refused_with_the_reason() {
    let mut store = Store::open_in_memory().unwrap();
    let now = now_ms();
    store.ingest(&[inbound(42, "Анна", 1, "Здравствуйте", now - HOUR)], None, now).unwrap();
    let conversation = store.find_conversation(ChannelKind::Telegram, "42").unwrap().unwrap();
    let theirs: MessageId = store.conn().query_row("SELECT id FROM messages", [], |r| r.get(0)).unwrap();
    let edit = Change::Edit("new".into());
    let refused =
        |store: &mut Store, id, change: &Change, at| store.request_change(id, change, at).unwrap().unwrap_err();
    assert_eq!(refused(&mut store, theirs, &edit, now), "only our own sent replies can be changed");
    let note = store.add_note(conversation, "maria", "внутренняя заметка", now).unwrap();
    assert_eq!(refused(&mut store, note, &edit, now), "only our own sent replies can be changed");
    let reply = store.enqueue(conversation, "Добрый день", "maria", 10, now).unwrap();
    assert_eq!(refused(&mut store, reply, &edit, now), "it is still on its way, or a change to it is");
    store.mark_sent(reply, Some("777"), now).unwrap();
    assert_eq!(
        refused(&mut store, reply, &Change::Delete, now + 49 * HOUR),
        "Telegram lets a bot delete a message for 48 hours only"
    );
    assert_eq!(store.request_change(reply, &edit, now).unwrap(), Ok(()));
    assert_eq!(refused(&mut store, reply, &Change::Delete, now), "it is still on its way, or a change to it is");
    // Telegram refuses for good: the message keeps its text and status, with the reason.
    store.change_failed(reply, &edit, "Bad Request: message can't be edited", now).unwrap();
    let (body, status, error): (String, String, String) = store
        .conn()
        .query_row("SELECT body, status, error FROM messages WHERE id = ?1", [reply], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((body.as_str(), status.as_str()), ("Добрый день", "sent"));
    assert_eq!(error, "not edited: Bad Request: message can't be edited");

    // WhatsApp does not let a business change a sent message.
    let chat = ChatRef {
        channel: ChannelKind::WhatsApp,
        external_chat_id: "79001234567".into(),
        is_group: false,
        title: "Ира".into(),
    };
    let from = Peer { external_id: "79001234567".into(), display_name: "Ира".into(), username: None, locale: None };
    let message = InboundMessage::text(chat, from, "wamid.1".into(), "Привет".into(), now);
    store.ingest(&[InboundEvent::Message(message)], None, now).unwrap();
    let wa = store.find_conversation(ChannelKind::WhatsApp, "79001234567").unwrap().unwrap();
    let wa_reply = store.enqueue(wa, "Привет!", "maria", 10, now).unwrap();
    store.mark_sent(wa_reply, Some("wamid.out"), now).unwrap();
    assert_eq!(
        refused(&mut store, wa_reply, &edit, now),
        "WhatsApp does not let a business edit or delete a sent message"
    );
}
