//! Times as an agent reads them: relative in the list, a clock in the conversation, and
//! day separators, all in the console's time zone.

use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Utc};

use crate::model::Millis;

fn local(t: Millis, tz: FixedOffset) -> DateTime<FixedOffset> {
    Utc.timestamp_millis_opt(t).single().unwrap_or_default().with_timezone(&tz)
}

/// `now`, `5m`, `3h`, `2d`, or a date for anything older than a week.
pub fn relative(now: Millis, t: Millis, tz: FixedOffset) -> String {
    let ago = (now - t).max(0) / 1000;
    match ago {
        0..60 => "now".into(),
        60..3600 => format!("{}m", ago / 60),
        3600..86_400 => format!("{}h", ago / 3600),
        86_400..604_800 => format!("{}d", ago / 86_400),
        _ => local(t, tz).format("%d %b").to_string(),
    }
}

/// A moment ahead, as the agent reads it: `Mon 30 Nov 09:00`.
pub fn when(t: Millis, tz: FixedOffset) -> String {
    local(t, tz).format("%a %d %b %H:%M").to_string()
}

/// `14:05`.
pub fn clock(t: Millis, tz: FixedOffset) -> String {
    local(t, tz).format("%H:%M").to_string()
}

/// A key that changes when the local day does.
pub fn day_key(t: Millis, tz: FixedOffset) -> i32 {
    local(t, tz).num_days_from_ce()
}

/// `Today`, `Yesterday`, or `Monday, 16 November 2026`.
pub fn day_label(now: Millis, t: Millis, tz: FixedOffset) -> String {
    let today = day_key(now, tz);
    match today - day_key(t, tz) {
        0 => "Today".into(),
        1 => "Yesterday".into(),
        _ => local(t, tz).format("%A, %-d %B %Y").to_string(),
    }
}

/// A duration in words: `45 s`, `12 min`, `2 h 5 min`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).ceil() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s.div_ceil(60)),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times() {
        let tz = FixedOffset::east_opt(0).unwrap();
        let now = 1_700_000_000_000;
        assert_eq!(relative(now, now - 5_000, tz), "now");
        assert_eq!(relative(now, now - 5 * 60_000, tz), "5m");
        assert_eq!(relative(now, now - 3 * 3_600_000, tz), "3h");
        assert_eq!(relative(now, now - 2 * 86_400_000, tz), "2d");
        assert_eq!(relative(now, now - 30 * 86_400_000, tz), "15 Oct");
    }

    #[test]
    fn day_labels() {
        let tz = FixedOffset::east_opt(3 * 3600).unwrap();
        let now = 1_700_000_000_000; // 2023-11-15 01:13 at +03:00
        assert_eq!(day_label(now, now - 3_600_000, tz), "Today");
        assert_eq!(day_label(now, now - 2 * 3_600_000, tz), "Yesterday");
        assert_eq!(day_label(now, now - 3 * 86_400_000, tz), "Sunday, 12 November 2023");
    }
}
