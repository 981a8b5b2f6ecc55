//! Mean, median and 90th percentile of durations, exactly: the ranks are found by
//! selection (linear, not a sort: a report can hold half a million values) and the
//! percentiles interpolated between neighbours (values 10, 20, 30, 40, 100 give a
//! mean of 40, a median of 30 and a p90 of 76, as Chatwoot's reports do).

use serde::Serialize;

use crate::model::Millis;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Summary {
    pub count: usize,
    /// Milliseconds; None without values.
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

impl Summary {
    pub fn of(mut values: Vec<Millis>) -> Summary {
        if values.is_empty() {
            return Summary::default();
        }
        let sum: f64 = values.iter().map(|v| *v as f64).sum();
        Summary {
            count: values.len(),
            mean: Some(sum / values.len() as f64),
            median: Some(percentile(&mut values, 0.5)),
            p90: Some(percentile(&mut values, 0.9)),
        }
    }
}

/// The `q` quantile of `values` (reordered), interpolated linearly between ranks.
fn percentile(values: &mut [Millis], q: f64) -> f64 {
    let rank = q * (values.len() - 1) as f64;
    let low = rank.floor() as usize;
    let (_, a, above) = values.select_nth_unstable(low);
    let a = *a as f64;
    let b = if rank > low as f64 { above.iter().min().map_or(a, |b| *b as f64) } else { a };
    a + (b - a) * (rank - low as f64)
}

/// A duration as people read it: `45s`, `4m 10s`, `3h 05m`, `2d 4h`; `—` for none.
pub fn duration(ms: Option<f64>) -> String {
    let Some(ms) = ms else { return "—".into() };
    let s = (ms / 1000.0).round() as i64;
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        s => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// `part` of `whole` in percent, None when there is no whole.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anchor_example_and_the_edges() {
        let s = Summary::of(vec![100, 20, 10, 40, 30]);
        assert_eq!((s.count, s.mean, s.median, s.p90), (5, Some(40.0), Some(30.0), Some(76.0)));
        assert_eq!(Summary::of(vec![]), Summary::default());
        let one = Summary::of(vec![7]);
        assert_eq!((one.median, one.p90), (Some(7.0), Some(7.0)));
        assert_eq!(Summary::of(vec![1, 2]).median, Some(1.5));
        assert_eq!(duration(Some(250_000.0)), "4m 10s");
        assert_eq!(duration(Some(59_400.0)), "59s");
        assert_eq!(duration(Some(3_600_000.0 * 26.0)), "1d 2h");
        assert_eq!(duration(None), "—");
        assert_eq!(rate(1, 4), Some(25.0));
        assert_eq!(rate(1, 0), None);
    }
}
