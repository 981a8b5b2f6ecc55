//! Times an agent types ("2h", "14:30", "tomorrow 10:00", "fri", "03.12 9:00",
//! "2026-12-03 09:00") and the snooze presets, read in the agent's zone. A time without
//! a date is the next such time; a date without a time is 9:00 that day.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Weekday};

use super::Millis;

/// What the agent typed, as a moment after `now`, or why it cannot be read.
pub fn parse(text: &str, now: Millis, tz: FixedOffset) -> Result<Millis, String> {
    let text = text.trim().to_lowercase();
    let hint =
        "write a span (30m, 2h, 3d), a time (14:30), a day (tomorrow, fri 10:00) or a date (03.12 9:00, 2026-12-03)";
    if text.is_empty() {
        return Err(hint.into());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(&text.to_uppercase()) {
        return Ok(t.timestamp_millis());
    }
    let span = text.strip_prefix("in ").unwrap_or(&text).replace(' ', "");
    if let Some(ms) = crate::campaign::filter::parse_span(&span).filter(|ms| *ms > 0) {
        return Ok(now.saturating_add(ms));
    }
    let local = local(now, tz);
    let today = local.date_naive();
    let mut words = text.split_whitespace();
    let (day, time) = match (words.next(), words.next(), words.next()) {
        (Some(a), None, _) => match clock(a) {
            Some(time) => (None, Some(time)),
            None => (Some(a), None),
        },
        (Some(a), Some(b), None) => (Some(a), Some(clock(b).ok_or_else(|| format!("`{b}` is not a time; {hint}"))?)),
        _ => return Err(hint.into()),
    };
    let date = match day {
        None => {
            // A bare time: today if it is still ahead, else tomorrow.
            let time = time.expect("a time");
            if at(tz, today, time).is_some_and(|t| t > now) { today } else { today + Duration::days(1) }
        }
        Some("today") => today,
        Some("tomorrow" | "tmr") => today + Duration::days(1),
        Some(word) => match weekday(word) {
            Some(wd) => {
                let ahead = (7 + wd.num_days_from_monday() as i64 - today.weekday().num_days_from_monday() as i64) % 7;
                let date = today + Duration::days(ahead);
                // Today's weekday means today while its time is ahead, else a week on.
                let time = time.unwrap_or(nine());
                if at(tz, date, time).is_some_and(|t| t > now) { date } else { date + Duration::days(7) }
            }
            None => date(word, today).ok_or_else(|| format!("`{word}` is not a day or a date; {hint}"))?,
        },
    };
    let moment = at(tz, date, time.unwrap_or(nine())).ok_or_else(|| hint.to_string())?;
    if moment <= now {
        return Err("that time has passed".into());
    }
    Ok(moment)
}

/// 9:00 on the day `days` after `now`'s, in the agent's zone.
pub fn at_nine(now: Millis, tz: FixedOffset, days: i64) -> Millis {
    let day = local(now, tz).date_naive() + Duration::days(days);
    at(tz, day, nine()).unwrap_or(now + days * 86_400_000)
}

/// 9:00 next Monday (a week on, when it is Monday now) in the agent's zone.
pub fn next_monday(now: Millis, tz: FixedOffset) -> Millis {
    let from_monday = i64::from(local(now, tz).weekday().num_days_from_monday());
    at_nine(now, tz, 7 - from_monday)
}

fn local(now: Millis, tz: FixedOffset) -> DateTime<FixedOffset> {
    tz.timestamp_millis_opt(now).single().unwrap_or_else(|| tz.timestamp_millis_opt(0).unwrap())
}

fn nine() -> NaiveTime {
    NaiveTime::from_hms_opt(9, 0, 0).expect("9:00 exists")
}

fn at(tz: FixedOffset, date: NaiveDate, time: NaiveTime) -> Option<Millis> {
    tz.from_local_datetime(&date.and_time(time)).single().map(|t| t.timestamp_millis())
}

/// `14:30`, `9:05`, `14.30` is a date, not a time: only `:`.
fn clock(word: &str) -> Option<NaiveTime> {
    let (h, m) = word.split_once(':')?;
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0).filter(|_| m.len() == 2)
}

