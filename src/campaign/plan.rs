//! Planning: for every member of a segment, the exact message they would get and on
//! which channel, or the one reason they are left out. Pure: it works on the facts the
//! store gathered (`Member`), so preview, launch and the benchmark plan the same way.

use std::collections::BTreeMap;

use chrono::Timelike;
use serde::Serialize;

use super::policy::CampaignPolicy;
use super::template::{Fields, Template};
use crate::model::TemplateConfig;
pub use crate::model::Zone;
use crate::model::{Button, ChannelKind, ContactId, ConversationId, Millis, Outgoing};
pub use crate::store::{Member, Reach};

/// Seconds until a running campaign's rest is sent: at its pace so far, or at the
/// platforms' limit until it has one.
pub fn eta_seconds(status: &crate::store::CampaignStatus, now: Millis) -> Option<f64> {
    status.eta_seconds(now, sustained_rate(ChannelKind::Telegram))
}

/// Why a member gets nothing. The codes are stable: scripts read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No identity on any channel the campaign may use.
    NoChannel,
    /// Blocked the bot or unsubscribed on the platform.
    Blocked,
    /// Their latest marketing consent event is an opt-out.
    OptedOut,
    /// No marketing opt-in on record.
    NoConsent,
    /// Had the configured number of campaign messages within the period already.
    FrequencyCap,
    /// WhatsApp: the 24-hour window is closed and the campaign has no template.
    WindowClosed,
    /// VK: the customer has neither written to the community nor allowed its messages.
    NoPermission,
    /// The channel cannot carry the message as written (too long, or buttons it does
    /// not take); the detail says what to change.
    CannotCarry,
    /// The text needs a variable the contact has no value for.
    MissingVariable,
    /// It is night where the contact lives.
    QuietHours,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::NoChannel => "no_channel",
            Reason::Blocked => "blocked",
            Reason::OptedOut => "opted_out",
            Reason::NoConsent => "no_consent",
            Reason::FrequencyCap => "frequency_cap",
            Reason::WindowClosed => "window_closed",
            Reason::NoPermission => "no_permission",
            Reason::CannotCarry => "cannot_carry",
            Reason::MissingVariable => "missing_variable",
            Reason::QuietHours => "quiet_hours",
        }
    }

    pub const ALL: [Reason; 10] = [
        Reason::NoChannel,
        Reason::Blocked,
        Reason::OptedOut,
        Reason::NoConsent,
        Reason::FrequencyCap,
        Reason::WindowClosed,
        Reason::NoPermission,
        Reason::CannotCarry,
        Reason::MissingVariable,
        Reason::QuietHours,
    ];
}

/// One version of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub name: String,
    pub text: Template,
    pub buttons: Vec<Vec<Button>>,
    /// Percent of members who get it; the shares of all variants add up to 100.
    pub share: u8,
}

/// A WhatsApp template for customers whose window has closed, with its parameters as
/// templates of their own (`{{first_name}}` …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppTemplate {
    pub template: TemplateConfig,
    pub params: Vec<Template>,
}

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub variants: Vec<Variant>,
    pub whatsapp_template: Option<WhatsAppTemplate>,
    /// Mixed into the A/B split so that each campaign splits its members its own way,
    /// and a preview under the same name splits as the launch will.
    pub split_key: String,
    /// The channels allowed (from the filter); empty for any.
    pub channels: Vec<ChannelKind>,
    /// The percent of those it would reach who get nothing, to measure the campaign
    /// against (`--holdout`); 0 for none.
    pub holdout: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Included {
    pub contact: ContactId,
    pub name: String,
    pub channel: ChannelKind,
    pub chat_id: String,
    #[serde(skip)]
    pub conversation: Option<ConversationId>,
    pub variant: String,
    /// Why this channel of the person's: "their only channel", "wrote there last" …
    #[serde(rename = "channel_reason")]
    pub why_channel: &'static str,
    /// What they get; written out as its text (`text`), held once.
    #[serde(rename = "text", serialize_with = "outgoing_text")]
    pub outgoing: Outgoing,
}

