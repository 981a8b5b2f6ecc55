//! What a macro does after its reply: the actions a canned reply can carry, written as
//! the agent would say them (`resolve`, `snooze 2h`, `tag shipped`, `assign me`,
//! `stage customer`), checked when the macro is saved and read again when it runs.

use chrono::FixedOffset;

use super::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacroAction {
    Resolve,
    Pending,
    /// Until a time as the snooze picker reads it (`2h`, `tomorrow 9:00`), or until the
    /// customer writes (`None`).
    Snooze(Option<String>),
    Tag(String),
    /// To this agent (`me`: whoever runs it).
    Assign(String),
    Unassign,
    Stage(String),
}

/// What the actions can be, for error messages and the help.
pub const MACRO_ACTIONS: &str = "resolve, pending, snooze TIME (or `snooze until reply`), tag NAME, assign NAME (or `assign me`), unassign, stage NAME";

impl MacroAction {
    pub fn parse(text: &str) -> Result<MacroAction, String> {
        let text = text.trim();
        let (verb, rest) = text.split_once(char::is_whitespace).map(|(v, r)| (v, r.trim())).unwrap_or((text, ""));
        let needs = |what: &str| -> Result<String, String> {
            if rest.is_empty() || rest.chars().any(char::is_control) {
                Err(format!("`{text}`: {verb} needs {what}"))
            } else {
                Ok(rest.to_string())
            }
        };
        let action = match verb.to_lowercase().as_str() {
            "resolve" if rest.is_empty() => MacroAction::Resolve,
            "pending" if rest.is_empty() => MacroAction::Pending,
            "unassign" if rest.is_empty() => MacroAction::Unassign,
            "snooze" if matches!(rest.to_lowercase().as_str(), "until reply" | "until-reply") => {
                MacroAction::Snooze(None)
            }
            "snooze" => {
                let when = needs("a time (2h, tomorrow 9:00, fri 10:00) or `until reply`")?;
                // Read against a fixed day now only to check it; it runs against the clock.
                super::when::parse(&when, 1_767_261_600_000, FixedOffset::east_opt(0).expect("UTC"))
                    .map_err(|e| format!("`{text}`: {e}"))?;
                MacroAction::Snooze(Some(when))
            }
            "tag" => MacroAction::Tag(needs("a tag")?),
            "assign" => MacroAction::Assign(needs("an agent's name, or `me`")?),
            "stage" => {
                let stage = needs("a stage")?;
                if !crate::store::STAGES.contains(&stage.as_str()) {
                    return Err(format!("`{text}`: the stage is one of {}", crate::store::STAGES.join(", ")));
                }
                MacroAction::Stage(stage)
            }
            _ => return Err(format!("`{text}` is no action: one of {MACRO_ACTIONS}")),
        };
        Ok(action)
    }

    /// The time a snooze ends, read now in the agent's zone.
    pub fn snooze_until(when: &Option<String>, now: Millis, tz: FixedOffset) -> Result<Option<Millis>, String> {
        when.as_deref().map(|w| super::when::parse(w, now, tz)).transpose()
    }
}

impl std::fmt::Display for MacroAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MacroAction::Resolve => f.write_str("resolve"),
            MacroAction::Pending => f.write_str("pending"),
            MacroAction::Snooze(None) => f.write_str("snooze until reply"),
            MacroAction::Snooze(Some(w)) => write!(f, "snooze {w}"),
            MacroAction::Tag(t) => write!(f, "tag {t}"),
            MacroAction::Assign(a) => write!(f, "assign {a}"),
            MacroAction::Unassign => f.write_str("unassign"),
            MacroAction::Stage(s) => write!(f, "stage {s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_as_written_and_say_what_is_wrong() {
        assert_eq!(MacroAction::parse(" Resolve ").unwrap(), MacroAction::Resolve);
        assert_eq!(MacroAction::parse("tag big spender").unwrap(), MacroAction::Tag("big spender".into()));
        assert_eq!(MacroAction::parse("snooze 2h").unwrap(), MacroAction::Snooze(Some("2h".into())));
        assert_eq!(MacroAction::parse("snooze until reply").unwrap(), MacroAction::Snooze(None));
        assert_eq!(MacroAction::parse("assign me").unwrap(), MacroAction::Assign("me".into()));
        assert_eq!(MacroAction::parse("stage customer").unwrap(), MacroAction::Stage("customer".into()));
        assert!(MacroAction::parse("close").unwrap_err().contains("no action"));
        assert!(MacroAction::parse("tag").unwrap_err().contains("tag needs a tag"));
        assert!(MacroAction::parse("snooze someday").is_err());
        assert!(MacroAction::parse("stage vip").unwrap_err().contains("one of new, lead"));
        assert!(MacroAction::parse("resolve now").is_err());
        for text in ["resolve", "snooze until reply", "tag vip", "assign boris", "stage lead"] {
            assert_eq!(MacroAction::parse(text).unwrap().to_string(), text);
        }
    }
}
