//! Response times: the first response of each session, every response to a customer
//! message block, and resolution, for people and for bots apart, in calendar time and
//! in business hours. A bot's reply stops no person's clock (README, "Reports").

use std::collections::BTreeMap;

use super::clock::BusinessClock;
use super::stats::Summary;
use super::table::{Column, Table, Value, col};
use super::{ALL, By, Context, Period, Result, group};
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

/// Every measure of every group, the total (`all`) last.
pub fn compute(store: &Store, period: &Period, by: By, ctx: &Context) -> Result<Vec<(String, Measure, Times)>> {
    let mut intervals: Vec<(String, Measure, Millis, Millis)> = Vec::new();
    let mut push = |key: String, m: Measure, start: Millis, end: Millis| {
        intervals.push((key, m, start, end));
    };
    for b in store.report_blocks(BlockTime::Replied, period.from, period.to)? {
        let Some(at) = b.replied_at else { continue };
        let key = group(by, ctx, &b.channel, b.agent.as_deref(), at, None);
        if b.first {
            push(key.clone(), Measure::FirstResponse, b.started_at, at);
        }
        push(key, Measure::Response, b.started_at, at);
    }
    for b in store.report_blocks(BlockTime::Bot, period.from, period.to)? {
        let Some(at) = b.bot_at else { continue };
        let key = group(by, ctx, &b.channel, Some("bot"), at, None);
        if b.first {
            push(key.clone(), Measure::BotFirstResponse, b.started_at, at);
        }
        push(key, Measure::BotResponse, b.started_at, at);
    }
    for r in store.report_resolutions(period.from, period.to)? {
        let key = group(by, ctx, &r.channel, r.agent.as_deref(), r.resolved_at, None);
        push(key, Measure::Resolution, r.opened_at, r.resolved_at);
    }
    let clock = ctx.schedule.as_ref().and_then(|s| {
        let from = intervals.iter().map(|i| i.2).min()?;
        let to = intervals.iter().map(|i| i.3).max()?;
        Some(BusinessClock::new(s, from, to))
    });
    // (group, measure) → (calendar, business) durations; a reply dated before the
    // message it answers (clocks in whole seconds) counts as immediate.
    let mut samples: BTreeMap<(String, Measure), (Vec<Millis>, Vec<Millis>)> = BTreeMap::new();
    let mut all: BTreeMap<Measure, (Vec<Millis>, Vec<Millis>)> = BTreeMap::new();
    for (key, m, start, end) in intervals {
        let calendar = (end - start).max(0);
        let business = clock.as_ref().map_or(0, |c| c.between(start, end));
        for entry in [samples.entry((key, m)).or_default(), all.entry(m).or_default()] {
            entry.0.push(calendar);
            entry.1.push(business);
        }
    }
    let times = |(calendar, business): (Vec<Millis>, Vec<Millis>)| Times {
        calendar: Summary::of(calendar),
        business: clock.is_some().then(|| Summary::of(business)),
    };
    let mut out: Vec<(String, Measure, Times)> =
        samples.into_iter().map(|((key, m), s)| (key, m, times(s))).collect();
    out.extend(all.into_iter().map(|(m, s)| (ALL.to_string(), m, times(s))));
    Ok(out)
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
    let mut t = Table::new(format!("Response times by {}", by.as_str()), period, &COLUMNS);
    for (key, m, times) in compute(store, period, by, ctx)? {
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
    Ok(t)
}