impl Included {
    /// The text they get.
    pub fn text(&self) -> &str {
        &self.outgoing.text
    }

    /// Why a person with several channels is reached on this one, as a preview row says
    /// it (`[wrote there last] `); nothing for a person with one.
    pub fn channel_note(&self) -> String {
        match self.why_channel {
            "their only channel" => String::new(),
            why => format!("[{why}] "),
        }
    }
}

fn outgoing_text<S: serde::Serializer>(outgoing: &Outgoing, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&outgoing.text)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Excluded {
    pub contact: ContactId,
    pub name: String,
    pub channel: Option<ChannelKind>,
    pub chat_id: Option<String>,
    #[serde(serialize_with = "reason_code")]
    pub reason: Reason,
    /// What exactly: the missing variable, the local time, the opt-out's date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn reason_code<S: serde::Serializer>(r: &Reason, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.code())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub members: usize,
    pub included: usize,
    pub excluded: usize,
    pub by_reason: BTreeMap<&'static str, usize>,
    pub by_channel: BTreeMap<&'static str, usize>,
    pub by_variant: BTreeMap<String, usize>,
    /// How long sending takes under each platform's limits (channels send side by side).
    pub estimated_seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub included: Vec<Included>,
    pub excluded: Vec<Excluded>,
    pub totals: Totals,
}

/// Plans `message` for `members` at `now`.
pub fn plan(members: &[Member], message: &Message, policy: &CampaignPolicy, now: Millis) -> Plan {
    let mut planner = Planner::new(message, policy, now);
    for m in members {
        planner.add(m);
    }
    planner.finish()
}

/// A plan made one member at a time, so the members need not all be held at once.
pub struct Planner<'a> {
    message: &'a Message,
    policy: &'a CampaignPolicy,
    now: Millis,
    members: usize,
    included: Vec<Included>,
    excluded: Vec<Excluded>,
}

impl<'a> Planner<'a> {
    pub fn new(message: &'a Message, policy: &'a CampaignPolicy, now: Millis) -> Planner<'a> {
        Planner { message, policy, now, members: 0, included: Vec::new(), excluded: Vec::new() }
    }

    pub fn add(&mut self, m: &Member) {
        self.members += 1;
        match decide(m, self.message, self.policy, self.now) {
            Ok(i) => self.included.push(i),
            Err(e) => self.excluded.push(e),
        }
    }

    pub fn finish(self) -> Plan {
        let totals = totals(self.members, &self.included, &self.excluded);
        Plan { included: self.included, excluded: self.excluded, totals }
    }
}

