//! Response times: the first response of each session, every response to a customer
//! message block, and resolution, for people and for bots apart, in calendar time and
//! in business hours. A bot's reply stops no person's clock (README, "Reports").

use super::clock::BusinessClock;
use super::stats::Summary;
use super::table::{Column, Table, Value, col};
use super::{ALL, By, Context, Grouper, Period, ReportError, Result};
use crate::model::Millis;
use crate::store::{BlockTime, Store};

/// The measures, in the order they are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Measure {
    FirstResponse,
    Response,
    BotFirstResponse,
    BotResponse,
    Resolution,
}

impl Measure {
    pub fn name(self) -> &'static str {
        match self {
            Measure::FirstResponse => "first response",
            Measure::Response => "response",
            Measure::BotFirstResponse => "bot first response",
            Measure::BotResponse => "bot response",
            Measure::Resolution => "resolution",
        }
    }
}

/// One measure of one group: calendar and (with a schedule) business-hours figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Times {
    pub calendar: Summary,
    pub business: Option<Summary>,
}

/// One grouping's figures: (group, measure, times), the total (`all`) last.
pub type Figures = Vec<(String, Measure, Times)>;

/// Every measure of every group, the total (`all`) last.
pub fn compute(store: &Store, period: &Period, by: By, ctx: &Context) -> Result<Figures> {
    Ok(compute_each(store, period, &[by], ctx)?.pop().unwrap_or_default())
}

/// Calendar and business durations, per measure.
#[derive(Default)]
struct Samples([(Vec<Millis>, Vec<Millis>); 5]);

impl Samples {
    fn push(&mut self, m: Measure, calendar: Millis, business: Millis) {
        let slot = &mut self.0[m as usize];
        slot.0.push(calendar);
        slot.1.push(business);
    }
}

/// What one reader gathered: per grouping, its groups and their samples; and the total.
struct Partial<'c> {
    groupers: Vec<Grouper<'c>>,
    samples: Vec<Vec<Samples>>,
    all: Samples,
}

impl Samples {
    fn append(&mut self, other: &mut Samples) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0.iter_mut()) {
            mine.0.append(&mut theirs.0);
            mine.1.append(&mut theirs.1);
        }
    }
}

/// Reads the replies and resolutions of `period` whose row ids are in `blocks` and
/// `resolutions`, grouped each way of `bys`.
#[allow(clippy::too_many_arguments)]
fn gather<'c>(
    store: &Store,
    period: &Period,
    bys: &[By],
    ctx: &'c Context,
    clock: Option<&BusinessClock>,
    blocks: std::ops::Range<i64>,
    resolutions: std::ops::Range<i64>,
) -> Result<Partial<'c>> {
    let mut p = Partial {
        groupers: bys.iter().map(|by| Grouper::new(*by, ctx)).collect(),
        samples: bys.iter().map(|_| Vec::new()).collect(),
        all: Samples::default(),
    };
    let mut record = |channel: &str, agent: Option<&str>, at: Millis, m: Measure, start: Millis| {
        // A reply dated before the message it answers (clocks in whole seconds)
        // counts as immediate.
        let calendar = (at - start).max(0);
        let business = clock.map_or(0, |c| c.between(start, at));
        for (grouper, groups) in p.groupers.iter_mut().zip(p.samples.iter_mut()) {
            let g = grouper.of(channel, agent, at, None);
            if groups.len() <= g {
                groups.resize_with(g + 1, Samples::default);
            }
            groups[g].push(m, calendar, business);
        }
        p.all.push(m, calendar, business);
    };
    store.for_each_reply(BlockTime::Replied, period.from, period.to, blocks.clone(), |b| {
        if b.first {
            record(b.channel, b.agent, b.at, Measure::FirstResponse, b.started_at);
        }
        record(b.channel, b.agent, b.at, Measure::Response, b.started_at);
    })?;
    store.for_each_reply(BlockTime::Bot, period.from, period.to, blocks, |b| {
        if b.first {
            record(b.channel, Some("bot"), b.at, Measure::BotFirstResponse, b.started_at);
        }
        record(b.channel, Some("bot"), b.at, Measure::BotResponse, b.started_at);
    })?;
    store.for_each_resolution(period.from, period.to, resolutions, |r| {
        record(r.channel, r.agent, r.resolved_at, Measure::Resolution, r.opened_at);
    })?;
    Ok(p)
}

