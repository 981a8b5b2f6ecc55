//! New clients: contacts whose first message on any channel came in the period, by the
//! channel they wrote on or where they came from (a `/start` link's payload, an ad's
//! referral, an import); `direct` when they simply wrote.

use super::table::{Table, Value, col};
use super::{ALL, By, Context, Grouper, Period, Result};
use crate::store::Store;

/// (group, new clients), by count, the total last.
pub fn compute(store: &Store, period: &Period, by: By, ctx: &Context) -> Result<Vec<(String, i64)>> {
    let mut grouper = Grouper::new(by, ctx);
    let mut counts: Vec<i64> = Vec::new();
    for c in store.report_new_clients(period.from, period.to)? {
        let g = grouper.of(&c.channel, None, c.at, c.source.as_deref());
        if counts.len() <= g {
            counts.resize(g + 1, 0);
        }
        counts[g] += 1;
    }
    let total = counts.iter().sum();
    let mut rows: Vec<(String, i64)> =
        grouper.order().into_iter().map(|g| (grouper.names[g].clone(), counts[g])).collect();
    if matches!(by, By::Channel | By::Source) {
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
    rows.push((ALL.into(), total));
    Ok(rows)
}

pub fn table(store: &Store, period: &Period, by: By, ctx: &Context) -> Result<Table> {
    let mut t = Table::new(
        format!("New clients by {}", by.as_str()),
        period,
        &[col("group", by.as_str()), col("new_clients", "new clients")],
    );
    for (key, n) in compute(store, period, by, ctx)? {
        t.rows.push(vec![Value::Text(key), Value::Count(n)]);
    }
    t.notes.push(
        "A new client is a contact whose first message on any channel came in the period. Source: the /start link's \
         payload, the ad a WhatsApp customer came from (ad:ID), import; direct when they simply wrote."
            .into(),
    );
    Ok(t)
}
