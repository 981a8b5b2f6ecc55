//! What each channel allows, in one table: text and caption limits, which buttons and how
//! many, how long after the customer's last message we may write freely, whether a press
//! is a customer message, how fast it sends, and how it is named and badged. The composer,
//! the campaign planner, the console and the adapters ask these rules; none of them
//! hard-codes a channel's. A new channel is one more entry here.

use super::{Button, ChannelKind, Millis};

/// One channel's rules.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// How the channel is stored and named in configs, paths and commands.
    pub id: &'static str,
    /// What names a chat, checked before anything is queued.
    pub chat_id: ChatIdRule,
    /// The name people know.
    pub name: &'static str,
    /// The two-letter badge in the conversation list.
    pub badge: &'static str,
    /// The longest text one message may carry (characters).
    pub text_limit: usize,
    /// The longest caption under a photo or document.
    pub caption_limit: usize,
    pub buttons: ButtonRules,
    /// How long after the customer's last message free-form messages may go; after it,
    /// only an approved template. None: any time.
    pub reply_window: Option<Millis>,
    /// Whether a button press is a message from the customer as far as the platform is
    /// concerned: it opens the reply window and the customer expects an answer.
    pub press_is_a_message: bool,
    /// Messages a second one sender keeps up for a campaign.
    pub sustained_per_sec: u32,
    /// Who may be written to.
    pub access: Access,
    /// Whether our message, once sent, can be edited or deleted (only Telegram lets a
    /// bot do both).
    pub can_change_sent: bool,
    /// What the platform tells us of our messages after sending: delivered to the
    /// device, read. Reports base their rates on it.
    pub receipts: Receipts,
    /// What files go as photos and documents, and how large a customer's may be fetched.
    pub media: MediaRules,
}

/// Attachments on a channel. A file of a photo type within `photo_max` goes as a photo;
/// any other within `document_max` as a document.
#[derive(Debug, Clone, Copy)]
pub struct MediaRules {
    /// Picture formats the channel shows as a photo (`jpeg`, `png`, …, by content).
    pub photo_types: &'static [&'static str],
    pub photo_max: u64,
    pub document_max: u64,
    /// The largest file of a customer's this console downloads.
    pub download_max: u64,
}

const MB: u64 = 1024 * 1024;

/// The receipts a channel sends for our messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipts {
    pub delivered: bool,
    pub read: bool,
}

/// Who a channel lets a business write to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone who wrote, until they block us (Telegram's bot block; WhatsApp's window is
    /// a separate rule).
    UntilBlocked,
    /// Subscribers only: a customer's message subscribes them, `unsubscribed` ends it,
    /// and nothing is delivered until they write again (Viber).
    Subscribers,
    /// Only who wrote first or allowed messages, until they deny them (VK's
    /// `message_allow` / `message_deny`).
    Permission,
}

/// What a chat id looks like on a channel.
#[derive(Debug, Clone, Copy)]
pub struct ChatIdRule {
    pub valid: fn(&str) -> bool,
    /// What it is called, with an example, for the error.
    pub what: &'static str,
}

/// An opaque id: 1 to 64 bytes with no spaces or control characters.
fn opaque_id(chat: &str) -> bool {
    (1..=64).contains(&chat.len()) && !chat.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Which buttons a message may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ButtonRules {
    /// Reply buttons (a press comes back to us) in one message.
    pub max_replies: usize,
    /// Link buttons in one message.
    pub max_links: usize,
    /// Whether reply and link buttons may go in the same message.
    pub mix: bool,
    /// The longest button text the platform shows (characters).
    pub title_limit: usize,
    /// Buttons side by side in one row.
    pub max_per_row: usize,
    /// The longest text of a message that carries buttons.
    pub text_limit: usize,
    /// Whether buttons may go under a photo or document.
    pub with_attachment: bool,
}

const HOUR: Millis = 3_600_000;

impl ChannelKind {
    /// This channel's rules.
    pub fn rules(self) -> &'static Rules {
        match self {
            ChannelKind::Telegram => &TELEGRAM,
            ChannelKind::WhatsApp => &WHATSAPP,
            ChannelKind::Viber => &VIBER,
            ChannelKind::Vk => &VK,
        }
    }
}

