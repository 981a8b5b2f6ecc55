//! The rules applied to each new message from a customer, in order: the welcome (a
//! Telegram `/start`, a customer's first message or `message_allow` on VK), the away reply outside business
//! hours (unless an agent wrote in the conversation in the last half hour: someone is
//! there), then the first keyword rule that matches. STOP words (consent's) and group
//! chats get nothing; keyword rules stay quiet once an agent has answered in the
//! conversation, until it is resolved. A reply that cannot reach the customer (they
//! blocked or unsubscribed) is not queued, and the log says why.

use unicode_segmentation::UnicodeSegmentation;

use super::{AutomationConfig, KeywordRule, Schedule};
use crate::model::{ChannelKind, Millis, StopPolicy};
use crate::store::{AutoMessage, Fire, Store, StoreError};

pub use crate::store::BOT;

/// An agent who wrote in a conversation this recently is taken to be there: the away
/// reply does not tell their customer that nobody is.
const AGENT_HERE: Millis = 30 * 60_000;

/// How many messages one step looks at.
const BATCH: usize = 200;

/// The rules, read once: the schedule parsed, the regexes compiled, the words folded.
pub struct Automation {
    config: AutomationConfig,
    schedule: Option<Schedule>,
    keywords: Vec<(KeywordRule, Option<regex::Regex>, Vec<String>)>,
}

impl Automation {
    pub fn new(config: &AutomationConfig) -> Result<Automation, String> {
        config.check()?;
        let keywords = config
            .keywords
            .iter()
            .filter(|k| k.enabled)
            .map(|k| {
                let regex = k.regex.as_deref().map(regex::Regex::new).transpose().map_err(|e| e.to_string())?;
                let words = k.words.iter().map(|w| fold_words(w)).filter(|w| !w.is_empty()).collect();
                Ok((k.clone(), regex, words))
            })
            .collect::<Result<_, String>>()?;
        Ok(Automation { config: config.clone(), schedule: config.schedule(), keywords })
    }

    pub fn is_empty(&self) -> bool {
        self.config.welcome.as_ref().is_none_or(|w| !w.enabled)
            && self.schedule.is_none()
            && self.keywords.is_empty()
            && self.csat().is_none()
    }

    fn csat(&self) -> Option<&super::CsatConfig> {
        self.config.csat.as_ref().filter(|c| c.enabled)
    }
}

/// A text's words, case- and `ё`-folded, one space apart: what keyword rules compare.
pub(super) fn fold_words(text: &str) -> String {
    crate::text::fold(text).unicode_words().collect::<Vec<_>>().join(" ")
}

/// How often the engine looks for new messages to answer.
const EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// The engine's automation task: a step every half second on a connection of its own;
/// the senders are woken when it queued something.
pub async fn run(
    store_path: std::path::PathBuf,
    automation: Automation,
    stop: StopPolicy,
    wake: std::sync::Arc<tokio::sync::Notify>,
) {
    let store = match crate::sync::engine_store(&store_path) {
        Ok(s) => crate::store::SharedStore::new(s),
        Err(e) => return tracing::error!(error = %e, "automation cannot open the store; it is off"),
    };
    let automation = std::sync::Arc::new(automation);
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (a, stop) = (automation.clone(), stop.clone());
        match store.run(move |s| step(s, &a, &stop, crate::model::now_ms())).await {
            Ok(0) => {}
            Ok(_) => wake.notify_waiters(),
            Err(e) => tracing::warn!(error = %e, "automation: cannot look at new messages now"),
        }
    }
}

/// Looks at the customers' messages not yet seen and does what the rules say; how many
/// it looked at. Each message's outcome is written with the cursor past it, so a crash
/// never repeats or loses one.
pub fn step(store: &mut Store, automation: &Automation, stop: &StopPolicy, now: Millis) -> Result<usize, StoreError> {
    if let Some(csat) = automation.csat() {
        super::csat::ask(store, csat, now)?;
    }
    store.csat_presses()?;
    let after = store.automation_after()?;
    let batch = store.automation_batch(after, BATCH)?;
    for message in &batch {
        // The customer's words just after their score are its comment, not a question.
        let comment = match automation.csat() {
            Some(c) if message.kind == "text" => {
                let window = c.comment_minutes as Millis * 60_000;
                store.csat_comment(message.conversation, &message.body, message.sent_at, window)?
            }
            _ => false,
        };
        let fires = if comment { Vec::new() } else { decide(store, automation, stop, message, now)? };
        for f in fires.iter().filter(|f| f.reply.is_none() && !f.detail.is_empty()) {
            tracing::info!(rule = %f.rule, conversation = %message.conversation, detail = %f.detail, "automation held back");
        }
        store.automation_commit(message, &fires, now)?;
    }
    Ok(batch.len())
}

