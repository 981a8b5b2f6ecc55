//! Business-hours durations: how much of an interval the business was open, from the
//! schedule's open intervals laid out once for the whole report and summed by binary
//! search, so a report of a hundred thousand replies stays fast.

use crate::automation::Schedule;
use crate::model::Millis;

/// The longest stretch laid out: reports older than this count no business time before.
const SPAN_MAX: Millis = 10 * 366 * 86_400_000;

pub struct BusinessClock {
    spans: Vec<(Millis, Millis)>,
    /// Open milliseconds before each span.
    before: Vec<Millis>,
}

impl BusinessClock {
    /// The clock for instants within [from, to].
    pub fn new(schedule: &Schedule, from: Millis, to: Millis) -> BusinessClock {
        let from = from.max(to.saturating_sub(SPAN_MAX));
        let spans = schedule.open_spans(from, to.saturating_add(1));
        let mut before = Vec::with_capacity(spans.len());
        let mut sum = 0;
        for (a, b) in &spans {
            before.push(sum);
            sum += b - a;
        }
        BusinessClock { spans, before }
    }

    /// Open milliseconds in [a, b); 0 when b is not after a.
    pub fn between(&self, a: Millis, b: Millis) -> Millis {
        if b <= a { 0 } else { self.open_before(b) - self.open_before(a) }
    }

    fn open_before(&self, t: Millis) -> Millis {
        let i = self.spans.partition_point(|(start, _)| *start < t);
        if i == 0 {
            return 0;
        }
        let (start, end) = self.spans[i - 1];
        self.before[i - 1] + (t.min(end) - start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automation::HoursConfig;

    #[test]
    fn a_message_at_five_answered_at_seven_past_nine_is_five_minutes() {
        // Richpanel's example: 17:00 answered at 07:05 is 5 min of business time when
        // the business opens at 07:00 and closes at 17:00.
        let week =
            ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| (d.to_string(), "07:00-17:00".to_string())).collect();
        let config = HoursConfig {
            enabled: true,
            time_zone: "+03:00".into(),
            week,
            holidays: vec![],
            away: None,
            language: None,
        };
        let schedule = Schedule::parse(&config).unwrap();
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
        let clock = BusinessClock::new(&schedule, at("2026-11-01T00:00:00+03:00"), at("2026-12-01T00:00:00+03:00"));
        // Tuesday 17:00 → Wednesday 07:05.
        assert_eq!(clock.between(at("2026-11-24T17:00:00+03:00"), at("2026-11-25T07:05:00+03:00")), 5 * 60_000);
        // Friday 16:00 → Monday 08:00: one hour on Friday, one on Monday.
        assert_eq!(clock.between(at("2026-11-27T16:00:00+03:00"), at("2026-11-30T08:00:00+03:00")), 2 * 60 * 60_000);
        // Within the day.
        assert_eq!(clock.between(at("2026-11-24T10:00:00+03:00"), at("2026-11-24T10:30:00+03:00")), 30 * 60_000);
        // Saturday to Sunday: closed.
        assert_eq!(clock.between(at("2026-11-28T10:00:00+03:00"), at("2026-11-29T10:00:00+03:00")), 0);
        assert_eq!(clock.between(at("2026-11-24T10:30:00+03:00"), at("2026-11-24T10:00:00+03:00")), 0);
    }
}
