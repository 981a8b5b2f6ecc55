//! Scripted customers: who they are and what they say. They write in English or
//! Russian, sometimes with emoji, now and then at length.

use super::Rng;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// Their Telegram user id, which is also their private chat id.
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    /// `en` or `ru`.
    pub lang: &'static str,
}

impl Customer {
    pub fn full_name(&self) -> String {
        match &self.last_name {
            Some(last) => format!("{} {last}", self.first_name),
            None => self.first_name.clone(),
        }
    }
}

const RU_NAMES: &[(&str, &str)] = &[
    ("Анна", "Петрова"),
    ("Дмитрий", "Смирнов"),
    ("Екатерина", "Иванова"),
    ("Сергей", "Кузнецов"),
    ("Ольга", "Соколова"),
    ("Алексей", "Попов"),
    ("Мария", "Лебедева"),
    ("Игорь", "Козлов"),
    ("Наталья", "Новикова"),
    ("Павел", "Морозов"),
    ("Татьяна", "Волкова"),
    ("Артём", "Зайцев"),
    ("Юлия", "Павлова"),
    ("Михаил", "Семёнов"),
    ("Ирина", "Голубева"),
    // The demo's VK customers (the 31st to the 36th).
    ("Елена", "Фёдорова"),
    ("Никита", "Орлов"),
    ("Светлана", "Белова"),
    ("Роман", "Васильев"),
    ("Ксения", "Алексеева"),
    ("Денис", "Егоров"),
];

const EN_NAMES: &[(&str, &str)] = &[
    ("Emma", "Wilson"),
    ("Liam", "Carter"),
    ("Olivia", "Brooks"),
    ("Noah", "Hughes"),
    ("Ava", "Murphy"),
    ("James", "Reed"),
    ("Sophia", "Bennett"),
    ("Lucas", "Price"),
    ("Mia", "Foster"),
    ("Ethan", "Gray"),
    ("Chloe", "Sanders"),
    ("Daniel", "Ward"),
    ("Grace", "Perry"),
    ("Henry", "Long"),
    ("Zoe", "Butler"),
];

/// `n` customers, alternating Russian and English speakers; the same every time.
pub fn demo_customers(n: usize) -> Vec<Customer> {
    (0..n)
        .map(|i| {
            // Every other customer writes in Russian; from the 31st on (the demo's VK
            // customers), all of them.
            let (lang, names) = if i % 2 == 0 || i >= 30 { ("ru", RU_NAMES) } else { ("en", EN_NAMES) };
            let (first, last) = match i {
                30.. => RU_NAMES[15 + (i - 30) % 6],
                _ => names[(i / 2) % 15],
            };
            Customer {
                id: 5_000_000_000 + i as i64 * 7919,
                first_name: first.into(),
                // A few people keep their last name to themselves.
                last_name: (i % 7 != 3).then(|| last.into()),
                username: (i % 3 == 0).then(|| format!("user{}", 100 + i)),
                lang,
            }
        })
        .collect()
}

const RU_OPENERS: &[&str] = &[
    "Здравствуйте! Когда будет доставка моего заказа?",
    "Добрый день, можно оплатить картой при получении?",
    "Привет! А у вас есть этот товар в синем цвете?",
    "Подскажите, пожалуйста, как оформить возврат?",
    "Заказ №4821 до сих пор не пришёл 😕",
    "Можно поменять адрес доставки?",
];
const EN_OPENERS: &[&str] = &[
    "Hi! Where is my order?",
    "Hello, do you ship to Kazakhstan?",
    "Is the spring sale still on?",
    "I was charged twice for order #5512, can you check?",
    "Do you have this in size M? 👕",
    "Can I change my delivery address?",
];
const RU_REPLIES: &[&str] = &[
    "Спасибо большое! 🙏",
    "Понятно, жду.",
    "А можно побыстрее?",
    "Отлично, договорились 👍",
    "Хорошо, спасибо за ответ",
    "Нет, это не то, что я спрашивала",
];
const EN_REPLIES: &[&str] = &[
    "Thanks a lot! 🙌",
    "Ok, I'll wait.",
    "Great, that works 👍",
    "Hmm, that's not what I asked though",
    "Perfect, thank you!",
    "Could you be a bit faster please?",
];
const RU_LONG: &str = "Добрый день! Хочу подробно описать ситуацию: я оформила заказ в понедельник, \
    оплатила сразу картой, мне пришло письмо с подтверждением, но с тех пор статус не меняется. \
    Курьер не звонил, трек-номер не работает, а в личном кабинете написано «в обработке». \
    Подскажите, пожалуйста, что происходит и когда ждать посылку? Заранее спасибо!";