fn decide(
    store: &Store,
    automation: &Automation,
    stop: &StopPolicy,
    m: &AutoMessage,
    now: Millis,
) -> Result<Vec<Fire>, StoreError> {
    // A press (a survey's, a campaign's) or a reaction is no message to answer.
    if m.is_group || stop.matches(&m.body) || matches!(m.kind.as_str(), "click" | "reaction") {
        return Ok(Vec::new());
    }
    // A platform event (a block, a subscription) is no message to answer; VK's
    // `message_allow` (the customer let the community write) is welcomed.
    let allowed = m.kind == "system" && m.channel == ChannelKind::Vk && m.body == "allowed messages from the community";
    if m.kind == "system" && !allowed {
        return Ok(Vec::new());
    }
    let mut fires = Vec::new();
    let mut welcomed = false;
    if let Some(w) = automation.config.welcome.as_ref().filter(|w| w.enabled) {
        let start = (m.channel == ChannelKind::Telegram)
            .then(|| m.body.strip_prefix("/start"))
            .flatten()
            .filter(|rest| rest.is_empty() || rest.starts_with(' '));
        let text = match (start, m.channel) {
            (Some(payload), _) => Some(w.payloads.get(payload.trim()).unwrap_or(&w.text).clone()),
            (None, ChannelKind::Vk) if m.first || allowed => Some(w.text.clone()),
            _ => None,
        };
        if let Some(text) = text {
            welcomed = start.is_some();
            fires.push(reaching(m, Fire { rule: "welcome".into(), reply: Some(text), ..Fire::default() }));
        }
    }
    if allowed {
        return Ok(fires);
    }
    if let (Some(schedule), Some(away)) =
        (&automation.schedule, automation.config.hours.as_ref().and_then(|h| h.away.as_ref()))
        && !schedule.is_open(m.sent_at)
        && m.agent_last.is_none_or(|t| m.sent_at - t > AGENT_HERE)
        && let Some(next) = schedule.next_open(m.sent_at)
    {
        let text = away.replace("{{next_open}}", &schedule.say_when(now, next));
        let fire = Fire { rule: "away".into(), period: next.to_string(), reply: Some(text), ..Fire::default() };
        fires.push(reaching(m, fire));
    }
    if welcomed || m.agent_replied || m.kind != "text" {
        return Ok(fires);
    }
    let words = format!(" {} ", fold_words(&m.body));
    let hit = automation.keywords.iter().find(|(_, regex, phrases)| {
        phrases.iter().any(|p| words.contains(&format!(" {p} "))) || regex.as_ref().is_some_and(|r| r.is_match(&m.body))
    });
    if let Some((rule, ..)) = hit {
        let rendered = store.render_canned(&rule.reply, m.conversation, BOT)?;
        let mut fire = Fire {
            rule: format!("keyword:{}", rule.name),
            period: m.id.0.to_string(),
            tag: rule.tag.clone(),
            stage: rule.stage.clone(),
            assign: rule.assign.clone(),
            ..Fire::default()
        };
        match rendered {
            Ok(text) => fire.reply = Some(text),
            Err(why) => fire.detail = format!("not sent: {why}"),
        }
        fires.push(reaching(m, fire));
    }
    Ok(fires)
}

/// A reply for a customer nothing reaches is not queued; the log says why.
fn reaching(m: &AutoMessage, mut fire: Fire) -> Fire {
    if m.blocked && fire.reply.is_some() {
        let rules = m.channel.rules();
        let what = match rules.access {
            crate::model::Access::Subscribers => "unsubscribed",
            crate::model::Access::Permission => "denied messages",
            crate::model::Access::UntilBlocked => "blocked the bot",
        };
        fire.reply = None;
        fire.detail = format!("not sent: the customer {what} on {}", rules.name);
    } else if fire.detail.is_empty() {
        fire.detail = "sent".into();
    }
    fire
}
