//! The rules every campaign keeps, from `[campaigns]` in the config: how often one
//! contact may get campaign messages, the hours nobody is written to, when the safety
//! brake pauses a campaign, and how long after a message a reply counts as an answer.

use serde::{Deserialize, Deserializer};

use super::filter::parse_span;
use super::plan::{Zone, local_minutes};
use crate::model::Millis;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignPolicy {
    /// At most this many campaign messages per contact within `frequency_period`; 0 for
    /// no cap.
    pub frequency_cap: u32,
    /// The period of the cap, as `7d`, `48h`.
    #[serde(deserialize_with = "span")]
    pub frequency_period: Millis,
    /// Local hours with no campaign messages, as `21:00-09:00`; empty for none.
    #[serde(deserialize_with = "quiet_hours")]
    pub quiet_hours: Option<(u32, u32)>,
    /// The time zone of contacts whose own is unknown: an IANA name (`Europe/Moscow`) or
    /// an offset (`+03:00`). Default: this machine's offset.
    #[serde(deserialize_with = "zone")]
    pub default_time_zone: Option<Zone>,
    /// The brake: a campaign pauses itself when failures, blocks and opt-outs pass this
    /// share of the messages sent so far …
    pub brake_share: f64,
    /// … once at least this many went out (a few early failures prove nothing).
    pub brake_min_sent: u32,
    /// A customer's message within this long after a campaign message counts as a reply.
    #[serde(deserialize_with = "span")]
    pub reply_window: Millis,
    /// Which channel reaches a person who consented on several and wrote on none of them
    /// more recently: the first of these.
    pub channel_order: Vec<crate::model::ChannelKind>,
}

impl Default for CampaignPolicy {
    fn default() -> Self {
        CampaignPolicy {
            frequency_cap: 2,
            frequency_period: 7 * 86_400_000,
            quiet_hours: Some((21 * 60, 9 * 60)),
            default_time_zone: None,
            // WhatsApp lowers a number's quality rating on a few percent of blocks and
            // reports; stop well before that.
            brake_share: 0.05,
            brake_min_sent: 20,
            reply_window: 48 * 3_600_000,
            channel_order: crate::model::ChannelKind::ALL.to_vec(),
        }
    }
}

impl CampaignPolicy {
    /// With no quiet hours and no cap: for tests and tools that plan outside of time.
    pub fn permissive() -> CampaignPolicy {
        CampaignPolicy { frequency_cap: 0, quiet_hours: None, ..CampaignPolicy::default() }
    }

    /// The local time (`HH:MM`) when it falls in quiet hours where the contact lives.
    pub fn quiet_at(&self, time_zone: Option<&str>, now: Millis) -> Option<String> {
        let (start, end) = self.quiet_hours?;
        let zone = time_zone.and_then(Zone::parse).or(self.default_time_zone).unwrap_or_else(Zone::local);
        let t = local_minutes(&zone, now);
        let quiet = if start <= end { (start..end).contains(&t) } else { t >= start || t < end };
        quiet.then(|| format!("{:02}:{:02}", t / 60, t % 60))
    }

    pub fn period_text(&self) -> String {
        let days = self.frequency_period / 86_400_000;
        if days * 86_400_000 == self.frequency_period {
            format!("{days} days")
        } else {
            format!("{} hours", self.frequency_period / 3_600_000)
        }
    }
}

fn span<'de, D: Deserializer<'de>>(d: D) -> Result<Millis, D::Error> {
    let s = String::deserialize(d)?;
    parse_span(&s).ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a time span such as 7d, 48h or 30m")))
}

fn zone<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Zone>, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Ok(None);
    }
    Zone::parse(&s).map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "`{s}` is not a time zone: use a name such as Europe/Moscow or an offset such as +03:00"
        ))
    })
}

fn quiet_hours<'de, D: Deserializer<'de>>(d: D) -> Result<Option<(u32, u32)>, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Ok(None);
    }
    parse_quiet_hours(&s)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a range of hours such as 21:00-09:00")))
}

/// `21:00-09:00` as minutes of the day.
pub fn parse_quiet_hours(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('-')?;
    let minutes = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    };
    let (start, end) = (minutes(a)?, minutes(b)?);
    (start != end).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_wrap_midnight_in_the_contacts_zone() {
        let p = CampaignPolicy::default();
        // 2026-03-10 19:00 UTC: 22:00 in Moscow, 19:00 in London, 15:00 in New York.
        let t = 1_773_169_200_000;
        assert_eq!(p.quiet_at(Some("Europe/Moscow"), t).as_deref(), Some("22:00"));
        assert_eq!(p.quiet_at(Some("Europe/London"), t), None);
        assert_eq!(p.quiet_at(Some("+03:00"), t).as_deref(), Some("22:00"));
        assert_eq!(p.quiet_at(Some("UTC+3"), t).as_deref(), Some("22:00"));
        assert_eq!(p.quiet_at(Some("Asia/Tokyo"), t).as_deref(), Some("04:00"));
        let fixed = CampaignPolicy { default_time_zone: Zone::parse("America/New_York"), ..p.clone() };
        assert_eq!(fixed.quiet_at(None, t), None);
        assert_eq!(fixed.quiet_at(Some("not a zone"), t), None);
        assert_eq!(CampaignPolicy::permissive().quiet_at(Some("Asia/Tokyo"), t), None);
        let day = CampaignPolicy { quiet_hours: parse_quiet_hours("12:00-20:00"), ..p };
        assert_eq!(day.quiet_at(Some("UTC"), t).as_deref(), Some("19:00"));
    }

    #[test]
    fn config_values_are_checked() {
        assert_eq!(parse_quiet_hours("21:00-09:00"), Some((1260, 540)));
        assert_eq!(parse_quiet_hours("25:00-09:00"), None);
        assert_eq!(parse_quiet_hours("09:00-09:00"), None);
        let p: CampaignPolicy = toml::from_str("frequency_cap = 3\nfrequency_period = \"48h\"").unwrap();
        assert_eq!((p.frequency_cap, p.frequency_period, p.period_text()), (3, 48 * 3_600_000, "2 days".into()));
        let e = toml::from_str::<CampaignPolicy>("default_time_zone = \"Mars/Olympus\"").unwrap_err();
        assert!(e.to_string().contains("Mars/Olympus"), "{e}");
    }
}
