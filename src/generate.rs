//! `switchboard generate`: a realistic store of a given size for benchmarks and for
//! trying the console on a long history. Contacts over the three channels, conversations
//! whose lengths follow a long tail (plus one of 100,000 messages), two years of mixed
//! English and Russian messages with statuses, consent events, tags and a few finished
//! campaigns; for reports, replies by five agents and a bot minutes after the customer,
//! resolves with satisfaction answers, and stage histories along the funnel.
//! Deterministic from a seed; written with plain batched inserts, through the real schema
//! and its triggers (the search index, the report tables).

use rusqlite::{Connection, params};

use crate::model::{Millis, now_ms};
use crate::sandbox::Rng;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub contacts: usize,
    pub conversations: usize,
    pub messages: usize,
    /// Messages of the longest conversation (the first one), within `messages`.
    pub longest: usize,
    pub seed: u64,
}

impl Default for Size {
    fn default() -> Self {
        Size { contacts: 50_000, conversations: 20_000, messages: 1_000_000, longest: 100_000, seed: 1 }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Generated {
    pub contacts: usize,
    pub conversations: usize,
    pub messages: usize,
    pub consent_events: usize,
    pub campaigns: usize,
}

const DAY: Millis = 86_400_000;
const SPAN: Millis = 730 * DAY;
/// Messages per transaction (a conversation is never split).
const BATCH: usize = 20_000;

const RU_FIRST: &[&str] =
    &["Анна", "Дмитрий", "Екатерина", "Сергей", "Ольга", "Алексей", "Мария", "Игорь", "Юлия", "Павел"];
const RU_LAST: &[&str] = &["Петрова", "Смирнов", "Иванова", "Кузнецов", "Соколова", "Попов", "Лебедева", "Козлов"];
const EN_FIRST: &[&str] = &["Emma", "Liam", "Olivia", "Noah", "Ava", "James", "Sophia", "Lucas", "Mia", "Ethan"];
const EN_LAST: &[&str] = &["Wilson", "Carter", "Brooks", "Hughes", "Murphy", "Reed", "Bennett", "Price"];
const RU_LINES: &[&str] = &[
    "Здравствуйте! Когда будет доставка моего заказа?",
    "Добрый день, можно оплатить картой при получении?",
    "Подскажите, пожалуйста, как оформить возврат?",
    "Спасибо большое, всё получила 🙏",
    "Курьер не позвонил, посылка всё ещё в пути",
    "А есть этот товар в синем цвете?",
    "Заказ передан в доставку, курьер позвонит завтра.",
    "Вернуть товар можно в течение 14 дней, пришлю инструкцию.",
    "Отлично, договорились 👍",
    "Можно поменять адрес доставки на Казань?",
];
const EN_LINES: &[&str] = &[
    "Hi! Where is my order?",
    "Hello, do you ship to Kazakhstan?",
    "I was charged twice for order #5512, can you check?",
    "Thanks a lot, the parcel arrived today 🙌",
    "Your parcel is with the courier, expect a call tomorrow.",
    "Do you have this in size M? 👕",
    "I've refunded the duplicate charge; it takes 3-5 days to show.",
    "Perfect, thank you!",
    "Could you send me the invoice as a PDF?",
    "The tracking number does not work, can you help?",
];
const AGENTS: &[&str] = &["maria", "ivan", "olga", "james", "sofia"];
const CITIES: &[&str] = &["Kazan", "Moscow", "Saint Petersburg", "London", "Manchester", "Almaty"];
const CHANNELS: [&str; 3] = ["telegram", "whatsapp", "viber"];

/// Fills an empty store at `conn` (already migrated).
pub fn generate(conn: &mut Connection, size: Size) -> rusqlite::Result<Generated> {
    // The store's SQL functions: its triggers call them (the search index's `searchable`).
    crate::store::add_functions(conn)?;
    let mut rng = Rng::new(size.seed);
    let now = now_ms();
    let start = now - SPAN;
    let mut out = Generated::default();
    let conversations = size.conversations.min(size.contacts).max(1);

    // Contacts, identities, tags and consent.
    // A new file that is written once: if this is interrupted it is generated again, so
    // it need not wait for the disk at every commit.
    conn.pragma_update(None, "synchronous", "OFF")?;
    // Messages arrive interleaved across conversations: keep their index pages in memory.
    conn.pragma_update(None, "cache_size", -256_000)?;
    let tx = conn.transaction()?;
    let mut histories: Vec<Vec<(&str, Millis)>> = Vec::with_capacity(size.contacts);
    tx.execute("INSERT OR IGNORE INTO tags(name) VALUES ('vip'), ('churned'), ('wholesale')", [])?;
    {
        let mut contact = tx.prepare(
            "INSERT INTO contacts(id, display_name, phone, locale, time_zone, attributes, stage, source, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let mut identity =
            tx.prepare("INSERT INTO identities(contact_id, channel, external_id, created_at) VALUES (?1, ?2, ?3, ?4)")?;
        let mut tag =
            tx.prepare("INSERT INTO contact_tags(contact_id, tag_id) SELECT ?1, id FROM tags WHERE name = ?2")?;
        // A WhatsApp customer's number is their id, vouched for by WhatsApp, as ingest
        // records it.
        let mut phone_of = tx.prepare(
            "INSERT INTO contact_phones(contact_id, phone, verified_by, source, at) VALUES (?1, ?2, 'whatsapp', 'whatsapp', ?3)",
        )?;
        let mut consent = tx.prepare(
            "INSERT INTO consent_events(contact_id, channel, purpose, action, source, evidence, recorded_by, at) \
             VALUES (?1, ?2, 'marketing', ?3, ?4, ?5, ?4, ?6)",
        )?;
        for id in 1..=size.contacts as i64 {
            let ru = rng.below(2) == 0;
            let name = if ru {
                format!("{} {}", RU_FIRST[rng.below(10) as usize], RU_LAST[rng.below(8) as usize])
            } else {
                format!("{} {}", EN_FIRST[rng.below(10) as usize], EN_LAST[rng.below(8) as usize])
            };
            let channel = CHANNELS[(id % 3) as usize];
            let phone = (channel == "whatsapp").then(|| format!("+7900{:07}", id));
            let city = CITIES[rng.below(CITIES.len() as u64) as usize];
            let attributes = if rng.below(10) < 8 { format!("{{\"city\":\"{city}\"}}") } else { "{}".into() };
            let zone = if ru { "Europe/Moscow" } else { "Europe/London" };
            let created = start + rng.below(SPAN as u64) as Millis;
            let history = stage_history(&mut rng, created, now);
            let stage = history.last().map_or("new", |h| h.0);
            histories.push(history);
            let source = if id as usize > conversations { "import" } else { "chat" };
            contact.execute(params![
                id,
                name,
                phone,
                if ru { "ru" } else { "en" },
                zone,
                attributes,
                stage,
                source,
                created
            ])?;
            identity.execute(params![id, channel, external_id(channel, id), created])?;
            if let Some(phone) = &phone {
                phone_of.execute(params![id, phone, created])?;
            }
            if rng.below(10) == 0 {
                tag.execute(params![id, "vip"])?;
            }
            if rng.below(20) == 0 {
                tag.execute(params![id, "churned"])?;
            }
            let roll = rng.below(100);
            if roll < 70 {
                consent.execute(params![id, channel, "opt_in", "import", "signed up at checkout", created])?;
                out.consent_events += 1;
            }
            if (65..70).contains(&roll) {
                consent.execute(params![id, channel, "opt_out", "keyword", "STOP", created + DAY])?;
                out.consent_events += 1;
            }
        }
    }
    // Each contact's way through the funnel, at its times (the trigger logged only the
    // stage each was created in).
    tx.execute("DELETE FROM stage_events", [])?;
    {
        let mut event =
            tx.prepare("INSERT INTO stage_events(contact_id, from_stage, to_stage, at) VALUES (?1, ?2, ?3, ?4)")?;
        for (i, history) in histories.iter().enumerate() {
            let mut from = None;
            for (stage, at) in history {
                event.execute(params![i as i64 + 1, from, stage, at])?;
                from = Some(*stage);
            }
        }
    }
    tx.commit()?;
    out.contacts = size.contacts;

    // How many messages each conversation gets: the first the longest, the others a
    // long tail (a few busy customers, many who wrote twice).
    let rest = size.messages.saturating_sub(size.longest);
    let others = conversations.saturating_sub(1);
    let mut weights: Vec<f64> = (0..others).map(|i| 1.0 / (1.0 + i as f64 / 50.0)).collect();
    let total: f64 = weights.iter().sum();
    for w in &mut weights {
        *w /= total.max(f64::MIN_POSITIVE);
    }
    let mut lengths: Vec<usize> = std::iter::once(size.longest.min(size.messages))
        .chain(weights.iter().map(|w| ((w * rest as f64) as usize).max(1)))
        .collect();
    // Rounding: the last ones absorb the difference so the total is exact.
    let mut sum: usize = lengths.iter().sum();
    let mut i = lengths.len();
    while sum != size.messages && i > 1 {
        i -= 1;
        if sum > size.messages {
            let cut = (sum - size.messages).min(lengths[i].saturating_sub(1));
            lengths[i] -= cut;
            sum -= cut;
        } else {
            lengths[i] += size.messages - sum;
            sum = size.messages;
        }
        if i == 1 {
            break;
        }
    }

    // Conversations first; then every message in time order, as a store that grew by
    // live sync has them (row ids follow arrival), in batches.
    let tx = conn.transaction()?;
    // (time, conversation index, who: customer, agent or bot)
    let mut schedule: Vec<(Millis, u32, Who)> = Vec::with_capacity(size.messages);
    let mut steps: Vec<Millis> = Vec::with_capacity(lengths.len());
    let mut titles = Vec::with_capacity(lengths.len());
    for (index, &len) in lengths.iter().enumerate() {
        let id = index as i64 + 1;
        let channel = CHANNELS[(id % 3) as usize];
        let (first_at, step) = if len > 1 {
            let first = start + rng.below((SPAN / 2) as u64) as Millis;
            (first, ((now - DAY - first) / len as Millis).max(1))
        } else {
            (now - rng.below(SPAN as u64) as Millis, 1)
        };
        let title: String =
            tx.query_row("SELECT display_name FROM contacts WHERE id = ?1", [id], |r| r.get(0)).unwrap_or_default();
        tx.execute(
            "INSERT INTO conversations(id, channel, external_chat_id, contact_id, title, created_at) \
             VALUES (?1, ?2, ?3, ?1, ?4, ?5)",
            params![id, channel, external_id(channel, id), title, first_at],
        )?;
        titles.push(title);
        // The customer writes at evenly spread times (with jitter, the last before
        // now); each message gets a reply within minutes, rarely hours. Now and then
        // the bot answers first: the customer answers it, and an agent takes over.
        let mut previous = first_at;
        let mut after_bot = false;
        for n in 0..len {
            let (who, t) = if n % 2 == 1 {
                if rng.below(10) == 0 && n + 2 < len {
                    (Who::Bot, previous + 3_000 + rng.below(12_000) as Millis)
                } else {
                    (Who::Agent, previous + reply_delay(&mut rng).min((step / 2).max(1)))
                }
            } else if after_bot {
                (Who::Customer, previous + 30_000 + rng.below(270_000) as Millis)
            } else {
                (Who::Customer, first_at + n as Millis * step + rng.below(step as u64) as Millis)
            };
            after_bot = who == Who::Bot;
            // In order, and before now.
            let t = t.max(previous + 1).min(now - 1);
            previous = t;
            schedule.push((t, index as u32, who));
        }
        steps.push(step);
        out.conversations += 1;
    }
    tx.commit()?;
    schedule.sort_unstable();

    // Per conversation: the last message's time, the last inbound time, its text, and
    // whether it is the customer's.
    let mut last: Vec<(Millis, Option<Millis>, String, bool)> = vec![(0, None, String::new(), false); lengths.len()];
    let mut message_id: i64 = 0;
    for batch in schedule.chunks(BATCH) {
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO messages(id, conversation_id, direction, kind, body, sent_at, status, author, \
                   sender_name, external_id, created_at) VALUES (?1, ?2, ?3, 'text', ?4, ?5, ?6, ?7, ?8, ?9, ?5)",
            )?;
            // A resolve and the customer's next message reopening it: the triggers
            // record the session's resolution.
            let mut resolve = tx.prepare_cached(
                "UPDATE conversations SET status = 'resolved', resolved_at = ?2, assignee = ?3 WHERE id = ?1",
            )?;
            let mut reopen = tx.prepare_cached("UPDATE conversations SET status = 'open' WHERE id = ?1")?;
            let mut survey = tx.prepare_cached(
                "INSERT INTO csat(conversation_id, contact_id, agent, asked_at, score, answered_at) \
                 VALUES (?1, ?1, ?2, ?3, ?4, ?5)",
            )?;
            for &(t, index, who) in batch {
                message_id += 1;
                let id = index as i64 + 1;
                let inbound = who == Who::Customer;
                let lines = if id % 2 == 0 { RU_LINES } else { EN_LINES };
                let mut body = lines[rng.below(lines.len() as u64) as usize].to_string();
                if rng.below(8) == 0 {
                    body.push(' ');
                    body.push_str(lines[rng.below(lines.len() as u64) as usize]);
                }
                let status = if inbound {
                    "received"
                } else {
                    ["sent", "delivered", "read", "read", "failed"][rng.below(5) as usize]
                };
                let title = &titles[index as usize];
                // One agent per conversation; now and then the bot answers first.
                let agent = AGENTS[(id % AGENTS.len() as i64) as usize];
                let author = match who {
                    Who::Customer => None,
                    Who::Bot => Some("bot"),
                    Who::Agent => Some(agent),
                };
                insert.execute(params![
                    message_id,
                    id,
                    if inbound { "in" } else { "out" },
                    body,
                    t,
                    status,
                    author,
                    inbound.then_some(title),
                    format!("g{message_id}"),
                ])?;
                // Sparse conversations are resolved after most answers, busy ones now
                // and then.
                let resolves = if steps[index as usize] > 6 * 3_600_000 { rng.below(4) > 0 } else { rng.below(8) == 0 };
                if who == Who::Agent && resolves {
                    let at = t + 60_000 + rng.below(30 * 60_000) as Millis;
                    resolve.execute(params![id, at, agent])?;
                    reopen.execute([id])?;
                    if rng.below(5) < 2 {
                        let score = [1, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5, 5][rng.below(12) as usize];
                        let answered = rng.below(4) > 0;
                        survey.execute(params![
                            id,
                            agent,
                            at,
                            answered.then_some(score),
                            answered.then_some(at + 60_000)
                        ])?;
                    }
                }
                let l = &mut last[index as usize];
                *l = (t, if inbound { Some(t) } else { l.1 }, body, inbound);
            }
        }
        tx.commit()?;
        out.messages += batch.len();
    }
    let tx = conn.transaction()?;
    {
        let mut update = tx.prepare(
            "UPDATE conversations SET last_message_at = ?2, last_inbound_at = ?3, last_outbound_at = ?2, \
               last_preview = ?4, unanswered = ?5, unread = ?5, status = ?6, \
               resolved_at = CASE WHEN ?6 = 'resolved' THEN ?2 + 300000 ELSE resolved_at END WHERE id = ?1",
        )?;
        for (index, (last_at, last_inbound, preview, unanswered)) in last.into_iter().enumerate() {
            let status = if unanswered { "open" } else { ["open", "resolved", "resolved"][rng.below(3) as usize] };
            let preview: String = preview.chars().take(120).collect();
            update.execute(params![index as i64 + 1, last_at, last_inbound, preview, unanswered, status])?;
        }
    }
    tx.commit()?;

    // A few finished campaigns, each reaching some of the contacts who talk to us.
    let tx = conn.transaction()?;
    for c in 1..=3i64 {
        let at = now - (c * 20) * DAY;
        tx.execute(
            "INSERT INTO campaigns(name, filter, template, state, created_at, launched_at, finished_at) \
             VALUES (?1, 'consent:marketing', 'Скидка 20% / 20% off', 'done', ?2, ?2, ?2)",
            params![format!("generated-{c}"), at],
        )?;
        let campaign = tx.last_insert_rowid();
        let mut insert_message = tx.prepare_cached(
            "INSERT INTO messages(id, conversation_id, direction, kind, body, sent_at, status, author, campaign_id, created_at) \
             VALUES (?1, ?2, 'out', 'text', 'Скидка 20% на всё до воскресенья / 20% off until Sunday', ?3, ?5, 'campaign', ?4, ?3)",
        )?;
        let mut click = tx.prepare_cached(
            "INSERT INTO message_events(message_id, kind, detail, at) VALUES (?1, 'click', 'shop', ?2)",
        )?;
        let mut recipient = tx.prepare_cached(
            "INSERT INTO campaign_recipients(campaign_id, contact_id, channel, variant, state, message_id) \
             VALUES (?1, ?2, ?3, 'A', 'queued', ?4)",
        )?;
        for conversation in (1..=conversations as i64).step_by(10) {
            message_id += 1;
            let channel = CHANNELS[(conversation % 3) as usize];
            // Telegram tells a bot nothing after the send; the others deliver, and read.
            let status = match (channel, rng.below(10)) {
                ("telegram", _) => "sent",
                (_, 0) => "sent",
                (_, 1..=4) => "delivered",
                _ => "read",
            };
            insert_message.execute(params![message_id, conversation, at, campaign, status])?;
            recipient.execute(params![campaign, conversation, channel, message_id])?;
            if rng.below(12) == 0 {
                click.execute(params![message_id, at + 3_600_000])?;
            }
        }
        out.campaigns += 1;
    }
    tx.commit()?;
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Customer,
    Agent,
    Bot,
}

/// How long a reply takes: mostly minutes, sometimes an hour or two, now and then the
/// next morning.
fn reply_delay(rng: &mut Rng) -> Millis {
    let minute = 60_000;
    match rng.below(10) {
        0..=6 => 20_000 + rng.below(10 * minute as u64) as Millis,
        7 | 8 => 10 * minute + rng.below(110 * minute as u64) as Millis,
        _ => 2 * 60 * minute + rng.below(14 * 60 * minute as u64) as Millis,
    }
}

/// A contact's stages from its creation: most stay new or leads; some become customers
/// and come back; some churn. Each step days after the last, never past `now`.
fn stage_history(rng: &mut Rng, created: Millis, now: Millis) -> Vec<(&'static str, Millis)> {
    let mut history = vec![("new", created)];
    let mut at = created;
    for (stage, percent) in [("lead", 60), ("qualified", 50), ("customer", 45), ("repeat", 30)] {
        at += DAY / 2 + rng.below((20 * DAY) as u64) as Millis;
        if at >= now {
            break;
        }
        if rng.below(100) < 8 {
            history.push(("churned", at));
            break;
        }
        if rng.below(100) >= percent {
            break;
        }
        history.push((stage, at));
    }
    history
}

/// The platform id of contact `id` on `channel`.
pub fn external_id(channel: &str, id: i64) -> String {
    match channel {
        "telegram" => (6_000_000_000 + id).to_string(),
        "whatsapp" => format!("7900{id:07}"),
        _ => format!("{id:012X}gen+Q=="),
    }
}
