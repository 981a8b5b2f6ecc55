//! The demo workspace's history: a few hundred messages over the last several days
//! between the scripted customers and the team, written through the same store calls as
//! live traffic (inbound through `ingest`), with one of each thing a customer can do on
//! Telegram so a person sees them at once.

use super::Rng;
use super::customers::{self, Customer};
use crate::model::{
    Button, ChannelKind, ChatRef, Click, DeliveryStatus, InboundEvent, InboundMessage, Membership, Millis, Peer,
};
use crate::store::{OutboundRecord, Result, Store};

const HOUR: Millis = 3_600_000;
const MINUTE: Millis = 60_000;

/// Survey messages in the history whose buttons the customers may still press:
/// (chat, message id, data).
pub type Clickable = Vec<(i64, i64, String)>;

/// What the emulator must know about the history it did not see happen.
#[derive(Debug, Default)]
pub struct Seeded {
    pub clickable: Clickable,
    /// Customers who blocked the bot.
    pub blocked: Vec<i64>,
    /// Viber customers who unsubscribed.
    pub unsubscribed: Vec<String>,
}

/// The demo's automation, as a small shop has it: a welcome for a Telegram `/start`
/// (and VK's first message), business hours in Moscow with an away reply, and a keyword
/// reply about delivery from the canned library.
pub fn automation() -> crate::automation::AutomationConfig {
    let weekdays = ["mon", "tue", "wed", "thu", "fri"].map(|d| (d.to_string(), "09:00-18:00".to_string()));
    crate::automation::AutomationConfig {
        welcome: Some(crate::automation::WelcomeConfig {
            enabled: true,
            text: "Здравствуйте! Напишите, чем помочь. Hi! Tell us how we can help.".into(),
            payloads: Default::default(),
        }),
        hours: Some(crate::automation::HoursConfig {
            enabled: true,
            time_zone: "Europe/Moscow".into(),
            week: weekdays.into_iter().chain([("sat".to_string(), "10:00-15:00".to_string())]).collect(),
            holidays: vec![],
            away: Some("Сейчас мы не на связи: ответим {{next_open}} по Москве.".into()),
            language: Some("ru".into()),
        }),
        keywords: vec![crate::automation::KeywordRule {
            name: "delivery".into(),
            enabled: true,
            words: vec!["доставка".into(), "когда привезут".into(), "delivery".into()],
            regex: None,
            reply: "Доставка".into(),
            tag: Some("delivery".into()),
            stage: None,
            assign: None,
        }],
        csat: Some(crate::automation::CsatConfig {
            enabled: true,
            question: "Как мы справились? Оцените от 1 до 5. How did we do?".into(),
            every_days: 30,
            comment_minutes: 10,
            whatsapp_template: None,
        }),
    }
}

/// The demo's approved WhatsApp templates.
pub fn templates() -> Vec<crate::config::TemplateConfig> {
    vec![
        crate::config::TemplateConfig {
            name: "order_update".into(),
            language: "en_US".into(),
            body: "Hi {{1}}, your order {{2}} is on its way. Reply here with any question.".into(),
        },
        crate::config::TemplateConfig {
            name: "follow_up_ru".into(),
            language: "ru".into(),
            body: "Здравствуйте, {{1}}! Вы спрашивали о заказе — мы готовы помочь. Ответьте на это сообщение.".into(),
        },
    ]
}

/// Which channel each demo customer talks on: most on Telegram, some on WhatsApp,
/// Viber and (from the 31st on) VK.
pub fn channel_of(index: usize) -> ChannelKind {
    match index {
        0..16 => ChannelKind::Telegram,
        16..23 => ChannelKind::WhatsApp,
        23..30 => ChannelKind::Viber,
        _ => ChannelKind::Vk,
    }
}

/// A customer's id on their channel.
pub fn external_id(c: &Customer, channel: ChannelKind) -> String {
    match channel {
        ChannelKind::Telegram => c.id.to_string(),
        ChannelKind::WhatsApp => super::whatsapp::wa_id(c),
        ChannelKind::Viber => super::viber::user_id(c),
        ChannelKind::Vk => super::vk::peer_id(c).to_string(),
    }
}

/// A message id as the channel writes them.
fn message_id(c: &Customer, channel: ChannelKind, n: i64) -> String {
    match channel {
        ChannelKind::Telegram => n.to_string(),
        ChannelKind::WhatsApp => format!("wamid.SEED{}{n:04}", c.id % 100_000),
        ChannelKind::Viber => (5_000_000_000_000_000_000u64 + (c.id as u64 % 1_000_000) * 1000 + n as u64).to_string(),
        ChannelKind::Vk => n.to_string(),
    }
}