fn weekday(word: &str) -> Option<Weekday> {
    const DAYS: [(&str, Weekday); 7] = [
        ("monday", Weekday::Mon),
        ("tuesday", Weekday::Tue),
        ("wednesday", Weekday::Wed),
        ("thursday", Weekday::Thu),
        ("friday", Weekday::Fri),
        ("saturday", Weekday::Sat),
        ("sunday", Weekday::Sun),
    ];
    (word.len() >= 3).then_some(())?;
    DAYS.iter().find(|(name, _)| name.starts_with(word)).map(|(_, d)| *d)
}

/// `2026-12-03`, `03.12.2026`, or `03.12` (this year, or the next once it has passed).
fn date(word: &str, today: NaiveDate) -> Option<NaiveDate> {
    if let Ok(d) = NaiveDate::parse_from_str(word, "%Y-%m-%d") {
        return Some(d);
    }
    if let Ok(d) = NaiveDate::parse_from_str(word, "%d.%m.%Y") {
        return Some(d);
    }
    let (d, m) = word.split_once('.')?;
    let (d, m): (u32, u32) = (d.parse().ok()?, m.parse().ok()?);
    let this_year = NaiveDate::from_ymd_opt(today.year(), m, d)?;
    if this_year >= today { Some(this_year) } else { NaiveDate::from_ymd_opt(today.year() + 1, m, d) }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Thursday 26 November 2026, 17:00 in Moscow (UTC+3).
    fn now() -> (Millis, FixedOffset) {
        let tz = FixedOffset::east_opt(3 * 3600).unwrap();
        (tz.with_ymd_and_hms(2026, 11, 26, 17, 0, 0).unwrap().timestamp_millis(), tz)
    }

    fn read(text: &str) -> String {
        let (now, tz) = now();
        match parse(text, now, tz) {
            Ok(t) => tz.timestamp_millis_opt(t).unwrap().format("%a %d.%m.%Y %H:%M").to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn reads_what_agents_type() {
        assert_eq!(read("2h"), "Thu 26.11.2026 19:00");
        assert_eq!(read("in 30m"), "Thu 26.11.2026 17:30");
        assert_eq!(read("18:15"), "Thu 26.11.2026 18:15");
        assert_eq!(read("9:00"), "Fri 27.11.2026 09:00", "a time that passed today is tomorrow's");
        assert_eq!(read("tomorrow"), "Fri 27.11.2026 09:00");
        assert_eq!(read("Tomorrow 14:30"), "Fri 27.11.2026 14:30");
        assert_eq!(read("mon"), "Mon 30.11.2026 09:00");
        assert_eq!(read("thu 18:00"), "Thu 26.11.2026 18:00", "today's weekday, later today");
        assert_eq!(read("thursday 10:00"), "Thu 03.12.2026 10:00", "today's weekday, time passed: next week");
        assert_eq!(read("03.12 9:00"), "Thu 03.12.2026 09:00");
        assert_eq!(read("01.01"), "Fri 01.01.2027 09:00", "a date passed this year is next year's");
        assert_eq!(read("2026-12-24 10:00"), "Thu 24.12.2026 10:00");
        assert_eq!(read("2026-12-24T10:00:00+03:00"), "Thu 24.12.2026 10:00");
    }

    #[test]
    fn says_what_it_cannot_read() {
        assert!(read("").starts_with("error: write a span"));
        assert!(read("soon").contains("`soon` is not a day or a date"));
        assert!(read("fri 25:00").contains("`25:00` is not a time"));
        assert!(read("2020-01-01").contains("passed"));
        assert!(read("31.02").contains("not a day or a date"));
        assert!(read("0m").contains("not a day"));
        assert!(read("99999999999999w").starts_with("error"));
    }
}
