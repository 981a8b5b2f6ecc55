//! `switchboard report METRIC`: one report (README, "Reports") for a period, grouped as
//! asked, as text for a terminal, CSV for a CRM or a spreadsheet, or JSON.

use std::io::Write;

use anyhow::bail;

use crate::config::Config;
use crate::report::{By, Context, Metric, Period};
use crate::store::{STAGES, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    pub metric: Metric,
    /// The first day (YYYY-MM-DD, in the business's time zone) or an RFC 3339 time.
    /// Default: 30 days before --to.
    #[arg(long)]
    pub from: Option<String>,
    /// The last day, included (or an RFC 3339 time, excluded). Default: now.
    #[arg(long)]
    pub to: Option<String>,
    /// How rows are grouped; each report offers some (its first is the default).
    #[arg(long, value_enum)]
    pub by: Option<By>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// campaigns: the stage whose entry counts as a conversion.
    #[arg(long, default_value = crate::report::CONVERSION_STAGE)]
    pub stage: String,
    /// campaigns: the days after the launch a conversion counts within.
    #[arg(long, default_value_t = crate::report::CONVERSION_DAYS)]
    pub within_days: i64,
}

pub fn run(store: &Store, config: &Config, args: ReportArgs) -> anyhow::Result<()> {
    if !STAGES.contains(&args.stage.as_str()) {
        bail!("--stage `{}`: the stages are {}", args.stage, STAGES.join(", "));
    }
    if !(1..=365).contains(&args.within_days) {
        bail!("--within-days {}: between 1 and 365", args.within_days);
    }
    let ctx = Context {
        conversion_stage: args.stage,
        conversion_days: args.within_days,
        ..Context::new(config, config.automation.schedule())
    };
    let period = Period::parse(args.from.as_deref(), args.to.as_deref(), crate::model::now_ms(), ctx.zone)
        .map_err(anyhow::Error::msg)?;
    let table = crate::report::table(store, args.metric, &period, args.by, &ctx)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        ReportFormat::Text => out.write_all(table.text().as_bytes())?,
        ReportFormat::Csv => table.csv(&mut out)?,
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &table.json())?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}