/// Bot API: "1-4096 characters after entities parsing", captions 0-1024, 30 messages a
/// second for a broadcast; an inline
/// keyboard takes links and callbacks together (the data of a callback is 1-64 bytes,
/// checked when a button is written).
const TELEGRAM: Rules = Rules {
    id: "telegram",
    // Private chats and groups: a 64-bit integer, negative for groups.
    chat_id: ChatIdRule {
        valid: |chat| chat.parse::<i64>().is_ok_and(|id| id != 0),
        what: "chat id (a whole number such as 123456789)",
    },
    name: "Telegram",
    badge: "TG",
    text_limit: 4096,
    caption_limit: 1024,
    buttons: ButtonRules { text_limit: 4096, ..ButtonRules::ANY },
    reply_window: None,
    press_is_a_message: false,
    sustained_per_sec: 30,
    access: Access::UntilBlocked,
    can_change_sent: true,
    // Telegram tells a bot neither delivery nor reading.
    receipts: Receipts { delivered: false, read: false },
    // sendPhoto takes 10 MB, sendDocument 50 MB; getFile fetches 20 MB at most.
    media: MediaRules {
        photo_types: &["jpeg", "png", "webp"],
        photo_max: 10 * MB,
        document_max: 50 * MB,
        download_max: 20 * MB,
    },
};

/// Cloud API: text 4096, captions 1024; interactive messages carry either up to 3 reply
/// buttons (titles of 20) or one call-to-action link (`cta_url`, text of 20), with a
/// body of 1024. Free-form messages only within 24 hours of the customer's last one;
/// 80 messages a second per number by default.
const WHATSAPP: Rules = Rules {
    id: "whatsapp",
    // A wa_id (the number's digits), an E.164 number, a business-scoped user id, or a
    // group's opaque id.
    chat_id: ChatIdRule { valid: opaque_id, what: "id (a number such as 79161234567)" },
    name: "WhatsApp",
    badge: "WA",
    text_limit: 4096,
    caption_limit: 1024,
    // Up to three reply buttons go as buttons; four to ten as a list message, one row
    // each (rows are not a layout there, so one row of buttons may hold them all).
    buttons: ButtonRules {
        max_replies: 10,
        max_links: 1,
        mix: false,
        title_limit: 20,
        max_per_row: 10,
        text_limit: 1024,
        // A media header on an interactive message is not built here: an attachment
        // goes as its own message.
        with_attachment: false,
    },
    reply_window: Some(24 * HOUR),
    press_is_a_message: true,
    sustained_per_sec: 80,
    access: Access::UntilBlocked,
    can_change_sent: false,
    receipts: Receipts { delivered: true, read: true },
    // Cloud API media: images (JPEG, PNG) 5 MB, documents 100 MB, uploaded to
    // /PHONE_ID/media first.
    media: MediaRules {
        photo_types: &["jpeg", "png"],
        photo_max: 5 * MB,
        document_max: 100 * MB,
        download_max: 100 * MB,
    },
};

/// REST Bot API: text up to 7000; a keyboard is a grid six columns wide, with reply and
/// open-url buttons side by side. Viber publishes no overall rate: 80/s is what 16
/// requests in flight at about 0.2 s each reach.
const VIBER: Rules = Rules {
    id: "viber",
    // Opaque, base64-like, `=` padded.
    chat_id: ChatIdRule { valid: opaque_id, what: "user id" },
    name: "Viber",
    badge: "VB",
    text_limit: 7000,
    caption_limit: 7000,
    buttons: ButtonRules { max_per_row: 6, text_limit: 7000, ..ButtonRules::ANY },
    reply_window: None,
    press_is_a_message: false,
    sustained_per_sec: 80,
    access: Access::Subscribers,
    can_change_sent: false,
    // Viber's `delivered` and `seen` callbacks.
    receipts: Receipts { delivered: true, read: true },
    // Pictures (JPEG, PNG, GIF) of 1 MB, files of 50 MB, fetched by Viber from a URL.
    media: MediaRules {
        photo_types: &["jpeg", "png", "gif"],
        photo_max: MB,
        document_max: 50 * MB,
        download_max: 50 * MB,
    },
};

