//! The demo's people across channels: a Telegram customer who shares her number and
//! then writes on WhatsApp from it (one person, linked at ingest as live traffic would
//! be), and a WhatsApp customer an old import knows by name, city and e-mail (a suggested
//! merge for the agent to make).

use super::customers::Customer;
use super::seed::{channel_of, external_id};
use crate::model::{ChannelKind, ChatRef, InboundEvent, InboundMessage, Millis, Peer};
use crate::store::{ContactRow, Result, Store};

const MINUTE: Millis = 60_000;

/// The Telegram customer who is on WhatsApp too, and the WhatsApp customer with a
/// duplicate from an import.
pub const BOTH: usize = 2;
pub const IMPORTED: usize = 17;

pub fn people(store: &mut Store, customers: &[Customer], now: Millis) -> Result<()> {
    let both = &customers[BOTH];
    let number = super::whatsapp::wa_id(both);
    let tg = ChannelKind::Telegram;
    let telegram = |id: &str, kind: &str, text: String, at| {
        let chat =
            ChatRef { channel: tg, external_chat_id: external_id(both, tg), is_group: false, title: both.full_name() };
        let from =
            Peer { external_id: external_id(both, tg), display_name: both.full_name(), username: None, locale: None };
        let mut m = InboundMessage::text(chat, from, id.into(), text, at);
        m.kind = kind.into();
        m
    };
    // Telegram vouches for a number its owner shares (`contact.user_id` is the sender).
    let mut shared =
        telegram("900", "contact", format!("[contact {}, +{number}]", both.full_name()), now - 50 * MINUTE);
    shared.shared_phone = Some(format!("+{number}"));
    let later = telegram("901", "text", "Напишу вам в WhatsApp, там удобнее".into(), now - 49 * MINUTE);
    store.ingest(&[InboundEvent::Message(shared), InboundEvent::Message(later)], None, now)?;
    let wa = whatsapp(both, "wamid.DEMOBOTH1", "Это я, из Telegram. Заказ №4821 пришёл, спасибо!", now - 40 * MINUTE);
    store.ingest(&[InboundEvent::Message(wa)], None, now)?;

    // The shop's old customer list knows the WhatsApp customer by name, city and e-mail,
    // with a landline: an import makes them a contact of their own (no identity or
    // number in common), and the store suggests the two are one.
    let known = &customers[IMPORTED];
    let channel = channel_of(IMPORTED);
    let mut attributes = std::collections::BTreeMap::from([
        ("email".to_string(), email(known)),
        ("card".to_string(), "LC-20931".to_string()),
    ]);
    if let Some(contact) = store.contact_by_identity(channel, &external_id(known, channel))? {
        store.set_attribute(contact, "email", &email(known))?;
        let card = store.contact_card(contact)?;
        attributes.extend(card.attributes.into_iter().filter(|(name, _)| name == "city"));
    }
    let row = ContactRow {
        line: 2,
        name: known.full_name(),
        phone: Some("+74951234567".into()),
        tags: vec!["vip".into(), "loyalty-card".into()],
        attributes,
        ..ContactRow::default()
    };
    store.import_contacts(&[row], now - 30 * 86_400_000)?;
    Ok(())
}

/// A WhatsApp message as the decoder gives it: the `wa_id` is the sender's number.
pub fn whatsapp(c: &Customer, id: &str, text: &str, at: Millis) -> InboundMessage {
    let wa = ChannelKind::WhatsApp;
    let chat = ChatRef { channel: wa, external_chat_id: external_id(c, wa), is_group: false, title: c.full_name() };
    let locale = Some(c.lang.to_string());
    let from = Peer { external_id: external_id(c, wa), display_name: c.full_name(), username: None, locale };
    let mut m = InboundMessage::text(chat, from, id.into(), text.into(), at);
    m.shared_phone = Some(format!("+{}", external_id(c, wa)));
    m
}

fn email(c: &Customer) -> String {
    format!("{}@example.com", c.first_name.to_lowercase())
}
