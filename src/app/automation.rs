//! The Automation screen: every rule of `[automation]`, whether it is on, what it does,
//! and when it last fired, for whom and how often (read from the store's log).

use super::action::Effect;
use super::overlay::Overlay;
use super::picker::{Choice, Picker};
use super::state::AppState;
use super::update::notify;
use crate::automation::RuleLine;
use crate::model::Millis;

/// A rule on the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleChoice {
    pub rule: RuleLine,
    /// When it last fired, and for whom: `2m ago · Анна Петрова · 3 times · sent`.
    pub last: Option<String>,
}

impl Choice for RuleChoice {
    fn label(&self) -> String {
        let mark = if self.rule.on { "●" } else { "○ off" };
        crate::text::sanitize(&format!("{mark} {} — {}", self.rule.rule, self.rule.what), false)
    }

    fn aside(&self) -> Option<String> {
        Some(self.last.clone().unwrap_or_else(|| "never fired".into()))
    }
}

pub fn open(s: &mut AppState) -> Vec<Effect> {
    if s.automation.is_empty() {
        notify(s, "no automation rules: see [automation] in config.example.toml".into(), false);
        return Vec::new();
    }
    let items = s.automation.iter().map(|r| RuleChoice { rule: r.clone(), last: None }).collect();
    s.overlay = Overlay::Automation(Picker::new(" Automation ", "type to filter; Esc closes", items));
    vec![Effect::LoadAutomation]
}

pub fn loaded(s: &mut AppState, result: Result<Vec<crate::store::Fired>, String>) {
    let (now, tz) = (s.now, s.tz);
    let fired = match result {
        Ok(f) => f,
        Err(e) => return notify(s, format!("cannot read what automation did: {e}"), true),
    };
    let Overlay::Automation(picker) = &mut s.overlay else { return };
    for item in &mut picker.items {
        // Keyword rules are logged by their name; the welcome and the away reply by theirs.
        if let Some(f) = fired.iter().find(|f| f.rule == item.rule.rule) {
            item.last = Some(said(now, tz, f.at, &f.who, f.times, &f.detail));
        }
    }
}

fn said(now: Millis, tz: chrono::FixedOffset, at: Millis, who: &str, times: i64, detail: &str) -> String {
    let when = crate::ui::time::relative(now, at, tz);
    let times = if times == 1 { "once".to_string() } else { format!("{times} times") };
    crate::text::sanitize(&format!("{when} · {who} · {times} · {detail}"), false)
}
