//! The period a report covers, in the business's time zone: today, the last 7 or 30
//! days, or dates given; and the local day and week an instant falls in.

use chrono::{Datelike, Days, NaiveDate};

use crate::model::{Millis, Zone};

/// [from, to), with how to say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub from: Millis,
    pub to: Millis,
    pub label: String,
}

/// The presets of the Reports screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    Today,
    Week,
    #[default]
    Month,
}

impl Preset {
    pub fn next(self) -> Preset {
        match self {
            Preset::Today => Preset::Week,
            Preset::Week => Preset::Month,
            Preset::Month => Preset::Today,
        }
    }

    pub fn period(self, now: Millis, zone: Zone) -> Period {
        match self {
            Preset::Today => Period::last_days(1, now, zone),
            Preset::Week => Period::last_days(7, now, zone),
            Preset::Month => Period::last_days(30, now, zone),
        }
    }
}

impl Period {
    /// Today and the `days - 1` days before it, up to now.
    pub fn last_days(days: u64, now: Millis, zone: Zone) -> Period {
        let today = local_date(zone, now);
        let first = today.checked_sub_days(Days::new(days.saturating_sub(1))).unwrap_or(today);
        let from = zone.midnight(first).unwrap_or(now);
        let label = match days {
            1 => format!("today ({today})"),
            _ => format!("last {days} days ({first} – {today})"),
        };
        Period { from, to: now.max(from), label }
    }

    /// `--from` and `--to`: dates (`2026-11-01`, `--to` included) or RFC 3339 instants.
    /// Without `--from`, the 30 days up to `--to` (or now).
    pub fn parse(from: Option<&str>, to: Option<&str>, now: Millis, zone: Zone) -> Result<Period, String> {
        let to_at = match to {
            Some(t) => instant(t, zone, true)
                .ok_or_else(|| format!("--to `{t}`: not a date (YYYY-MM-DD) or an RFC 3339 time"))?,
            None => now,
        };
        let from_at = match from {
            Some(f) => instant(f, zone, false)
                .ok_or_else(|| format!("--from `{f}`: not a date (YYYY-MM-DD) or an RFC 3339 time"))?,
            None => return Ok(Period::last_days(30, to_at, zone)),
        };
        if from_at >= to_at {
            return Err(format!("--from `{}` is not before --to", from.unwrap_or_default()));
        }
        let last = local_date(zone, to_at - 1);
        Ok(Period { from: from_at, to: to_at, label: format!("{} – {last}", local_date(zone, from_at)) })
    }

    pub fn days(&self, zone: Zone) -> Vec<NaiveDate> {
        let (first, last) = (local_date(zone, self.from), local_date(zone, (self.to - 1).max(self.from)));
        first.iter_days().take_while(|d| *d <= last).take(3700).collect()
    }
}

/// A date is its whole day: from its midnight, or (as an end) to the next midnight.
fn instant(text: &str, zone: Zone, end: bool) -> Option<Millis> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let date = if end { date.succ_opt()? } else { date };
        return zone.midnight(date);
    }
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis())
}

/// The local date at `t`.
pub fn local_date(zone: Zone, t: Millis) -> NaiveDate {
    zone.wall_clock(t).date()
}

/// The Monday of the local week `t` falls in.
pub fn local_week(zone: Zone, t: Millis) -> NaiveDate {
    let date = local_date(zone, t);
    date.checked_sub_days(Days::new(u64::from(date.weekday().num_days_from_monday()))).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_whole_local_days_and_bad_ones_are_named() {
        let zone = Zone::parse("Europe/Moscow").unwrap();
        let p = Period::parse(Some("2026-11-02"), Some("2026-11-08"), 0, zone).unwrap();
        // Midnight in Moscow is 21:00 UTC the day before.
        assert_eq!(p.from, chrono::DateTime::parse_from_rfc3339("2026-11-01T21:00:00Z").unwrap().timestamp_millis());
        assert_eq!(p.to, chrono::DateTime::parse_from_rfc3339("2026-11-08T21:00:00Z").unwrap().timestamp_millis());
        assert_eq!(p.days(zone).len(), 7);
        assert_eq!(local_week(zone, p.from), NaiveDate::from_ymd_opt(2026, 11, 2).unwrap());
        let e = Period::parse(Some("yesterday"), None, 0, zone).unwrap_err();
        assert!(e.contains("--from `yesterday`"), "{e}");
        let e = Period::parse(Some("2026-11-09"), Some("2026-11-08"), 0, zone).unwrap_err();
        assert!(e.contains("not before"), "{e}");
        let now = p.to + 3_600_000;
        let today = Period::last_days(1, now, zone);
        assert_eq!(today.from, p.to);
        assert_eq!(Period::last_days(7, now, zone).days(zone).len(), 7);
    }
}