/// The figures of several groupings from one pass over the rows (the Reports screen
/// shows agents and channels). A long period is read in two halves at once, the second
/// through a connection of its own: a two-year report reads half a million rows.
pub fn compute_each(store: &Store, period: &Period, bys: &[By], ctx: &Context) -> Result<Vec<Figures>> {
    // Business time is counted from a year before the period at most: a block that
    // waited longer counts its last year of it.
    let clock = ctx.schedule.as_ref().map(|s| BusinessClock::new(s, period.from - 366 * 86_400_000, period.to));
    let every = i64::MIN..i64::MAX;
    let mut whole = match store.report_split(period.from, period.to)? {
        None => gather(store, period, bys, ctx, clock.as_ref(), every.clone(), every)?,
        Some(split) => {
            let (mine, theirs) = std::thread::scope(|scope| {
                let other = scope.spawn(|| -> Result<Partial<'_>> {
                    let second = Store::open(&split.path)?;
                    gather(
                        &second,
                        period,
                        bys,
                        ctx,
                        clock.as_ref(),
                        split.blocks..i64::MAX,
                        split.resolutions..i64::MAX,
                    )
                });
                let mine = gather(
                    store,
                    period,
                    bys,
                    ctx,
                    clock.as_ref(),
                    i64::MIN..split.blocks,
                    i64::MIN..split.resolutions,
                );
                (mine, other.join())
            });
            let mut mine = mine?;
            let mut theirs = theirs.map_err(|_| ReportError::Usage("a report thread failed".into()))??;
            mine.all.append(&mut theirs.all);
            for ((grouper, groups), (their_grouper, their_groups)) in mine
                .groupers
                .iter_mut()
                .zip(mine.samples.iter_mut())
                .zip(theirs.groupers.iter().zip(theirs.samples.iter_mut()))
            {
                for (i, samples) in their_groups.iter_mut().enumerate() {
                    let g = grouper.named(&their_grouper.names[i]);
                    if groups.len() <= g {
                        groups.resize_with(g + 1, Samples::default);
                    }
                    groups[g].append(samples);
                }
            }
            mine
        }
    };
    let (groupers, samples, all) = (std::mem::take(&mut whole.groupers), std::mem::take(&mut whole.samples), whole.all);
    let business = clock.is_some();
    let times = |(calendar, durations): (Vec<Millis>, Vec<Millis>)| Times {
        calendar: Summary::of(calendar),
        business: business.then(|| Summary::of(durations)),
    };
    let measures = [
        Measure::FirstResponse,
        Measure::Response,
        Measure::BotFirstResponse,
        Measure::BotResponse,
        Measure::Resolution,
    ];
    // The total once, for every grouping.
    let Samples(slots) = all;
    let total: Vec<(Measure, Times)> =
        measures.iter().zip(slots).filter(|(_, slot)| !slot.0.is_empty()).map(|(m, slot)| (*m, times(slot))).collect();
    let figures = |groups: Vec<Samples>, names: &[String], order: Vec<usize>| {
        let mut groups: Vec<Option<Samples>> = groups.into_iter().map(Some).collect();
        let mut out: Figures = Vec::new();
        for g in order {
            let Some(Samples(slots)) = groups.get_mut(g).and_then(Option::take) else { continue };
            for (m, slot) in measures.iter().zip(slots) {
                if !slot.0.is_empty() {
                    out.push((names[g].clone(), *m, times(slot)));
                }
            }
        }
        out.extend(total.iter().map(|(m, t)| (ALL.to_string(), *m, t.clone())));
        out
    };
    Ok(groupers.iter().zip(samples).map(|(grouper, groups)| figures(groups, &grouper.names, grouper.order())).collect())
}

pub const COLUMNS: [Column; 9] = [
    col("group", "group"),
    col("measure", "measure"),
    col("count", "count"),
    col("mean_s", "mean"),
    col("median_s", "median"),
    col("p90_s", "p90"),
    col("business_mean_s", "bh mean"),
    col("business_median_s", "bh median"),
    col("business_p90_s", "bh p90"),
];

pub fn table(store: &Store, period: &Period, by: By, ctx: &Context) -> Result<Table> {
    Ok(tables(store, period, &[by], ctx)?.pop().unwrap_or_else(|| Table::new("", period, &COLUMNS)))
}

/// The tables of several groupings, from one pass.
pub fn tables(store: &Store, period: &Period, bys: &[By], ctx: &Context) -> Result<Vec<Table>> {
    let figures = compute_each(store, period, bys, ctx)?;
    Ok(bys.iter().zip(figures).map(|(by, figures)| to_table(period, *by, ctx, figures)).collect())
}

fn to_table(period: &Period, by: By, ctx: &Context, figures: Figures) -> Table {
    let mut t = Table::new(format!("Response times by {}", by.as_str()), period, &COLUMNS);
    for (key, m, times) in figures {
        let b = times.business.unwrap_or_default();
        t.rows.push(vec![
            Value::Text(key),
            Value::Text(m.name().into()),
            Value::Count(times.calendar.count as i64),
            Value::Duration(times.calendar.mean),
            Value::Duration(times.calendar.median),
            Value::Duration(times.calendar.p90),
            Value::Duration(b.mean),
            Value::Duration(b.median),
            Value::Duration(b.p90),
        ]);
    }
    t.notes.push(
        "First response: a session's first customer message to the first reply by a person. Response: each block \
         of customer messages to the next reply by a person. Bot replies are measured apart and stop no person's \
         clock. Resolution: a session's first customer message to its resolve."
            .into(),
    );
    if ctx.schedule.is_none() {
        t.notes.push("Business hours (bh): none are configured ([automation.hours]), so only calendar time.".into());
    }
    t
}