/// Fills an empty store with a believable history ending shortly before `now`.
pub fn seed(store: &mut Store, customers: &[Customer], now: Millis, seed: u64) -> Result<Seeded> {
    let mut rng = Rng::new(seed);
    let mut seeded = Seeded::default();
    for (i, c) in customers.iter().enumerate() {
        let channel = channel_of(i);
        // The first WhatsApp customer last wrote two days ago: their window is closed.
        let latest = if i == 16 { now - 48 * HOUR } else { now };
        // Conversations start between 1 and 7 days ago; some are brand new.
        let mut t = latest - (1 + rng.below(7 * 24)) as Millis * HOUR;
        let turns = 3 + rng.below(12) as usize;
        // About a third end with the customer waiting for an answer.
        let ends_waiting = i % 3 == 0;
        let mut message_id = 0i64;
        for turn in 0..turns {
            let customer_speaks = if turn + 1 == turns { ends_waiting } else { turn % 2 == 0 };
            t += (5 + rng.below(90)) as Millis * MINUTE;
            if t > latest - 2 * HOUR {
                t = latest - 2 * HOUR - rng.below(600) as Millis * 1000;
            }
            message_id += 1;
            if customer_speaks {
                let text = if turn == 0 { customers::opener(c, &mut rng) } else { customers::reply(c, &mut rng) };
                store.ingest(&[InboundEvent::Message(message_on(c, channel, message_id, &text, t))], None, now)?;
            } else {
                let failed = i == 4 && turn == 1;
                agent_on(store, c, channel, message_id, customers::agent_line(c, &mut rng), t, failed, None)?;
            }
        }
        match channel {
            ChannelKind::Telegram => showcase(store, c, i, &mut message_id, now, &mut seeded)?,
            ChannelKind::Viber if i == 23 => {
                // A Viber customer who unsubscribed: they cannot be written to.
                let gone = Membership {
                    chat: chat_on(c, channel),
                    from: peer_on(c, channel),
                    blocked: true,
                    at: now - 25 * MINUTE,
                    key: None,
                    event_id: None,
                };
                store.ingest(&[InboundEvent::Membership(gone)], None, now)?;
                seeded.unsubscribed.push(external_id(c, channel));
            }
            _ => {}
        }
    }
    marketing(store, customers, now, &seeded)?;
    super::people::people(store, customers, now)?;
    super::history::history(store, customers, now, &mut rng)?;
    canned_library(store, now)?;
    Ok(seeded)
}

/// A few canned replies in Russian and English, and two macros, as a team starts with.
pub fn canned_library(store: &mut Store, now: Millis) -> Result<()> {
    let reply = |name: &str, shortcut: &str, body: &str, language: &str| crate::store::Canned {
        name: name.into(),
        shortcut: Some(shortcut.into()),
        body: body.into(),
        language: Some(language.into()),
        ..Default::default()
    };
    let library = [
        reply(
            "Спасибо за заказ",
            "спасибо",
            "{{first_name|Здравствуйте}}, спасибо за заказ! Мы уже собираем его. {{agent}}",
            "ru",
        ),
        reply("Доставка", "доставка", "Курьер привезёт заказ в течение 1–2 дней и позвонит за час.", "ru"),
        reply("Стоимость доставки", "цена", "Доставка по России — 390 ₽, от 3 000 ₽ бесплатно; срок 1–3 дня.", "ru"),
        reply("Thanks", "thanks", "Thank you, {{first_name|there}}! Your order is being packed. {{agent}}", "en"),
        crate::store::Canned {
            actions: vec!["tag shipped".into(), "resolve".into()],
            key: Some("alt-1".into()),
            ..reply(
                "Отправлено",
                "отправлено",
                "{{first_name|Здравствуйте}}, ваш заказ отправлен! Трек-номер пришлём отдельно.",
                "ru",
            )
        },
        crate::store::Canned {
            actions: vec!["pending".into(), "assign me".into()],
            key: Some("alt-2".into()),
            ..reply("Проверю", "проверю", "Проверю и вернусь с ответом в течение часа.", "ru")
        },
    ];
    for canned in &library {
        if let Err(why) = store.save_canned(canned, now)? {
            tracing::error!(%why, "the demo's canned reply does not save");
        }
    }
    Ok(())
}

