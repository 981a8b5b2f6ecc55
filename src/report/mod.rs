//! Reports: the figures that say whether messenger work pays (response times, new
//! clients, the funnel, campaigns, satisfaction, engagement), each defined in the
//! README's "Reports" section and computed exactly from what the store keeps for them
//! (migration 012). One `Table` per report feeds `switchboard report` and the Reports
//! screen alike, so both show the same numbers.

pub mod campaigns;
pub mod clients;
pub mod clock;
pub mod engagement;
pub mod funnel;
pub mod period;
pub mod response;
pub mod stats;
pub mod table;

pub use period::{Period, Preset};
pub use table::{Table, Value};

use crate::automation::Schedule;
use crate::model::{Millis, Zone};
use crate::store::{Store, StoreError};

/// What a report needs besides the store: the business's zone and hours, and what
/// counts as a campaign's conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// Days and weeks are this zone's: the business hours' zone, else
    /// `campaigns.default_time_zone`, else this machine's.
    pub zone: Zone,
    /// Business hours (`[automation.hours]`); None: only calendar time.
    pub schedule: Option<Schedule>,
    /// A campaign converts a recipient who enters this stage …
    pub conversion_stage: String,
    /// … within this many days after the launch.
    pub conversion_days: i64,
}

/// A campaign converts a recipient who enters this stage within these days after the
/// launch, unless told otherwise (`report campaigns --stage --within-days`).
pub const CONVERSION_STAGE: &str = "customer";
pub const CONVERSION_DAYS: i64 = 14;

impl Context {
    /// The context of `config`, with its business hours already read (`schedule`).
    pub fn new(config: &crate::config::Config, schedule: Option<Schedule>) -> Context {
        let zone =
            schedule.as_ref().map(Schedule::zone).or(config.campaigns.default_time_zone).unwrap_or_else(Zone::local);
        Context { schedule, ..Context::in_zone(zone) }
    }

    /// Calendar time in `zone`, the default conversion.
    pub fn in_zone(zone: Zone) -> Context {
        Context { zone, schedule: None, conversion_stage: CONVERSION_STAGE.into(), conversion_days: CONVERSION_DAYS }
    }
}

/// The reports there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Metric {
    ResponseTimes,
    NewClients,
    Funnel,
    Campaigns,
    Csat,
    Engagement,
}

/// How a report's rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    Channel,
    Agent,
    Day,
    Week,
    Source,
    Campaign,
}

impl By {
    pub fn as_str(self) -> &'static str {
        match self {
            By::Channel => "channel",
            By::Agent => "agent",
            By::Day => "day",
            By::Week => "week",
            By::Source => "source",
            By::Campaign => "campaign",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Usage(String),
}

pub type Result<T> = std::result::Result<T, ReportError>;

impl Metric {
    /// The groupings this report offers; the first is its default.
    pub fn groupings(self) -> &'static [By] {
        match self {
            Metric::ResponseTimes => &[By::Channel, By::Agent, By::Day, By::Week],
            Metric::NewClients => &[By::Channel, By::Source, By::Day, By::Week],
            Metric::Funnel => &[By::Week],
            Metric::Campaigns => &[By::Campaign, By::Channel],
            Metric::Csat => &[By::Channel, By::Agent, By::Day, By::Week],
            Metric::Engagement => &[By::Channel, By::Day, By::Week],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::ResponseTimes => "response-times",
            Metric::NewClients => "new-clients",
            Metric::Funnel => "funnel",
            Metric::Campaigns => "campaigns",
            Metric::Csat => "csat",
            Metric::Engagement => "engagement",
        }
    }
}

/// Report `metric` over `period`, grouped `by` (None: its default).
pub fn table(store: &Store, metric: Metric, period: &Period, by: Option<By>, ctx: &Context) -> Result<Table> {
    let offered = metric.groupings();
    let by = by.unwrap_or(offered[0]);
    if !offered.contains(&by) {
        let names: Vec<&str> = offered.iter().map(|b| b.as_str()).collect();
        return Err(ReportError::Usage(format!(
            "report {} groups --by {}, not {}",
            metric.name(),
            names.join(" or "),
            by.as_str()
        )));
    }
    Ok(match metric {
        Metric::ResponseTimes => response::table(store, period, by, ctx)?,
        Metric::NewClients => clients::table(store, period, by, ctx)?,
        Metric::Funnel => funnel::table(store, period, ctx)?,
        Metric::Campaigns => campaigns::table(store, period, by, ctx)?,
        Metric::Csat => engagement::csat_table(store, period, by, ctx)?,
        Metric::Engagement => engagement::table(store, period, by, ctx)?,
    })
}

/// The groups of a report as records arrive: each key named once, records mapped to
/// its index without copying their text (a report may group half a million).
pub(crate) struct Grouper<'c> {
    by: By,
    ctx: &'c Context,
    pub names: Vec<String>,
    by_name: std::collections::HashMap<String, usize>,
    by_day: std::collections::HashMap<i32, usize>,
}

impl<'c> Grouper<'c> {
    pub fn new(by: By, ctx: &'c Context) -> Grouper<'c> {
        Grouper { by, ctx, names: Vec::new(), by_name: Default::default(), by_day: Default::default() }
    }

    /// The group of a record.
    /// The group of a record: by its channel, agent (`unassigned` for none), source
    /// (`direct` for none), or the local day or week of `at`.
    pub fn of(&mut self, channel: &str, agent: Option<&str>, at: Millis, source: Option<&str>) -> usize {
        use chrono::Datelike;
        match self.by {
            By::Day | By::Week => {
                let date = match self.by {
                    By::Day => period::local_date(self.ctx.zone, at),
                    _ => period::local_week(self.ctx.zone, at),
                };
                if let Some(i) = self.by_day.get(&date.num_days_from_ce()) {
                    return *i;
                }
                let i = self.add(match self.by {
                    By::Day => date.to_string(),
                    _ => format!("week of {date}"),
                });
                self.by_day.insert(date.num_days_from_ce(), i);
                i
            }
            _ => {
                let name = match self.by {
                    By::Channel => channel,
                    By::Agent => agent.filter(|a| !a.is_empty()).unwrap_or("unassigned"),
                    By::Source => source.filter(|s| !s.is_empty()).unwrap_or("direct"),
                    _ => "",
                };
                // A few channels or agents: comparing is quicker than hashing.
                if self.names.len() <= 16 {
                    if let Some(i) = self.names.iter().position(|n| n == name) {
                        return i;
                    }
                } else if let Some(i) = self.by_name.get(name) {
                    return *i;
                }
                let i = self.add(name.to_string());
                self.by_name.insert(name.to_string(), i);
                i
            }
        }
    }

    /// The group of this name (another reader's), added if new.
    pub fn named(&mut self, name: &str) -> usize {
        match self.names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                let i = self.add(name.to_string());
                self.by_name.insert(name.to_string(), i);
                i
            }
        }
    }

    fn add(&mut self, name: String) -> usize {
        self.names.push(name);
        self.names.len() - 1
    }

    /// The group indexes in the order the report lists them: by name (dates sort as
    /// dates).
    pub fn order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.names.len()).collect();
        order.sort_by(|a, b| self.names[*a].cmp(&self.names[*b]));
        order
    }
}

/// The name of the total row.
pub const ALL: &str = "all";