const EN_LONG: &str = "Hello! Let me explain the whole thing: I ordered on Monday and paid by card right away, \
    got the confirmation e-mail, but the status has not changed since. The courier never called, \
    the tracking number does not work, and my account still says \"processing\". \
    Could you tell me what is going on and when the parcel will arrive? Thanks in advance!";
const EMOJI: &[&str] = &["👍", "🙏", "😊", "❤️", "🎉", "👌🏽"];

/// A first message from `c`.
pub fn opener(c: &Customer, rng: &mut Rng) -> String {
    if rng.chance(10) {
        return if c.lang == "ru" { RU_LONG } else { EN_LONG }.to_string();
    }
    rng.pick(if c.lang == "ru" { RU_OPENERS } else { EN_OPENERS }).to_string()
}

/// What `c` answers an agent.
pub fn reply(c: &Customer, rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => rng.pick(EMOJI).to_string(),
        1 => if c.lang == "ru" { RU_LONG } else { EN_LONG }.to_string(),
        _ => rng.pick(if c.lang == "ru" { RU_REPLIES } else { EN_REPLIES }).to_string(),
    }
}

/// What an agent said, for the seeded history.
pub fn agent_line(c: &Customer, rng: &mut Rng) -> &'static str {
    const RU: &[&str] = &[
        "Здравствуйте! Сейчас проверю ваш заказ.",
        "Заказ передан в доставку, курьер позвонит завтра.",
        "Да, оплата картой курьеру возможна.",
        "Вернуть товар можно в течение 14 дней, пришлю инструкцию.",
    ];
    const EN: &[&str] = &[
        "Hi! Let me check your order.",
        "Your parcel is with the courier, expect a call tomorrow.",
        "Yes, the sale runs until Sunday.",
        "I've refunded the duplicate charge; it takes 3-5 days to show.",
    ];
    let lines: &[&'static str] = if c.lang == "ru" { RU } else { EN };
    lines[rng.below(lines.len() as u64) as usize]
}

/// What a customer does with a message that came as part of a broadcast: mostly
/// nothing, like real people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignReaction {
    Ignore,
    /// Answers in words.
    Reply,
    /// Presses a button under it, if there is one.
    Press,
    /// Writes STOP (or СТОП): they want no more of these.
    Stop,
}

/// The reaction for a roll of `choice` in 0..100.
pub fn campaign_reaction(choice: u64) -> CampaignReaction {
    match choice {
        // More STOPs than a real list sees (1–2%), so a demo campaign shows one.
        0..10 => CampaignReaction::Stop,
        10..40 => CampaignReaction::Press,
        40..60 => CampaignReaction::Reply,
        _ => CampaignReaction::Ignore,
    }
}

/// The stop word in the customer's language.
pub fn stop_word(c: &Customer) -> &'static str {
    if c.lang == "ru" { "СТОП" } else { "STOP" }
}

/// What `c` answers a promotion.
pub fn campaign_reply(c: &Customer, rng: &mut Rng) -> &'static str {
    const RU: &[&str] = &["А до какого числа акция?", "Интересно, а доставка бесплатная?", "Спасибо, посмотрю 🙂"];
    const EN: &[&str] = &["How long does the offer last?", "Nice, is shipping free?", "Thanks, I'll have a look 🙂"];
    let lines: &[&'static str] = if c.lang == "ru" { RU } else { EN };
    lines[rng.below(lines.len() as u64) as usize]
}