/// What the segment panel works with: stages, tags, a city, a time zone, and consent as
/// a real list has it — most opted in, some never asked, one opted out.
fn marketing(store: &mut Store, customers: &[Customer], now: Millis, seeded: &Seeded) -> Result<()> {
    const CITIES: &[&str] = &["Kazan", "Moscow", "Saint Petersburg", "London", "Manchester"];
    // An offset where it is early afternoon now, and one where it is the middle of the
    // night, so quiet hours show whenever the demo runs.
    let utc_hour = (now / HOUR).rem_euclid(24);
    let offset = |local: i64| {
        let h = (local - utc_hour + 36).rem_euclid(24) - 12;
        format!("{}{:02}:00", if h < 0 { '-' } else { '+' }, h.abs())
    };
    let (day, night) = (offset(14), offset(3));
    for (i, c) in customers.iter().enumerate() {
        let channel = channel_of(i);
        let Some(contact) = store.contact_by_identity(channel, &external_id(c, channel))? else { continue };
        store.set_stage(contact, crate::store::STAGES[i % 5])?;
        if i % 4 == 0 {
            store.toggle_tag(contact, "vip")?;
        }
        if i % 7 == 3 {
            store.toggle_tag(contact, "churned")?;
        }
        // Two customers have no city: a text that needs one leaves them out.
        if i % 13 != 5 {
            let city = if c.lang == "ru" { CITIES[i % 3] } else { CITIES[3 + i % 2] };
            store.set_attribute(contact, "city", city)?;
        }
        store.set_time_zone(contact, if i % 11 == 7 { &night } else { &day })?;
        let consent = match i % 10 {
            9 => None,
            6 => Some(false),
            _ => Some(true),
        };
        // Whoever blocked us already has their opt-outs from the platform.
        let gone = seeded.blocked.contains(&c.id) || seeded.unsubscribed.contains(&external_id(c, channel));
        if let Some(yes) = consent.filter(|_| !gone) {
            let note = if yes { "ticked “send me offers” at checkout" } else { "asked by phone not to get offers" };
            store.record_agent_consent(contact, channel, "marketing", yes, note, "demo", now)?;
        }
    }
    Ok(())
}

fn agent(
    store: &mut Store,
    c: &Customer,
    message_id: i64,
    text: &str,
    at: Millis,
    failed: bool,
    buttons: Option<String>,
) -> Result<()> {
    agent_on(store, c, ChannelKind::Telegram, message_id, text, at, failed, buttons)
}

#[allow(clippy::too_many_arguments)]
fn agent_on(
    store: &mut Store,
    c: &Customer,
    channel: ChannelKind,
    n: i64,
    text: &str,
    at: Millis,
    failed: bool,
    buttons: Option<String>,
) -> Result<()> {
    let conversation = store.find_conversation(channel, &external_id(c, channel))?.expect("the customer spoke first");
    store.record_outbound(
        conversation,
        &OutboundRecord {
            text,
            sent_at: at,
            status: if failed { DeliveryStatus::Failed } else { DeliveryStatus::Sent },
            error: failed.then_some("gave up after 12 tries: network: connection reset"),
            author: if c.lang == "ru" { "maria" } else { "alex" },
            external_id: (!failed).then(|| message_id(c, channel, n)),
            buttons,
        },
    )?;
    Ok(())
}

