//! Business hours: a weekly schedule in a named time zone, with holidays. Whether the
//! business is open at an instant, and when it next opens (what an away reply tells the
//! customer, and the key that makes it go once per closed period).

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate, Timelike};
use serde::Deserialize;

use crate::model::{Millis, Zone};

/// `[automation.hours]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// An IANA name (`Europe/Moscow`) or an offset (`+03:00`).
    pub time_zone: String,
    /// Day → `"09:00-18:00"` (or several, comma-separated; `""` or `"closed"` for none):
    /// `mon` `tue` `wed` `thu` `fri` `sat` `sun`. A day left out is closed.
    pub week: BTreeMap<String, String>,
    /// Closed all day: `2026-12-31`.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// The reply to a customer who writes while closed, once per closed period; its
    /// `{{next_open}}` says when someone will answer (`tomorrow at 09:00`).
    #[serde(default)]
    pub away: Option<String>,
    /// The language `{{next_open}}` is written in: `en` (the default) or `ru`
    /// (`завтра в 09:00`).
    #[serde(default)]
    pub language: Option<String>,
}

fn yes() -> bool {
    true
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MINUTE: Millis = 60_000;

/// The schedule, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    zone: Zone,
    russian: bool,
    /// Open intervals of each weekday (Monday first), in minutes after midnight.
    week: [Vec<(u32, u32)>; 7],
    holidays: HashSet<NaiveDate>,
}