/// Community messages, API 5.199: text up to 9000 (error 914 past it); an inline
/// keyboard of at most 10 keys, 5 to a row, links and callbacks together; 20 requests a
/// second per community token, shared by the poller and the sender.
const VK: Rules = Rules {
    id: "vk",
    // A user's id, 2000000000 + a chat's id, or a community's negative id.
    chat_id: ChatIdRule {
        valid: |chat| chat.parse::<i64>().is_ok_and(|id| id != 0),
        what: "peer id (a whole number such as 51422811)",
    },
    name: "VK",
    badge: "VK",
    text_limit: 9000,
    caption_limit: 9000,
    buttons: ButtonRules { max_replies: 10, max_links: 10, max_per_row: 5, text_limit: 9000, ..ButtonRules::ANY },
    reply_window: None,
    press_is_a_message: false,
    sustained_per_sec: 20,
    access: Access::Permission,
    can_change_sent: false,
    // VK's `message_read`; no delivery receipt.
    receipts: Receipts { delivered: false, read: true },
    // Photos through the messages upload server (50 MB), documents 200 MB.
    media: MediaRules {
        photo_types: &["jpeg", "png", "gif"],
        photo_max: 50 * MB,
        document_max: 200 * MB,
        download_max: 50 * MB,
    },
};

impl ButtonRules {
    /// Any buttons, in any number and mix, under anything: a channel states only what it
    /// limits.
    pub const ANY: ButtonRules = ButtonRules {
        max_replies: usize::MAX,
        max_links: usize::MAX,
        mix: true,
        title_limit: usize::MAX,
        max_per_row: usize::MAX,
        text_limit: usize::MAX,
        with_attachment: true,
    };

    /// Whether these rows of buttons fit; the reason, in the agent's words, when not.
    pub fn check(&self, rows: &[Vec<Button>], channel: &str) -> Result<(), String> {
        let flat: Vec<&Button> = rows.iter().flatten().collect();
        let links = flat.iter().filter(|b| b.url.is_some()).count();
        let replies = flat.len() - links;
        if links > 0 && replies > 0 && !self.mix {
            return Err(format!(
                "{channel} cannot mix link and reply buttons in one message: keep the link or the replies"
            ));
        }
        if links > self.max_links {
            return Err(format!(
                "{channel} takes at most {} link button(s) in a message; this has {links}",
                self.max_links
            ));
        }
        if replies > self.max_replies {
            return Err(format!(
                "{channel} takes at most {} reply buttons in a message; this has {replies}",
                self.max_replies
            ));
        }
        if let Some(row) = rows.iter().find(|r| r.len() > self.max_per_row) {
            return Err(format!(
                "{channel} shows at most {} buttons in a row; one row has {}",
                self.max_per_row,
                row.len()
            ));
        }
        if let Some(b) = flat.iter().find(|b| b.text.chars().count() > self.title_limit) {
            return Err(format!(
                "the button “{}” is {} characters long; {channel} shows at most {}",
                b.text,
                b.text.chars().count(),
                self.title_limit
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(spec: &str) -> Button {
        Button::parse(spec).unwrap()
    }

    #[test]
    fn whatsapp_takes_ten_replies_or_one_link_and_telegram_takes_both() {
        let wa = ChannelKind::WhatsApp.rules().buttons;
        assert!(wa.check(&[vec![b("Да=yes"), b("Нет=no"), b("Позже=later")]], "WhatsApp").is_ok());
        assert!(wa.check(&[vec![b("Открыть=https://shop.example/a")]], "WhatsApp").is_ok());
        let mixed = [vec![b("Открыть=https://shop.example/a")], vec![b("Стоп=stop")]];
        assert!(wa.check(&mixed, "WhatsApp").unwrap_err().contains("cannot mix"));
        // Past three, a list message: ten rows at most.
        let four = [vec![b("1=a"), b("2=b")], vec![b("3=c"), b("4=d")]];
        assert!(wa.check(&four, "WhatsApp").is_ok());
        let eleven: Vec<Vec<Button>> = vec![(0..11).map(|i| b(&format!("{i}=d{i}"))).collect()];
        assert!(wa.check(&eleven, "WhatsApp").unwrap_err().contains("at most 10 reply"));
        let long = [vec![b("Посмотреть все товары=all")]];
        assert!(wa.check(&long, "WhatsApp").unwrap_err().contains("at most 20"));
        assert!(ChannelKind::Telegram.rules().buttons.check(&mixed, "Telegram").is_ok());
        let seven = [vec![b("1=a"), b("2=b"), b("3=c"), b("4=d"), b("5=e"), b("6=f"), b("7=g")]];
        assert!(ChannelKind::Viber.rules().buttons.check(&seven, "Viber").unwrap_err().contains("in a row"));
    }
}