/// The last hour of a few conversations shows what customers do besides writing.
fn showcase(store: &mut Store, c: &Customer, i: usize, id: &mut i64, now: Millis, seeded: &mut Seeded) -> Result<()> {
    let ru = c.lang == "ru";
    let mut next = || {
        *id += 1;
        *id
    };
    match i {
        0 => {
            // A survey with buttons, and the customer's answer by button.
            let survey = next();
            let (question, good, bad) = if ru {
                ("Как вам доставка?", "👍 Отлично", "👎 Плохо")
            } else {
                ("How was the delivery?", "👍 Great", "👎 Not great")
            };
            let buttons = vec![vec![
                Button { text: good.into(), url: None, callback_data: Some("rate:good".into()) },
                Button { text: bad.into(), url: None, callback_data: Some("rate:bad".into()) },
            ]];
            agent(store, c, survey, question, now - 90 * MINUTE, false, serde_json::to_string(&buttons).ok())?;
            seeded.clickable.push((c.id, survey, "rate:good".into()));
            seeded.clickable.push((c.id, survey, "rate:bad".into()));
            let press = Click {
                chat: chat(c),
                from: peer(c),
                query_id: format!("seed-{survey}"),
                message_external_id: Some(survey.to_string()),
                data: Some("rate:good".into()),
                label: None,
                at: now - 80 * MINUTE,
            };
            store.ingest(&[InboundEvent::Click(press)], None, now)?;
        }
        1 => {
            // One customer pastes terminal output: it must show as text, not act on the screen.
            let text = "Copied from the app: \x1b[31mERROR 502\x1b[0m \x1b]0;pwned\x07 what does it mean?";
            store.ingest(&[inbound(c, next(), text, now - 30 * MINUTE)], None, now)?;
        }
        2 => {
            // A photo with a caption, then where to bring the parcel.
            let mut photo =
                message(c, next(), "[photo 960x1280, 182 KB]\nВот фото коробки, она помята 😕", now - 70 * MINUTE);
            photo.kind = "photo".into();
            photo.media = Some(r#"{"file_id":"AgACAgIAAxk-seed-photo","width":960,"height":1280}"#.into());
            let mut location = message(c, next(), "[location 55.79630, 49.10640]", now - 65 * MINUTE);
            location.kind = "location".into();
            location.media = Some(r#"{"latitude":55.7963,"longitude":49.1064}"#.into());
            store.ingest(&[InboundEvent::Message(photo), InboundEvent::Message(location)], None, now)?;
        }
        3 => {
            // A message corrected after sending, and a reply that quotes it.
            let typo = next();
            store.ingest(&[inbound(c, typo, "Order 5521 never arrived", now - 50 * MINUTE)], None, now)?;
            let fixed = message(c, typo, "Order 5512 never arrived", now - 50 * MINUTE);
            store.ingest(&[InboundEvent::Edited { message: fixed, edited_at: now - 48 * MINUTE }], None, now)?;
            let mut reply = message(c, next(), "It was the blue one, size M", now - 40 * MINUTE);
            reply.reply_to = Some(typo.to_string());
            store.ingest(&[InboundEvent::Message(reply)], None, now)?;
        }
        4 => {
            // A link the customer forwarded, with its label.
            let text = "Смотрите, у конкурентов дешевле: сайт";
            let mut m = message(c, next(), text, now - 35 * MINUTE);
            m.entities =
                Some(r#"[{"type":"text_link","offset":33,"length":4,"url":"https://competitor.example/sale"}]"#.into());
            store.ingest(&[InboundEvent::Message(m)], None, now)?;
        }
        5 => {
            // Someone who blocked the bot.
            let blocked = Membership {
                chat: chat(c),
                from: peer(c),
                blocked: true,
                at: now - 20 * MINUTE,
                key: None,
                event_id: None,
            };
            store.ingest(&[InboundEvent::Membership(blocked)], None, now)?;
            seeded.blocked.push(c.id);
        }
        _ => {}
    }
    Ok(())
}

fn inbound(c: &Customer, n: i64, text: &str, at: Millis) -> InboundEvent {
    InboundEvent::Message(message(c, n, text, at))
}

fn message(c: &Customer, n: i64, text: &str, at: Millis) -> InboundMessage {
    message_on(c, ChannelKind::Telegram, n, text, at)
}

fn message_on(c: &Customer, channel: ChannelKind, n: i64, text: &str, at: Millis) -> InboundMessage {
    if channel == ChannelKind::WhatsApp {
        return super::people::whatsapp(c, &message_id(c, channel, n), text, at);
    }
    InboundMessage::text(chat_on(c, channel), peer_on(c, channel), message_id(c, channel, n), text.to_string(), at)
}

fn chat(c: &Customer) -> ChatRef {
    chat_on(c, ChannelKind::Telegram)
}

fn chat_on(c: &Customer, channel: ChannelKind) -> ChatRef {
    ChatRef { channel, external_chat_id: external_id(c, channel), is_group: false, title: c.full_name() }
}

fn peer(c: &Customer) -> Peer {
    peer_on(c, ChannelKind::Telegram)
}

fn peer_on(c: &Customer, channel: ChannelKind) -> Peer {
    Peer {
        external_id: external_id(c, channel),
        display_name: c.full_name(),
        username: c.username.clone().filter(|_| channel == ChannelKind::Telegram),
        locale: Some(c.lang.to_string()),
    }
}
