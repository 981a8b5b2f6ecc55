//! Engagement, satisfaction and volume. Engagement: the conversations in which a
//! customer began writing in the period, how many were two-way (answered by a person or
//! a bot), and the messages per conversation. CSAT: surveys asked in the period, the
//! answers' average and distribution. Volume: messages per channel and local day.

use std::collections::{BTreeMap, HashMap};

use super::period::local_date;
use super::stats::rate;
use super::table::{Table, Value, col};
use super::{ALL, By, Context, Grouper, Period, Result};
use crate::store::{BlockTime, Store};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Engagement {
    pub conversations: i64,
    pub two_way: i64,
    pub messages: i64,
}

impl Engagement {
    pub fn per_conversation(&self) -> Option<f64> {
        (self.conversations > 0).then(|| self.messages as f64 / self.conversations as f64)
    }
}

pub fn compute(store: &Store, period: &Period, by: By, ctx: &Context) -> Result<Vec<(String, Engagement)>> {
    // (group, conversation) → (answered, messages), and conversation → the same.
    let mut grouper = Grouper::new(by, ctx);
    let mut groups: HashMap<(usize, i64), (bool, i64)> = HashMap::new();
    let mut all: HashMap<i64, (bool, i64)> = HashMap::new();
    store.for_each_block(BlockTime::Started, period.from, period.to, |b| {
        let answered = b.replied_at.is_some() || b.bot_at.is_some();
        let g = grouper.of(b.channel, None, b.started_at, None);
        for e in [groups.entry((g, b.conversation)).or_default(), all.entry(b.conversation).or_default()] {
            e.0 |= answered;
            e.1 += b.inbound + b.outbound;
        }
    })?;
    let mut sums: Vec<Engagement> = vec![Engagement::default(); grouper.names.len()];
    for ((g, _), (answered, messages)) in groups {
        let e = &mut sums[g];
        e.conversations += 1;
        e.two_way += i64::from(answered);
        e.messages += messages;
    }
    let mut out: Vec<(String, Engagement)> =
        grouper.order().into_iter().map(|g| (grouper.names[g].clone(), sums[g].clone())).collect();
    let total = Engagement {
        conversations: all.len() as i64,
        two_way: all.values().filter(|v| v.0).count() as i64,
        messages: all.values().map(|v| v.1).sum(),
    };
    out.push((ALL.into(), total));
    Ok(out)
}

pub fn table(store: &Store, period: &Period, by: By, ctx: &Context) -> Result<Table> {
    let columns = [
        col("group", by.as_str()),
        col("conversations", "conversations"),
        col("two_way", "two-way"),
        col("two_way_percent", "two-way %"),
        col("messages", "messages"),
        col("messages_per_conversation", "per conversation"),
    ];
    let mut t = Table::new(format!("Engagement by {}", by.as_str()), period, &columns);
    for (key, e) in compute(store, period, by, ctx)? {
        t.rows.push(vec![
            Value::Text(key),
            Value::Count(e.conversations),
            Value::Count(e.two_way),
            Value::Percent(rate(e.two_way, e.conversations)),
            Value::Count(e.messages),
            Value::Number(e.per_conversation()),
        ]);
    }
    t.notes.push(
        "A conversation counts when a customer began writing in it in the period; it is two-way when a person or a \
         bot answered. Messages: the customer's and the replies to them (not notes, not campaigns)."
            .into(),
    );
    Ok(t)
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Csat {
    pub asked: i64,
    /// Answers scored 1 to 5.
    pub scores: [i64; 5],
}

impl Csat {
    pub fn answered(&self) -> i64 {
        self.scores.iter().sum()
    }

    pub fn average(&self) -> Option<f64> {
        let n = self.answered();
        (n > 0).then(|| self.scores.iter().enumerate().map(|(i, c)| (i as i64 + 1) * c).sum::<i64>() as f64 / n as f64)
    }
}

pub fn csat(store: &Store, period: &Period, by: By, ctx: &Context) -> Result<Vec<(String, Csat)>> {
    let mut grouper = Grouper::new(by, ctx);
    let mut groups: Vec<Csat> = Vec::new();
    let mut all = Csat::default();
    for r in store.report_csat(period.from, period.to)? {
        let g = grouper.of(&r.channel, r.agent.as_deref(), r.asked_at, None);
        if groups.len() <= g {
            groups.resize(g + 1, Csat::default());
        }
        for c in [&mut groups[g], &mut all] {
            c.asked += 1;
            if let Some(score @ 1..=5) = r.score {
                c.scores[score as usize - 1] += 1;
            }
        }
    }
    let mut out: Vec<(String, Csat)> =
        grouper.order().into_iter().map(|g| (grouper.names[g].clone(), groups[g].clone())).collect();
    out.push((ALL.into(), all));
    Ok(out)
}

pub fn csat_table(store: &Store, period: &Period, by: By, ctx: &Context) -> Result<Table> {
    let columns = [
        col("group", by.as_str()),
        col("asked", "asked"),
        col("answered", "answered"),
        col("response_percent", "answered %"),
        col("average", "average"),
        col("score_1", "1"),
        col("score_2", "2"),
        col("score_3", "3"),
        col("score_4", "4"),
        col("score_5", "5"),
    ];
    let mut t = Table::new(format!("Satisfaction (CSAT) by {}", by.as_str()), period, &columns);
    for (key, c) in csat(store, period, by, ctx)? {
        let mut row = vec![
            Value::Text(key),
            Value::Count(c.asked),
            Value::Count(c.answered()),
            Value::Percent(rate(c.answered(), c.asked)),
            Value::Number(c.average()),
        ];
        row.extend(c.scores.iter().map(|n| Value::Count(*n)));
        t.rows.push(row);
    }
    t.notes.push("Surveys asked in the period (on resolve, [automation.csat]); scores 1 (bad) to 5 (good).".into());
    Ok(t)
}

/// Messages per channel over a period, one value per local day, or per hour for a
/// period of two days or less.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// `day` or `hour`.
    pub per: &'static str,
    pub channels: Vec<(String, Vec<u64>)>,
}

/// The messages of every sender (customers, people, bots, campaigns) per channel.
pub fn volume(store: &Store, period: &Period, ctx: &Context) -> Result<Volume> {
    const HOUR: i64 = 3_600_000;
    let hourly = period.to - period.from <= 48 * HOUR;
    let days = period.days(ctx.zone);
    let index: HashMap<chrono::NaiveDate, usize> = days.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let first_hour = period.from.div_euclid(HOUR);
    let slots = if hourly { (period.to - 1).div_euclid(HOUR) - first_hour + 1 } else { days.len() as i64 };
    let mut channels: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in store.report_volume(period.from, period.to)? {
        let slot = if hourly {
            Some((r.hour - first_hour) as usize)
        } else {
            index.get(&local_date(ctx.zone, r.hour * HOUR)).copied()
        };
        let Some(slot) = slot.filter(|s| (*s as i64) < slots) else { continue };
        channels.entry(r.channel).or_insert_with(|| vec![0; slots.max(0) as usize])[slot] += r.messages.max(0) as u64;
    }
    Ok(Volume { per: if hourly { "hour" } else { "day" }, channels: channels.into_iter().collect() })
}
