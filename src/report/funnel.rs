//! The funnel: contacts by the week they entered it, how many reached each stage, the
//! conversion from each stage to the next and from the first, the drop-off, and the
//! time spent in each stage. A contact counts in every stage up to the furthest it
//! reached (skipped stages count as passed), except one that churned, which counts
//! only in the stages it really entered (Bitrix24's rule for lost deals).

use std::collections::BTreeMap;

use super::period::local_week;
use super::stats::{Summary, rate};
use super::table::{Table, Value, col};
use super::{ALL, Context, Period, Result};
use crate::model::Millis;
use crate::store::{STAGES, StageRow, Store};

/// The stage that leaves the funnel rather than moving along it.
pub const EXIT: &str = "churned";

/// The funnel's steps in order.
pub fn steps() -> Vec<&'static str> {
    STAGES.iter().copied().filter(|s| *s != EXIT).collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub stage: String,
    pub reached: i64,
    /// Of those who reached this stage, the share who reached the next, in percent.
    pub next: Option<f64>,
    /// Of those who entered the funnel, the share who reached this stage.
    pub cumulative: Option<f64>,
    /// Reached this stage but not the next.
    pub dropped: i64,
    /// Time in this stage, of those who left it.
    pub time: Summary,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    /// `week of 2026-11-23`, or `all`.
    pub label: String,
    pub contacts: i64,
    pub steps: Vec<Step>,
    pub churned: i64,
}

#[derive(Default)]
struct Tally {
    contacts: i64,
    reached: Vec<i64>,
    times: Vec<Vec<Millis>>,
    churned: i64,
}

impl Tally {
    fn add(&mut self, history: &[StageRow], order: &[&str]) {
        if self.reached.is_empty() {
            self.reached = vec![0; order.len()];
            self.times = vec![Vec::new(); order.len()];
        }
        self.contacts += 1;
        let index = |s: &str| order.iter().position(|o| *o == s);
        let churned = history.last().is_some_and(|h| h.stage == EXIT);
        let entered: Vec<usize> = history.iter().filter_map(|h| index(&h.stage)).collect();
        if churned {
            self.churned += 1;
            let mut seen = vec![false; order.len()];
            for i in entered {
                seen[i] = true;
            }
            for (i, s) in seen.into_iter().enumerate() {
                self.reached[i] += i64::from(s);
            }
        } else if let Some(furthest) = entered.into_iter().max() {
            for r in &mut self.reached[..=furthest] {
                *r += 1;
            }
        }
        for pair in history.windows(2) {
            if let Some(i) = index(&pair[0].stage) {
                self.times[i].push((pair[1].at - pair[0].at).max(0));
            }
        }
    }

    fn cohort(self, label: String, order: &[&str]) -> Cohort {
        let first = self.reached.first().copied().unwrap_or(0);
        let steps = order
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let reached = self.reached.get(i).copied().unwrap_or(0);
                let next = self.reached.get(i + 1).copied();
                Step {
                    stage: stage.to_string(),
                    reached,
                    next: next.and_then(|n| rate(n, reached)),
                    cumulative: rate(reached, first),
                    dropped: next.map_or(0, |n| reached - n),
                    time: Summary::of(self.times.get(i).cloned().unwrap_or_default()),
                }
            })
            .collect();
        Cohort { label, contacts: self.contacts, steps, churned: self.churned }
    }
}

/// One cohort per week of entry in the period, then `all`.
pub fn compute(store: &Store, period: &Period, ctx: &Context) -> Result<Vec<Cohort>> {
    let order = steps();
    let rows = store.report_stages(period.from, period.to)?;
    let mut weeks: BTreeMap<chrono::NaiveDate, Tally> = BTreeMap::new();
    let mut all = Tally::default();
    for history in rows.chunk_by(|a, b| a.contact == b.contact) {
        let week = local_week(ctx.zone, history[0].at);
        weeks.entry(week).or_default().add(history, &order);
        all.add(history, &order);
    }
    let mut out: Vec<Cohort> = weeks.into_iter().map(|(w, t)| t.cohort(format!("week of {w}"), &order)).collect();
    out.push(all.cohort(ALL.into(), &order));
    Ok(out)
}

pub fn table(store: &Store, period: &Period, ctx: &Context) -> Result<Table> {
    let columns = [
        col("cohort", "cohort"),
        col("stage", "stage"),
        col("reached", "reached"),
        col("next_step_percent", "to next"),
        col("cumulative_percent", "from first"),
        col("dropped", "dropped"),
        col("median_time_in_stage_s", "median time in stage"),
    ];
    let mut t = Table::new("Funnel by week of entry", period, &columns);
    for cohort in compute(store, period, ctx)? {
        for step in &cohort.steps {
            t.rows.push(vec![
                Value::Text(cohort.label.clone()),
                Value::Text(step.stage.clone()),
                Value::Count(step.reached),
                Value::Percent(step.next),
                Value::Percent(step.cumulative),
                Value::Count(step.dropped),
                Value::Duration(step.time.median),
            ]);
        }
        t.rows.push(vec![
            Value::Text(cohort.label.clone()),
            Value::Text(EXIT.into()),
            Value::Count(cohort.churned),
            Value::Percent(None),
            Value::Percent(rate(cohort.churned, cohort.contacts)),
            Value::Count(0),
            Value::Duration(None),
        ]);
    }
    t.notes.push(format!(
        "Cohorts: the contacts who entered the funnel ({}) in the period, by the week they entered. A contact counts \
         in every stage up to the furthest it reached; one that churned only in the stages it entered. Time in stage \
         counts those who left the stage.",
        steps().join(" → ")
    ));
    Ok(t)
}