impl Schedule {
    pub fn parse(config: &HoursConfig) -> Result<Schedule, String> {
        let zone = Zone::parse(&config.time_zone)
            .ok_or_else(|| format!("automation.hours.time_zone: `{}` is not a time zone", config.time_zone))?;
        let mut week: [Vec<(u32, u32)>; 7] = Default::default();
        for (day, spans) in &config.week {
            let i = DAYS
                .iter()
                .position(|d| d.eq_ignore_ascii_case(day))
                .ok_or_else(|| format!("automation.hours.week: `{day}` is not a day (mon, tue, … sun)"))?;
            let spans = spans.trim();
            if spans.is_empty() || spans.eq_ignore_ascii_case("closed") {
                continue;
            }
            for span in spans.split(',') {
                let bad = || format!("automation.hours.week.{day}: `{span}` is not HH:MM-HH:MM");
                let (from, to) = span.trim().split_once('-').ok_or_else(bad)?;
                let (from, to) = (minutes(from).ok_or_else(bad)?, minutes(to).ok_or_else(bad)?);
                if from >= to {
                    return Err(format!("automation.hours.week.{day}: `{span}` ends before it starts"));
                }
                week[i].push((from, to));
            }
            week[i].sort_unstable();
        }
        let holidays = config
            .holidays
            .iter()
            .map(|d| {
                NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                    .map_err(|_| format!("automation.hours.holidays: `{d}` is not a date (YYYY-MM-DD)"))
            })
            .collect::<Result<_, _>>()?;
        if week.iter().all(Vec::is_empty) {
            return Err("automation.hours.week: no day has opening hours".into());
        }
        let russian = match config.language.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("en") => false,
            Some("ru") => true,
            Some(other) => return Err(format!("automation.hours.language: `{other}` is neither en nor ru")),
        };
        Ok(Schedule { zone, russian, week, holidays })
    }

    /// (date, minutes after midnight) at `t` in the schedule's zone.
    fn local(&self, t: Millis) -> (NaiveDate, u32) {
        let naive = self.zone.wall_clock(t);
        (naive.date(), naive.hour() * 60 + naive.minute())
    }

    fn spans(&self, date: NaiveDate) -> &[(u32, u32)] {
        if self.holidays.contains(&date) { &[] } else { &self.week[date.weekday().num_days_from_monday() as usize] }
    }

    pub fn is_open(&self, t: Millis) -> bool {
        let (date, minute) = self.local(t);
        self.spans(date).iter().any(|(from, to)| (*from..*to).contains(&minute))
    }

    /// When it next opens after `t` (within a year), or None if it never does.
    pub fn next_open(&self, t: Millis) -> Option<Millis> {
        let (date, minute) = self.local(t);
        for ahead in 0..370 {
            let day = date.checked_add_days(chrono::Days::new(ahead))?;
            for (from, _) in self.spans(day) {
                if ahead == 0 && *from <= minute {
                    continue;
                }
                return self.instant(day, *from);
            }
        }
        None
    }

    /// The instant a local date and minute is (the earlier one when a clock change
    /// repeats it; just after the gap when it skips it). Minute 24:00 is the next day's
    /// midnight.
    fn instant(&self, date: NaiveDate, minute: u32) -> Option<Millis> {
        let (date, minute) = if minute >= 24 * 60 { (date.succ_opt()?, minute - 24 * 60) } else { (date, minute) };
        let at = self.zone.instant(date.and_hms_opt(minute / 60, minute % 60, 0)?)?;
        Some(at - at.rem_euclid(MINUTE))
    }

    /// The zone the schedule is kept in.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// The open intervals within [from, to), in time order: what business-hours
    /// durations are measured against.
    pub fn open_spans(&self, from: Millis, to: Millis) -> Vec<(Millis, Millis)> {
        let mut out = Vec::new();
        if from >= to {
            return out;
        }
        let (first, _) = self.local(from);
        let (last, _) = self.local(to);
        let mut day = first.pred_opt().unwrap_or(first);
        while day <= last {
            for &(open, close) in self.spans(day) {
                if let (Some(a), Some(b)) = (self.instant(day, open), self.instant(day, close)) {
                    let (a, b) = (a.max(from), b.min(to));
                    if a < b {
                        out.push((a, b));
                    }
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        out
    }

    /// When it opens, as the customer reads it: `today at 09:00`, `tomorrow at 09:00`,
    /// `Monday 12.01 at 09:00` (in the schedule's zone); in Russian `сегодня в 09:00`,
    /// `завтра в 09:00`, `в понедельник 12.01 в 09:00`.
    pub fn say_when(&self, now: Millis, at: Millis) -> String {
        let (today, _) = self.local(now);
        let (day, minute) = self.local(at);
        let clock = format!("{:02}:{:02}", minute / 60, minute % 60);
        let weekday = day.weekday().num_days_from_monday() as usize;
        let date = format!("{:02}.{:02}", day.day(), day.month());
        match ((day - today).num_days(), self.russian) {
            (0, false) => format!("today at {clock}"),
            (1, false) => format!("tomorrow at {clock}"),
            (_, false) => format!("{} {date} at {clock}", EN_DAYS[weekday]),
            (0, true) => format!("сегодня в {clock}"),
            (1, true) => format!("завтра в {clock}"),
            (_, true) => format!("{} {date} в {clock}", RU_DAYS[weekday]),
        }
    }
}

const EN_DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const RU_DAYS: [&str; 7] =
    ["в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу", "в воскресенье"];

fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moscow() -> Schedule {
        let week = [
            ("mon", "09:00-18:00"),
            ("tue", "09:00-13:00, 14:00-18:00"),
            ("wed", "09:00-18:00"),
            ("thu", "09:00-18:00"),
            ("fri", "09:00-17:00"),
            ("sat", "closed"),
        ]
        .into_iter()
        .map(|(d, s)| (d.to_string(), s.to_string()))
        .collect();
        let config = HoursConfig {
            enabled: true,
            time_zone: "Europe/Moscow".into(),
            week,
            holidays: vec!["2026-12-31".into()],
            away: None,
            language: None,
        };
        Schedule::parse(&config).unwrap()
    }

    /// Moscow local time as an instant (UTC+3 all year).
    fn msk(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
        chrono::NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, 0).unwrap().and_utc().timestamp_millis()
            - 3 * 3_600_000
    }

    #[test]
    fn open_closed_and_when_it_opens() {
        let s = moscow();
        // Tuesday 1 December 2026.
        assert!(s.is_open(msk(2026, 12, 1, 9, 0)));
        assert!(!s.is_open(msk(2026, 12, 1, 13, 30)), "lunch");
        assert_eq!(s.next_open(msk(2026, 12, 1, 13, 30)), Some(msk(2026, 12, 1, 14, 0)));
        assert!(!s.is_open(msk(2026, 12, 1, 18, 0)));
        assert_eq!(s.next_open(msk(2026, 12, 1, 18, 0)), Some(msk(2026, 12, 2, 9, 0)));
        // Friday evening to Monday morning; the holiday on Thursday 31 December.
        assert_eq!(s.next_open(msk(2026, 12, 4, 17, 30)), Some(msk(2026, 12, 7, 9, 0)));
        assert!(!s.is_open(msk(2026, 12, 31, 12, 0)));
        assert_eq!(s.next_open(msk(2026, 12, 30, 20, 0)), Some(msk(2027, 1, 1, 9, 0)));
        let now = msk(2026, 12, 1, 19, 0);
        assert_eq!(s.say_when(now, msk(2026, 12, 2, 9, 0)), "tomorrow at 09:00");
        assert_eq!(s.say_when(msk(2026, 12, 1, 7, 0), msk(2026, 12, 1, 9, 0)), "today at 09:00");
        assert_eq!(s.say_when(msk(2026, 12, 4, 18, 0), msk(2026, 12, 7, 9, 0)), "Monday 07.12 at 09:00");
        let ru = Schedule { russian: true, ..s };
        assert_eq!(ru.say_when(now, msk(2026, 12, 2, 9, 0)), "завтра в 09:00");
        assert_eq!(ru.say_when(msk(2026, 12, 4, 18, 0), msk(2026, 12, 7, 9, 0)), "в понедельник 07.12 в 09:00");
    }

    #[test]
    fn a_bad_schedule_names_what_is_wrong() {
        let config = |time_zone: &str, day: &str, span: &str| HoursConfig {
            enabled: true,
            time_zone: time_zone.into(),
            week: [(day.to_string(), span.to_string())].into_iter().collect(),
            holidays: vec![],
            away: None,
            language: None,
        };
        assert!(Schedule::parse(&config("Mars/Olympus", "mon", "09:00-18:00")).unwrap_err().contains("Mars/Olympus"));
        assert!(
            Schedule::parse(&config("UTC", "monday", "09:00-18:00")).unwrap_err().contains("`monday` is not a day")
        );
        assert!(Schedule::parse(&config("UTC", "mon", "9-18")).unwrap_err().contains("not HH:MM-HH:MM"));
        assert!(Schedule::parse(&config("UTC", "mon", "18:00-09:00")).unwrap_err().contains("ends before"));
        assert!(Schedule::parse(&config("UTC", "mon", "closed")).unwrap_err().contains("no day has opening hours"));
        assert!(Schedule::parse(&config("UTC", "mon", "00:00-24:00")).is_ok());
    }
}
