//! `switchboard conversations` and `switchboard conversation ID …`: the agent's workflow
//! from a script or a cron job: list conversations by status, assignee and channel, and
//! assign, snooze, resolve or reopen one, or leave a private note on it.

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::config::Config;
use crate::export;
use crate::model::{ChannelKind, ConversationId, ConversationStatus, Millis, now_ms};
use crate::store::{ConversationFilter, Store};

/// How `switchboard conversations` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Jsonl,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum ConversationCommand {
    /// Give it to an agent (NAME), to this console's agent (--me), or to nobody (--none).
    Assign {
        #[arg(conflicts_with_all = ["me", "none"], required_unless_present_any = ["me", "none"])]
        name: Option<String>,
        #[arg(long, conflicts_with = "none")]
        me: bool,
        #[arg(long)]
        none: bool,
    },
    /// Put it away until a time (--until 2026-12-01T09:00:00Z), for a while (--for 2h,
    /// 30m, 1d, 2w), or until the customer writes (--until-reply).
    Snooze {
        #[arg(long, conflicts_with_all = ["for_", "until_reply"], value_name = "TIME")]
        until: Option<String>,
        #[arg(long = "for", conflicts_with = "until_reply", value_name = "SPAN")]
        for_: Option<String>,
        #[arg(long)]
        until_reply: bool,
    },
    /// Done: out of the list's triage until the customer writes again.
    Resolve,
    /// Open again.
    Reopen,
    /// Leave a private note (never sent; shows in the timeline and the export).
    Note { text: String },
}

/// The filter the options name: a status, an assignee (an agent, `me`, or `none`), a
/// channel.
pub fn which(
    status: Option<String>,
    assignee: Option<String>,
    channel: Option<String>,
    config: &Config,
) -> anyhow::Result<ConversationFilter> {
    let status =
        status.map(|s| s.parse::<ConversationStatus>()).transpose().map_err(|e| anyhow::anyhow!("--status: {e}"))?;
    let channel =
        channel.map(|c| c.parse::<ChannelKind>()).transpose().map_err(|e| anyhow::anyhow!("--channel: {e}"))?;
    let assignee = assignee.map(|a| match a.as_str() {
        "none" => None,
        "me" => Some(config.ui.agent_name.clone()),
        _ => Some(a),
    });
    Ok(ConversationFilter { status, assignee, channel, reader: None, by_person: false })
}

pub fn list(store: &Store, which: &ConversationFilter, format: ListFormat) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        ListFormat::Jsonl => export::conversations(store, which, export::Format::Jsonl, &mut out).map(drop),
        ListFormat::Csv => export::conversations(store, which, export::Format::Csv, &mut out).map(drop),
        ListFormat::Text => {
            let mut lines = Vec::new();
            export::conversations(store, which, export::Format::Jsonl, &mut lines)?;
            use std::io::Write;
            for line in String::from_utf8_lossy(&lines).lines() {
                let c: serde_json::Value = serde_json::from_str(line)?;
                let title = crate::text::sanitize(c["title"].as_str().unwrap_or(""), false);
                writeln!(
                    out,
                    "{:>7}  {:<9} {:<9} {:<12} {:<24} {}",
                    c["id"],
                    c["channel"].as_str().unwrap_or(""),
                    c["status"].as_str().unwrap_or(""),
                    crate::text::sanitize(c["assignee"].as_str().unwrap_or("-"), false),
                    c["last_message_at"].as_str().unwrap_or("-"),
                    title
                )?;
            }
            Ok(())
        }
    }
}