/// What one member gets, or why nothing.
pub(crate) fn decide(
    m: &Member,
    message: &Message,
    policy: &CampaignPolicy,
    now: Millis,
) -> Result<Included, Excluded> {
    let exclude = |reach: Option<&Reach>, reason: Reason, detail: Option<String>| Excluded {
        contact: m.contact,
        name: m.name.clone(),
        channel: reach.map(|r| r.channel),
        chat_id: reach.map(|r| r.chat_id.clone()),
        reason,
        detail,
    };
    let Some((reach, why_channel)) = best_reach(m, &message.channels, &policy.channel_order) else {
        return Err(exclude(None, Reason::NoChannel, None));
    };
    let r = Some(reach);
    if reach.blocked {
        return Err(exclude(r, Reason::Blocked, None));
    }
    // Where writing needs the platform's permission, a customer who never wrote and
    // never allowed messages cannot be reached, whatever our own ledger says.
    if reach.channel.rules().access == crate::model::Access::Permission
        && reach.last_inbound_at.is_none()
        && reach.permission.as_deref() != Some("opt_in")
    {
        let detail =
            format!("has not written to or allowed messages from the {} community", reach.channel.display_name());
        return Err(exclude(r, Reason::NoPermission, Some(detail)));
    }
    match reach.marketing.as_deref() {
        Some("opt_in") => {}
        Some(_) => return Err(exclude(r, Reason::OptedOut, None)),
        None => return Err(exclude(r, Reason::NoConsent, None)),
    }
    if policy.frequency_cap > 0 && m.recent_campaign_messages >= policy.frequency_cap {
        let detail = format!("{} campaign messages in the last {}", m.recent_campaign_messages, policy.period_text());
        return Err(exclude(r, Reason::FrequencyCap, Some(detail)));
    }
    let window_open = match reach.channel.rules().reply_window {
        None => true,
        Some(window) => reach.last_inbound_at.is_some_and(|t| now - t < window),
    };
    let template = match (&message.whatsapp_template, window_open) {
        (_, true) => None,
        (Some(t), false) => Some(t),
        (None, false) => return Err(exclude(r, Reason::WindowClosed, None)),
    };
    let variant = pick_variant(&message.variants, &message.split_key, m.contact);
    let fields = Fields {
        name: &m.name,
        phone: m.phone.as_deref(),
        stage: &m.stage,
        attributes: Some(&m.attributes),
        agent: None,
    };
    let outgoing = match template {
        None => {
            let text = variant.text.render(&fields).map_err(|v| exclude(r, Reason::MissingVariable, Some(v)))?;
            Outgoing { buttons: variant.buttons.clone(), ..Outgoing::text(text) }
        }
        Some(t) => {
            let params = t
                .params
                .iter()
                .map(|p| p.render(&fields))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|v| exclude(r, Reason::MissingVariable, Some(v)))?;
            t.template.outgoing(params)
        }
    };
    // Asked of the channel now, so the preview never lists someone the send would fail.
    outgoing.check(reach.channel).map_err(|why| exclude(r, Reason::CannotCarry, Some(why)))?;
    if let Some(local) = policy.quiet_at(m.time_zone.as_deref(), now) {
        return Err(exclude(r, Reason::QuietHours, Some(format!("{local} where they are"))));
    }
    Ok(Included {
        contact: m.contact,
        name: m.name.clone(),
        channel: reach.channel,
        chat_id: reach.chat_id.clone(),
        conversation: reach.conversation,
        variant: variant.name.clone(),
        why_channel,
        outgoing,
    })
}

/// The one way to reach a person, and why it: of the allowed channels, one not blocked,
/// then one with marketing consent, then where they wrote last, then the first in
/// `[campaigns] channel_order`. A person with several channels gets one message.
fn best_reach<'a>(m: &'a Member, allowed: &[ChannelKind], order: &[ChannelKind]) -> Option<(&'a Reach, &'static str)> {
    let rank = |r: &Reach| order.iter().position(|c| *c == r.channel).unwrap_or(order.len());
    let key = |r: &Reach| {
        (
            !r.blocked,
            r.marketing.as_deref() == Some("opt_in"),
            r.last_inbound_at.unwrap_or(i64::MIN),
            std::cmp::Reverse(rank(r)),
            std::cmp::Reverse(r.channel.as_str()),
        )
    };
    let candidates: Vec<&Reach> =
        m.reaches.iter().filter(|r| allowed.is_empty() || allowed.contains(&r.channel)).collect();
    let best = *candidates.iter().max_by_key(|r| key(r))?;
    let (k, others) = (key(best), candidates.iter().filter(|r| !std::ptr::eq(**r, best)).map(|r| key(r)));
    let why = match others.max() {
        None => "their only channel",
        Some(o) if o.0 != k.0 => "the others are blocked",
        Some(o) if o.1 != k.1 => "the only one with marketing consent",
        Some(o) if o.2 != k.2 => "wrote there last",
        Some(o) if o.3 != k.3 => "first in the channel order",
        Some(_) => "the same channel twice; the first one",
    };
    Some((best, why))
}

