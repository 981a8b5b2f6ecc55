//! Campaigns launched in the period: delivered, open rate (read / delivered, only on
//! channels that report reads), click-through (clicks / delivered), replies, opt-outs,
//! and conversion: recipients who entered the conversion stage within N days after the
//! launch, against the holdout's when the campaign held some out. A channel without
//! delivery receipts (Telegram, VK) counts a message as delivered once sent; one
//! without read receipts (Telegram) has no open rate.

use super::stats::rate;
use super::table::{Table, Value, col};
use super::{By, Context, Period, Result};
use crate::model::ChannelKind;
use crate::store::{CampaignRow, Store};

const DAY: i64 = 86_400_000;

/// A campaign's figures (on one channel, or all of them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub name: String,
    pub channels: Vec<String>,
    pub sent: i64,
    /// Delivered as the channels can tell.
    pub delivered: i64,
    /// Of the messages on channels that report reads: delivered, read.
    pub delivered_readable: i64,
    pub read: i64,
    pub clicked: i64,
    pub replied: i64,
    pub opted_out: i64,
    pub converted: i64,
    /// Held out, and of them those who converted without the campaign.
    pub held: i64,
    pub held_converted: i64,
}

impl Figures {
    fn add(&mut self, r: &CampaignRow) {
        let receipts = r.channel.parse::<ChannelKind>().map(|c| c.rules().receipts).ok();
        let delivered = if receipts.is_some_and(|x| x.delivered) { r.delivered } else { r.sent };
        self.channels.push(r.channel.clone());
        self.sent += r.sent;
        self.delivered += delivered;
        if receipts.is_some_and(|x| x.read) {
            self.delivered_readable += delivered;
            self.read += r.read;
        }
        self.clicked += r.clicked;
        self.replied += r.replied;
        self.opted_out += r.opted_out;
        self.converted += r.converted;
        self.held += r.held;
        self.held_converted += r.held_converted;
    }

    /// Conversion among those sent it, and among those held out.
    pub fn conversion(&self) -> Option<f64> {
        rate(self.converted, self.sent)
    }

    pub fn holdout_conversion(&self) -> Option<f64> {
        rate(self.held_converted, self.held)
    }

    /// What the campaign added: its conversion minus the holdout's, in points.
    pub fn lift(&self) -> Option<f64> {
        Some(self.conversion()? - self.holdout_conversion()?)
    }

    pub fn open_rate(&self) -> Option<f64> {
        rate(self.read, self.delivered_readable)
    }

    pub fn ctr(&self) -> Option<f64> {
        rate(self.clicked, self.delivered)
    }
}

pub fn compute(store: &Store, period: &Period, by: By, ctx: &Context) -> Result<Vec<Figures>> {
    let rows = store.report_campaigns(period.from, period.to, &ctx.conversion_stage, ctx.conversion_days * DAY)?;
    let mut out: Vec<Figures> = Vec::new();
    for r in &rows {
        let same = out.last().is_some_and(|f| f.name == r.name) && by == By::Campaign;
        if !same {
            out.push(Figures { name: r.name.clone(), ..Figures::default() });
        }
        if let Some(f) = out.last_mut() {
            f.add(r);
        }
    }
    Ok(out)
}

pub fn table(store: &Store, period: &Period, by: By, ctx: &Context) -> Result<Table> {
    let columns = [
        col("campaign", "campaign"),
        col("channels", "channels"),
        col("sent", "sent"),
        col("delivered", "delivered"),
        col("open_rate_percent", "open rate"),
        col("ctr_percent", "CTR"),
        col("reply_rate_percent", "replied"),
        col("opt_out_rate_percent", "opted out"),
        col("converted", "converted"),
        col("conversion_percent", "conversion"),
        col("holdout", "holdout"),
        col("holdout_conversion_percent", "holdout conv."),
        col("lift_points", "lift (pts)"),
    ];
    let figures = compute(store, period, by, ctx)?;
    let title = if by == By::Channel { "Campaigns by channel" } else { "Campaigns" };
    let mut t = Table::new(title, period, &columns);
    let mut channels: Vec<String> = Vec::new();
    for f in &figures {
        channels.extend(f.channels.iter().cloned());
        t.rows.push(vec![
            Value::Text(f.name.clone()),
            Value::Text(f.channels.join(" ")),
            Value::Count(f.sent),
            Value::Count(f.delivered),
            Value::Percent(f.open_rate()),
            Value::Percent(f.ctr()),
            Value::Percent(rate(f.replied, f.delivered)),
            Value::Percent(rate(f.opted_out, f.delivered)),
            Value::Count(f.converted),
            Value::Percent(f.conversion()),
            Value::Count(f.held),
            Value::Percent(f.holdout_conversion()),
            Value::Number(f.lift()),
        ]);
    }
    t.notes.push(format!(
        "Open rate: read / delivered, on channels that report reads. CTR, replies and opt-outs: of those delivered. \
         Conversion: recipients sent the campaign who entered the stage `{}` within {} days after its launch.",
        ctx.conversion_stage, ctx.conversion_days
    ));
    if channels.iter().any(|c| c == "telegram") {
        t.notes.push(
            "Telegram reports neither delivery nor reading to a bot: its messages count as delivered once sent, and \
             it has no open rate."
                .into(),
        );
    }
    if channels.iter().any(|c| c == "vk") {
        t.notes.push("VK reports reading but not delivery: its messages count as delivered once sent.".into());
    }
    if figures.iter().any(|f| f.held > 0) {
        t.notes.push(
            "Holdout: recipients the campaign held out and sent nothing (`campaign launch --holdout PCT`). Lift: \
             conversion minus the holdout's conversion, in percentage points; a holdout of a few dozen is mostly noise."
                .into(),
        );
    } else {
        t.notes.push(
            "No campaign here had a holdout (`campaign launch --holdout PCT`), so conversion is not compared with one."
                .into(),
        );
    }
    Ok(t)
}
