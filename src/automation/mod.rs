//! Automation: what the business says without an agent, configured in `[automation]`.
//! A welcome for a customer who starts the chat, an away reply outside business hours,
//! and replies to keywords from the canned library. Every message a rule sends is
//! authored `bot` and goes through the outbox and its pacing like any reply; each time a
//! rule fires it is logged, so the console and `switchboard automation list` show what
//! fired, when and for whom.

mod csat;
pub mod hours;
pub mod run;

use serde::Deserialize;

pub use csat::SCALE;
pub use hours::{HoursConfig, Schedule};
pub use run::{Automation, BOT, step};

/// `[automation]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutomationConfig {
    pub welcome: Option<WelcomeConfig>,
    pub hours: Option<HoursConfig>,
    pub keywords: Vec<KeywordRule>,
    pub csat: Option<CsatConfig>,
}

/// `[automation.csat]`: "How did we do?" with a 1–5 scale on buttons when a
/// conversation is resolved: Telegram's inline buttons, Viber's and VK's keyboards,
/// WhatsApp's list message (or, once the 24-hour window has closed, an approved template
/// whose quick-reply payloads are `csat:1` … `csat:5`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsatConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "default_question")]
    pub question: String,
    /// Not asked again within this many days of the last survey to the same contact.
    #[serde(default = "default_every_days")]
    pub every_days: u32,
    /// The customer's next message within this many minutes of their score is its comment.
    #[serde(default = "default_comment_minutes")]
    pub comment_minutes: u32,
    /// For a WhatsApp customer whose window has closed: an approved template (none: the
    /// survey is skipped, and the log says why).
    #[serde(default)]
    pub whatsapp_template: Option<crate::model::TemplateCall>,
}

fn default_question() -> String {
    "How did we do? Rate us from 1 to 5.".into()
}

fn default_every_days() -> u32 {
    30
}

fn default_comment_minutes() -> u32 {
    10
}

/// `[automation.welcome]`: the first thing a customer who starts the chat reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WelcomeConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Telegram `/start`, VK's first message or `message_allow`; also WhatsApp's
    /// `request_welcome` and Viber's `conversation_started` unless their channel has a
    /// `welcome` of its own.
    pub text: String,
    /// Telegram: a welcome per deep-link payload (`/start promo_x` → `promo_x = "…"`).
    #[serde(default)]
    pub payloads: std::collections::BTreeMap<String, String>,
}

/// `[[automation.keywords]]`: a canned reply to a customer's message that has these
/// words or phrases (any case, `ё` as `е`) or matches the regex.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordRule {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub words: Vec<String>,
    #[serde(default)]
    pub regex: Option<String>,
    /// The canned reply (by name or shortcut) sent, rendered for the customer.
    pub reply: String,
    /// Also: tag the contact, set its stage, assign the conversation.
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub assign: Option<String>,
}

fn yes() -> bool {
    true
}

/// A rule as the Automation screen and `automation list` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleLine {
    /// `welcome`, `away`, `keyword:<name>`.
    pub rule: String,
    pub on: bool,
    /// What it does, in a line.
    pub what: String,
}

impl AutomationConfig {
    /// Whatever is wrong in it, named: the schedule, a regex, a stage, an empty rule.
    pub fn check(&self) -> Result<(), String> {
        if let Some(hours) = &self.hours {
            Schedule::parse(hours)?;
        }
        let mut names = std::collections::HashSet::new();
        for k in &self.keywords {
            let at = format!("automation.keywords `{}`", k.name);
            if k.name.trim().is_empty() || !names.insert(k.name.as_str()) {
                return Err(format!("{at}: each keyword rule needs a name of its own"));
            }
            if k.words.iter().all(|w| run::fold_words(w).is_empty()) && k.regex.is_none() {
                return Err(format!("{at}: give it words or a regex to match"));
            }
            if let Some(r) = &k.regex {
                regex::Regex::new(r).map_err(|e| format!("{at}: the regex: {e}"))?;
            }
            if let Some(stage) = &k.stage
                && !crate::store::STAGES.contains(&stage.as_str())
            {
                return Err(format!("{at}: the stage is one of {}", crate::store::STAGES.join(", ")));
            }
        }
        Ok(())
    }

    /// Every rule, in the order they are tried.
    pub fn rules(&self) -> Vec<RuleLine> {
        let mut lines = Vec::new();
        if let Some(w) = &self.welcome {
            let payloads =
                if w.payloads.is_empty() { String::new() } else { format!(" (+{} per /start link)", w.payloads.len()) };
            lines.push(RuleLine {
                rule: "welcome".into(),
                on: w.enabled,
                what: format!("greets a new chat{payloads}"),
            });
        }
        if let Some(h) = &self.hours {
            let what = match &h.away {
                Some(_) => format!("away reply outside business hours ({})", h.time_zone),
                None => format!("business hours ({}), no away reply", h.time_zone),
            };
            lines.push(RuleLine { rule: "away".into(), on: h.enabled && h.away.is_some(), what });
        }
        for k in &self.keywords {
            let mut matches: Vec<String> = k.words.iter().map(|w| format!("“{w}”")).collect();
            if let Some(r) = &k.regex {
                matches.push(format!("/{r}/"));
            }
            let mut what = format!("{} → canned “{}”", matches.join(", "), k.reply);
            for (label, v) in [("tag", &k.tag), ("stage", &k.stage), ("assign", &k.assign)] {
                if let Some(v) = v {
                    what.push_str(&format!(", {label} {v}"));
                }
            }
            lines.push(RuleLine { rule: format!("keyword:{}", k.name), on: k.enabled, what });
        }
        if let Some(c) = &self.csat {
            let what = format!("asks for a 1–5 score on resolve (not within {} days of the last)", c.every_days);
            lines.push(RuleLine { rule: "csat".into(), on: c.enabled, what });
        }
        lines
    }

    /// The schedule, when there is one that is on.
    pub fn schedule(&self) -> Option<Schedule> {
        self.hours.as_ref().filter(|h| h.enabled).and_then(|h| Schedule::parse(h).ok())
    }
}