/// A stable choice: the same member of the same campaign always gets the same variant.
pub fn pick_variant<'a>(variants: &'a [Variant], key: &str, contact: ContactId) -> &'a Variant {
    let mut point = percentile_of(key, contact);
    for v in variants {
        if point < v.share {
            return v;
        }
        point -= v.share;
    }
    variants.last().expect("a campaign has at least one variant")
}

/// Where a contact falls, 0-99, for a campaign's key: FNV-1a over the key and the
/// contact id, stable across runs and builds.
fn percentile_of(key: &str, contact: ContactId) -> u8 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes().chain(contact.0.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 100) as u8
}

/// Whether a member the campaign would reach is held out instead: `percent` of them, by
/// a draw of their own (not the A/B split's), so the held-out group is like the rest.
pub fn held_out(key: &str, contact: ContactId, percent: u8) -> bool {
    percent > 0 && percentile_of(&format!("{key}\u{0}holdout"), contact) < percent
}

fn totals(members: usize, included: &[Included], excluded: &[Excluded]) -> Totals {
    let mut tally = Tally::default();
    included.iter().for_each(|i| tally.included(i));
    excluded.iter().for_each(|e| tally.excluded(e));
    tally.totals(members)
}

/// The totals counted one decision at a time.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    included: usize,
    excluded: usize,
    by_reason: BTreeMap<&'static str, usize>,
    by_channel: BTreeMap<&'static str, usize>,
    by_variant: BTreeMap<String, usize>,
}

impl Tally {
    pub(crate) fn included(&mut self, i: &Included) {
        self.included += 1;
        *self.by_channel.entry(i.channel.as_str()).or_default() += 1;
        match self.by_variant.get_mut(&i.variant) {
            Some(n) => *n += 1,
            None => {
                self.by_variant.insert(i.variant.clone(), 1);
            }
        }
    }

    pub(crate) fn excluded(&mut self, e: &Excluded) {
        self.excluded += 1;
        *self.by_reason.entry(e.reason.code()).or_default() += 1;
    }

    pub(crate) fn totals(self, members: usize) -> Totals {
        let estimated_seconds = self
            .by_channel
            .iter()
            .map(|(channel, n)| {
                let kind: ChannelKind = channel.parse().unwrap_or(ChannelKind::Telegram);
                *n as f64 / sustained_rate(kind)
            })
            .fold(0.0, f64::max);
        Totals {
            members,
            included: self.included,
            excluded: self.excluded,
            by_reason: self.by_reason,
            by_channel: self.by_channel,
            by_variant: self.by_variant,
            estimated_seconds,
        }
    }
}

/// Messages a second the sender keeps to on a platform (its rules).
pub fn sustained_rate(kind: ChannelKind) -> f64 {
    f64::from(kind.rules().sustained_per_sec)
}

/// The local time of day (`HH:MM`) in `zone` at `now`.
pub fn local_minutes(zone: &Zone, now: Millis) -> u32 {
    let t = zone.wall_clock(now).time();
    t.hour() * 60 + t.minute()
}

