//! `switchboard segment …` and `switchboard campaign …`: saved filters, and campaigns
//! previewed, launched, steered and read from the command line.

use std::io::Write;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};

use super::open_store;
use crate::campaign::{Filter, Message, Plan, WhatsAppTemplate};
use crate::config::{Config, Paths};
use crate::model::{Button, now_ms};
use crate::store::{CampaignStatus, Store};
use crate::text::sanitize;

#[derive(Debug, Subcommand)]
pub enum SegmentCommand {
    /// Save (or replace) a segment: a name for a filter.
    Save {
        name: String,
        #[arg(long)]
        filter: String,
    },
    /// Every saved segment with its member count.
    List,
    /// A segment's (or a filter's) member count and first members.
    Show {
        /// A saved segment's name.
        name: Option<String>,
        #[arg(long, conflicts_with = "name")]
        filter: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

/// Who a campaign goes to and what it says.
#[derive(Debug, Args)]
pub struct CampaignMessage {
    /// A saved segment.
    #[arg(long, conflicts_with = "filter", required_unless_present = "filter")]
    segment: Option<String>,
    /// A filter, as in `segment save` (see the README for the language).
    #[arg(long)]
    filter: Option<String>,
    /// The message (variant A), with {{first_name}}, {{attr.city}}, {{first_name|friend}} …
    #[arg(long, required_unless_present = "poll")]
    text: Option<String>,
    /// A poll (`switchboard poll create`): its question is the text and its options the
    /// buttons; the answers are in `poll results`.
    #[arg(long, conflicts_with_all = ["text", "buttons", "variant_b"])]
    poll: Option<String>,
    /// A second version for an A/B test.
    #[arg(long)]
    variant_b: Option<String>,
    /// The percent of members who get variant A.
    #[arg(long, default_value_t = 50)]
    split: u8,
    /// A button: TEXT=https://… (a link) or TEXT=DATA (a reply button). `|` puts
    /// several in one row.
    #[arg(long = "button")]
    buttons: Vec<String>,
    /// WhatsApp: this approved template for customers whose 24-hour window has closed.
    #[arg(long)]
    whatsapp_template: Option<String>,
    /// A parameter of the template, in order; may use the same variables as the text.
    #[arg(long = "param", requires = "whatsapp_template")]
    params: Vec<String>,
    /// The percent (0-50) of those it would reach who are sent nothing: the holdout the
    /// campaign's conversion is compared with (`report campaigns`).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=50))]
    holdout: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PreviewFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Who would get exactly what, who would not and why; nothing is sent.
    Preview {
        #[command(flatten)]
        message: CampaignMessage,
        /// The campaign's name, so the A/B split is the one a launch under it will make.
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: PreviewFormat,
        /// Rows of each list in the text format.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Plan and queue the campaign; the engine sends it under the platforms' limits.
    Launch {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        message: CampaignMessage,
    },
    Pause {
        name: String,
    },
    Resume {
        name: String,
    },
    /// Stop for good: messages not yet sent are dropped.
    Cancel {
        name: String,
    },
    /// Progress: sent, failed, queued, and why it paused. Every campaign without a name.
    Status {
        name: Option<String>,
    },
    /// Sent, delivered, read, clicked, replied, opted out and failed, per variant.
    Results {
        name: String,
        #[arg(long, value_enum, default_value = "text")]
        format: PreviewFormat,
    },
}

pub fn segment(paths: &Paths, command: SegmentCommand) -> anyhow::Result<()> {
    let mut store = open_store(paths)?;
    let out = &mut std::io::stdout().lock();
    match command {
        SegmentCommand::Save { name, filter } => {
            let parsed = parse_filter(&filter)?;
            // Counted before saving: a filter the store cannot run is never saved.
            let members = store.count_members(&parsed.condition(crate::model::now_ms()))?;
            store.save_segment(&name, &filter, crate::model::now_ms())?;
            writeln!(out, "segment `{name}` saved: {members} members")?;
        }
        SegmentCommand::List => {
            for s in store.segments()? {
                let count = Filter::parse(&s.filter).map(|f| store.count_members(&f.condition(crate::model::now_ms())));
                let count = match count {
                    Ok(n) => n?.to_string(),
                    Err(e) => format!("bad filter: {e}"),
                };
                writeln!(out, "{:<20} {:>8}  {}", sanitize(&s.name, false), count, sanitize(&s.filter, false))?;
            }
        }
        SegmentCommand::Show { name, filter, limit } => {
            let text = match (name, filter) {
                (Some(n), _) => store.segment(&n)?.filter,
                (None, Some(f)) => f,
                (None, None) => bail!("give a segment name or --filter"),
            };
            let filter = parse_filter(&text)?;
            let condition = filter.condition(crate::model::now_ms());
            writeln!(out, "{} members", store.count_members(&condition)?)?;
            for r in store.sample_members(&condition, limit)? {
                writeln!(out, "  {:<28} {:<10} {}", sanitize(&r.name, false), sanitize(&r.stage, false), r.channels)?;
            }
        }
    }
    Ok(())
}

pub fn campaign(paths: &Paths, config: &Config, command: CampaignCommand) -> anyhow::Result<()> {
    let out = &mut std::io::stdout().lock();
    match command {
        CampaignCommand::Preview { message, name, format, limit } => {
            let store = open_store(paths)?;
            let (_, filter, msg) = build(&store, config, &message, name.as_deref().unwrap_or("preview"))?;
            let plan = crate::campaign::launch::plan(&store, &filter, &msg, &config.campaigns, crate::model::now_ms())?;
            match format {
                PreviewFormat::Json => {
                    serde_json::to_writer(&mut *out, &plan)?;
                    writeln!(out)?;
                }
                PreviewFormat::Text => print_plan(out, &plan, limit)?,
            }
        }
        CampaignCommand::Launch { name, message } => {
            let mut store = open_store(paths)?;
            let (filter_text, _, msg) = build(&store, config, &message, &name)?;
            let launched = crate::campaign::launch::launch(
                &mut store,
                &name,
                message.segment.as_deref(),
                &filter_text,
                &msg,
                &config.campaigns,
                crate::model::now_ms(),
            )?;
            print_plan(out, &launched.plan, 0)?;
            let held = match launched.held {
                0 => String::new(),
                n => format!(", {n} held out (sent nothing, to compare with)"),
            };
            writeln!(
                out,
                "campaign `{name}` launched: {} messages queued{held}",
                launched.plan.totals.included - launched.held
            )?;
            if crate::sync::EngineLock::try_acquire(&paths.lock_file())?.is_some() {
                eprintln!(
                    "switchboard: no engine runs for this store; the messages go out when `switchboard` or `switchboard serve` starts"
                );
            }
        }
        CampaignCommand::Pause { name } => {
            let s = open_store(paths)?.set_campaign_state(
                &name,
                "paused",
                Some("paused by hand"),
                crate::model::now_ms(),
            )?;
            print_status(out, &s)?;
        }
        CampaignCommand::Resume { name } => {
            let s = open_store(paths)?.set_campaign_state(&name, "running", None, crate::model::now_ms())?;
            print_status(out, &s)?;
        }
        CampaignCommand::Cancel { name } => {
            let s = open_store(paths)?.set_campaign_state(&name, "cancelled", None, crate::model::now_ms())?;
            print_status(out, &s)?;
        }
        CampaignCommand::Status { name } => {
            let store = open_store(paths)?;
            let names = match name {
                Some(n) => vec![n],
                None => store.campaign_names()?,
            };
            for n in names {
                print_status(out, &store.campaign_status(&n)?)?;
            }
        }
        CampaignCommand::Results { name, format } => {
            let r = crate::campaign::results::of(&open_store(paths)?, &name)?;
            match format {
                PreviewFormat::Json => {
                    serde_json::to_writer(&mut *out, &r)?;
                    writeln!(out)?;
                }
                PreviewFormat::Text => print_results(out, &r)?,
            }
        }
    }
    Ok(())
}

fn parse_filter(text: &str) -> anyhow::Result<Filter> {
    Filter::parse(text).map_err(|e| {
        // A window of the filter around the place, so a pasted wall of text stays one
        // readable line with the caret under the term.
        const SIDE: usize = 60;
        let chars: Vec<char> = crate::text::sanitize(text, false).chars().collect();
        let start = e.column.saturating_sub(SIDE);
        let end = (e.column + SIDE).min(chars.len());
        let (before, after) = (if start > 0 { "…" } else { "" }, if end < chars.len() { "…" } else { "" });
        let shown: String = chars[start.min(chars.len())..end].iter().collect();
        let caret = format!("{}^", " ".repeat(e.column - start + before.chars().count()));
        anyhow::anyhow!(
            "the filter does not parse: {} (column {})\n  {before}{shown}{after}\n  {caret}",
            e.message,
            e.column
        )
    })
}

/// The filter text, the parsed filter and the message a preview or launch asked for.
fn build(
    store: &Store,
    config: &Config,
    m: &CampaignMessage,
    split_key: &str,
) -> anyhow::Result<(String, Filter, Message)> {
    let filter_text = match (&m.segment, &m.filter) {
        (Some(name), _) => store.segment(name)?.filter,
        (None, Some(f)) => f.clone(),
        (None, None) => bail!("give --segment or --filter"),
    };
    let filter = parse_filter(&filter_text)?;
    let poll = m.poll.as_deref().map(|name| super::poll::find(store, name)).transpose()?;
    let buttons = match &poll {
        Some(p) => p.buttons(),
        None => Button::parse_rows(&m.buttons).map_err(anyhow::Error::msg)?,
    };
    let template = match &m.whatsapp_template {
        Some(name) => {
            let templates = config.channels.whatsapp.as_ref().map(|w| w.templates.as_slice()).unwrap_or_default();
            Some(WhatsAppTemplate::new(templates, name, &m.params).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    let text = poll.map(|p| p.question).or_else(|| m.text.clone()).unwrap_or_default();
    let mut texts = vec![text];
    texts.extend(m.variant_b.clone());
    let mut message = Message::new(&texts, m.split, buttons, template, split_key, filter.required_channels())
        .map_err(anyhow::Error::msg)
        .context("the message")?;
    message.holdout = m.holdout;
    Ok((filter_text, filter, message))
}

fn print_plan(out: &mut impl Write, plan: &Plan, limit: usize) -> anyhow::Result<()> {
    let t = &plan.totals;
    writeln!(out, "{} members: {} included, {} excluded", t.members, t.included, t.excluded)?;
    let join = |m: Vec<(String, usize)>| m.into_iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(" · ");
    if !t.by_channel.is_empty() {
        writeln!(out, "  by channel: {}", join(t.by_channel.iter().map(|(k, v)| (k.to_string(), *v)).collect()))?;
        writeln!(out, "  by variant: {}", join(t.by_variant.iter().map(|(k, v)| (k.clone(), *v)).collect()))?;
    }
    if !t.by_reason.is_empty() {
        writeln!(out, "  excluded:   {}", join(t.by_reason.iter().map(|(k, v)| (k.to_string(), *v)).collect()))?;
    }
    writeln!(
        out,
        "  sending takes about {} under the platforms' limits",
        crate::ui::time::duration(t.estimated_seconds)
    )?;
    if limit == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "\nincluded{}:",
        if plan.included.len() > limit { format!(" (first {limit})") } else { String::new() }
    )?;
    for i in plan.included.iter().take(limit) {
        writeln!(
            out,
            "  {}  {:<8}  {:<24}  {}{}",
            i.variant,
            i.channel.as_str(),
            sanitize(&i.name, false),
            i.channel_note(),
            sanitize(i.text(), false)
        )?;
    }
    writeln!(
        out,
        "\nexcluded{}:",
        if plan.excluded.len() > limit { format!(" (first {limit})") } else { String::new() }
    )?;
    for e in plan.excluded.iter().take(limit) {
        let detail = e.detail.as_deref().map(|d| format!(" ({})", sanitize(d, false))).unwrap_or_default();
        writeln!(
            out,
            "  {:<16}  {:<8}  {}{detail}",
            e.reason.code(),
            e.channel.map(|c| c.as_str()).unwrap_or("-"),
            sanitize(&e.name, false)
        )?;
    }
    Ok(())
}

fn print_status(out: &mut impl Write, s: &CampaignStatus) -> anyhow::Result<()> {
    let eta = crate::campaign::plan::eta_seconds(s, now_ms())
        .map(|e| format!(" · about {} left", crate::ui::time::duration(e)))
        .unwrap_or_default();
    writeln!(
        out,
        "{}: {} · {} of {} sent · {} failed · {} skipped · {} queued · {} excluded{}{eta}",
        sanitize(&s.name, false),
        s.state,
        s.sent,
        s.recipients,
        s.failed,
        s.skipped,
        s.queued,
        s.excluded,
        if s.held > 0 { format!(" · {} held out", s.held) } else { String::new() }
    )?;
    if let Some(reason) = &s.pause_reason {
        writeln!(out, "  paused: {reason}")?;
    }
    Ok(())
}

fn print_results(out: &mut impl Write, r: &crate::campaign::results::CampaignResults) -> anyhow::Result<()> {
    writeln!(out, "{}: replies counted within {} hours", sanitize(&r.campaign, false), r.reply_window_hours)?;
    writeln!(
        out,
        "  {:<8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8} {:>9} {:>7}",
        "variant", "sent", "to", "delivered", "read", "clicked", "replied", "opted out", "failed"
    )?;
    for v in r.variants.iter().chain(std::iter::once(&r.total)) {
        writeln!(
            out,
            "  {:<8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8} {:>9} {:>7}",
            v.variant, v.sent, v.recipients, v.delivered, v.read, v.clicked, v.replied, v.opted_out, v.failed
        )?;
    }
    for c in &r.comparisons {
        writeln!(
            out,
            "  {} {:<9} {:>5.1}% vs {} {:>5.1}%: {:+.1} points, {}",
            c.a,
            c.metric,
            c.rate_a,
            c.b,
            c.rate_b,
            c.difference,
            if c.significant { "more than noise (95%)" } else { "within noise" }
        )?;
    }
    Ok(())
}