pub fn act(store: &mut Store, id: i64, command: ConversationCommand, config: &Config) -> anyhow::Result<()> {
    let id = ConversationId(id);
    store.conversation(id).with_context(|| format!("no conversation {}", id.0))?;
    match command {
        ConversationCommand::Assign { name, me, none } => {
            let agent = match (name, me, none) {
                (_, _, true) => None,
                (_, true, _) => Some(config.ui.agent_name.clone()),
                (Some(name), ..) if !name.trim().is_empty() && !name.chars().any(char::is_control) => Some(name),
                _ => bail!("give an agent's name (no control characters), --me or --none"),
            };
            store.assign(id, agent.as_deref())?;
            println!(
                "conversation {}: {}",
                id.0,
                agent.map(|a| format!("assigned to {a}")).unwrap_or("unassigned".into())
            );
        }
        ConversationCommand::Snooze { until, for_, until_reply } => {
            let now = now_ms();
            let at: Option<Millis> = match (until, for_, until_reply) {
                (Some(t), ..) => Some(parse_time(&t)?),
                (None, Some(span), _) => {
                    let ms = crate::campaign::filter::parse_span(&span)
                        .filter(|ms| *ms > 0)
                        .with_context(|| format!("--for `{span}`: write a span such as 30m, 2h, 1d or 2w"))?;
                    Some(now + ms)
                }
                (None, None, true) => None,
                (None, None, false) => bail!("say until when: --until TIME, --for SPAN or --until-reply"),
            };
            if at.is_some_and(|t| t <= now) {
                bail!("that time has passed");
            }
            store.snooze(id, at)?;
            match at {
                Some(t) => println!("conversation {}: snoozed until {}", id.0, export::rfc3339(t)),
                None => println!("conversation {}: snoozed until the customer writes", id.0),
            }
        }
        ConversationCommand::Resolve => {
            store.set_status(id, ConversationStatus::Resolved)?;
            println!("conversation {}: resolved", id.0);
        }
        ConversationCommand::Reopen => {
            store.set_status(id, ConversationStatus::Open)?;
            println!("conversation {}: open", id.0);
        }
        ConversationCommand::Note { text } => {
            if text.trim().is_empty() {
                bail!("the note is empty");
            }
            store.add_note(id, &config.ui.agent_name, &text, now_ms())?;
            println!("conversation {}: note added", id.0);
        }
    }
    Ok(())
}

/// Lists the agents, or marks one available or away first.
pub fn agents(store: &Store, available: Option<String>, away: Option<String>, config: &Config) -> anyhow::Result<()> {
    let me = |name: String| if name == "me" { config.ui.agent_name.clone() } else { name };
    let now = now_ms();
    if let Some((name, on)) = available.map(|n| (me(n), true)).or_else(|| away.map(|n| (me(n), false))) {
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            bail!("`{name}` is not an agent's name");
        }
        store.set_available(&name, on, now)?;
        let what = if on { "available" } else { "away (on duty only with a console open)" };
        println!("{name}: {what}");
        return Ok(());
    }
    let auto = match config.assignment.auto {
        crate::config::AutoAssign::Off => "auto-assignment: off".to_string(),
        crate::config::AutoAssign::Balanced => {
            format!("auto-assignment: balanced, up to {} each", config.assignment.cap)
        }
    };
    println!("{auto}");
    for a in store.agent_rows(now, crate::store::PRESENCE_FRESH)? {
        let duty = match (a.online, a.available) {
            (true, _) => "online",
            (false, true) => "available",
            (false, false) => "away",
        };
        let seen = if a.seen_at > 0 { export::rfc3339(a.seen_at) } else { "-".into() };
        println!("{:<20} {:<9} {:>4} open  seen {seen}", crate::text::sanitize(&a.name, false), duty, a.open);
    }
    Ok(())
}

/// RFC 3339 (`2026-12-01T09:00:00+03:00`), or a UTC date and time (`2026-12-01 09:00`).
fn parse_time(s: &str) -> anyhow::Result<Millis> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.timestamp_millis());
    }
    for form in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s.trim(), form) {
            return Ok(t.and_utc().timestamp_millis());
        }
    }
    bail!("--until `{s}`: write 2026-12-01T09:00:00+03:00, or 2026-12-01 09:00 for UTC")
}