impl Message {
    /// A message from its texts: one text, or two for an A/B test with `split` percent
    /// getting A. Every text must parse as a template.
    pub fn new(
        texts: &[String],
        split: u8,
        buttons: Vec<Vec<Button>>,
        whatsapp_template: Option<WhatsAppTemplate>,
        split_key: &str,
        channels: Vec<ChannelKind>,
    ) -> Result<Message, String> {
        if texts.is_empty() || texts.iter().all(|t| t.trim().is_empty()) {
            return Err("the message has no text".into());
        }
        if texts.len() > 2 {
            return Err("at most two variants (A and B)".into());
        }
        if texts.len() == 2 && !(1..=99).contains(&split) {
            return Err(format!("--split {split}: give the percent that gets variant A, 1 to 99"));
        }
        let shares = if texts.len() == 1 { vec![100] } else { vec![split, 100 - split] };
        let variants = texts
            .iter()
            .zip(shares)
            .zip(["A", "B"])
            .map(|((text, share), name)| {
                let text = Template::parse(text).map_err(|e| format!("variant {name}: {e}"))?;
                Ok(Variant { name: name.into(), text, buttons: buttons.clone(), share })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Message { variants, whatsapp_template, split_key: split_key.into(), channels, holdout: 0 })
    }
}

impl WhatsAppTemplate {
    /// The configured template `name`, its parameters given as templates.
    pub fn new(templates: &[TemplateConfig], name: &str, params: &[String]) -> Result<WhatsAppTemplate, String> {
        let t = find_template(templates, name, params.len())?;
        let params = params.iter().map(|p| Template::parse(p)).collect::<Result<Vec<_>, _>>()?;
        Ok(WhatsAppTemplate { template: t.clone(), params })
    }
}

/// The configured template `name`, if it takes `params` parameters.
pub fn find_template<'a>(
    templates: &'a [TemplateConfig],
    name: &str,
    params: usize,
) -> Result<&'a TemplateConfig, String> {
    let Some(t) = templates.iter().find(|t| t.name == name) else {
        let known: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
        return Err(format!("no template `{name}` in [[channels.whatsapp.templates]] (known: {})", known.join(", ")));
    };
    if params != t.parameters() {
        return Err(format!("template `{name}` takes {} parameters (--param), not {params}", t.parameters()));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(channel: ChannelKind, marketing: Option<&str>, last_inbound_at: Option<Millis>) -> Reach {
        Reach {
            channel,
            chat_id: "1".into(),
            conversation: None,
            blocked: false,
            last_inbound_at,
            marketing: marketing.map(str::to_string),
            permission: None,
        }
    }

    fn person(reaches: Vec<Reach>) -> Member {
        Member {
            contact: ContactId(1),
            name: "Анна".into(),
            phone: None,
            stage: "new".into(),
            attributes: Default::default(),
            time_zone: None,
            reaches,
            recent_campaign_messages: 0,
        }
    }

    #[test]
    fn one_channel_per_person_and_the_reason_for_it() {
        use ChannelKind::{Telegram, Viber, WhatsApp};
        let order = [WhatsApp, Telegram, Viber];
        let pick = |m: &Member, order: &[ChannelKind]| best_reach(m, &[], order).map(|(r, why)| (r.channel, why));
        let alone = person(vec![reach(Telegram, None, None)]);
        assert_eq!(pick(&alone, &order), Some((Telegram, "their only channel")));
        let consent = person(vec![reach(WhatsApp, None, Some(9)), reach(Telegram, Some("opt_in"), Some(1))]);
        assert_eq!(pick(&consent, &order), Some((Telegram, "the only one with marketing consent")));
        let wrote = person(vec![reach(WhatsApp, Some("opt_in"), Some(1)), reach(Telegram, Some("opt_in"), Some(9))]);
        assert_eq!(pick(&wrote, &order), Some((Telegram, "wrote there last")));
        // Consented on both, never wrote: the configured order decides, either way round.
        let silent = person(vec![reach(Telegram, Some("opt_in"), None), reach(Viber, Some("opt_in"), None)]);
        assert_eq!(pick(&silent, &order), Some((Telegram, "first in the channel order")));
        assert_eq!(pick(&silent, &[Viber, Telegram]), Some((Viber, "first in the channel order")));
        let mut blocked = person(vec![reach(Telegram, Some("opt_in"), Some(9)), reach(Viber, None, None)]);
        blocked.reaches[0].blocked = true;
        assert_eq!(pick(&blocked, &order), Some((Viber, "the others are blocked")));
        assert_eq!(pick(&person(vec![]), &order), None);
    }
}
